//! Where the main thread's stack may grow: the safe layer keeps no memory there.
//!
//! The main thread's stack is the grows-down mapping every process has. It grows on demand,
//! down to `RLIMIT_STACK` below its top, and the kernel keeps a guard gap
//! (`stack_guard_gap`, 256 pages by default) between it and an *accessible* mapping below
//! it; up to an inaccessible mapping, or a grows-down one, it grows with no gap at all. The
//! kernel places new mappings below its mapping base, out of that reach, while there is
//! room there; when there is not, or when the limit was unlimited at exec (the bottom-up
//! layout), it places them anywhere the gap *as it is now* allows, and so does an address
//! hint. A mapping inside the reach, once the stack has grown up to it (while it was
//! inaccessible, or because it grows down) and it is then accessible, lets a deep recursion
//! write its frames through the slices this crate lent. So every mapping the safe layer
//! makes or moves is checked against the reach, and refused (`ENOMEM`) inside it.
//!
//! The reach is `[top - limit - gap, top)`: `top` from the auxiliary vector (the strings
//! and the vector itself lie at the top of the initial stack), `limit` the soft
//! `RLIMIT_STACK` when first asked (when unlimited: RAM and swap together, which no stack
//! that touches its pages in order, as Rust's stack probes do, can outgrow), `gap` the
//! kernel's default guard gap. Raising the limit at run time is outside what this crate can
//! check (see the soundness page).

use core::sync::atomic::{AtomicUsize, Ordering};

use crate::auxv::{self, AT_EXECFN, AT_RANDOM};
use crate::{page_size, sys, Errno, Result};

/// The kernel's default `stack_guard_gap`, in pages.
const GUARD_GAP_PAGES: usize = 256;

/// A stack address near the top, recorded from an auxiliary vector a program's `_start`
/// handed over (the vector lies on the initial stack); 0 if none was.
static TOP_HINT: AtomicUsize = AtomicUsize::new(0);
/// The reach, `[FLOOR, TOP)`; `TOP` is 0 until the first look-up.
static FLOOR: AtomicUsize = AtomicUsize::new(0);
static TOP: AtomicUsize = AtomicUsize::new(0);

/// `ENOMEM` if `[start, start + len)` meets the stack's reach.
#[inline]
pub(crate) fn check(start: usize, len: usize) -> Result<()> {
    let (floor, top) = reach();
    if start.saturating_add(len) > floor && start < top {
        Err(Errno::ENOMEM)
    } else {
        Ok(())
    }
}

/// An address, aligned to `align` (a power of two), at which `len` bytes end at or below the
/// stack's reach.
fn below(len: usize, align: usize) -> Option<usize> {
    let (floor, _) = reach();
    let start = floor.checked_sub(len)? & !(align - 1);
    (start != 0).then_some(start)
}

/// Where to ask, one after the other, for `len` bytes aligned to `align` (a power of two)
/// that the kernel first placed inside the stack's reach: ever further below the reach,
/// `2^k` steps below it for `k` up to `HINTS_BELOW - 1`, a step being `len` or
/// [`HINT_STEP`], whichever is more. One hint is not enough: the kernel ignores a hint
/// whose range is taken (by a block placed there before, say), and qemu-user then puts the
/// mapping inside the reach again, right below the stack it made for its guest. Nor are
/// steps of `len` alone: where the reach is "everything above the current thread's stack"
/// (no stack top known, a thread other than the main one asking), a C library's arena of
/// 64 MiB below that stack took every page-sized hint, and the mapping was refused.
pub(crate) fn hints_below(len: usize, align: usize) -> impl Iterator<Item = usize> {
    let step = len.max(HINT_STEP);
    (0..HINTS_BELOW).map_while(move |k| below(step.saturating_mul(1 << k), align))
}

/// How many places [`hints_below`] offers.
const HINTS_BELOW: u32 = 15;
/// The least distance between the reach and the first hint below it, doubled for each
/// further one: the last of them is 16 GiB below, past any arena or heap of a C library.
const HINT_STEP: usize = 1 << 20;

