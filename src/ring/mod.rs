//! [`MirrorBuffer`]: a byte ring whose pages are mapped twice, back to back, so that every
//! run of up to `capacity` bytes, starting anywhere, is one contiguous slice; and its
//! single-producer, single-consumer queue ([`Producer`], [`Consumer`]).
//!
//! Module layout: this file holds the types and the queue's rules; `position` the
//! arithmetic of positions (pure functions, tested at the wrap); `region` makes and unmaps
//! the mirrored mapping and its control page.

use core::num::NonZeroUsize;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::Result;

mod position;
mod region;

use region::Region;

/// A ring of `capacity` bytes mapped twice: the same memory (a memfd) appears at
/// `data..data + capacity` and again right after it, so the bytes from any position on,
/// up to `capacity` of them, are one contiguous slice, even across the wrap.
///
/// Used as a single-producer, single-consumer byte queue: [`split`](MirrorBuffer::split)
/// gives a [`Producer`] that lends the free space as one `&mut [u8]` and a [`Consumer`]
/// that lends the queued bytes as one `&[u8]`, each [`Send`] to a thread of its own.
///
/// ```
/// use mman::MirrorBuffer;
/// let (mut producer, mut consumer) = MirrorBuffer::new(1)?.split(); // one page
/// let capacity = producer.capacity();
/// // Fill all but 3 bytes, and read them back, so that the next write wraps.
/// let n = producer.push(&vec![1; capacity - 3]);
/// consumer.consume(n);
/// // A record of 8 bytes across the wrap is one slice, written and read in place.
/// producer.write_slice()[..8].copy_from_slice(b"straddle");
/// producer.commit(8);
/// assert_eq!(&consumer.read_slice()[..8], b"straddle");
/// # Ok::<(), mman::Errno>(())
/// ```
///
/// # Why two live slices never share a byte
///
/// Both views alias the same physical memory: the byte at logical position `p` (a count of
/// bytes written since the start) lives at physical offset `p mod capacity`, seen at two
/// virtual addresses. Let `H` and `T` be the consumer's and producer's positions (bytes
/// consumed, bytes committed); only the consumer advances `H`, only the producer `T`, each
/// through `&mut self`, and `0 <= T - H <= capacity` always.
///
/// - The producer's slice covers positions `[T, H' + capacity)`, where `H'` is a value of
///   `H` it loaded (so `H' <= H` now); the consumer's covers `[H, T')` for a loaded
///   `T' <= T`. While the producer's slice lives, `T` does not move (committing needs
///   `&mut self`), so every consumer slice lies in `[H, T)`; while the consumer's lives,
///   `H` does not move, so every producer slice lies in `[T', H + capacity)`.
/// - Either way both slices lie inside one window of `capacity` consecutive positions
///   (from the older `H'` on), and do not overlap as positions. Positions in a window of
///   `capacity` have distinct remainders modulo `capacity`: distinct physical bytes. Each
///   slice is at most `capacity` long, so it does not alias itself either.
/// - Ordering: the producer's writes happen before its `Release` store of `T`, which the
///   consumer loads with `Acquire` before lending `[H, T)`; the consumer's reads happen
///   before its `Release` store of `H`, which the producer loads with `Acquire` before
///   lending the space those bytes occupied.
///
/// The two views are coherent on every architecture mman supports. Most keep data caches
/// coherent between any virtual aliases of one physical page (the 64-bit ones but mips,
/// and i686; 32-bit ARM's `SHMLBA` of four pages binds ARMv6 and older, whose virtually
/// indexed data caches alias, while ARMv7, the oldest mman supports, requires caches that
/// behave as physically indexed). On mips aliases are coherent only at the same cache
/// colour, which the kernel enforces (a misplaced view is `EINVAL`): there the capacity is
/// a multiple of [`shared_alignment`](crate::shared_alignment) (`SHMLBA`, 256 KiB) and the
/// first view starts at one, so both views sit at the colour of the memfd's offset 0.
///
/// # Fork
///
/// The memfd's pages are shared, so a forked child would share them with the parent: a
/// child using its copy of a half would write into bytes the parent lends out. So the
/// ring's control page (positions and a liveness word) is private anonymous memory marked
/// `MADV_WIPEONFORK` (Linux 4.14): in a child it reads as zeros, and every method of a half
/// there finds the liveness word clear and lends nothing (empty slices, zero counts);
/// dropping it there unmaps nothing. (qemu-user answers that advice without applying it,
/// so under it this protection is the emulator's to give.)
#[derive(Debug)]
pub struct MirrorBuffer {
    ring: Ring,
}

/// The writing half: lends the free space, commits what was written.
#[derive(Debug)]
pub struct Producer {
    ring: Ring,
}

