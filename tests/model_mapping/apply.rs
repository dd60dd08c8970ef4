//! Applying an operation to the real `Mapping` and to the model, which predicts the
//! result (and, in partial-failure mode, learns from `/proc/self/maps` what a call that
//! failed part-way left behind).

use mman::{Advice, Errno, Guard, MapOptions, Prot, Result};

use crate::common::page;
use crate::kernel::{honours_hint, stack, stack_reach};
use crate::model_support::vmas_in;
use crate::ops::{Features, Op, Place, Span, HARMLESS, REFUSED, SLOTS};
use crate::state::{prot_of, Memory, PageState, Slot};

/// What a call returned, beyond success: what the model compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Guarded(Guard),
    /// A remap that kept its address.
    InPlace,
    Moved,
}

pub struct World {
    pub slots: [Option<Slot>; SLOTS],
    pub features: Features,
    /// Protects that failed after changing part of their range (partial-failure mode).
    pub partly: usize,
}

/// The model's result when `got` may also be a failure part-way (partial-failure mode):
/// `ENOMEM` from a split past `vm.max_map_count` is then accepted (`madvise` reports it as
/// `EAGAIN`).
fn or_enomem(got: &Result<Outcome>, want: Result<Outcome>, partial: bool) -> Result<Outcome> {
    match got {
        Err(e @ (Errno::ENOMEM | Errno::EAGAIN)) if partial => Err(*e),
        _ => want,
    }
}