/// Records `address`, which lies at the top of the initial stack (an auxiliary vector
/// handed to `_start`).
pub(crate) fn note_initial_stack(address: usize) {
    TOP_HINT.fetch_max(address, Ordering::Relaxed);
}

#[inline]
fn reach() -> (usize, usize) {
    match TOP.load(Ordering::Relaxed) {
        0 => discover(),
        top => (FLOOR.load(Ordering::Relaxed), top),
    }
}

#[cold]
fn discover() -> (usize, usize) {
    let page = page_size();
    // The stack reaches down from `lowest`, which is its top when that is known.
    let (lowest, top) = bounds(page);
    let gap = GUARD_GAP_PAGES.saturating_mul(page);
    let floor = lowest.saturating_sub(stack_limit()).saturating_sub(gap) & !(page - 1);
    // Racing threads compute the same values; a reader that sees TOP sees FLOOR (Release).
    FLOOR.store(floor, Ordering::Relaxed);
    TOP.store(top, Ordering::Release);
    (floor, top)
}

/// Where the stack reaches down from, and an address at or above its top: from the highest
/// of the initial stack's addresses known. Without any, everything above the current stack
/// (the main thread's, a little below its top, or another thread's, which lies below the
/// main stack), less the limit, is taken as the reach.
fn bounds(page: usize) -> (usize, usize) {
    let known = [
        TOP_HINT.load(Ordering::Relaxed),
        auxv::value(AT_EXECFN).unwrap_or(0),
        auxv::value(AT_RANDOM).unwrap_or(0),
    ];
    match known.into_iter().max() {
        Some(highest) if highest != 0 => {
            // The top is the end of the page holding `highest`, or of the next one (the
            // strings may cross a page): reach down from the lower, up to the higher.
            let end = highest.checked_next_multiple_of(page).unwrap_or(usize::MAX);
            (end, end.saturating_add(page))
        }
        _ => {
            let local = 0u8;
            (core::ptr::addr_of!(local) as usize, usize::MAX)
        }
    }
}

/// How far the stack may grow: the soft `RLIMIT_STACK`; when unlimited (or unknown), RAM
/// and swap together; when even that is unknown, the whole address space.
fn stack_limit() -> usize {
    let limit = match sys::stack_limit() {
        Ok((soft, _)) if soft != u64::MAX => soft,
        _ => sys::memory_and_swap().unwrap_or(u64::MAX),
    };
    usize::try_from(limit).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::{hints_below, reach, HINTS_BELOW};
    use crate::page_size;

    /// Each hint is aligned and leaves room for `2^k` steps below the reach, no more than
    /// an alignment further down than that, each below the one before (lengths are at
    /// least the alignment where the crate asks: whole huge pages, or padded for it); a
    /// step is the length, or 1 MiB for shorter ones.
    #[test]
    fn hints_go_ever_further_below_the_reach_aligned() {
        let (floor, _) = reach();
        let align = 16 * page_size();
        for len in [19 * page_size(), (1 << 20) + 3 * page_size()] {
            check_hints(floor, len, align);
        }
        assert_eq!(hints_below(usize::MAX, align).count(), 0);
        // A page's hints step by 1 MiB: the first is no nearer than that.
        let first = hints_below(page_size(), page_size())
            .next()
            .expect("a hint");
        assert!(first + (1 << 20) <= floor && first + (1 << 20) + page_size() > floor);
    }

    fn check_hints(floor: usize, len: usize, align: usize) {
        let mut above = floor;
        let mut count = 0;
        for (k, hint) in hints_below(len, align).enumerate() {
            let distance = len.max(1 << 20) << k;
            assert_eq!(hint % align, 0, "hint {k} aligned");
            assert!(hint + distance <= floor, "hint {k} leaves {distance} bytes");
            assert!(hint + distance + align > floor, "hint {k} no further down");
            assert!(hint < above, "hint {k} below the one before");
            above = hint;
            count += 1;
        }
        // Where the address space below the reach is too small, fewer (none is 0).
        assert!(count > 0 && count <= HINTS_BELOW as usize);
    }
}
