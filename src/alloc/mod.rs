//! Global allocators for programs with no libc: [`PageAllocator`], which gives every block
//! mappings of its own, and (feature `dlmalloc`) [`Malloc`], a general-purpose allocator
//! for all sizes on top of it.
//!
//! ```
//! use core::alloc::{GlobalAlloc, Layout};
//! use mman::alloc::PageAllocator;
//!
//! let layout = Layout::from_size_align(3 << 20, 1 << 21).unwrap(); // 3 MiB on 2 MiB
//! // SAFETY: the layout's size is not 0; the block is given back with the same layout.
//! unsafe {
//!     let block = PageAllocator.alloc_zeroed(layout); // fresh pages: no bytes written
//!     assert!(!block.is_null() && block as usize % (1 << 21) == 0);
//!     let bigger = PageAllocator.realloc(block, layout, 64 << 20); // pages move, not bytes
//!     assert_eq!(bigger as usize % (1 << 21), 0); // still aligned after a move
//!     PageAllocator.dealloc(bigger, Layout::from_size_align(64 << 20, 1 << 21).unwrap());
//! }
//! ```
//!
//! In a `#![no_std]` program that links no libc (see [`Malloc`] for a running example):
//!
//! ```text
//! #[global_allocator]
//! static ALLOCATOR: mman::alloc::Malloc = mman::alloc::Malloc::new();
//! ```
//!
//! Every block either allocator makes is placed, like every mapping of the safe layer, out
//! of the main stack's reach (see the [`soundness`](crate::soundness) page). Neither panics:
//! a request that cannot be served is answered with a null pointer, as `GlobalAlloc` wants.
//!
//! Module layout: `pages` is the page allocator; `malloc` shards dlmalloc instances behind
//! spin locks (`spin`), each over address space of its own that `segments` gives it and
//! with a cache of freed blocks by size class in front (`cache`).

#[cfg(feature = "dlmalloc")]
mod cache;
#[cfg(feature = "dlmalloc")]
mod malloc;
mod pages;
#[cfg(feature = "dlmalloc")]
mod segments;
#[cfg(feature = "dlmalloc")]
mod spin;

/// The `dlmalloc` crate, for a `Dlmalloc<Segments>` of one's own and for
/// [`Segments`]' trait.
#[cfg(feature = "dlmalloc")]
pub use dlmalloc;
#[cfg(feature = "dlmalloc")]
pub use malloc::Malloc;
pub use pages::PageAllocator;
#[cfg(feature = "dlmalloc")]
pub use segments::Segments;