impl World {
    /// Applies `op`; returns what the library said and what the model predicted.
    pub fn apply(&mut self, op: Op) -> (Result<Outcome>, Result<Outcome>) {
        let partial = self.features.partial;
        let done = |r: Result<()>| r.map(|()| Outcome::Done);
        match op {
            Op::Map {
                slot,
                len,
                memory,
                prot,
                grows_down,
                place,
            } => self.map(slot, len, memory, prot, grows_down, place),
            Op::Drop { slot } => {
                let held = self.slots[slot].take().expect("an occupied slot");
                let (start, end, sealed) = (held.start(), held.kernel_end(), held.sealed);
                drop(held);
                let left = vmas_in(start, end);
                // Sealed memory cannot be unmapped: it stays, and the child takes it along. At
                // the map count limit munmap fails too when the mapping shares a VMA with a
                // neighbour (the kernel merged them), which unmapping would split: it fails
                // whole, and drop leaves the mapping there, a leak, which is sound.
                let whole_left = covers(&left, start, end);
                let want = if sealed {
                    !left.is_empty()
                } else {
                    left.is_empty() || (partial && whole_left)
                };
                let got = if want {
                    Ok(Outcome::Done)
                } else {
                    Err(Errno::EFAULT)
                };
                (got, Ok(Outcome::Done))
            }
            Op::Protect { slot, span, prot } => {
                let held = self.slot(slot);
                let before: Vec<Prot> = held.pages.iter().map(|p| p.prot).collect();
                let refused = prot.intersects(Prot::GROWSDOWN | Prot::GROWSUP) || held.sealed;
                let was_split = held.split_by_protection;
                held.split_by_protection |= !refused;
                let got = done(held.map.protect(span, prot));
                if got.is_ok() && span.whole(held.len()) {
                    held.remerged |= was_split;
                    held.split_by_protection = false;
                    held.split_uncertain = false;
                }
                let failed = partial && got.is_err();
                let want = or_enomem(&got, predict_protect(held, span, prot, failed), partial);
                if got.is_err() && partial {
                    resync(held);
                    let now = held.pages.iter().map(|p| p.prot);
                    self.partly += usize::from(now.zip(before).any(|(now, was)| now != was));
                }
                (got, want)
            }
            Op::Guard { slot, span } => {
                let markers = match self.slot(slot).memory {
                    Memory::Private => self.features.private_markers,
                    Memory::Shared => self.features.shared_markers,
                };
                let held = self.slot(slot);
                held.split_by_protection |= !held.sealed;
                let got = held.map.guard(span).map(Outcome::Guarded);
                let want = or_enomem(&got, predict_guard(held, span, markers), partial);
                if got.is_err() && partial {
                    resync(held);
                }
                (got, want)
            }
            Op::Unguard { slot, prot } => {
                let held = self.slot(slot);
                let got = done(held.map.unguard(prot));
                if got.is_ok() {
                    held.remerged |= held.split_by_protection;
                    held.split_by_protection = false;
                    held.split_uncertain = false;
                } else if !held.sealed {
                    // Removing the markers or protecting failed: which, the model cannot
                    // tell, nor whether the protection got as far as splitting.
                    held.split_by_protection = true;
                    held.split_uncertain = true;
                }
                // Guard markers go first; then the whole mapping is protected.
                held.pages.iter_mut().for_each(|p| p.marker = false);
                held.guarded = false;
                let failed = partial && got.is_err();
                let want = predict_protect(held, Span::All, prot, failed);
                let want = or_enomem(&got, want, partial);
                if got.is_err() && partial {
                    resync(held);
                }
                (got, want)
            }
            Op::Advise { slot, span, advice } => {
                let held = self.slot(slot);
                let refused = REFUSED.contains(&advice)
                    || (!HARMLESS.contains(&advice) && held.memory == Memory::Shared);
                held.split_by_flags |= !refused && !span.whole(held.len());
                let got = done(held.map.advise(span, advice));
                let want = or_enomem(&got, predict_advise(held, span, advice), partial);
                (got, want)
            }
            Op::Remap {
                slot,
                len,
                may_move,
            } => self.remap(slot, len, may_move),
            Op::Lock { slot, span } => {
                let held = self.slot(slot);
                held.split_by_flags |= !span.whole(held.len());
                let got = done(held.map.lock(span));
                // mlock marks the range locked, then faults it in: PROT_NONE pages cannot
                // be, so it reports ENOMEM with the lock applied.
                let range = span.pages(held.pages.len());
                let pages = &mut held.pages[range];
                pages.iter_mut().for_each(|p| p.locked = true);
                let inaccessible = pages.iter().any(|p| p.prot.is_empty());
                let want = if inaccessible {
                    Err(Errno::ENOMEM)
                } else {
                    Ok(Outcome::Done)
                };
                (got, want)
            }
            Op::Unlock { slot, span } => {
                let held = self.slot(slot);
                held.split_by_flags |= !span.whole(held.len());
                let got = done(held.map.unlock(span));
                let range = span.pages(held.pages.len());
                held.pages[range].iter_mut().for_each(|p| p.locked = false);
                (got, Ok(Outcome::Done))
            }
            Op::WriteAt {
                slot,
                offset,
                len,
                byte,
            } => {
                let held = self.slot(slot);
                let data = vec![byte; len];
                let got = done(held.map.write_at(offset, &data));
                let want = held.predict_write(offset, len).map(|()| Outcome::Done);
                if got.is_ok() {
                    held.bytes[offset..offset + len].fill(byte);
                }
                (got, want)
            }
            Op::MutSlice { slot, offset, byte } => {
                let held = self.slot(slot);
                let got = held.map.as_mut_slice().map(|bytes| {
                    bytes[offset] = byte;
                    Outcome::Done
                });
                let want = held.predict_mut_slice().map(|()| Outcome::Done);
                if got.is_ok() {
                    held.bytes[offset] = byte;
                }
                (got, want)
            }
            Op::Atomic {
                slot,
                offset,
                value,
            } => {
                let held = self.slot(slot);
                let got = held.map.atomic_u32(offset).map(|atomic| {
                    atomic.store(value, std::sync::atomic::Ordering::Relaxed);
                    Outcome::Done
                });
                let want = held.predict_atomic_u32(offset).map(|()| Outcome::Done);
                if got.is_ok() {
                    held.bytes[offset..offset + 4].copy_from_slice(&value.to_ne_bytes());
                }
                (got, want)
            }
            Op::Seal { slot } => {
                let held = self.slot(slot);
                let got = done(held.map.seal());
                held.sealed = true;
                (got, Ok(Outcome::Done))
            }
        }
    }

    pub fn slot(&mut self, slot: usize) -> &mut Slot {
        self.slots[slot].as_mut().expect("an occupied slot")
    }

    /// Whether the kernel treats the VMA as growing down: the `[stack]`, or a page of a
    /// grows-down mapping under test.
    fn grows_down_at(&self, addr: usize) -> bool {
        self.slots.iter().flatten().any(|s| s.grows_down_at(addr))
    }

    /// Whether a new mapping of `len` bytes hinted at `addr` lands exactly there.
    fn placeable(&self, addr: usize, len: usize) -> bool {
        honours_hint(addr, len, self.features.gap, |vma| {
            self.grows_down_at(vma.start)
        })
    }

