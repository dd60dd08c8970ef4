//! System V shared memory: shmget, shmat, shmdt, and the two shmctl commands one needs.

use super::{c_void, check, check_unit};
use crate::arch::{self, nr, SHMCTL_VERSION, SHMID_DS_SEGSZ_OFFSET};
use crate::{Result, ShmAtFlags, ShmGetFlags};

/// The key that always makes a new segment.
pub const IPC_PRIVATE: i32 = 0;
/// `shmctl` command: mark for removal once the last process detaches.
const IPC_RMID: usize = 0;
/// `shmctl` command: read `struct shmid64_ds`.
const IPC_STAT: usize = 2;

/// Room for `struct shmid64_ds` on every architecture (112 bytes on 64-bit ones).
const SHMID_DS_WORDS: usize = 32;
const _: () = assert!(SHMID_DS_SEGSZ_OFFSET / core::mem::size_of::<usize>() < SHMID_DS_WORDS);

/// Gets or creates the segment for `key` (`shmget(2)`); returns its id.
#[inline]
pub fn shmget(key: i32, size: usize, flags: ShmGetFlags) -> Result<i32> {
    // SAFETY: shmget takes no pointer.
    let id = check(unsafe {
        arch::syscall3_readonly(nr::SHMGET, key as usize, size, flags.bits() as usize)
    })?;
    Ok(id as i32)
}

/// Attaches segment `id` (`shmat(2)`) at `addr`, or where the kernel chooses if null.
///
/// # Safety
/// With `ShmAtFlags::REMAP`, whatever was mapped at `addr` is replaced. The segment's
/// contents can change under the program whenever another process has it attached.
#[inline]
pub unsafe fn shmat(id: i32, addr: *const c_void, flags: ShmAtFlags) -> Result<*mut c_void> {
    // SAFETY: forwarded to the caller.
    let ret =
        unsafe { arch::syscall3(nr::SHMAT, id as usize, addr as usize, flags.bits() as usize) };
    check(ret).map(|addr| addr as *mut c_void)
}

/// Detaches the segment attached at `addr` (`shmdt(2)`).
///
/// # Safety
/// Nothing may use the attached range afterwards.
#[inline]
pub unsafe fn shmdt(addr: *const c_void) -> Result<()> {
    // SAFETY: forwarded to the caller.
    check_unit(unsafe { arch::syscall1(nr::SHMDT, addr as usize) })
}

/// Marks segment `id` for removal once the last process detaches (`shmctl(IPC_RMID)`).
#[inline]
pub fn shm_remove(id: i32) -> Result<()> {
    // SAFETY: IPC_RMID ignores the buffer argument.
    check_unit(unsafe { arch::syscall3(nr::SHMCTL, id as usize, IPC_RMID | SHMCTL_VERSION, 0) })
}

/// The size in bytes of segment `id` (`shm_segsz` from `shmctl(IPC_STAT)`).
#[inline]
pub fn shm_segment_size(id: i32) -> Result<usize> {
    let mut ds = [0usize; SHMID_DS_WORDS];
    let buf = ds.as_mut_ptr() as usize;
    // SAFETY: the kernel writes one struct shmid64_ds, which `ds` has room for.
    check(unsafe { arch::syscall3(nr::SHMCTL, id as usize, IPC_STAT | SHMCTL_VERSION, buf) })?;
    Ok(ds[SHMID_DS_SEGSZ_OFFSET / core::mem::size_of::<usize>()])
}
