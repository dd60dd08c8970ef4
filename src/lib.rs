//! Linux memory-management system calls with no libc underneath.
//!
//! Two layers:
//! - [`sys`]: one function per system call (`mmap`, `munmap`, `mprotect`, `msync`, `mremap`,
//!   `madvise`, `process_madvise`, `mincore`, the `mlock` family, `mseal`, `memfd_create`,
//!   `memfd_secret`, seals, `ftruncate`, `fallocate`, `cachestat`, POSIX and System V shared
//!   memory, protection keys, NUMA policy and placement), issued with inline assembly.
//!   C-like arguments, typed flags, the kernel's answer as a [`Result`].
//! - The safe layer: [`Mapping`] and [`MapOptions`]; [`Reservation`], address space
//!   committed page by page and given to mappings placed inside it
//!   ([`MapOptions::map_in`]); [`SharedMemory`], [`Memfd`] and [`SysvSegment`];
//!   [`SecretMemory`]; NUMA placement ([`numa`], and policies for a mapping's pages with
//!   [`Mapping::set_policy`]).
//!
//! `#![no_std]`, no allocation, no panic. Feature `std` adds `From<Errno> for
//! std::io::Error` and makes [`fd`] re-export `std::os::fd`'s types.
//!
//! ```
//! use mman::{Mapping, Prot};
//! let mut memory = Mapping::anonymous(4096)?;
//! memory.as_mut_slice()?[0] = 42;
//! memory.protect(.., Prot::READ)?;
//! assert_eq!(memory.as_slice()?[0], 42);
//! assert_eq!(memory.as_mut_slice(), Err(mman::Errno::EACCES)); // read-only now
//! # Ok::<(), mman::Errno>(())
//! ```
//!
//! # Soundness: what is safe, what is `unsafe`, and why
//!
//! No safe function can cause undefined behaviour, whatever its arguments, other threads,
//! other mappings, neighbouring mappings or forked children do, and whether the kernel call
//! succeeds, fails or partly succeeds. In short:
//!
//! 1. **Only address space the program owns is touched, and no memory is kept where the
//!    main stack may grow**: every `sys` call that takes an address is `unsafe`; a
//!    [`Mapping`] owns its range; every mapping made, attached or moved is checked against
//!    the stack's reach ([`MapOptions::at`] included); [`Mapping::remap`] never grows in
//!    place, it moves; [`MapOptions::map_file`] takes only plain files, whose mappings a
//!    forked child inherits.
//! 2. **Only exclusive memory is lent as slices**: shared, file-backed and droppable memory
//!    (except files sealed against writing and shrinking), and huge pages mapped without
//!    a reservation, are *volatile* ([`Mapping::is_volatile`]) and are copied with relaxed
//!    atomics or viewed as atomics through a mutable borrow ([`Mapping::as_atomics`]).
//! 3. **Book-keeping is pessimistic**: what a call may take away is cleared before it is
//!    made, what it grants is set only after it succeeded.
//! 4. **Calls on state others own are `unsafe`** (`sys::pkey_free`, destructive advice).
//!
//! The [`soundness`] page gives the rules in full, with a table of every safe method, the
//! kernel behaviours that could break it (partial failure, VMA merging, grows-down mappings,
//! the guard gap, fork, truncation, protection keys, other threads), and the test for each.
//!
//! # Architectures
//!
//! Everything that differs between architectures (instruction sequences, syscall numbers,
//! the few flag values that differ, structure offsets, argument encodings) lives in
//! `arch/`, one module per architecture; the rest of the crate is the same everywhere.
//! Supported: Linux on x86_64 and aarch64, and (tested on request) riscv64, powerpc64le and
//! s390x.
#![no_std]
// `asm!` on mips is still unstable (the only architecture here where it is): mips builds need
// nightly or `RUSTC_BOOTSTRAP=1`; every other target stays on stable.
#![cfg_attr(target_arch = "mips64", feature(asm_experimental_arch))]
#![deny(unsafe_op_in_unsafe_fn, missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

#[cfg(feature = "std")]
extern crate std;

#[path = "../arch/mod.rs"]
mod arch;
mod auxv;
mod errno;
mod file;
mod flags;
mod fork_canary;
mod give_back;
mod mapping;
mod page;
mod place;
mod reservation;
mod secret;
mod shm;
mod stack_reach;
mod stacked;

#[cfg(feature = "alloc")]
pub mod alloc;
pub mod fd;
pub mod numa;
pub mod ring;
pub mod soundness;
pub mod sys;

pub use errno::{Errno, Result};
pub use file::file_len;
pub use flags::{
    Advice, FallocateFlags, MapFlags, MemfdFlags, MlockAllFlags, MlockFlags, Mode, MremapFlags,
    MsyncFlags, OFlags, Prot, Seals, ShmAtFlags, ShmGetFlags,
};
pub use mapping::{AtomicWord, Flush, Guard, MapOptions, Mapping};
pub use page::{init_from_auxv, page_size, shared_alignment};
pub use reservation::Reservation;
pub use ring::MirrorBuffer;
pub use secret::{Hardening, Protection, SecretMemory};
pub use shm::{Access, Memfd, SharedMemory, SysvSegment};
