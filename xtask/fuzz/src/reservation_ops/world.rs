//! One `reservation_ops` iteration: the reservation, the mappings placed in it, the book;
//! each operation applied, its answer compared with the book's, and what it lends or
//! leaves checked against `/proc/self/maps`.

use std::ffi::c_void;

use mman::{
    page_size, sys, Errno, MapFlags, MapOptions, Mapping, Memfd, Prot, Reservation, Result,
};

use super::book::{Book, Page};
use super::input::{Align, Input, Op, Size};
use crate::mapping_ops::access::{touch, touch_mut};
use crate::mapping_ops::checks::{kernel_range, vmas};
use crate::mapping_ops::input::{Range, Slot, MAX_PAGES, SLOTS};

pub(super) struct World {
    space: Reservation,
    base: usize,
    book: Book,
    /// Placed mappings and the pages they took.
    slots: [Option<(Mapping, std::ops::Range<usize>)>; SLOTS],
    /// What placed file mappings map.
    memfd: Memfd,
}

/// Makes the reservation `input` asks for, or checks the error it must fail with.
pub(super) fn run(input: &Input) {
    let page = page_size();
    let len = input.size.bytes(page);
    let align = input.align.map(Align::bytes);
    let made = match align {
        None => Reservation::new(len),
        Some(align) => Reservation::with_align(len, align),
    };
    let refused = match align {
        _ if len == 0 => Some(Errno::EINVAL),
        Some(align) if !align.is_power_of_two() || align < page => Some(Errno::EINVAL),
        _ if matches!(input.size, Size::Huge(_)) => Some(Errno::ENOMEM),
        _ => None,
    };
    // Room for `len + align` bytes may not be found (more so beside a sanitizer's
    // reservations) once the alignment is beyond what the tests ask for (1 GiB).
    let no_room = align.is_some_and(|align| align > 1 << 36);
    let space = match (made, refused) {
        (Ok(space), None) => space,
        (Err(got), Some(want)) => return assert_eq!(got, want, "reservation refused"),
        (Err(Errno::ENOMEM), None) if no_room => return,
        (made, want) => {
            panic!("Reservation of {len:#x} bytes aligned to {align:x?}: {made:?}, want {want:?}")
        }
    };
    assert_eq!(
        space.len(),
        len.next_multiple_of(page),
        "rounded to whole pages"
    );
    let base = space.as_ptr() as usize;
    assert!(
        base.is_multiple_of(align.unwrap_or(page)),
        "misaligned reservation"
    );
    let memfd = Memfd::new(c"mman-fuzz-reservation").expect("memfd_create");
    memfd.set_len((MAX_PAGES * page) as u64).expect("ftruncate");
    let mut world = World {
        book: Book {
            page,
            pages: vec![Page::Reserved; space.len() / page],
        },
        space,
        base,
        slots: Default::default(),
        memfd,
    };
    for op in &input.ops {
        world.apply(op);
        assert_eq!(
            world.space.committed(),
            world.book.committed(),
            "committed() after {op:?}"
        );
    }
    world.release();
}

impl World {
    fn apply(&mut self, op: &Op) {
        let (len, page) = (self.book.len(), self.book.page);
        match *op {
            Op::Commit { range, prot } => {
                let prot = prot.prot();
                let bounds = range.bounds(len, page);
                let want = match prot.intersects(Prot::GROWSDOWN | Prot::GROWSUP) {
                    true => Err(Errno::EINVAL),
                    false => self.book.owned(bounds),
                };
                let pages = match want {
                    Ok(pages) => pages,
                    Err(e) => return self.refused(e, |space| space.commit(bounds, prot)),
                };
                let got = self.space.commit(bounds, prot);
                // Bits the kernel does not know (mprotect's EINVAL) are the only refusal
                // left, unless the range is empty (mprotect of nothing answers 0 first).
                let known = Prot::READ | Prot::WRITE | Prot::EXEC | Prot::SEM;
                if !known.contains(prot) && !pages.is_empty() {
                    assert_eq!(got, Err(Errno::EINVAL), "commit with {prot:?}");
                    let book = &mut self.book.pages[pages];
                    book.iter_mut().for_each(|p| *p = p.lowered(prot));
                } else {
                    assert_eq!(got, Ok(()), "commit with {prot:?}");
                    self.book.pages[pages].fill(Page::committed_with(prot));
                }
            }
            Op::Decommit { range } => {
                let bounds = range.bounds(len, page);
                match self.book.owned(bounds) {
                    Ok(pages) => {
                        assert_eq!(self.space.decommit(bounds), Ok(()), "decommit");
                        self.book.pages[pages].fill(Page::Reserved);
                    }
                    Err(e) => self.refused(e, |space| space.decommit(bounds)),
                }
            }
            Op::Reset { range } => {
                let bounds = range.bounds(len, page);
                match self.book.resets(bounds) {
                    Ok(pages) => {
                        assert_eq!(self.space.reset(bounds), Ok(()), "reset");
                        for p in &mut self.book.pages[pages] {
                            if p.committed() {
                                *p = Page::Lazy;
                            }
                        }
                    }
                    Err(e) => self.refused(e, |space| space.reset(bounds)),
                }
            }
            Op::Slice {
                range,
                mutable,
                byte,
            } => self.slice(range, mutable, byte),
            Op::Place { slot, .. } if self.slots[slot.index()].is_some() => {}
            Op::Place {
                slot,
                offset,
                len: map_len,
                prot,
                align,
                file,
                shared,
            } => {
                let request = Request {
                    offset: offset.bytes(len, page),
                    len: map_len.map(|n| n.bytes(page)),
                    prot: prot.prot(),
                    align: align.map(Align::bytes),
                    file: file.map(|file| file.bytes(page)),
                    shared,
                };
                self.place(slot, request);
            }
            Op::DropPlaced { slot } => {
                if let Some((map, pages)) = self.slots[slot.index()].take() {
                    let (start, end) = kernel_range(&map, page);
                    drop(map);
                    assert!(
                        nothing_mapped(start, end),
                        "a dropped placed mapping left pages"
                    );
                    self.book.pages[pages].fill(Page::Gone);
                }
            }
        }
    }

