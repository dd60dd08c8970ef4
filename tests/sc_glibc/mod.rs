//! Stands in for the `sc` crate where it cannot be used: on powerpc64, x86, arm and mips64 its
//! asm is the removed `llvm_asm!`, and it has no s390x or loongarch64 port. The numbers come
//! from the kernel's uapi headers (`linux-raw-sys`, generated for the target), the calls go through glibc
//! (`syscall()`, and glibc's own `mmap`, whose argument encoding differs on s390x), and each
//! result is turned back into the raw word `sc` returns: `-errno` on failure. Neither half
//! shares anything with mman's tables or assembly, which is all the cross-check needs.

use std::ffi::c_long;

/// The numbers the cross-check calls, by `sc`'s names.
pub mod nr {
    use linux_raw_sys::general as uapi;

    pub const CLOSE: u32 = uapi::__NR_close;
    pub const EXIT_GROUP: u32 = uapi::__NR_exit_group;
    pub const FCNTL: u32 = uapi::__NR_fcntl;
    pub const FTRUNCATE: u32 = uapi::__NR_ftruncate;
    pub const GETPID: u32 = uapi::__NR_getpid;
    pub const MADVISE: u32 = uapi::__NR_madvise;
    pub const MEMFD_CREATE: u32 = uapi::__NR_memfd_create;
    pub const MINCORE: u32 = uapi::__NR_mincore;
    pub const MLOCK: u32 = uapi::__NR_mlock;
    pub const MLOCK2: u32 = uapi::__NR_mlock2;
    pub const MLOCKALL: u32 = uapi::__NR_mlockall;
    pub const MPROTECT: u32 = uapi::__NR_mprotect;
    pub const MREMAP: u32 = uapi::__NR_mremap;
    pub const MSYNC: u32 = uapi::__NR_msync;
    pub const MUNLOCK: u32 = uapi::__NR_munlock;
    pub const MUNLOCKALL: u32 = uapi::__NR_munlockall;
    pub const MUNMAP: u32 = uapi::__NR_munmap;
    pub const OPENAT: u32 = uapi::__NR_openat;
    pub const PIDFD_OPEN: u32 = uapi::__NR_pidfd_open;
    pub const PKEY_ALLOC: u32 = uapi::__NR_pkey_alloc;
    pub const PKEY_FREE: u32 = uapi::__NR_pkey_free;
    pub const PKEY_MPROTECT: u32 = uapi::__NR_pkey_mprotect;
    pub const PROCESS_MADVISE: u32 = uapi::__NR_process_madvise;
    pub const READ: u32 = uapi::__NR_read;
    pub const SHMAT: u32 = uapi::__NR_shmat;
    pub const SHMCTL: u32 = uapi::__NR_shmctl;
    pub const SHMDT: u32 = uapi::__NR_shmdt;
    pub const SHMGET: u32 = uapi::__NR_shmget;
    pub const UNLINKAT: u32 = uapi::__NR_unlinkat;
    pub const WRITE: u32 = uapi::__NR_write;
}

/// glibc's answer as `sc`'s raw word: `-1` with `errno` becomes `-errno`.
pub fn raw(ret: c_long) -> usize {
    match ret {
        -1 => {
            let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
            (-(errno as isize)) as usize
        }
        _ => ret as usize,
    }
}

/// glibc's `mmap` (s390x's kernel takes a pointer to an argument block, which glibc builds).
///
/// # Safety
/// As for `mmap`.
pub unsafe fn mmap(
    addr: usize,
    len: usize,
    prot: usize,
    flags: usize,
    fd: usize,
    off: usize,
) -> usize {
    // SAFETY: forwarded to the caller.
    let p = unsafe {
        libc::mmap(
            addr as *mut _,
            len,
            prot as i32,
            flags as i32,
            fd as i32,
            off as libc::off_t,
        )
    };
    match p {
        libc::MAP_FAILED => raw(-1),
        p => p as usize,
    }
}

/// `sc::syscall!(NAME, args...)`, through glibc.
macro_rules! syscall {
    (MMAP, $a:expr, $b:expr, $c:expr, $d:expr, $e:expr, $f:expr $(,)?) => {
        $crate::sc::mmap($a as usize, $b as usize, $c as usize, $d as usize, $e as usize, $f as usize)
    };
    ($nr:ident $(, $arg:expr)* $(,)?) => {
        $crate::sc::raw(libc::syscall(
            $crate::sc::nr::$nr as std::ffi::c_long $(, $arg as usize as std::ffi::c_long)*
        ))
    };
}
pub(crate) use syscall;
