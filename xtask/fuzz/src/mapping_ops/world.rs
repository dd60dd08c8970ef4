//! The state of one `mapping_ops` iteration, and how each operation is applied to it.

use std::sync::Mutex;

use mman::{page_size, Access, Advice, Errno, Guard, MapOptions, Mapping, Memfd, Prot, Seals};

use super::checks::{destroys, is_mapped, kernel_range, span};
use super::input::{
    At, Bounds, Kind, MapRequest, Op, OptionBits, Range, Slot, Source, MAX_PAGES, SLOTS,
};

/// Copy buffers, allocated once: a large allocation in every iteration would come and go as
/// a mapping of its own (and stay one while a sanitizer quarantines it), which the leak
/// audit would count.
static SCRATCH: Mutex<Vec<u8>> = Mutex::new(Vec::new());

pub struct World<'s> {
    pub(super) page: usize,
    /// What file mappings map. Its size changes (`SetFileLen`, `remap_file`).
    pub(super) memfd: Memfd,
    pub(super) slots: [Option<Held>; SLOTS],
    /// Two halves, each room for the longest copy.
    pub(super) scratch: &'s mut [u8],
}

/// A mapping in a slot, and what the harness knows about it.
pub(super) struct Held {
    pub(super) map: Mapping,
    pub(super) memory: Memory,
    /// MAP_HUGETLB. With no huge page free, which is usual (MAP_NORESERVE maps anyway), the
    /// kernel raises SIGBUS on the first access, so none is made.
    pub(super) hugetlb: bool,
    /// `guard` installed guard markers, which only `unguard` removes (they survive
    /// `protect`): until then every slice and copy must be refused.
    pub(super) guarded: bool,
    /// What the library must know it may lend: predicted from the documented rules.
    pub(super) book: Book,
}

/// The library's book-keeping as the documentation defines it: `protect` takes away what
/// `prot` does not grant before the call and grants only after a successful change of the
/// whole, unguarded mapping; `guard` takes everything away until a successful `unguard`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Book {
    pub(super) readable: bool,
    pub(super) writable: bool,
    pub(super) guarded: bool,
    /// False once a call failed in a way that leaves the book-keeping open (an `unguard`
    /// that failed after removing markers or before): then only the safety direction is
    /// checked (whatever is granted is accessible).
    pub(super) exact: bool,
}

impl Book {
    fn new(prot: Prot) -> Book {
        Book {
            readable: prot.contains(Prot::READ),
            writable: prot.contains(Prot::WRITE),
            guarded: false,
            exact: true,
        }
    }

    /// Whether the library must answer `granted` for an access needing `read`/`write`:
    /// Some(answer) when exact.
    pub(super) fn grants(&self, read: bool, write: bool) -> Option<bool> {
        self.exact
            .then_some((!read || self.readable) && (!write || self.writable))
    }

    /// `protect(start..end, prot)` of a mapping of `len` bytes at `ptr` returned `result`.
    fn protected(
        &mut self,
        (start, end): (usize, usize),
        len: usize,
        ptr: usize,
        prot: Prot,
        page: usize,
        ok: bool,
    ) {
        let whole = start == 0 && end == len;
        let unaligned = !(ptr + start).is_multiple_of(page);
        if prot.intersects(Prot::GROWSDOWN | Prot::GROWSUP) || (!whole && unaligned) {
            // Refused before anything was taken away.
            return;
        }
        self.readable &= prot.contains(Prot::READ);
        self.writable &= prot.contains(Prot::WRITE);
        if ok && whole && !self.guarded {
            self.readable = prot.contains(Prot::READ);
            self.writable = prot.contains(Prot::WRITE);
        }
    }
}