/// The reading half: lends the queued bytes, consumes what was read.
#[derive(Debug)]
pub struct Consumer {
    ring: Ring,
}

/// What both halves share: the mirrored data and the control page.
#[derive(Debug)]
struct Ring {
    control: NonNull<Control>,
    /// The first view; the second follows at `data + capacity`.
    data: NonNull<u8>,
    capacity: NonZeroUsize,
}

/// The control page's contents. All zero in a forked child (`MADV_WIPEONFORK`).
#[repr(C)]
struct Control {
    /// `ALIVE` in the process that made the ring.
    alive: AtomicUsize,
    /// Bytes consumed (`H`) and committed (`T`) since the start, modulo `2 * capacity`
    /// (which keeps `T - H`, at most `capacity`, unambiguous, with no division).
    head: AtomicUsize,
    tail: AtomicUsize,
    /// Owners of the region: the buffer, then its two halves; the last one unmaps it.
    owners: AtomicUsize,
}

/// The liveness word's value in the process that made the ring.
const ALIVE: usize = 0x7269_6e67; // "ring": any value but 0, within 32 bits

// SAFETY: a half owns its side of the queue; the positions it shares with the other half
// are atomics, and the bytes each lends never overlap the other's (see `MirrorBuffer`).
unsafe impl Send for Producer {}
// SAFETY: as above.
unsafe impl Send for Consumer {}
// SAFETY: the unsplit buffer lends nothing; moving it moves the whole region.
unsafe impl Send for MirrorBuffer {}

impl MirrorBuffer {
    /// A ring of at least `min_capacity` bytes (at least 1), rounded up to a multiple of
    /// [`shared_alignment`](crate::shared_alignment): whole pages (the allocation
    /// granularity of mappings on Linux), and on mips whole multiples of `SHMLBA`, so
    /// that both views lie at the cache colour of their memory. `ENOMEM` if that overflows or the
    /// address space runs out; the errors of `memfd_create`, `ftruncate` and `mmap`;
    /// `EEXIST` if other threads' mappings took the region's place eight times in a row
    /// (each attempt starts from a new reservation and leaves nothing behind).
    pub fn new(min_capacity: usize) -> Result<MirrorBuffer> {
        let region = Region::new(min_capacity)?;
        let control = region.control();
        // SAFETY: the control page is fresh, writable, page aligned and ours alone.
        unsafe {
            control.as_ptr().write(Control {
                alive: AtomicUsize::new(ALIVE),
                head: AtomicUsize::new(0),
                tail: AtomicUsize::new(0),
                owners: AtomicUsize::new(1),
            });
        }
        let (data, capacity) = region.into_raw();
        Ok(MirrorBuffer {
            ring: Ring {
                control,
                data,
                capacity,
            },
        })
    }

    /// The capacity in bytes: a multiple of [`shared_alignment`](crate::shared_alignment)
    /// (a whole number of pages).
    pub fn capacity(&self) -> usize {
        self.ring.capacity.get()
    }

    /// Splits into the producer and the consumer, which may go to different threads.
    pub fn split(self) -> (Producer, Consumer) {
        let ring = self.ring.share();
        let other = ring.share();
        // The buffer's own ownership ends here.
        drop(self);
        (Producer { ring }, Consumer { ring: other })
    }
}

impl Ring {
    fn control(&self) -> &Control {
        // SAFETY: the control page stays mapped while any owner lives.
        unsafe { self.control.as_ref() }
    }

    /// Whether this process made the ring (false in a forked child, where the control page
    /// reads as zeros).
    #[inline]
    fn alive(&self) -> bool {
        self.control().alive.load(Ordering::Relaxed) == ALIVE
    }

    /// Another owner of the same region.
    fn share(&self) -> Ring {
        self.control().owners.fetch_add(1, Ordering::Relaxed);
        Ring {
            control: self.control,
            data: self.data,
            capacity: self.capacity,
        }
    }

    /// The address of `position` (below `2 * capacity`) in the first view.
    #[inline]
    fn at(&self, position: usize) -> *mut u8 {
        let offset = position::offset(self.capacity.get(), position);
        // SAFETY: the offset is below `capacity`, inside the first view.
        unsafe { self.data.as_ptr().add(offset) }
    }

    /// Bytes from position `from` to position `to` (both below `2 * capacity`).
    #[inline]
    fn distance(&self, from: usize, to: usize) -> usize {
        position::distance(self.capacity.get(), from, to)
    }