    /// `as_slice` or `as_mut_slice`: answered as the book says, and whatever is lent is
    /// mapped readable (writable) in `/proc/self/maps`, and touched on every page.
    fn slice(&mut self, range: Range, mutable: bool, byte: u8) {
        let page = self.book.page;
        let bounds = range.bounds(self.book.len(), page);
        let want = self.book.lends(bounds, mutable);
        let base = self.base;
        let got = match mutable {
            true => self.space.as_mut_slice(bounds).map(|bytes| {
                touch_mut(bytes, page);
                bytes.fill(byte);
                (bytes.as_ptr() as usize - base, bytes.len())
            }),
            false => self.space.as_slice(bounds).map(|bytes| {
                touch(bytes, page);
                (bytes.as_ptr() as usize - base, bytes.len())
            }),
        };
        // An empty slice touches no page, so there is nothing to look at.
        if let Ok((start, n @ 1..)) = got {
            let (first, end) = (base + start, base + start + n);
            let (first, end) = (first - first % page, end.next_multiple_of(page));
            let need = if mutable { "rw" } else { "r" };
            assert!(
                covered(first, end, |perms| perms.starts_with(need)),
                "lent {n} bytes at {start:#x} (mutable {mutable}) not all mapped {need}"
            );
        }
        let got = got.map(|(start, n)| (start, start + n));
        assert_eq!(got, want, "slice (mutable {mutable}) of {bounds:?}");
    }

    /// `map_in` or `map_file_in`. Anonymous placements answer as the book says; a file
    /// placement may also be refused for the file's reasons (an offset past its end), but
    /// may succeed only where the book allows. A refusal changes nothing.
    fn place(&mut self, slot: Slot, request: Request) {
        let page = self.book.page;
        let mut options = MapOptions::new().prot(request.prot);
        if let Some(len) = request.len {
            options = options.len(len);
        }
        if let Some(align) = request.align {
            options = options.align(align);
        }
        if request.file.is_some() && request.shared {
            options = options.shared();
        }
        let lead = request
            .file
            .map_or(0, |offset| (offset % page as u64) as usize);
        let before = self.snapshot();
        let result = match request.file {
            None => options.map_in(&mut self.space, request.offset),
            Some(file_offset) => {
                options.map_file_in(&mut self.space, request.offset, &self.memfd, file_offset)
            }
        };
        let refused = request.refused(self.base);
        let map = match result {
            Ok(map) => map,
            Err(e) => {
                let after = self.snapshot();
                assert_eq!(
                    after, before,
                    "a refused placement ({e}) changed the reservation"
                );
                if request.file.is_none() {
                    let want = refused.or_else(|| {
                        let len = request.len.unwrap_or(0);
                        self.book.places(request.offset, len, 0).err()
                    });
                    // The kernel may refuse protection bits it does not know; a length that
                    // no whole number of pages holds is ENOMEM, as for mmap.
                    let unpageable = request
                        .len
                        .is_some_and(|len| len.checked_next_multiple_of(page).is_none());
                    let excused =
                        (e == Errno::EINVAL && request.odd()) || (e == Errno::ENOMEM && unpageable);
                    assert!(want == Some(e) || excused, "placement: {e}, book: {want:?}");
                }
                return;
            }
        };
        assert_eq!(refused, None, "placed what must be refused: {request:?}");
        let pages = self.book.places(request.offset, map.len(), lead);
        let pages = pages.unwrap_or_else(|e| panic!("placed where the book says {e}"));
        let start = self.base + request.offset + lead;
        assert_eq!(map.as_ptr() as usize, start, "placed elsewhere");
        let (start, end) = kernel_range(&map, page);
        assert!(all_mapped(start, end), "a placed mapping is not mapped");
        self.book.pages[pages.clone()].fill(Page::Given(slot.index()));
        self.slots[slot.index()] = Some((map, pages));
    }

