//! Checking a caller's byte range against a mapping.

use core::ffi::c_void;
use core::ops::{Bound, Range, RangeBounds};

use super::Mapping;
use crate::{Errno, Result};

/// A range that lies inside a mapping: absolute start address and length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) addr: usize,
    pub(crate) len: usize,
}

impl Span {
    pub(crate) fn ptr(self) -> *mut c_void {
        self.addr as *mut c_void
    }
}

impl Mapping {
    /// Resolves `range` (byte offsets from `as_ptr()`) to a span inside the mapping.
    /// `EINVAL` if it reaches outside `[0, len())`, is reversed, or its end overflows.
    pub(crate) fn span(&self, range: impl RangeBounds<usize>) -> Result<Span> {
        let offsets = offsets(range, self.len)?;
        Ok(Span {
            addr: self.as_ptr() as usize + offsets.start,
            len: offsets.len(),
        })
    }

    /// Whether `span` is the whole mapping, including any leading bytes below `as_ptr()`
    /// that page alignment added.
    pub(crate) fn covers_all(&self, span: Span) -> bool {
        span.addr == self.as_ptr() as usize && span.len == self.len()
    }

    /// The whole kernel mapping as a span (page-aligned start).
    pub(crate) fn kernel_span(&self) -> Span {
        Span {
            addr: self.kernel_start(),
            len: self.kernel_len(),
        }
    }
}

/// `len` if a Rust object may be that long, else `ENOMEM` (what `mmap` answers for a length
/// the address space cannot hold). No object exceeds `isize::MAX` bytes: slices, and
/// pointer offsets within an object, are limited to it. A 64-bit address space is smaller
/// than that, but a 32-bit program on a 64-bit kernel has 4 GiB of it, where a mapping of
/// more than 2 GiB lent a slice longer than any Rust object (review round 4). So every
/// mapping and reservation is held to it when made, grown or attached.
pub(crate) fn object_len(len: usize) -> Result<usize> {
    if len > isize::MAX as usize {
        Err(Errno::ENOMEM)
    } else {
        Ok(len)
    }
}

/// `range` as byte offsets into something `len` bytes long: `EINVAL` if it reaches outside,
/// is reversed, or its end overflows.
pub(crate) fn offsets(range: impl RangeBounds<usize>, len: usize) -> Result<Range<usize>> {
    let start = match range.start_bound() {
        Bound::Included(&s) => s,
        Bound::Excluded(&s) => s.checked_add(1).ok_or(Errno::EINVAL)?,
        Bound::Unbounded => 0,
    };
    let end = match range.end_bound() {
        Bound::Included(&e) => e.checked_add(1).ok_or(Errno::EINVAL)?,
        Bound::Excluded(&e) => e,
        Bound::Unbounded => len,
    };
    if start > end || end > len {
        return Err(Errno::EINVAL);
    }
    Ok(start..end)
}
