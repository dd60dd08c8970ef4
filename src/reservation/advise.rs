//! Advice on a reservation's pages that changes neither contents nor access.

use core::ops::RangeBounds;

use super::pages::require_owned;
use super::Reservation;
use crate::{sys, Advice, Errno, Result};

impl Reservation {
    /// Gives the kernel advice about `range` (whole pages) that changes neither what the
    /// pages hold nor who may access them: `HugePage`/`NoHugePage` (transparent huge pages
    /// for committed memory: with a 2 MiB-aligned reservation the first fault of each
    /// aligned 2 MiB can be served by one huge page), `Normal`, `Random`, `Sequential`,
    /// `WillNeed`, `DontDump`/`DoDump`, `Mergeable`/`Unmergeable`, `Cold`, `PageOut`,
    /// `Collapse`, `PopulateRead`/`PopulateWrite` (which fail with the kernel's `ENOMEM` on
    /// pages without the access they need). Anything else is `EINVAL` here: decommit and
    /// reset are how pages are given back. `EINVAL` also for pages given to a mapping.
    pub fn advise(&mut self, range: impl RangeBounds<usize>, advice: Advice) -> Result<()> {
        use Advice::*;
        let harmless = matches!(
            advice,
            Normal
                | Random
                | Sequential
                | WillNeed
                | DontDump
                | DoDump
                | Mergeable
                | Unmergeable
                | HugePage
                | NoHugePage
                | Cold
                | PageOut
                | Collapse
                | PopulateRead
                | PopulateWrite
        );
        if !harmless {
            return Err(Errno::EINVAL);
        }
        let pages = self.whole_pages(range)?;
        require_owned(&self.pages, pages.clone())?;
        let (addr, len) = self.span_of(&pages);
        // SAFETY: the pages are this reservation's own, and the advice changes no byte and
        // no access (populating faults in what the protection already allows).
        unsafe { sys::madvise(addr, len, advice) }
    }
}
