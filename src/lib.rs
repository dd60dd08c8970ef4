//! Linux memory-management system calls with no libc underneath.
//!
//! Two layers:
//! - [`sys`]: one function per system call (`mmap`, `munmap`, `mprotect`, `msync`, `mremap`,
//!   `madvise`, `process_madvise`, `mincore`, the `mlock` family, `mseal`, `memfd_create`,
//!   `memfd_secret`, seals, `ftruncate`, `cachestat`, POSIX and System V shared memory,
//!   protection keys), issued with inline assembly. C-like arguments, typed flags, the
//!   kernel's answer as a [`Result`].
//! - The safe layer: [`Mapping`] and [`MapOptions`]; [`SharedMemory`], [`Memfd`] and
//!   [`SysvSegment`]; [`SecretMemory`].
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
//! The rule: no safe function can cause undefined behaviour, whatever its arguments. Three
//! things can go wrong with mapped memory, and each is closed off.
//!
//! **1. Unmapping or replacing memory still in use.** In [`sys`], every call that takes an
//! address (`munmap`, `mremap`, `mprotect`, `madvise`, `mmap` with `MAP_FIXED`, `shmat`,
//! `shmdt`, `mseal`, ...) is an `unsafe fn`: the caller answers for the range. The safe
//! layer only ever passes ranges it owns: a [`Mapping`] owns its range and unmaps it once,
//! on drop; every range a method takes is checked against `[0, len())` (a range outside it,
//! reversed, or whose end overflows is `EINVAL` and nothing is changed); [`MapOptions`] never
//! uses `MAP_FIXED` (only `MAP_FIXED_NOREPLACE`, which cannot replace anything, and whose
//! result is checked because kernels before 4.17 ignore it). Methods that move, shrink or
//! re-protect a mapping take `&mut self`, so no slice of it can be alive.
//!
//! **2. References to bytes that change behind the compiler's back.** A `&[u8]` promises
//! that the bytes do not change while it lives. That holds for *exclusive* memory: private
//! anonymous mappings (what [`Mapping::anonymous`] makes), which only the owning value can
//! write, and [`SecretMemory`]. It does not hold for shared memory (other processes), file
//! mappings (other writers, truncation) or droppable memory (the kernel may zero it). So
//! those mappings are *volatile* ([`Mapping::is_volatile`]): [`Mapping::as_slice`] refuses
//! them with `EPERM`, and they are read and written with volatile copies
//! ([`Mapping::read_at`], [`Mapping::write_at`]) or shared as atomics
//! ([`Mapping::atomic_u32`]), which are sound on memory other processes change.
//! [`Mapping::as_slice_unchecked`] is the `unsafe` way to assert that, for a while, nothing
//! will change them. Likewise, advice that destroys contents behind the program's back or
//! makes accesses fault (`DontNeed` on shared memory, `Free`, `Remove`, `GuardInstall`,
//! `HwPoison`, `SoftOffline`) is refused by the safe [`Mapping::advise`] and offered by the
//! `unsafe` [`Mapping::advise_unchecked`] (memmap2 learned this in its issue #94).
//!
//! **3. References to memory that faults.** A slice is lent only while every byte is known
//! to be accessible: the mapping tracks whether all of it is readable and writable, any
//! change that may remove access from part of it ([`Mapping::protect`] of a sub-range,
//! [`Mapping::guard`]) clears that, and only a change to the whole mapping sets it again:
//! [`Mapping::protect`] of all of it, except after a guard, whose markers survive
//! `mprotect`, so only [`Mapping::unguard`] lifts it. Then `as_slice` answers `EACCES`
//! rather than lending memory that would fault.
//!
//! What remains is a *signal*, not undefined behaviour: if another process truncates a file
//! that this one has mapped, a volatile read past the new end raises `SIGBUS`, as it would in
//! C. Safe functions that take no address (`ftruncate`, `shm_unlink`, `mlockall`, ...) can
//! affect memory only in that way.
//!
//! # Architectures
//!
//! Everything that differs between architectures (instruction sequences, syscall numbers,
//! the few flag values that differ, structure offsets, argument encodings) lives in
//! `arch/`, one module per architecture; the rest of the crate is the same everywhere.
//! Supported: x86_64 and aarch64 Linux.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn, missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

#[cfg(feature = "std")]
extern crate std;

#[path = "../arch/mod.rs"]
mod arch;
mod auxv;
mod errno;
mod flags;
mod mapping;
mod page;
mod secret;
mod shm;

pub mod fd;
pub mod sys;

pub use errno::{Errno, Result};
pub use flags::{
    Advice, MapFlags, MemfdFlags, MlockAllFlags, MlockFlags, Mode, MremapFlags, MsyncFlags, OFlags,
    Prot, Seals, ShmAtFlags, ShmGetFlags,
};
pub use mapping::{AtomicWord, Flush, Guard, MapOptions, Mapping};
pub use page::{init_from_auxv, page_size};
pub use secret::{Hardening, Protection, SecretMemory};
pub use shm::{Access, Memfd, SharedMemory, SysvSegment};
