//! [`Malloc`]: dlmalloc instances in shards, each behind its own lock and over its own
//! address space; large blocks from the page allocator.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr::{self, null_mut};
use core::sync::atomic::{AtomicUsize, Ordering};

use dlmalloc::Dlmalloc;

use super::cache::{request, FreeLists};
use super::pages;
use super::segments::Segments;
use super::spin::SpinLock;
use crate::place::{commit, map_out_of_the_stacks_reach};
use crate::{page_size, sys, MapFlags, Prot};

/// How many dlmalloc instances: enough that a handful of threads rarely meet on one lock.
const SHARDS: usize = 8;
/// Each shard's address space (reserved, not committed), aligned to its size so that the
/// owner of a block is found from its address alone. Small blocks only live there.
#[cfg(target_pointer_width = "64")]
const SHARD_SPACE: usize = 1 << 32;
/// Each shard's address space: on 32-bit targets, whose whole address space is 3 to 4 GiB,
/// the 8 shards reserve 512 MiB.
#[cfg(target_pointer_width = "32")]
const SHARD_SPACE: usize = 64 << 20;
/// Blocks of this size and more, and blocks aligned to more than `MAX_SMALL_ALIGN`, are
/// mappings of their own (the page allocator): they move instead of being copied when they
/// grow, and go back to the kernel when freed.
const LARGE: usize = 256 << 10;
const MAX_SMALL_ALIGN: usize = 4096;
/// dlmalloc's own alignment (two words): `c_realloc` keeps no more than this.
const DLMALLOC_ALIGN: usize = 2 * core::mem::size_of::<usize>();

/// A general-purpose global allocator for all sizes, for programs with no libc: Doug Lea's
/// malloc (the `dlmalloc` crate, the allocator of Rust's `wasm32` standard library) over
/// mman, with feature `dlmalloc`.
///
/// ```
/// #[global_allocator]
/// static ALLOCATOR: mman::alloc::Malloc = mman::alloc::Malloc::new();
///
/// fn main() {
///     let mut words: Vec<String> = "every word a block".split(' ').map(String::from).collect();
///     words.sort();
///     assert_eq!(words.concat(), "ablockeveryword");
///     let big = vec![0u8; 8 << 20]; // a mapping of its own: zeroed without a write
///     assert!(big.iter().all(|&b| b == 0));
/// }
/// ```
///
/// - **Small blocks** (under 256 KiB, aligned to at most 4 KiB) come from one of 8
///   dlmalloc instances (shards), each behind its own spin lock and over 4 GiB of address
///   space of its own (64 MiB on 32-bit targets), reserved when the shard is first used and committed as dlmalloc asks
///   (see [`Segments`](crate::alloc::Segments)). A thread starts at the shard its stack
///   address picks and takes the first whose lock is free, so threads rarely wait; a block
///   is freed into the shard it came from, found from its address. A freed block of up to
///   4 KiB first waits in its shard's cache, a free list per 16-byte size class (at most
///   64 blocks a class, 256 KiB a shard), and serves the next request of its class there
///   without dlmalloc's binning, splitting and coalescing: what brings a busy program's
///   mix of small objects to glibc's speed (see the README's bench tables). For dlmalloc a
///   cached block is still in use; the cache costs each shard at most those 256 KiB.
/// - **Large blocks** are the [`PageAllocator`](crate::alloc::PageAllocator)'s: a `Vec`
///   that doubles moves its pages with `mremap` instead of copying its bytes, and a freed
///   block goes back to the kernel at once.
///
/// Each shard's state lives at the start of its own address space, so a `Malloc` may be
/// moved freely; dropping one leaks its shards (a `static` is never dropped). A child
/// forked while another thread held a shard's lock finds that shard locked forever: its
/// allocations go to other shards, but freeing a block of that shard waits for ever (use
/// only async-signal-safe calls between `fork` and `exec`, as POSIX asks). No method
/// panics; a request that cannot be served is a null pointer.
#[derive(Debug)]
pub struct Malloc {
    /// Each shard's address space, 0 until the shard is first used.
    shards: [AtomicUsize; SHARDS],
}

/// One dlmalloc instance, its cache of freed blocks and its lock, at the start of the
/// shard's address space.
struct Shard {
    lock: SpinLock,
    heap: UnsafeCell<Heap>,
}

/// What a shard's lock guards.
struct Heap {
    dlmalloc: Dlmalloc<Segments>,
    /// Freed blocks of up to 4 KiB aligned to at most dlmalloc's alignment, by size
    /// class. Every such block of the shard, cached or not, holds at least its class's
    /// [`request`] bytes (it was made by asking for that many), so that any block of a
    /// class serves any request of it.
    cache: FreeLists,
}