    /// `call` must fail with `want` and change nothing.
    fn refused(&mut self, want: Errno, call: impl FnOnce(&mut Reservation) -> Result<()>) {
        let before = self.snapshot();
        assert_eq!(call(&mut self.space), Err(want), "should have been refused");
        assert_eq!(
            self.snapshot(),
            before,
            "a refused call changed the reservation"
        );
    }

    /// The reservation's kernel mappings (clipped to it) and `committed()`.
    fn snapshot(&self) -> (Vec<(usize, usize, String)>, usize) {
        let (start, end) = (self.base, self.base + self.book.len());
        let maps = vmas(start, end)
            .map(|(low, high, perms)| (low.max(start), high.min(end), perms))
            .collect();
        (maps, self.space.committed())
    }

    /// Drops the reservation: nothing it owned stays mapped, every placed mapping still
    /// alive does; then the placed mappings, after which nothing is left.
    fn release(self) {
        let (start, end) = (self.base, self.base + self.book.len());
        let page = self.book.page;
        drop(self.space);
        let mut alive: Vec<(usize, usize)> = self
            .slots
            .iter()
            .flatten()
            .map(|(map, _)| kernel_range(map, page))
            .collect();
        alive.sort_unstable();
        let mut next = start;
        for &(low, high) in alive.iter().chain([&(end, end)]) {
            assert!(
                nothing_mapped(next, low),
                "[{next:#x}, {low:#x}) still mapped after the reservation's drop"
            );
            assert!(
                all_mapped(low, high),
                "the reservation's drop unmapped a placed mapping"
            );
            next = high;
        }
        drop(self.slots);
        assert!(nothing_mapped(start, end), "left mapped after every drop");
    }
}

/// Whether nothing is mapped in `[start, end)`: `MAP_FIXED_NOREPLACE` maps there only then
/// (one call, where reading `/proc/self/maps` under coverage instrumentation costs more than
/// the rest of an iteration).
fn nothing_mapped(start: usize, end: usize) -> bool {
    if start == end {
        return true;
    }
    let flags = MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::NORESERVE;
    let flags = flags | MapFlags::FIXED_NOREPLACE;
    // SAFETY: MAP_FIXED_NOREPLACE replaces nothing; what it maps is unmapped at once.
    match unsafe {
        sys::mmap(
            start as *mut c_void,
            end - start,
            Prot::empty(),
            flags,
            -1,
            0,
        )
    } {
        Ok(probe) => {
            // SAFETY: the mapping just made, which nothing refers to.
            unsafe { sys::munmap(probe, end - start) }.expect("munmap of the probe");
            probe as usize == start
        }
        Err(e) => {
            assert_eq!(e, Errno::EEXIST, "probing [{start:#x}, {end:#x})");
            false
        }
    }
}

/// Whether every page of `[start, end)` is mapped (`mincore` fails with ENOMEM otherwise).
fn all_mapped(start: usize, end: usize) -> bool {
    let mut resident = [0u8; MAX_PAGES + 1];
    let pages = (end - start) / page_size();
    assert!(
        pages <= resident.len(),
        "a placed mapping longer than any asked for"
    );
    // SAFETY: mincore writes one byte per page of the range into `resident`, which holds them.
    unsafe {
        libc::mincore(
            start as *mut libc::c_void,
            end - start,
            resident.as_mut_ptr(),
        ) == 0
    }
}

/// Whether `[start, end)` is mapped without a hole, every part with permissions `ok` takes.
fn covered(start: usize, end: usize, ok: impl Fn(&str) -> bool) -> bool {
    if start >= end {
        // Nothing to cover (an empty slice at a page boundary); the mapping around `start`
        // is not asked about.
        return true;
    }
    let mut next = start;
    for (low, high, perms) in vmas(start, end) {
        if low > next || !ok(&perms) {
            return false;
        }
        next = high;
    }
    next >= end
}

/// A placement, as the input asks for it.
#[derive(Clone, Copy, Debug)]
struct Request {
    offset: usize,
    len: Option<usize>,
    prot: Prot,
    align: Option<usize>,
    /// `map_file_in` of the memfd from this offset, else `map_in`.
    file: Option<u64>,
    shared: bool,
}

impl Request {
    /// Why the options alone are refused (`EINVAL`), before the reservation's pages are
    /// looked at: no length (anonymous), a grows-down/up protection, an alignment that is
    /// not a power of two, is below a page, or that the place does not have (0 asks for
    /// none).
    fn refused(&self, base: usize) -> Option<Errno> {
        let misaligned = |align: usize| {
            align != 0
                && (!align.is_power_of_two()
                    || align < page_size()
                    || !base.wrapping_add(self.offset).is_multiple_of(align))
        };
        let bad = (self.file.is_none() && self.len.is_none())
            || self.prot.intersects(Prot::GROWSDOWN | Prot::GROWSUP)
            || self.align.is_some_and(misaligned);
        bad.then_some(Errno::EINVAL)
    }

    /// Whether `EINVAL` is an answer besides the book's: for protection bits the kernel
    /// does not know.
    fn odd(&self) -> bool {
        let known = Prot::READ | Prot::WRITE | Prot::EXEC | Prot::SEM;
        !known.contains(self.prot)
    }
}
