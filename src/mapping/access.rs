//! Reading and writing a mapping's bytes soundly.
//!
//! Exclusive memory (private anonymous) is lent out as slices, only while every byte is
//! readable (and, for `&mut`, writable). Volatile memory (shared, file-backed, droppable) can
//! change without this program writing it, which a Rust reference may not see happen; it is
//! copied in and out with relaxed atomic accesses (`copy`), or viewed as atomics.
//!
//! The atomic views borrow the mapping mutably: while one is alive, no slice, no copy and no
//! view of another size exists in this process, so no access of another size can race with
//! its atomics (the memory model forbids mixed-size races that involve a write).

use core::ops::RangeBounds;
use core::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, AtomicU8, AtomicUsize};

use super::{copy, Kind, Mapping};
use crate::{page_size, sys, Advice, Errno, Result};

/// The atomic integer types a mapping can be viewed as ([`Mapping::as_atomics`]): each has
/// the size and alignment of its integer, and is lock-free on every supported target.
pub trait AtomicWord: sealed::Sealed + Sync + Sized {}

mod sealed {
    pub trait Sealed {}
}

macro_rules! atomic_words {
    ($($atomic:ty),*) => {$(
        impl sealed::Sealed for $atomic {}
        impl AtomicWord for $atomic {}
    )*};
}
atomic_words!(AtomicU8, AtomicU16, AtomicU32, AtomicU64, AtomicUsize);

impl Mapping {
    /// The bytes, for exclusive memory that is wholly readable. `EACCES` if part of it may
    /// not be readable (after `protect` or `guard`); `EPERM` for volatile memory, which is
    /// read with [`read_at`](Mapping::read_at) instead. Exclusive memory is private
    /// anonymous memory, secret memory, and mappings of files sealed against writing and
    /// shrinking (see [`MapOptions::map_file`](crate::MapOptions::map_file)); an empty
    /// mapping lends an empty slice whatever its kind.
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

    /// The bytes as a mutable slice, whatever the kind of memory: for writing shared or file
    /// memory that the caller knows no one else accesses meanwhile, without building the
    /// slice from [`as_ptr`](Mapping::as_ptr). (Exclusive memory is lent safely by
    /// [`as_mut_slice`](Mapping::as_mut_slice); volatile memory is written safely by
    /// [`write_at`](Mapping::write_at).)
    ///
    /// ```
    /// use mman::{Flush, MapOptions, Memfd};
    /// let file = Memfd::new(c"data")?;
    /// file.set_len(4096)?;
    /// let mut m = MapOptions::new().shared().map_file(&file, 0)?;
    /// // SAFETY: the memfd is this program's alone: no other mapping, writer or truncation.
    /// let bytes = unsafe { m.as_mut_slice_unchecked() };
    /// bytes[..5].copy_from_slice(b"hello");
    /// m.flush(.., Flush::Sync)?;
    /// # Ok::<(), mman::Errno>(())
    /// ```
    ///
    /// # Safety
    /// For the lifetime of the slice, the bytes must not change except through it (no other
    /// process, mapping, file writer or truncation, no droppable reclaim) nor be read by
    /// anyone else, and must stay readable and writable.
    pub unsafe fn as_mut_slice_unchecked(&mut self) -> &mut [u8] {
        // SAFETY: forwarded to the caller; `&mut self` makes the borrow unique in this
        // value, and the pointer is non-null and aligned (dangling only for length 0).
        unsafe { core::slice::from_raw_parts_mut(self.as_ptr(), self.len) }
    }

    /// Copies bytes from `offset` into `buf` with relaxed atomic reads. Works on every kind
    /// of memory; `EINVAL` if the range reaches outside, `EACCES` if it may not be readable.
    pub fn read_at(&self, offset: usize, buf: &mut [u8]) -> Result<()> {
        let span = self.access_span(
            offset..offset.checked_add(buf.len()).ok_or(Errno::EINVAL)?,
            self.readable,
        )?;
        // SAFETY: the span lies inside the mapping, which is readable, and is `buf.len()` long.
        // In this process only reads race with it: writes and atomic views need `&mut self`.
        unsafe { copy::copy_out(span.addr as *const u8, buf) };
        Ok(())
    }

