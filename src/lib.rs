//! Linux memory-management system calls with no libc underneath.
//!
//! - [`sys`]: one `fn` per system call (`mmap`, `mprotect`, `mremap`, `madvise`, the `mlock`
//!   family, `memfd_create`, POSIX and System V shared memory, `mseal`, `memfd_secret`,
//!   protection keys, ...), issued with inline assembly; C-like arguments, typed flags,
//!   [`Result`].
//! - [`fd`]: descriptor types (std's own with feature `std`).
//! - [`page_size`]: from the auxiliary vector, cached.
//!
//! `#![no_std]`, no allocation, no panic. Feature `std` adds `From<Errno> for
//! std::io::Error` and makes [`fd`] re-export `std::os::fd`.
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
pub use mapping::{Flush, Guard, MapOptions, Mapping};
pub use page::{init_from_auxv, page_size};
pub use secret::{Hardening, Protection, SecretMemory};
pub use shm::{Access, Memfd, SharedMemory, SysvSegment};
