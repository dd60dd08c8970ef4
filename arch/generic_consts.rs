//! Constants with the asm-generic values (`include/uapi/asm-generic/*.h`), which x86, arm64,
//! riscv, loongarch, s390 and arm share. An architecture module re-exports these with a glob
//! and defines any value that differs for it by name: the named item shadows the glob.

// Values an architecture shadows are unused there.
#![allow(dead_code)]

pub(crate) const O_DIRECTORY: u32 = 0o200000;
pub(crate) const O_NOFOLLOW: u32 = 0o400000;
pub(crate) const O_DIRECT: u32 = 0o40000;
pub(crate) const O_LARGEFILE: u32 = 0o100000;

pub(crate) const MAP_NORESERVE: u32 = 0x4000;
pub(crate) const MAP_LOCKED: u32 = 0x2000;
pub(crate) const MAP_GROWSDOWN: u32 = 0x0100;

pub(crate) const MCL_CURRENT: u32 = 1;
pub(crate) const MCL_FUTURE: u32 = 2;
pub(crate) const MCL_ONFAULT: u32 = 4;

/// Offset of `shm_segsz` in the asm-generic 64-bit `struct shmid64_ds`: a 48-byte
/// `ipc64_perm`, then the size.
pub(crate) const SHMID_DS_SEGSZ_OFFSET: usize = 48;

/// `EDEADLOCK`: another name for `EDEADLK` (35) everywhere but powerpc.
pub(crate) const EDEADLOCK: i32 = 35;
