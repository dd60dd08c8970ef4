//! Syscall numbers of the asm-generic table (`include/uapi/asm-generic/unistd.h`), which
//! arm64, riscv64 and loongarch64 share. An architecture module re-exports them as its `nr`
//! (adding any numbers of its own there).

pub const FCNTL: usize = 25;
pub const UNLINKAT: usize = 35;
pub const FSTATFS: usize = 44;
pub const FTRUNCATE: usize = 46;
pub const FALLOCATE: usize = 47;
pub const OPENAT: usize = 56;
pub const CLOSE: usize = 57;
pub const READ: usize = 63;
pub const WRITE: usize = 64;
#[allow(dead_code)] // only the allocator's spin lock (feature `dlmalloc`) yields
pub const SCHED_YIELD: usize = 124;
pub const EXIT_GROUP: usize = 94;
pub const PRLIMIT64: usize = 261;
pub const SYSINFO: usize = 179;
pub const PRCTL: usize = 167;
pub const GETPID: usize = 172;
pub const SHMGET: usize = 194;
pub const SHMCTL: usize = 195;
pub const SHMAT: usize = 196;
pub const SHMDT: usize = 197;
pub const MUNMAP: usize = 215;
pub const MREMAP: usize = 216;
pub const MMAP: usize = 222;
pub const MPROTECT: usize = 226;
pub const MSYNC: usize = 227;
pub const MLOCK: usize = 228;
pub const MUNLOCK: usize = 229;
pub const MLOCKALL: usize = 230;
pub const MUNLOCKALL: usize = 231;
pub const MINCORE: usize = 232;
pub const MADVISE: usize = 233;
pub const MBIND: usize = 235;
pub const GET_MEMPOLICY: usize = 236;
pub const SET_MEMPOLICY: usize = 237;
pub const MIGRATE_PAGES: usize = 238;
pub const MOVE_PAGES: usize = 239;
pub const MEMFD_CREATE: usize = 279;
pub const MLOCK2: usize = 284;
pub const PKEY_MPROTECT: usize = 288;
pub const PKEY_ALLOC: usize = 289;
pub const PKEY_FREE: usize = 290;
pub const STATX: usize = 291;
pub const PIDFD_OPEN: usize = 434;
pub const PROCESS_MADVISE: usize = 440;
pub const MEMFD_SECRET: usize = 447;
pub const SET_MEMPOLICY_HOME_NODE: usize = 450;
pub const CACHESTAT: usize = 451;
pub const MSEAL: usize = 462;
