//! The few process calls a program without libc needs around the memory calls: report,
//! exit, name itself, and read its auxiliary vector.

use super::{check, check_fd};
use crate::arch::{self, nr};
use crate::fd::{AsRawFd, BorrowedFd, OwnedFd};
use crate::Result;

/// `PR_GET_AUXV` (Linux 6.4): copy the auxiliary vector.
const PR_GET_AUXV: usize = 0x4155_5856;

/// Writes `buf` (`write(2)`); returns how many bytes were written.
#[inline]
pub fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> Result<usize> {
    // SAFETY: the kernel reads at most `buf.len()` bytes from `buf`.
    check(unsafe {
        arch::syscall3_readonly(
            nr::WRITE,
            fd.as_raw_fd() as usize,
            buf.as_ptr() as usize,
            buf.len(),
        )
    })
}

/// Ends the process with `code` (`exit_group(2)`). Destructors do not run.
#[inline]
pub fn exit_group(code: i32) -> ! {
    arch::exit_group(code)
}

/// The calling process's id (`getpid(2)`).
#[inline]
pub fn getpid() -> i32 {
    // SAFETY: getpid takes no argument and cannot fail.
    unsafe { arch::syscall0(nr::GETPID) as i32 }
}

/// A descriptor referring to process `pid` (`pidfd_open(2)`, Linux 5.3), as
/// [`process_madvise`](super::process_madvise) takes.
#[inline]
pub fn pidfd_open(pid: i32, flags: u32) -> Result<OwnedFd> {
    // SAFETY: pidfd_open takes no pointer.
    check_fd(unsafe { arch::syscall2_readonly(nr::PIDFD_OPEN, pid as usize, flags as usize) })
}

/// Copies as much of the auxiliary vector as fits into `words` (`prctl(PR_GET_AUXV)`);
/// returns how many words were filled.
pub(crate) fn prctl_get_auxv(words: &mut [usize]) -> Result<usize> {
    let (buf, len) = (words.as_mut_ptr() as usize, core::mem::size_of_val(words));
    // SAFETY: the kernel writes at most `len` bytes into `words`.
    let total = check(unsafe { arch::syscall5(nr::PRCTL, PR_GET_AUXV, buf, len, 0, 0) })?;
    Ok(total.min(len) / core::mem::size_of::<usize>())
}