/// What the library should take a mapping's memory for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Memory {
    /// Private anonymous: exclusive, lent as slices, grows with zeros.
    Private,
    /// MAP_DROPPABLE: the kernel may zero it at any time, so writes are not read back.
    Droppable,
    /// Shared anonymous: its object cannot grow, so neither can the mapping.
    SharedAnonymous,
    /// The memfd from `offset` on; `shared` if writes reach the file. `past_end` while the
    /// library counts it as reaching past the file's end (made so, or resized with
    /// `remap_file` since): no atomic view until `as_atomics` of read-write memory finds
    /// the file covering it (review round 5).
    File {
        offset: u64,
        shared: bool,
        past_end: bool,
    },
    /// The memfd from `offset` on, sealed against writing and shrinking when mapped and
    /// within its size: exclusive (lent as slices), and it never grows.
    SealedFile { offset: u64 },
    /// Anonymous huge pages without a reservation (`no_reserve`), private or shared: a page
    /// the pool cannot supply raises SIGBUS when first touched, so the library lends
    /// nothing of it, not even atomic views (review round 4); it never grows.
    UnreservedHugePages,
}

impl Memory {
    pub(super) fn exclusive(self) -> bool {
        matches!(self, Memory::Private | Memory::SealedFile { .. })
    }

    fn grows(self) -> bool {
        matches!(self, Memory::Private | Memory::Droppable)
    }
}

