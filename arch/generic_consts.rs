//! Constants with the asm-generic values (`include/uapi/asm-generic/*.h`), which x86, arm64,
//! riscv, loongarch, s390 and arm share (powerpc and mips number some their own way). An
//! architecture module re-exports these with a glob and defines any value that differs for it
//! by name: the named item shadows the glob.

// Values an architecture shadows are unused there.
#![allow(dead_code)]

pub(crate) const O_DIRECTORY: u32 = 0o200000;
pub(crate) const O_NOFOLLOW: u32 = 0o400000;
pub(crate) const O_DIRECT: u32 = 0o40000;
pub(crate) const O_LARGEFILE: u32 = 0o100000;
pub(crate) const O_CREAT: u32 = 0o100;
pub(crate) const O_EXCL: u32 = 0o200;
pub(crate) const O_NOCTTY: u32 = 0o400;
pub(crate) const O_TRUNC: u32 = 0o1000;
pub(crate) const O_APPEND: u32 = 0o2000;
pub(crate) const O_NONBLOCK: u32 = 0o4000;
pub(crate) const O_DSYNC: u32 = 0o10000;
pub(crate) const O_SYNC: u32 = 0o4010000;

pub(crate) const PROT_SEM: u32 = 0x8;

pub(crate) const MAP_NORESERVE: u32 = 0x4000;
pub(crate) const MAP_LOCKED: u32 = 0x2000;
pub(crate) const MAP_GROWSDOWN: u32 = 0x0100;
pub(crate) const MAP_ANONYMOUS: u32 = 0x20;
pub(crate) const MAP_POPULATE: u32 = 0x8000;
pub(crate) const MAP_NONBLOCK: u32 = 0x1_0000;
pub(crate) const MAP_STACK: u32 = 0x2_0000;
pub(crate) const MAP_HUGETLB: u32 = 0x4_0000;

/// The alignment a shared mapping's address must share with its file offset (the
/// kernel's `SHMLBA` where it enforces it), or 0 where data caches never alias between
/// virtual addresses of one page and the kernel takes any page-aligned address: every
/// architecture here but mips. (32-bit ARM's `SHMLBA` of four pages binds ARMv6 and older
/// only; ARMv7, the oldest mman supports, has caches that behave as physically indexed.)
pub(crate) const SHM_COLOUR: usize = 0;

pub(crate) const MCL_CURRENT: u32 = 1;
pub(crate) const MCL_FUTURE: u32 = 2;
pub(crate) const MCL_ONFAULT: u32 = 4;

/// Offset of `shm_segsz` in the asm-generic 64-bit `struct shmid64_ds`: a 48-byte
/// `ipc64_perm`, then the size.
pub(crate) const SHMID_DS_SEGSZ_OFFSET: usize = 48;

/// `EDEADLOCK`: another name for `EDEADLK` (35) everywhere but powerpc.
pub(crate) const EDEADLOCK: i32 = 35;
