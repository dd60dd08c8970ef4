//! Files of stacking filesystems (overlayfs, FUSE with passthrough): `fstatfs` names the
//! stacking filesystem, but its `mmap` hands the mapping to a file of another one (overlayfs:
//! the layer's file; FUSE: the backing file), which may be a special filesystem's. tracefs
//! can be an overlay's lower layer, and its `trace_pipe_raw` maps with `VM_DONTCOPY` (and
//! `VM_DONTEXPAND | VM_MIXEDMAP`): a forked child's copy of the `Mapping` then named a range
//! the child did not have, and its drop unmapped whatever the child had placed there since,
//! under a live slice (review round 6d, hole 20: `SIGSEGV`, run as root).
//!
//! So a mapping of such a file is made ordinary or refused, by the kernel's own rules for
//! two pieces of advice that change nothing on a page-cache mapping: `MADV_DODUMP` is
//! `EINVAL` on any `VM_SPECIAL` mapping (`VM_IO`, `VM_PFNMAP`, `VM_MIXEDMAP`,
//! `VM_DONTEXPAND`: a driver's or a special filesystem's), and `MADV_DOFORK` then clears
//! `VM_DONTCOPY`, so that a forked child has the mapping its copy of the `Mapping` names.
//! (hugetlbfs and procfs cannot be stacked: the kernel refuses such an overlay.)

use crate::mapping::Mapping;
use crate::sys::{self, FileBacking};
use crate::{Advice, Errno, Result};

/// `mapping`, just made of the file `backing` describes and not yet lent: as it is if that
/// file's filesystem is not a stacking one; else made a mapping a forked child inherits, or
/// unmapped and `ENODEV` (see above).
pub(crate) fn ordinary_or_refused(mapping: Mapping, backing: &FileBacking) -> Result<Mapping> {
    let span = mapping.kernel_span();
    if !backing.is_stacked() || span.len == 0 {
        return Ok(mapping);
    }
    // SAFETY: the span is this mapping's own, just made, nothing of it lent; neither advice
    // changes a byte or an access (only whether a core dump and a forked child include it).
    let ordinary = unsafe {
        sys::madvise(span.ptr(), span.len, Advice::DoDump)
            .and_then(|()| sys::madvise(span.ptr(), span.len, Advice::DoFork))
    };
    match ordinary {
        Ok(()) => Ok(mapping),
        // Dropped: unmapped.
        Err(_) => Err(Errno::ENODEV),
    }
}
