//! [`ForkCanary`]: a page that tells a forked child it is one.
//!
//! Some memory is the program's only in the process that made it: `memfd_secret` pages are
//! not inherited ([`SecretMemory`](crate::SecretMemory)), and a private huge-page mapping's
//! reservation stays with its maker, so that a child's touch of a page may find none in the
//! pool (`SIGBUS`; see `Mapping`'s `fork_canary`). A child's copy of the value that owns
//! such memory must not lend it, and a canary is how the copy knows: one private page, 1 in
//! the maker, zeros in every child (`MADV_WIPEONFORK`, Linux 4.14).

use core::ffi::c_void;
use core::ptr::NonNull;

use crate::{page_size, Advice, Errno, Mapping, Result};

/// One private page marked `MADV_WIPEONFORK`, holding 1 in the process that made it (and
/// zeros in a child forked since), unmapped on drop.
#[derive(Debug)]
pub(crate) struct ForkCanary(NonNull<u8>);

// SAFETY: the page is written once, before the value exists, and only read afterwards (the
// kernel zeroes it in a child, which is another process); it is unmapped once, on drop.
unsafe impl Send for ForkCanary {}
// SAFETY: as above.
unsafe impl Sync for ForkCanary {}

impl ForkCanary {
    pub(crate) fn new() -> Result<ForkCanary> {
        let mut page = Mapping::anonymous(1)?;
        // SAFETY: the page is read only through `in_maker`, which holds no reference across
        // a fork; zeros in a child are the point.
        unsafe { page.advise_unchecked(.., Advice::WipeOnFork)? };
        *page.as_mut_slice()?.first_mut().ok_or(Errno::EINVAL)? = 1;
        let (ptr, _) = page.into_raw();
        NonNull::new(ptr).map(ForkCanary).ok_or(Errno::EINVAL)
    }

    /// Whether this is the process that made the canary (not a child forked since).
    pub(crate) fn in_maker(&self) -> bool {
        // SAFETY: the canary's own page, mapped read-write for the canary's life (a child
        // keeps the mapping, zeroed) and never written after `new`. Volatile: the byte
        // changes in a child without any write of this program's.
        unsafe { self.0.as_ptr().read_volatile() == 1 }
    }
}

impl Drop for ForkCanary {
    fn drop(&mut self) {
        // SAFETY: the canary's own page (mapped in a child too), which nothing refers to.
        unsafe { crate::give_back::unmap(self.0.as_ptr().cast::<c_void>(), page_size()) };
    }
}
