//! NUMA placement of a reservation's pages: a policy for the pages committed from now on,
//! and where committed pages are.

use core::ops::RangeBounds;

use super::pages::require_owned;
use super::Reservation;
use crate::mapping::{bind_span, page_statuses, Span};
use crate::numa::{MbindFlags, ModeFlags, Policy};
use crate::Result;

impl Reservation {
    /// Sets the memory policy of `range` (whole pages; `mbind`): pages committed and
    /// touched there from now on are placed by `policy` (with `MbindFlags::MOVE`, pages
    /// already there move to follow it, keeping their contents). See
    /// [`Mapping::set_policy`](crate::Mapping::set_policy) for the policies, flags and
    /// errors. `EINVAL` also for pages given to a mapping.
    pub fn set_policy(
        &mut self,
        range: impl RangeBounds<usize>,
        policy: &Policy,
        mode_flags: ModeFlags,
        flags: MbindFlags,
    ) -> Result<()> {
        let pages = self.whole_pages(range)?;
        require_owned(&self.pages, pages.clone())?;
        let (addr, len) = self.span_of(&pages);
        // SAFETY: the pages are this reservation's own (its book-keeping needs no range to
        // stay one kernel mapping); a policy changes no contents.
        unsafe { bind_span(addr as usize, len, policy, mode_flags, flags) }
    }

    /// Where the pages of `range` are: as [`Mapping::nodes`](crate::Mapping::nodes), one
    /// entry per page the range touches (`-ENOENT` for pages not committed or not touched
    /// yet; `-EFAULT` before Linux 6.12); an empty range touches none. `EINVAL` for pages
    /// given to a mapping.
    pub fn nodes(&self, range: impl RangeBounds<usize>, out: &mut [i32]) -> Result<usize> {
        let bytes = self.bytes(range)?;
        require_owned(&self.pages, Self::pages_touched(&bytes))?;
        let span = Span {
            addr: self.as_ptr() as usize + bytes.start,
            len: bytes.len(),
        };
        page_statuses(span, None, MbindFlags::empty(), out)
    }
}
