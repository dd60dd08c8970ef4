//! Reading and writing a mapping's bytes soundly.
//!
//! Exclusive memory (private anonymous) is lent out as slices, only while every byte is
//! readable (and, for `&mut`, writable). Volatile memory (shared, file-backed, droppable) can
//! change without this program writing it, which a Rust reference may not see happen; it is
//! copied in and out with volatile accesses, or shared as atomics.

use core::ops::RangeBounds;
use core::sync::atomic::{AtomicU32, AtomicU64};

use super::{volatile, Mapping};
use crate::{Errno, Result};

impl Mapping {
    /// The bytes, for exclusive memory that is wholly readable. `EACCES` if part of it may
    /// not be readable (after `protect` or `guard`); `EPERM` for volatile memory, which is
    /// read with [`read_at`](Mapping::read_at) instead.
    pub fn as_slice(&self) -> Result<&[u8]> {
        self.lendable(self.readable)?;
        // SAFETY: exclusive memory changes only through `&mut self`; every byte is mapped
        // readable, and stays so while `&self` is borrowed (changes need `&mut self`).
        Ok(unsafe { core::slice::from_raw_parts(self.as_ptr(), self.len) })
    }

    /// The bytes, mutably, for exclusive memory that is wholly readable and writable.
    pub fn as_mut_slice(&mut self) -> Result<&mut [u8]> {
        self.lendable(self.readable && self.writable)?;
        // SAFETY: as in `as_slice`, and `&mut self` makes the borrow unique.
        Ok(unsafe { core::slice::from_raw_parts_mut(self.as_ptr(), self.len) })
    }

    /// The bytes as a slice, whatever the kind of memory.
    ///
    /// # Safety
    /// For the lifetime of the slice, the bytes must not change (no other process, file
    /// writer or truncation, no droppable reclaim) and must stay readable.
    pub unsafe fn as_slice_unchecked(&self) -> &[u8] {
        // SAFETY: forwarded to the caller.
        unsafe { core::slice::from_raw_parts(self.as_ptr(), self.len) }
    }

    /// Copies bytes from `offset` into `buf` with volatile reads. Works on every kind of
    /// memory; `EINVAL` if the range reaches outside, `EACCES` if it may not be readable.
    pub fn read_at(&self, offset: usize, buf: &mut [u8]) -> Result<()> {
        let span = self.access_span(
            offset..offset.checked_add(buf.len()).ok_or(Errno::EINVAL)?,
            self.readable,
        )?;
        // SAFETY: the span lies inside the mapping, which is readable, and is `buf.len()` long.
        unsafe { volatile::copy_out(span.addr as *const u8, buf) };
        Ok(())
    }

    /// Copies `data` to `offset` with volatile writes. `EINVAL` if the range reaches outside,
    /// `EACCES` if it may not be writable.
    pub fn write_at(&mut self, offset: usize, data: &[u8]) -> Result<()> {
        let span = self.access_span(
            offset..offset.checked_add(data.len()).ok_or(Errno::EINVAL)?,
            self.writable,
        )?;
        // SAFETY: the span lies inside the mapping, which is writable, and is `data.len()`
        // long; `&mut self` means no slice of it is alive.
        unsafe { volatile::copy_in(data, span.addr as *mut u8) };
        Ok(())
    }

    /// The 4 bytes at `offset` as an atomic, for synchronising with other processes through
    /// shared memory. `EINVAL` if out of range or not 4-byte aligned; `EACCES` unless the
    /// mapping is readable and writable; `EPERM` for exclusive memory, whose bytes
    /// [`as_slice`](Mapping::as_slice) may be lending out at the same time.
    pub fn atomic_u32(&self, offset: usize) -> Result<&AtomicU32> {
        let span = self.atomic_span::<AtomicU32>(offset)?;
        // SAFETY: aligned, inside the mapping, readable and writable for as long as `&self`
        // lives (protection changes need `&mut self`); the memory is volatile, so no slice
        // of it exists, and atomics are sound on memory other processes change concurrently.
        Ok(unsafe { &*(span.addr as *const AtomicU32) })
    }

    /// The 8 bytes at `offset` as an atomic; as [`atomic_u32`](Mapping::atomic_u32).
    pub fn atomic_u64(&self, offset: usize) -> Result<&AtomicU64> {
        let span = self.atomic_span::<AtomicU64>(offset)?;
        // SAFETY: as in `atomic_u32`.
        Ok(unsafe { &*(span.addr as *const AtomicU64) })
    }

    fn lendable(&self, accessible: bool) -> Result<()> {
        match (self.kind.is_exclusive(), accessible) {
            (false, _) => Err(Errno::EPERM),
            (true, false) => Err(Errno::EACCES),
            (true, true) => Ok(()),
        }
    }

    fn access_span(
        &self,
        range: impl RangeBounds<usize>,
        accessible: bool,
    ) -> Result<super::range::Span> {
        let span = self.span(range)?;
        if accessible {
            Ok(span)
        } else {
            Err(Errno::EACCES)
        }
    }

    fn atomic_span<T>(&self, offset: usize) -> Result<super::range::Span> {
        // A store through the atomic would change bytes a `&[u8]` from `as_slice` promises
        // are frozen; volatile memory is never lent as a slice, so there it is sound.
        if self.kind.is_exclusive() {
            return Err(Errno::EPERM);
        }
        let size = core::mem::size_of::<T>();
        let span = self.access_span(
            offset..offset.checked_add(size).ok_or(Errno::EINVAL)?,
            self.readable && self.writable,
        )?;
        if span.addr % core::mem::align_of::<T>() != 0 {
            return Err(Errno::EINVAL);
        }
        Ok(span)
    }
}