impl World<'_> {
    pub fn run(ops: &[Op]) {
        let page = page_size();
        let mut scratch = SCRATCH.lock().unwrap_or_else(|e| e.into_inner());
        scratch.resize(2 * (MAX_PAGES + 1) * page, 0);
        let memfd = Memfd::new(c"mman-fuzz").expect("memfd_create");
        memfd.set_len((MAX_PAGES * page) as u64).expect("ftruncate");
        let mut world = World {
            page,
            memfd,
            slots: Default::default(),
            scratch: &mut scratch,
        };
        for op in ops {
            world.apply(op);
        }
        for i in 0..SLOTS {
            world.release(i);
        }
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::Map { slot, ref request } => {
                self.release(slot.index());
                self.slots[slot.index()] = self.map(request);
            }
            Op::Drop { slot } => self.release(slot.index()),
            Op::Protect { slot, range, prot } => {
                let prot = prot.prot();
                let page = self.page;
                if let Some((span, result)) =
                    self.ranged(slot, range, false, |m, b| m.protect(b, prot))
                {
                    let held = self.held(slot);
                    let (len, ptr) = (held.map.len(), held.map.as_ptr() as usize);
                    held.book
                        .protected(span, len, ptr, prot, page, result.is_ok());
                }
            }
            Op::Flush { slot, range, how } => {
                self.ranged(slot, range, false, |m, b| m.flush(b, how.flush()));
            }
            Op::Advise {
                slot,
                range,
                advice,
            } => {
                let advice = advice.advice();
                let memory = self.slots[slot.index()].as_ref().map(|h| h.memory);
                // DontFork and WipeOnFork leave a forked child's Mapping dangling or zeroed.
                let forks = matches!(advice, Advice::DontFork | Advice::WipeOnFork);
                let refuse = memory.is_some_and(|m| destroys(advice, m.exclusive())) || forks;
                self.ranged(slot, range, refuse, |m, b| m.advise(b, advice));
            }
            Op::Lock {
                slot,
                range,
                on_fault,
            } => {
                self.ranged(slot, range, false, |m, b| match on_fault {
                    true => m.lock_on_fault(b),
                    false => m.lock(b),
                });
            }
            Op::Unlock { slot, range } => {
                self.ranged(slot, range, false, |m, b| m.unlock(b));
            }
            Op::Remap {
                slot,
                len,
                may_move,
                grow_file,
            } => {
                self.remap(slot, len.bytes(self.page), may_move, grow_file);
            }
            Op::Guard { slot, range } => {
                let mut madvised = false;
                let guarded = self.ranged(slot, range, false, |m, b| {
                    let guard = m.guard(b);
                    madvised = guard == Ok(Guard::Madvise);
                    guard
                });
                if guarded.is_some() {
                    let held = self.held(slot);
                    // Taken away before the call, whatever it answers.
                    held.book.guarded = true;
                    held.book.readable = false;
                    held.book.writable = false;
                    held.guarded |= madvised;
                }
            }
            Op::Unguard { slot, prot } => {
                if let Some(held) = self.slots[slot.index()].as_mut() {
                    let prot = prot.prot();
                    if held.map.unguard(prot).is_ok() {
                        held.guarded = false;
                        held.book.guarded = false;
                        held.book.readable = prot.contains(Prot::READ);
                        held.book.writable = prot.contains(Prot::WRITE);
                    } else {
                        held.book.readable &= prot.contains(Prot::READ);
                        held.book.writable &= prot.contains(Prot::WRITE);
                        held.book.exact = false;
                    }
                }
            }
            Op::Read { slot, offset, len } => {
                let offset = offset.bytes(self.len(slot), self.page);
                self.copy(slot, offset, len.bytes(self.page), None);
            }
            Op::Write {
                slot,
                offset,
                len,
                byte,
            } => {
                let offset = offset.bytes(self.len(slot), self.page);
                self.copy(slot, offset, len.bytes(self.page), Some(byte));
            }
            Op::Slice { slot, mutable } => self.slice(slot, mutable),
            Op::Atomic {
                slot,
                offset,
                wide,
                add,
            } => {
                let offset = offset.bytes(self.len(slot), self.page);
                self.atomic(slot, offset, wide, add);
            }
            Op::SetFileLen { len } => {
                let _ = self.memfd.set_len(len.bytes(self.page));
            }
            Op::SealFile { seals } => {
                let _ = self
                    .memfd
                    .add_seals(Seals::from_bits_truncate(u32::from(seals)));
            }
        }
    }

    fn map(&mut self, request: &MapRequest) -> Option<Held> {
        let page = self.page;
        let len = request.len.map(|len| len.bytes(page));
        let options = self.options(request, len);
        let cap = (MAX_PAGES * page) as u64;
        let (result, len, memory) = match request.source {
            Source::Anonymous => {
                let unreserved = request.options.has(OptionBits::NO_RESERVE);
                let memory = match request.kind {
                    _ if request.huge_pages() && unreserved => Memory::UnreservedHugePages,
                    Kind::Private => Memory::Private,
                    Kind::Droppable => Memory::Droppable,
                    Kind::Shared | Kind::SharedValidate | Kind::Sync => Memory::SharedAnonymous,
                };
                (options.map(), len, memory)
            }
            Source::File(offset) => {
                let offset = offset.bytes(page);
                let rest = self.file_len().checked_sub(offset);
                let len = match (len, rest) {
                    (Some(len), _) => Some(len),
                    // The rest of a file that remap_file grew can be terabytes.
                    (None, Some(rest)) if rest > cap => return None,
                    (None, rest) => rest.map(|rest| rest as usize),
                };
                let shared = request.kind != Kind::Private;
                let readable = request.prot.prot().contains(Prot::READ);
                let memory = self.file_memory(offset, len, shared, readable);
                (options.map_file(&self.memfd, offset), len, memory)
            }
            Source::WholeFile { read_only } => {
                let len = self.file_len();
                if len > cap {
                    return None;
                }
                let access = match read_only {
                    true => Access::ReadOnly,
                    false => Access::ReadWrite,
                };
                let memory = self.file_memory(0, Some(len as usize), true, true);
                (self.memfd.map(access), Some(len as usize), memory)
            }
        };
        let is_file = !matches!(request.source, Source::Anonymous);
        let len = match len {
            Some(len @ 1..) => len,
            // A file with nothing from the offset on, or a length of 0: an empty mapping
            // (when the other options are acceptable), which is not held.
            Some(0) if is_file => {
                if let Ok(map) = result {
                    assert_eq!((map.len(), map.as_slice().map(<[u8]>::len)), (0, Ok(0)));
                }
                return None;
            }
            // No length (anonymous memory without one, a file offset past the end), or an
            // anonymous length of 0.
            _ => {
                assert_eq!(result.err(), Some(Errno::EINVAL), "map without a length");
                return None;
            }
        };
        let Ok(map) = result else {
            return None;
        };
        assert_eq!(map.len(), len, "{request:?}");
        assert_eq!(map.is_volatile(), !memory.exclusive(), "{request:?}");
        Some(Held {
            map,
            memory,
            hugetlb: request.huge_pages(),
            guarded: false,
            book: Book::new(match request.source {
                Source::WholeFile { read_only: true } => Prot::READ,
                Source::WholeFile { read_only: false } => Prot::READ | Prot::WRITE,
                _ => request.prot.prot(),
            }),
        })
    }

    fn options(&self, request: &MapRequest, len: Option<usize>) -> MapOptions {
        let mut options = MapOptions::new().prot(request.prot.prot());
        options = match request.kind {
            Kind::Private => options.private(),
            Kind::Shared => options.shared(),
            Kind::SharedValidate => options.shared_validate(),
            Kind::Droppable => options.droppable(),
            Kind::Sync => options.sync(),
        };
        if let Some(len) = len {
            options = options.len(len);
        }
        let bits = request.options;
        let switches = [
            (
                OptionBits::POPULATE,
                MapOptions::populate as fn(MapOptions) -> MapOptions,
            ),
            (OptionBits::LOCKED, MapOptions::locked),
            (OptionBits::NO_RESERVE, MapOptions::no_reserve),
            (OptionBits::STACK, MapOptions::stack),
            (OptionBits::GROWS_DOWN, MapOptions::grows_down),
            (
                OptionBits::TRANSPARENT_HUGE_PAGES,
                MapOptions::transparent_huge_pages,
            ),
            #[cfg(target_arch = "x86_64")]
            (OptionBits::BELOW_2GIB, MapOptions::below_2gib),
        ];
        for (bit, switch) in switches {
            if bits.has(bit) {
                options = switch(options);
            }
        }
        let exotic = request.exotic.unwrap_or_default();
        match exotic.huge_pages {
            None => {}
            Some(0) => options = options.huge_pages(),
            Some(log2) => options = options.huge_pages_log2(u32::from(log2)),
        }
        if let Some(at) = exotic.at {
            options = options.at(self.address(at));
        }
        options
    }

    /// Where `at` asks for: a raw address is taken below 4 GiB, out of any stack's reach.
    fn address(&self, at: At) -> usize {
        match at {
            At::Raw(address) => address & 0xffff_ffff,
            At::Low(pages) => usize::from(pages) * self.page,
            At::Beside { slot, pages } => match &self.slots[slot.index()] {
                Some(held) => kernel_range(&held.map, self.page)
                    .0
                    .wrapping_add_signed(isize::from(pages) * self.page as isize),
                None => 0,
            },
        }
    }

    /// Drops the mapping in slot `i`, which must unmap every page it had.
    fn release(&mut self, i: usize) {
        let Some(held) = self.slots[i].take() else {
            return;
        };
        let (start, end) = kernel_range(&held.map, self.page);
        drop(held);
        let mapped = (start..end)
            .step_by(self.page)
            .find(|&page| is_mapped(page));
        assert_eq!(
            mapped, None,
            "a dropped Mapping left [{start:#x}, {end:#x}) mapped"
        );
    }

    /// Calls a range-checked method on the mapping in `slot` (if any) with `range`.
    /// A range outside the mapping, or any range if `refuse`, must be EINVAL and change
    /// nothing. Returns the span (start, end) and the result of a call that was not refused.
    fn ranged<T>(
        &mut self,
        slot: Slot,
        range: Range,
        refuse: bool,
        call: impl FnOnce(&mut Mapping, Bounds) -> mman::Result<T>,
    ) -> Option<((usize, usize), mman::Result<()>)> {
        let held = self.slots[slot.index()].as_ref()?;
        let len = held.map.len();
        let bounds = range.bounds(len, self.page);
        match span(bounds, len) {
            Some(span) if !refuse => Some((span, call(&mut self.held(slot).map, bounds).map(drop))),
            _ => {
                self.refused(slot, |m, _, _| call(m, bounds).map(drop));
                None
            }
        }
    }

    /// `remap`, or `remap_file` if `grow_file`. Growing memory that cannot grow (shared
    /// anonymous; a file without `remap_file`), `remap_file` of anything but a file, and a
    /// length of 0 are refused; any failure leaves the mapping as it was.
    fn remap(&mut self, slot: Slot, len: usize, may_move: bool, grow_file: bool) {
        let Some(held) = self.slots[slot.index()].as_mut() else {
            return;
        };
        let file = matches!(held.memory, Memory::File { .. });
        let refused = match grow_file {
            true => !file,
            false => len == 0 || (len > held.map.len() && !held.memory.grows()),
        };
        if refused {
            return self.refused(slot, |m, _, memfd| match grow_file {
                true => m.remap_file(memfd, len, may_move),
                false => m.remap(len, may_move),
            });
        }
        let map = &mut held.map;
        let before = (map.as_ptr(), map.len());
        let result = match grow_file {
            true => map.remap_file(&self.memfd, len, may_move),
            false => map.remap(len, may_move),
        };
        match result {
            Ok(()) => {
                assert_eq!(map.len(), len, "remap");
                assert!(may_move || map.as_ptr() == before.0, "remap moved");
                if let Memory::File { past_end, .. } = &mut held.memory {
                    // remap_file cannot know its descriptor is the mapping's file.
                    *past_end |= grow_file;
                }
            }
            Err(e) => assert_eq!((map.as_ptr(), map.len()), before, "failed remap ({e:?})"),
        }
    }

    /// How many bytes from the start of the mapping in `slot` can be accessed without the
    /// kernel raising SIGBUS.
    pub(super) fn backed(&self, slot: Slot) -> usize {
        let Some(held) = self.slots[slot.index()].as_ref() else {
            return 0;
        };
        match held.memory {
            _ if held.hugetlb => 0,
            Memory::File { offset, .. } | Memory::SealedFile { offset } => {
                let rest = self.file_len().saturating_sub(offset);
                usize::try_from(rest).unwrap_or(usize::MAX)
            }
            Memory::Private
            | Memory::Droppable
            | Memory::SharedAnonymous
            | Memory::UnreservedHugePages => usize::MAX,
        }
    }

    pub(super) fn len(&self, slot: Slot) -> usize {
        self.slots[slot.index()]
            .as_ref()
            .map_or(0, |held| held.map.len())
    }

    pub(super) fn held(&mut self, slot: Slot) -> &mut Held {
        self.slots[slot.index()].as_mut().expect("an occupied slot")
    }

    /// What a mapping of `len` bytes of the memfd from `offset` is: sealed (slices lent)
    /// when the memfd is sealed against writing and shrinking, the bytes lie within it, and
    /// the mapping is `readable`, so that the library can fault every page in when mapping
    /// it (review round 6: a hole of a sealed file takes its page at the first touch).
    fn file_memory(&self, offset: u64, len: Option<usize>, shared: bool, readable: bool) -> Memory {
        let frozen = Seals::WRITE | Seals::SHRINK;
        let sealed = self.memfd.seals().is_ok_and(|seals| seals.contains(frozen));
        let within = len
            .and_then(|len| offset.checked_add(len as u64))
            .is_some_and(|end| end <= self.file_len());
        let past_end = len.is_some_and(|len| len != 0 && !self.covers(offset, len));
        match sealed && within && !past_end && readable {
            true => Memory::SealedFile { offset },
            false => Memory::File {
                offset,
                shared,
                past_end,
            },
        }
    }

    /// Whether the memfd now backs every page of `len` bytes from `offset`: the last page
    /// starts before its end (the rest of that page reads as zeros).
    pub(super) fn covers(&self, offset: u64, len: usize) -> bool {
        let backed = self.file_len().checked_next_multiple_of(self.page as u64);
        match (offset.checked_add(len as u64), backed) {
            (Some(end), Some(backed)) => end <= backed,
            (None, _) => false,
            (Some(_), None) => true,
        }
    }

    pub(super) fn file_len(&self) -> u64 {
        self.memfd.len().expect("memfd size")
    }
}
