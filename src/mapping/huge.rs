//! Which huge page size a mapping gets, because the kernel rounds a huge-page mapping's
//! length up to whole huge pages and refuses to unmap (or split) it at any smaller
//! boundary: a `Mapping` that forgot the rounding could never be unmapped.

use core::sync::atomic::{AtomicUsize, Ordering};

use crate::fd::AsFd;
use crate::sys::FileBacking;
use crate::{sys, Errno, MapFlags, MemfdFlags, Result};

/// The system's default huge page size; 0 until the first look-up.
static DEFAULT_HUGE_PAGE_SIZE: AtomicUsize = AtomicUsize::new(0);

/// The huge page size a mapping made with `flags` will have: of the file for a file
/// mapping (hugetlbfs files are always mapped with huge pages), of the `MAP_HUGE_*` field
/// or the system default for anonymous `MAP_HUGETLB`; `None` for ordinary pages.
///
/// Inline for the common case, anonymous memory of ordinary pages, which costs one test.
#[inline]
pub(super) fn page_size_for(flags: MapFlags, file: Option<&FileBacking>) -> Result<Option<usize>> {
    match file {
        None if !flags.contains(MapFlags::HUGETLB) => Ok(None),
        None => anonymous_huge_page_size(flags).map(Some),
        Some(file) => Ok(file.huge_page_size()),
    }
}

/// The huge page size `MAP_HUGETLB` with this `MAP_HUGE_*` field gives anonymous memory.
#[cold]
fn anonymous_huge_page_size(flags: MapFlags) -> Result<usize> {
    match flags.huge_size_log2() {
        0 => default_size(),
        // A size the address space cannot hold is one the kernel has no pages of either.
        log2 => 1usize.checked_shl(log2).ok_or(Errno::EINVAL),
    }
}

/// The default huge page size, as hugetlbfs reports it for a `MFD_HUGETLB` memfd (its
/// block size): no `/proc/meminfo` to parse, and the answer is the kernel's own.
fn default_size() -> Result<usize> {
    match DEFAULT_HUGE_PAGE_SIZE.load(Ordering::Relaxed) {
        0 => {
            let flags = MemfdFlags::CLOEXEC | MemfdFlags::HUGETLB;
            let probe = sys::memfd_create(c"mman:huge-page-size", flags)?;
            let size = sys::file_backing(probe.as_fd())?
                .huge_page_size()
                .ok_or(Errno::EINVAL)?;
            // Racing threads compute the same value, so a plain store is enough.
            DEFAULT_HUGE_PAGE_SIZE.store(size, Ordering::Relaxed);
            Ok(size)
        }
        size => Ok(size),
    }
}

/// `len` rounded up to a multiple of `huge_page` (a power of two), as the kernel rounds a
/// huge-page mapping; `len` itself for ordinary pages, which the kernel rounds unasked.
pub(super) fn kernel_len(len: usize, huge_page: Option<usize>) -> usize {
    match huge_page {
        // The kernel mapped the rounded length, so the rounding cannot overflow.
        Some(huge) => len.wrapping_add(huge.wrapping_sub(1)) & !huge.wrapping_sub(1),
        None => len,
    }
}