    /// Position `position` moved on by `n` bytes (at most `capacity`).
    #[inline]
    fn advance(&self, position: usize, n: usize) -> usize {
        position::advance(self.capacity.get(), position, n)
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // In a forked child the region is a copy that is left alone (its pages are the
        // parent's too, and nothing of the child's refers to them).
        if self.alive() && self.control().owners.fetch_sub(1, Ordering::AcqRel) == 1 {
            // SAFETY: the last owner: no slice of the ring is alive.
            unsafe { Region::unmap(self.control, self.capacity) };
        }
    }
}

impl Producer {
    /// The ring's capacity in bytes.
    pub fn capacity(&self) -> usize {
        self.ring.capacity.get()
    }

    /// The free space, as one slice (empty when the ring is full): from the end of the
    /// queued bytes on, across the wrap if need be. Write into it, then
    /// [`commit`](Producer::commit) what was written.
    #[inline]
    pub fn write_slice(&mut self) -> &mut [u8] {
        if !self.ring.alive() {
            return &mut [];
        }
        let control = self.ring.control();
        let tail = control.tail.load(Ordering::Relaxed);
        let head = control.head.load(Ordering::Acquire);
        let free = self.capacity() - self.ring.distance(head, tail);
        // SAFETY: `[tail, head + capacity)` is free: the consumer lends only `[head, tail)`,
        // and those positions lie in one window of `capacity` (see `MirrorBuffer`), so the
        // bytes, contiguous across the two views, are no one else's. `&mut self` keeps
        // `tail` where it is while the slice lives.
        unsafe { core::slice::from_raw_parts_mut(self.ring.at(tail), free) }
    }

    /// Bytes that can be written now.
    pub fn free(&self) -> usize {
        if !self.ring.alive() {
            return 0;
        }
        let control = self.ring.control();
        let tail = control.tail.load(Ordering::Relaxed);
        let head = control.head.load(Ordering::Acquire);
        self.capacity() - self.ring.distance(head, tail)
    }

    /// Queues the first `n` bytes of the free space (as lent by
    /// [`write_slice`](Producer::write_slice)); `n` is capped at the free space. Returns how
    /// many were queued.
    #[inline]
    pub fn commit(&mut self, n: usize) -> usize {
        let n = n.min(self.free());
        let control = self.ring.control();
        let tail = control.tail.load(Ordering::Relaxed);
        control
            .tail
            .store(self.ring.advance(tail, n), Ordering::Release);
        n
    }

    /// Copies as much of `bytes` as fits into the ring and queues it; how many.
    pub fn push(&mut self, bytes: &[u8]) -> usize {
        let space = self.write_slice();
        let n = bytes.len().min(space.len());
        space[..n].copy_from_slice(&bytes[..n]);
        self.commit(n)
    }
}

impl Consumer {
    /// The ring's capacity in bytes.
    pub fn capacity(&self) -> usize {
        self.ring.capacity.get()
    }

    /// The queued bytes, as one slice (empty when none), oldest first, across the wrap if
    /// need be. Read them, then [`consume`](Consumer::consume) what was read.
    #[inline]
    pub fn read_slice(&mut self) -> &[u8] {
        if !self.ring.alive() {
            return &[];
        }
        let control = self.ring.control();
        let head = control.head.load(Ordering::Relaxed);
        let tail = control.tail.load(Ordering::Acquire);
        let queued = self.ring.distance(head, tail);
        // SAFETY: `[head, tail)` was written and committed (Acquire pairs with the
        // producer's Release), and the producer lends only `[tail', head + capacity)` with
        // `tail' >= tail`; `&mut self` keeps `head` where it is while the slice lives (see
        // `MirrorBuffer`).
        unsafe { core::slice::from_raw_parts(self.ring.at(head), queued) }
    }

    /// Bytes queued now.
    pub fn len(&self) -> usize {
        if !self.ring.alive() {
            return 0;
        }
        let control = self.ring.control();
        let tail = control.tail.load(Ordering::Acquire);
        let head = control.head.load(Ordering::Relaxed);
        self.ring.distance(head, tail)
    }

    /// Whether no bytes are queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Frees the first `n` queued bytes (capped at what is queued) for the producer;
    /// returns how many.
    #[inline]
    pub fn consume(&mut self, n: usize) -> usize {
        let n = n.min(self.len());
        let control = self.ring.control();
        let head = control.head.load(Ordering::Relaxed);
        control
            .head
            .store(self.ring.advance(head, n), Ordering::Release);
        n
    }

    /// Copies queued bytes into `out`, as many as fit, and consumes them; how many.
    pub fn pop(&mut self, out: &mut [u8]) -> usize {
        let queued = self.read_slice();
        let n = out.len().min(queued.len());
        out[..n].copy_from_slice(&queued[..n]);
        self.consume(n)
    }
}