impl Heap {
    /// A block of `size` bytes aligned to `align` (at most `MAX_SMALL_ALIGN`).
    #[inline]
    fn allocate(&mut self, size: usize, align: usize) -> *mut u8 {
        if align <= DLMALLOC_ALIGN {
            if let Some(class) = FreeLists::class(size) {
                let cached = self.cache.pop(class);
                if !cached.is_null() {
                    return cached;
                }
                // SAFETY: dlmalloc's C-style entry points take any size.
                return unsafe { self.dlmalloc.c_malloc(request(class)) };
            }
        }
        // SAFETY: as above, and any alignment.
        unsafe { self.dlmalloc.c_memalign(align, size) }
    }

    /// Frees a block of this heap that was allocated with `size` and `align`.
    ///
    /// # Safety
    /// `ptr` is a live block of this heap, allocated (or last resized) with that size and
    /// alignment, and is not used again.
    #[inline]
    unsafe fn free(&mut self, ptr: *mut u8, size: usize, align: usize) {
        if align <= DLMALLOC_ALIGN {
            if let Some(class) = FreeLists::class(size) {
                // SAFETY: the block holds at least `request(class)` bytes (see `cache`),
                // is dlmalloc's (so aligned to two words) and is given up by the caller.
                if unsafe { self.cache.push(class, ptr) } {
                    return;
                }
            }
        }
        // SAFETY: a block of this dlmalloc, freed once.
        unsafe { self.dlmalloc.c_free(ptr) }
    }

    /// Resizes a block of this heap aligned to at most dlmalloc's alignment.
    ///
    /// # Safety
    /// `ptr` is a live block of this heap, with an alignment of at most `DLMALLOC_ALIGN`.
    #[inline]
    unsafe fn resize(&mut self, ptr: *mut u8, new_size: usize) -> *mut u8 {
        // Keep the promise of `cache`: a block of a cached size holds its class's request.
        let size = FreeLists::class(new_size).map_or(new_size, request);
        // SAFETY: forwarded to the caller.
        unsafe { self.dlmalloc.c_realloc(ptr, size) }
    }
}

/// The locked shard's heap; unlocks when dropped.
struct Locked<'a>(&'a Shard);

impl Locked<'_> {
    fn heap(&mut self) -> &mut Heap {
        // SAFETY: the lock is held for as long as `self`, so this is the only reference.
        unsafe { &mut *self.0.heap.get() }
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        self.0.lock.unlock();
    }
}

impl Default for Malloc {
    fn default() -> Self {
        Malloc::new()
    }
}

impl Malloc {
    /// An allocator with no memory yet: each shard reserves its address space when first
    /// used.
    pub const fn new() -> Malloc {
        Malloc {
            shards: [const { AtomicUsize::new(0) }; SHARDS],
        }
    }

    /// Locks a shard for this thread: first the one its stack address picks, then the next
    /// whose lock is free, else waits for the first.
    fn pick(&self) -> Option<Locked<'_>> {
        let local = 0u8;
        let stack = ptr::addr_of!(local) as usize;
        // Threads' stacks lie megabytes apart: mix the bits above 64 KiB (Fibonacci
        // hashing: the golden ratio's first word-width bits, the product's top 6 bits).
        let golden = (0x9E37_79B9_7F4A_7C15_u64 >> (64 - usize::BITS)) as usize;
        let first = ((stack >> 16).wrapping_mul(golden) >> (usize::BITS - 6)) % SHARDS;
        for i in 0..SHARDS {
            if let Some(shard) = self.shard((first + i) % SHARDS) {
                if shard.lock.try_lock() {
                    return Some(Locked(shard));
                }
            }
        }
        let shard = self.shard(first)?;
        shard.lock.lock();
        Some(Locked(shard))
    }

    /// Locks the shard that owns the small block at `ptr`.
    fn owner(&self, ptr: *mut u8) -> Option<Locked<'_>> {
        let base = ptr as usize & !(SHARD_SPACE - 1);
        let found = self
            .shards
            .iter()
            .any(|space| space.load(Ordering::Acquire) == base);
        if !found {
            return None;
        }
        // SAFETY: `base` is a shard's address space, which starts with its `Shard`.
        let shard = unsafe { &*(base as *const Shard) };
        shard.lock.lock();
        Some(Locked(shard))
    }

    /// Shard `index`, made if it does not exist yet; `None` if it cannot be.
    fn shard(&self, index: usize) -> Option<&Shard> {
        let slot = self.shards.get(index)?;
        let mut base = slot.load(Ordering::Acquire);
        if base == 0 {
            let made = make_shard()?;
            base = match slot.compare_exchange(0, made, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => made,
                Err(theirs) => {
                    // Another thread made it first: keep theirs, give this one back.
                    // SAFETY: the space was just made here and nothing else knows it.
                    let _ = unsafe { sys::munmap(made as *mut _, SHARD_SPACE) };
                    theirs
                }
            };
        }
        // SAFETY: a published shard's space starts with its initialised `Shard`, which is
        // never moved or freed.
        Some(unsafe { &*(base as *const Shard) })
    }

    /// A small block from any shard.
    fn small(&self, size: usize, align: usize) -> *mut u8 {
        match self.pick() {
            Some(mut shard) => shard.heap().allocate(size, align),
            None => null_mut(),
        }
    }
}