    fn map(
        &mut self,
        slot: usize,
        len: usize,
        memory: Memory,
        prot: Prot,
        grows_down: bool,
        place: Place,
    ) -> (Result<Outcome>, Result<Outcome>) {
        self.slots[slot] = None;
        let kernel_len = len.div_ceil(page()) * page();
        let start_of = |other: usize| self.slots[other].as_ref().map_or(0, Slot::start);
        let at = match place {
            Place::Anywhere => None,
            Place::After(other) => self.slots[other].as_ref().map(Slot::kernel_end),
            Place::Before(other) => start_of(other).checked_sub(kernel_len),
            Place::Inside(other) => Some(start_of(other) + page() * (len % 2)),
            Place::BelowStack(pages) => {
                stack().and_then(|s| s.start.checked_sub(kernel_len + pages * page()))
            }
        };
        let mut options = MapOptions::new().len(len).prot(prot);
        if memory == Memory::Shared {
            options = options.shared();
        }
        if grows_down {
            options = options.grows_down();
        }
        if let Some(at) = at {
            options = options.at(at);
        }
        let want = if memory == Memory::Shared && grows_down {
            // The kernel's rule: shared anonymous memory cannot grow down.
            Err(Errno::EINVAL)
        } else if at.is_some_and(|at| !self.placeable(at, kernel_len)) {
            Err(Errno::EEXIST)
        } else if at.is_some_and(|at| memory == Memory::Shared && !shared_colour(at)) {
            // Where data caches alias (mips), the kernel moves a shared mapping's hint to
            // the cache colour of its offset, 0: placed elsewhere.
            Err(Errno::EEXIST)
        } else if at.is_some_and(|at| in_stack_reach(at, kernel_len)) {
            Err(Errno::ENOMEM)
        } else {
            Ok(Outcome::Done)
        };
        let got = options.map();
        let result = got.as_ref().map(|_| Outcome::Done).map_err(|e| *e);
        let want = or_enomem(&result, want, self.features.partial);
        if let Ok(map) = got {
            if let Some(at) = at {
                assert_eq!(map.as_ptr() as usize, at, "a mapping placed elsewhere");
            }
            let pages = vec![PageState::new(prot, grows_down); kernel_len / page()];
            let mut held = Slot {
                map,
                memory,
                pages,
                len,
                bytes: vec![0; kernel_len],
                readable: prot.contains(Prot::READ),
                writable: prot.contains(Prot::WRITE),
                guarded: false,
                sealed: false,
                split_by_flags: false,
                split_by_protection: false,
                split_uncertain: false,
                remerged: false,
            };
            if self.features.partial {
                resync(&mut held);
            }
            self.slots[slot] = Some(held);
        }
        (result, want)
    }

    /// `remap`: sealed memory neither grows nor shrinks; shrinking cuts the tail; growing
    /// within the last page changes only the length. Growing further never happens in
    /// place (that could reach into the stack's guard gap): without `may_move` it is
    /// `ENOMEM`; a mapping the library must take for several VMAs is `EFAULT` (what mremap
    /// would answer); else the mapping moves into a fresh region. New pages are zeros.
    fn remap(
        &mut self,
        slot: usize,
        len: usize,
        may_move: bool,
    ) -> (Result<Outcome>, Result<Outcome>) {
        let partial = self.features.partial;
        let held = self.slots[slot].as_ref().expect("an occupied slot");
        let (start, old_pages) = (held.start(), held.pages.len());
        let new_pages = len.div_ceil(page());
        let want = if len == 0 || (len > held.len() && held.memory == Memory::Shared) {
            Err(Errno::EINVAL)
        } else if held.sealed {
            Err(Errno::EPERM)
        } else if new_pages <= old_pages {
            Ok(Outcome::InPlace)
        } else if !may_move {
            Err(Errno::ENOMEM)
        } else if held.several() {
            Err(Errno::EFAULT)
        } else {
            Ok(Outcome::Moved)
        };
        let held = self.slot(slot);
        let got = held.map.remap(len, may_move).map(|()| {
            if held.start() == start {
                Outcome::InPlace
            } else {
                Outcome::Moved
            }
        });
        let (uncertain, remerged) = (held.split_uncertain, held.remerged);
        let want = match got {
            // At the limit, moving fails in kernel-specific ways (the reservation it moves
            // into must be split off): any failure is fine if it changed nothing, which the
            // checks after the step verify.
            Err(e) if partial && want != Err(e) => Err(e),
            // After a failed unguard, whether the library took the mapping for split.
            Ok(Outcome::Moved) if uncertain && want == Err(Errno::EFAULT) => Ok(Outcome::Moved),
            // The kernel usually merges parts a whole protection made alike again, but not
            // always (their anon_vmas may differ): then mremap refuses the move (EFAULT).
            Err(Errno::EFAULT) if remerged && want == Ok(Outcome::Moved) => Err(Errno::EFAULT),
            _ => want,
        };
        if got.is_ok() {
            // mremap grows the one VMA it moves, with that VMA's attributes.
            let grown = PageState {
                marker: false,
                ..held.pages[old_pages - 1]
            };
            held.pages.resize(new_pages, grown);
            // New pages are zeros; growth within the last page shows what it held.
            held.bytes.resize(new_pages * page(), 0);
            held.len = len;
            if got == Ok(Outcome::Moved) {
                // It moved as one VMA, and arrived as one.
                held.split_by_flags = false;
                held.split_by_protection = false;
                held.split_uncertain = false;
                held.remerged = false;
            }
            if partial {
                resync(held);
            }
        }
        (got, want)
    }
}

