//! Slices of a reservation's committed memory.

use core::ops::{Range, RangeBounds};

use super::pages::Plane;
use super::Reservation;
use crate::{Errno, Result};

impl Reservation {
    /// The bytes of `range` (any bytes, not only whole pages), if every page they touch is
    /// committed readable; `EACCES` otherwise (reserved, locked, reset or given away).
    pub fn as_slice(&self, range: impl RangeBounds<usize>) -> Result<&[u8]> {
        let bytes = self.lendable(range, Plane::Readable)?;
        // SAFETY: private anonymous memory of this reservation, readable on every page of
        // the range; it changes (in bytes or access) only through `&mut self`.
        Ok(unsafe { core::slice::from_raw_parts(self.as_ptr().add(bytes.start), bytes.len()) })
    }

    /// The bytes of `range`, mutably, if every page they touch is committed read-write.
    pub fn as_mut_slice(&mut self, range: impl RangeBounds<usize>) -> Result<&mut [u8]> {
        let bytes = self.lendable(range, Plane::Writable)?;
        // SAFETY: as in `as_slice`, writable too, and `&mut self` makes the borrow unique.
        Ok(unsafe { core::slice::from_raw_parts_mut(self.as_ptr().add(bytes.start), bytes.len()) })
    }

    /// `range` as bytes, if every page it touches has its bit in `plane` (readable or
    /// writable: each implies committed and not given away).
    fn lendable(&self, range: impl RangeBounds<usize>, plane: Plane) -> Result<Range<usize>> {
        let bytes = self.bytes(range)?;
        if self.pages.all(plane, Self::pages_touched(&bytes)) {
            Ok(bytes)
        } else {
            Err(Errno::EACCES)
        }
    }
}