/// Reserves a shard's address space and puts a fresh `Shard` at its start; its address.
fn make_shard() -> Option<usize> {
    let flags = MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::NORESERVE;
    let space = map_out_of_the_stacks_reach(SHARD_SPACE, SHARD_SPACE, Prot::empty(), flags);
    let base = space.ok()? as usize;
    let header = core::mem::size_of::<Shard>().next_multiple_of(page_size());
    // SAFETY: the first pages of the space just reserved.
    if unsafe { commit(base, header) }.is_err() {
        // SAFETY: as above.
        let _ = unsafe { sys::munmap(base as *mut _, SHARD_SPACE) };
        return None;
    }
    let shard = Shard {
        lock: SpinLock::new(),
        heap: UnsafeCell::new(Heap {
            dlmalloc: Dlmalloc::new_with_allocator(Segments::within(
                base + header,
                base + SHARD_SPACE,
            )),
            cache: FreeLists::new(),
        }),
    };
    // SAFETY: the header pages are read-write, page aligned (enough for `Shard`) and
    // large enough.
    unsafe { ptr::write(base as *mut Shard, shard) };
    Some(base)
}

/// Whether a block of this layout is a mapping of its own.
#[inline]
fn is_large(size: usize, align: usize) -> bool {
    size >= LARGE || align > MAX_SMALL_ALIGN
}

// SAFETY: small blocks are dlmalloc's, each used under its shard's lock and freed into the
// shard that made it; large blocks are the page allocator's. Which of the two holds a
// block follows from its layout, which the caller passes unchanged to every call.
unsafe impl GlobalAlloc for Malloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if is_large(layout.size(), layout.align()) {
            return pages::allocate(layout.size(), layout.align());
        }
        self.small(layout.size(), layout.align())
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if is_large(layout.size(), layout.align()) {
            // Fresh pages: zero without a write.
            return pages::allocate(layout.size(), layout.align());
        }
        let block = self.small(layout.size(), layout.align());
        if !block.is_null() {
            // SAFETY: the block just allocated holds `size` bytes.
            unsafe { ptr::write_bytes(block, 0, layout.size()) };
        }
        block
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if is_large(layout.size(), layout.align()) {
            // SAFETY: a large block is the page allocator's (same layout, same decision).
            return unsafe { pages::release(ptr, layout.size()) };
        }
        if let Some(mut shard) = self.owner(ptr) {
            // SAFETY: the block is this shard's, made with this layout, freed once, under
            // its lock.
            unsafe { shard.heap().free(ptr, layout.size(), layout.align()) };
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let (size, align) = (layout.size(), layout.align());
        match (is_large(size, align), is_large(new_size, align)) {
            // SAFETY: the block is the page allocator's, and stays so.
            (true, true) => unsafe { pages::resize(ptr, size, align, new_size) },
            (false, false) if align <= DLMALLOC_ALIGN => match self.owner(ptr) {
                // SAFETY: the block is this shard's, resized under its lock.
                Some(mut shard) => unsafe { shard.heap().resize(ptr, new_size) },
                None => null_mut(),
            },
            // Between the two, or over-aligned: a new block, a copy, and the old one freed.
            _ => {
                // SAFETY: `new_size` is not 0 (the caller's contract); `align` is valid.
                let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, align) };
                // SAFETY: as the caller's contract for `alloc` and `dealloc`.
                unsafe {
                    let new = self.alloc(new_layout);
                    if !new.is_null() {
                        ptr::copy_nonoverlapping(ptr, new, size.min(new_size));
                        self.dealloc(ptr, layout);
                    }
                    new
                }
            }
        }
    }
}