/// `protect`: grows-down/up bits are refused, and so is sealed memory, changing nothing.
/// Otherwise what the call may take away is taken from the book-keeping first; on success
/// the pages have `prot`, and only a change of the whole, unguarded mapping grants access.
/// A call that `failed` part-way (partial-failure mode) grants nothing; the caller learns
/// the pages from the kernel.
fn predict_protect(held: &mut Slot, span: Span, prot: Prot, failed: bool) -> Result<Outcome> {
    if prot.intersects(Prot::GROWSDOWN | Prot::GROWSUP) {
        return Err(Errno::EINVAL);
    }
    if held.sealed {
        return Err(Errno::EPERM);
    }
    held.readable &= prot.contains(Prot::READ);
    held.writable &= prot.contains(Prot::WRITE);
    if failed {
        return Err(Errno::ENOMEM);
    }
    let range = span.pages(held.pages.len());
    held.pages[range].iter_mut().for_each(|p| p.prot = prot);
    if span.whole(held.len()) && !held.guarded {
        held.readable = prot.contains(Prot::READ);
        held.writable = prot.contains(Prot::WRITE);
    }
    Ok(Outcome::Done)
}

/// `guard`: sealed memory is refused. Otherwise the book-keeping refuses everything from
/// before the call on. Guard markers
/// where the kernel has them for this memory, VMA by VMA up to the first locked one (the
/// kernel refuses markers there), after which the whole range is made `PROT_NONE`
/// instead. Markers discard private contents.
fn predict_guard(held: &mut Slot, span: Span, markers: bool) -> Result<Outcome> {
    if held.sealed {
        return Err(Errno::EPERM);
    }
    held.guarded = true;
    held.readable = false;
    held.writable = false;
    let range = span.pages(held.pages.len());
    let marked = match markers {
        true => held.pages[range.clone()]
            .iter()
            .position(|p| p.locked)
            .map_or(range.end, |first| range.start + first),
        false => range.start,
    };
    held.pages[range.start..marked]
        .iter_mut()
        .for_each(|p| p.marker = true);
    if held.memory == Memory::Private {
        held.zero_pages(range.start..marked);
    }
    if marked == range.end && markers {
        return Ok(Outcome::Guarded(Guard::Madvise));
    }
    held.pages[range]
        .iter_mut()
        .for_each(|p| p.prot = Prot::empty());
    Ok(Outcome::Guarded(Guard::ProtNone))
}

/// `advise`: harmful advice is refused; discarding advice is accepted on private memory
/// only, where it zeroes the pages (`DontNeed` stops with `EINVAL` at a locked page).
fn predict_advise(held: &mut Slot, span: Span, advice: Advice) -> Result<Outcome> {
    if REFUSED.contains(&advice) {
        return Err(Errno::EINVAL);
    }
    if HARMLESS.contains(&advice) {
        return Ok(Outcome::Done);
    }
    if held.memory == Memory::Shared {
        return Err(Errno::EINVAL);
    }
    let range = span.pages(held.pages.len());
    let stop = match advice {
        Advice::DontNeed => held.pages[range.clone()]
            .iter()
            .position(|p| p.locked)
            .map(|first| range.start + first),
        _ => None,
    };
    held.zero_pages(range.start..stop.unwrap_or(range.end));
    match stop {
        Some(_) => Err(Errno::EINVAL),
        None => Ok(Outcome::Done),
    }
}

/// Takes the pages' protection from `/proc/self/maps`, after a call that may have
/// changed part of what it was asked to.
pub fn resync(held: &mut Slot) {
    let start = held.start();
    for vma in vmas_in(start, held.kernel_end()) {
        for (i, p) in held.pages.iter_mut().enumerate() {
            let addr = start + i * page();
            if vma.start <= addr && addr < vma.end {
                p.prot = prot_of(vma.perms);
            }
        }
    }
}

/// Whether shared anonymous memory (offset 0) may be placed at `at`: at a multiple of the
/// kernel's cache colour, the page size but where data caches alias (mips).
fn shared_colour(at: usize) -> bool {
    at % crate::common::kernel_shared_colour() == 0
}

/// Whether `[at, at + len)` meets the main stack's reach, where the library maps nothing.
fn in_stack_reach(at: usize, len: usize) -> bool {
    stack_reach().is_some_and(|(floor, top)| at + len > floor && at < top)
}

/// Whether `vmas` (in address order) cover all of `[start, end)` without a hole.
fn covers(vmas: &[crate::model_support::Vma], start: usize, end: usize) -> bool {
    let mut next = start;
    for vma in vmas {
        if vma.start > next {
            return false;
        }
        next = next.max(vma.end);
    }
    next >= end
}
