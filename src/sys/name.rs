//! Naming anonymous memory (`prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME)`, Linux 5.17).

use core::ffi::{c_void, CStr};

use super::check_unit;
use crate::arch::{self, nr};
use crate::Result;

/// `PR_SET_VMA`: the `prctl` option that changes attributes of a range of memory.
const PR_SET_VMA: usize = 0x5356_4d41;
/// `PR_SET_VMA_ANON_NAME`: its attribute that names anonymous memory.
const PR_SET_VMA_ANON_NAME: usize = 0;
/// The longest name the kernel takes, its terminating NUL included.
pub const ANON_NAME_MAX: usize = 80;

/// Names the anonymous memory in `[addr, addr + len)`: it shows as `[anon:NAME]` in
/// `/proc/self/maps` (`prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME)`, Linux 5.17 with
/// `CONFIG_ANON_VMA_NAME`). `None` removes the name.
///
/// The kernel answers `EINVAL` for a name longer than [`ANON_NAME_MAX`] bytes with its NUL,
/// one with a byte that is not printable ASCII or is one of `\`, `` ` ``, `$`, `[`, `]`, an
/// unaligned `addr`, and also when it was built without `CONFIG_ANON_VMA_NAME`; `EBADF` for
/// file-backed memory (shared anonymous memory from 6.2 on); `ENOMEM` where part of the
/// range is not mapped.
///
/// # Safety
/// Naming splits the kernel's mappings at the ends of the range: the caller answers for
/// mappings there that others own and count on being one kernel mapping (as `mremap` needs).
#[inline]
pub unsafe fn set_anon_name(addr: *mut c_void, len: usize, name: Option<&CStr>) -> Result<()> {
    let name = name.map_or(0, |name| name.as_ptr() as usize);
    // SAFETY: the kernel reads the NUL-terminated name (it copies it) and changes no memory;
    // the caller answers for the range.
    check_unit(unsafe {
        arch::syscall5(
            nr::PRCTL,
            PR_SET_VMA,
            PR_SET_VMA_ANON_NAME,
            addr as usize,
            len,
            name,
        )
    })
}
