//! The oracles: the documented range rule, refusals that must change nothing, and what the
//! kernel says is mapped.

use std::hash::{DefaultHasher, Hasher};
use std::ops::Bound;

use mman::{Advice, Errno, Mapping, Memfd, Result};

use super::input::{Bounds, Slot};
use super::world::{Held, World};

impl World<'_> {
    /// `call` on the mapping in `slot` must fail with EINVAL and leave everything as it was.
    /// It gets a copy buffer (the first half of `scratch`) and the memfd, if it needs them.
    pub(super) fn refused(
        &mut self,
        slot: Slot,
        call: impl FnOnce(&mut Mapping, &mut [u8], &Memfd) -> Result<()>,
    ) {
        let backed = self.backed(slot);
        let (buf, spare) = self.scratch.split_at_mut(self.scratch.len() / 2);
        let held = self.slots[slot.index()].as_mut().expect("an occupied slot");
        let before = Snapshot::take(held, backed, spare, self.page);
        let result = call(&mut held.map, buf, &self.memfd);
        assert_eq!(result, Err(Errno::EINVAL), "should have been refused");
        let after = Snapshot::take(held, backed, spare, self.page);
        assert_eq!(after, before, "a refused call changed the mapping");
    }
}

/// What a refused call must not change.
#[derive(PartialEq, Debug)]
struct Snapshot {
    start: usize,
    len: usize,
    slice: Result<()>,
    mut_slice: Result<()>,
    /// The kernel mappings (start, end, permissions) that overlap the mapping, cut to it: a
    /// neighbour may grow into or merge with its first or last VMA meanwhile (the fuzzer's
    /// own threads allocate), which is no change of the mapping's.
    maps: Vec<(usize, usize, String)>,
    /// A hash of a sample of the accessible bytes (None where accessing them would fault).
    bytes: Option<Result<u64>>,
}

impl Snapshot {
    /// `backed`: how many bytes can be read without SIGBUS; `buf`: room to read them.
    fn take(held: &mut Held, backed: usize, buf: &mut [u8], page: usize) -> Snapshot {
        let map = &mut held.map;
        let (start, end) = kernel_range(map, page);
        let bytes = Some(sample(map, backed.min(map.len()), buf, page));
        Snapshot {
            start: map.as_ptr() as usize,
            len: map.len(),
            slice: map.as_slice().map(drop),
            mut_slice: map.as_mut_slice().map(drop),
            maps: vmas(start, end)
                .map(|(low, high, perms)| (low.max(start), high.min(end), perms))
                .collect(),
            bytes,
        }
    }
}

/// A hash of the first bytes of every page and of the last bytes, of the first `n` bytes of
/// `map`. That is where a refused call that still acted would leave a trace (a copy that
/// runs past the end, advice that zeroes pages), and reading everything (up to 64 pages, a
/// byte at a time under coverage instrumentation) would cost most of each iteration.
fn sample(map: &Mapping, n: usize, buf: &mut [u8], page: usize) -> Result<u64> {
    const HEAD: usize = 16;
    const TAIL: usize = 64;
    let mut hasher = DefaultHasher::new();
    let heads = (0..n).step_by(page).map(|offset| (offset, HEAD));
    let tail = (n.saturating_sub(TAIL), TAIL);
    for (offset, len) in heads.chain([tail]) {
        let chunk = &mut buf[..len.min(n - offset)];
        map.read_at(offset, chunk)?;
        hasher.write(chunk);
    }
    Ok(hasher.finish())
}

/// The byte range `bounds` selects in a mapping of `len` bytes, by the documented rule:
/// None if it reaches outside `[0, len)`, is reversed, or overflows.
pub(crate) fn span(bounds: Bounds, len: usize) -> Option<(usize, usize)> {
    let start = match bounds.0 {
        Bound::Included(start) => start,
        Bound::Excluded(start) => start.checked_add(1)?,
        Bound::Unbounded => 0,
    };
    let end = match bounds.1 {
        Bound::Included(end) => end.checked_add(1)?,
        Bound::Excluded(end) => end,
        Bound::Unbounded => len,
    };
    (start <= end && end <= len).then_some((start, end))
}

/// Advice the safe `advise` must refuse: it discards contents other mappings see, lets the
/// kernel zero them later, or makes accesses fault.
pub(super) fn destroys(advice: Advice, exclusive: bool) -> bool {
    use Advice::*;
    match advice {
        DontNeed | DontNeedLocked => !exclusive,
        Free | Remove | GuardInstall | GuardRemove | HwPoison | SoftOffline => true,
        _ => false,
    }
}

/// The page-aligned range the kernel maps for `map`.
pub(crate) fn kernel_range(map: &Mapping, page: usize) -> (usize, usize) {
    let start = map.as_ptr() as usize;
    (
        start & !(page - 1),
        (start + map.len()).next_multiple_of(page),
    )
}

pub(crate) fn is_mapped(page: usize) -> bool {
    let mut resident = 0u8;
    // SAFETY: mincore only reports on the page; ENOMEM means nothing is mapped there.
    unsafe { libc::mincore(page as *mut libc::c_void, 1, &mut resident) == 0 }
}

/// The /proc/self/maps lines (as start, end and permissions) that overlap `[start, end)`.
pub(crate) fn vmas(start: usize, end: usize) -> impl Iterator<Item = (usize, usize, String)> {
    let maps = std::fs::read_to_string("/proc/self/maps").expect("/proc/self/maps");
    // Lines come in address order: stop at the first past `end`.
    let vmas: Vec<_> = maps
        .lines()
        .map_while(|line| {
            let (low, high) = parse_range(line)?;
            let perms = line.get(line.find(' ')? + 1..)?.get(..4)?;
            (low < end).then(|| (low, high, perms.to_string()))
        })
        .filter(|&(_, high, _)| start < high)
        .collect();
    vmas.into_iter()
}

/// The start and end of a /proc/self/maps line.
fn parse_range(line: &str) -> Option<(usize, usize)> {
    let (low, high) = line.split(' ').next()?.split_once('-')?;
    Some((
        usize::from_str_radix(low, 16).ok()?,
        usize::from_str_radix(high, 16).ok()?,
    ))
}

/// What the memfd holds at `offset` (pread, not through any mapping).
pub(super) fn read_file(memfd: &Memfd, offset: u64, buf: &mut [u8]) {
    use mman::fd::{AsFd, AsRawFd};
    // SAFETY: pread into a buffer of `buf.len()` bytes that this function borrows mutably.
    let n = unsafe {
        libc::pread(
            memfd.as_fd().as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            offset as libc::off_t,
        )
    };
    assert_eq!(n, buf.len() as isize, "pread of the memfd");
}