    /// Copies `data` to `offset` with relaxed atomic writes. `EINVAL` if the range reaches
    /// outside, `EACCES` if it may not be writable.
    pub fn write_at(&mut self, offset: usize, data: &[u8]) -> Result<()> {
        let span = self.access_span(
            offset..offset.checked_add(data.len()).ok_or(Errno::EINVAL)?,
            self.writable,
        )?;
        // SAFETY: the span lies inside the mapping, which is writable, and is `data.len()`
        // long; `&mut self` means no slice, copy or atomic view of it is alive.
        unsafe { copy::copy_in(data, span.addr as *mut u8) };
        Ok(())
    }

    /// The whole mapping as a slice of atomics of type `T` (`AtomicU32`, `AtomicU64`, ...),
    /// for sharing with other threads and other processes: `len() / size_of::<T>()` of them.
    /// Works on every kind of memory, exclusive included (the view borrows the mapping
    /// mutably, so no slice of it exists meanwhile), but huge pages mapped without a
    /// reservation and a file mapping that reached past its file's end when made or last
    /// resized (`EPERM`: a page the pool cannot supply, or past the end, raises `SIGBUS`
    /// when touched, which must not come through a reference; copy them with
    /// [`read_at`](Mapping::read_at) and [`write_at`](Mapping::write_at)). `EACCES` unless
    /// the mapping is readable and writable; `EINVAL` if its start is not aligned for `T`
    /// (a file mapping at an odd offset).
    ///
    /// ```
    /// use core::sync::atomic::{AtomicU32, Ordering};
    /// let mut shared = mman::MapOptions::new().len(4096).shared().map()?;
    /// let words = shared.as_atomics::<AtomicU32>()?;
    /// words[1].store(7, Ordering::Release);
    /// assert_eq!(words.len(), 1024);
    /// # Ok::<(), mman::Errno>(())
    /// ```
    pub fn as_atomics<T: AtomicWord>(&mut self) -> Result<&[T]> {
        if !(self.readable && self.writable) {
            return Err(Errno::EACCES);
        }
        if self.kind == Kind::FilePastItsEnd && self.last_page_is_backed() {
            // The file covers the mapping now.
            self.kind = Kind::File;
        }
        if self.may_lack_pages() {
            return Err(Errno::EPERM);
        }
        if self.as_ptr() as usize % core::mem::align_of::<T>() != 0 {
            return Err(Errno::EINVAL);
        }
        let count = self.len / core::mem::size_of::<T>();
        // SAFETY: aligned, inside the mapping, readable and writable for as long as the
        // mutable borrow lasts (protection changes need it); during it nothing else in this
        // process accesses the bytes, and atomics are sound on memory other processes change.
        Ok(unsafe { core::slice::from_raw_parts(self.as_ptr().cast::<T>(), count) })
    }

    /// The 4 bytes at `offset` as an atomic: the element of [`as_atomics`] there.
    /// `EINVAL` if out of range or not 4-byte aligned; `EACCES` unless readable and writable.
    ///
    /// [`as_atomics`]: Mapping::as_atomics
    pub fn atomic_u32(&mut self, offset: usize) -> Result<&AtomicU32> {
        atomic_at(self.as_atomics()?, offset)
    }

    /// The 8 bytes at `offset` as an atomic; as [`atomic_u32`](Mapping::atomic_u32).
    pub fn atomic_u64(&mut self, offset: usize) -> Result<&AtomicU64> {
        atomic_at(self.as_atomics()?, offset)
    }

    /// Whether the mapping's last page lies within its file now, asked of the kernel (a
    /// read fault of that page, `MADV_POPULATE_READ`, which answers an error where the
    /// touch would raise `SIGBUS`): then every page does, the mapping being one run of the
    /// file. Asked of readable memory only; any refusal counts as not backed.
    fn last_page_is_backed(&self) -> bool {
        let span = self.kernel_span();
        let page = page_size();
        let last = (span.addr + span.len - 1) & !(page - 1);
        // SAFETY: a page of this mapping; a read fault changes no byte and no access.
        unsafe { sys::madvise(last as *mut _, page, Advice::PopulateRead) }.is_ok()
    }

    fn lendable(&self, accessible: bool) -> Result<()> {
        // An empty mapping lends empty slices whatever it is: there are no bytes to change.
        if self.len == 0 {
            return Ok(());
        }
        match (self.is_exclusive(), accessible) {
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
}

/// The element of `words` at byte `offset`: `EINVAL` unless `offset` is a multiple of its
/// size inside the view.
fn atomic_at<T>(words: &[T], offset: usize) -> Result<&T> {
    let size = core::mem::size_of::<T>();
    if offset % size != 0 {
        return Err(Errno::EINVAL);
    }
    words.get(offset / size).ok_or(Errno::EINVAL)
}
