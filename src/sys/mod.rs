//! The thin layer: one function per system call, C-like arguments with typed flags, the
//! kernel's answer as a [`Result`]. No allocation, no panic.
//!
//! Calls that take a pointer to memory the kernel will use (or that change what is mapped)
//! are `unsafe fn`: the caller answers for the addresses. Calls on descriptors and names
//! are safe.
//!
//! What each function does beyond issuing its system call is stated in its documentation:
//! `shm_open` builds glibc's `/dev/shm` path, `shm_segment_size` reads one field of
//! `IPC_STAT`. Nothing else is added, so each function costs what the instruction costs.

pub use core::ffi::c_void;

mod file;
mod lock;
mod memfd;
mod memory;
mod name;
mod numa;
mod pkey;
mod posix_shm;
mod process;
mod sysv_shm;

#[cfg(not(feature = "std"))]
pub(crate) use file::close_raw;
pub use file::{
    cachestat, close, fallocate, file_size, ftruncate, read, CacheStat, CacheStatRange,
};
pub(crate) use file::{file_backing, open, FileBacking};
pub use lock::{mlock, mlock2, mlockall, munlock, munlockall};
pub use memfd::{fcntl_add_seals, fcntl_get_seals, memfd_create, memfd_secret};
pub use memory::{
    advice_supported, madvise, madvise_raw, mincore, mmap, mprotect, mremap, mseal, msync, munmap,
    process_madvise, IoVec,
};
pub use name::{set_anon_name, ANON_NAME_MAX};
pub use numa::{
    get_mempolicy, mbind, migrate_pages, move_pages, set_mempolicy, set_mempolicy_home_node,
};
pub use pkey::{pkey_alloc, pkey_free, pkey_mprotect, PKEY_DISABLE_ACCESS, PKEY_DISABLE_WRITE};
pub(crate) use posix_shm::canonical_name;
pub use posix_shm::{shm_open, shm_unlink, SHM_NAME_MAX};
pub use process::{exit_group, getpid, pidfd_open, write};
pub(crate) use process::{memory_and_swap, prctl_get_auxv, stack_limit};
pub use sysv_shm::{shm_remove, shm_segment_size, shmat, shmdt, shmget, IPC_PRIVATE};

use crate::fd::{FromRawFd, OwnedFd};
use crate::{Errno, Result};

/// Decodes a raw return word.
#[inline(always)]
fn check(ret: usize) -> Result<usize> {
    Errno::from_syscall(ret)
}

/// Decodes a return word that carries nothing but success.
#[inline(always)]
fn check_unit(ret: usize) -> Result<()> {
    check(ret).map(drop)
}

/// Decodes a return word that is a new descriptor, taking ownership of it.
#[inline(always)]
fn check_fd(ret: usize) -> Result<OwnedFd> {
    // SAFETY: on success the kernel returned a fresh descriptor (0..=i32::MAX) that only
    // this process owns.
    check(ret).map(|fd| unsafe { OwnedFd::from_raw_fd(fd as i32) })
}
