//! NUMA placement of a mapping's pages: range policies (`mbind`) and where pages are
//! (`move_pages`). Placement never changes contents, so all of it takes `&self`.

use core::ffi::c_void;
use core::ops::RangeBounds;
use core::ptr;

use super::range::Span;
use super::Mapping;
use crate::numa::{GetPolicyFlags, MbindFlags, ModeFlags, NodeMask, Policy};
use crate::{page_size, sys, Result};

/// Pages per `move_pages` call: the addresses (and target nodes) live on the stack, 1.5 KiB
/// of them; the kernel itself works through a query 16 pages at a time.
#[cfg(target_pointer_width = "64")]
const CHUNK: usize = 128;
/// Pages per `move_pages` call of a 32-bit program: 16, the kernel's own step. An x86_64
/// kernel's ia32 layer (Debian's 6.12.117 here) answers a longer query from the wrong
/// addresses after its first 16 pages: its `do_pages_stat` steps through the 4-byte address
/// array by native 8-byte pointers (page 17 of 300 reported the node of page 33).
#[cfg(target_pointer_width = "32")]
const CHUNK: usize = 16;

impl Mapping {
    /// Sets the memory policy of `range` (`mbind`): pages faulted in there from now on are
    /// placed by `policy`; with `MbindFlags::MOVE` the pages already present that only this
    /// process maps are moved to follow it (`MOVE_ALL`: also pages shared with other
    /// processes, with `CAP_SYS_NICE`), and with `STRICT` the call fails with `EIO` if a
    /// page does not follow it afterwards. Contents stay the same either way.
    ///
    /// The range must start on a page boundary (`EINVAL` otherwise; the whole mapping
    /// always does); its end is rounded up to a page. A policy on part of the mapping
    /// splits the kernel's VMA, after which the mapping cannot move (see
    /// [`remap`](Mapping::remap)). `EINVAL` for a node set with no online node, or a mode
    /// and flags the kernel refuses; `ENOSYS` without `CONFIG_NUMA`. For shared memory the
    /// policy belongs to the shared object, for every process that maps it.
    pub fn set_policy(
        &self,
        range: impl RangeBounds<usize>,
        policy: &Policy,
        mode_flags: ModeFlags,
        flags: MbindFlags,
    ) -> Result<()> {
        let span = self.aligned_span(range)?;
        // A policy the kernel cannot be given is refused before anything is recorded.
        policy.kernel_form()?;
        if self.has_no_pages() {
            // An empty mapping's pointer is dangling: no call is made with it.
            return Ok(());
        }
        self.note_flags_change(span);
        // SAFETY: the span is this mapping's own.
        unsafe { bind_span(span.addr, span.len, policy, mode_flags, flags) }
    }

    /// Sets the home node of `range`'s `Bind` or `PreferredMany` policy
    /// (`set_mempolicy_home_node`, Linux 5.17): pages are allocated there first when the
    /// policy allows it, the nearest allowed node otherwise. `EOPNOTSUPP` if part of the
    /// range has another policy, `ENOENT` if none of it has a policy of its own, `EINVAL`
    /// for a node that is not online; `ENOSYS` before 5.17. Alignment and VMA splitting as
    /// for [`set_policy`](Mapping::set_policy).
    pub fn set_home_node(&self, range: impl RangeBounds<usize>, node: u32) -> Result<()> {
        let span = self.aligned_span(range)?;
        if self.has_no_pages() {
            return Ok(());
        }
        self.note_flags_change(span);
        // SAFETY: the span is this mapping's own; a home node changes no contents.
        unsafe { sys::set_mempolicy_home_node(span.ptr(), span.len, node, 0) }
    }

    /// The memory policy of the byte at `offset` and its mode flags (`get_mempolicy` with
    /// `MPOL_F_ADDR`): `Policy::Default` where none was set (the thread's policy then
    /// applies). `EINVAL` if `offset` is not inside the mapping, or for a mode newer than
    /// this crate.
    pub fn policy_of(&self, offset: usize) -> Result<(Policy, ModeFlags)> {
        let span = self.span(offset..=offset)?;
        let (mut mode, mut nodes) = (0, NodeMask::EMPTY);
        // SAFETY: without NODE the kernel only looks up the VMA at the address, which is
        // ours; it writes our mode and mask.
        unsafe {
            sys::get_mempolicy(
                Some(&mut mode),
                Some(&mut nodes),
                span.ptr(),
                GetPolicyFlags::ADDR,
            )?;
        }
        Policy::from_raw(mode, nodes)
    }

    /// Where the pages of `range` are (`move_pages` with no target): `out[i]` receives the
    /// node of the `i`th page the range touches, or the kernel's negative errno for it:
    /// `-ENOENT` (-2) for a page not faulted in yet (`-EFAULT` before Linux 6.12, whose
    /// lookup took a missing page table entry for a hole in a core dump), `-EFAULT` (-14)
    /// for one that maps the shared zero page (read but never written). Returns how many
    /// entries were written: one per page, at most `out.len()`. On an error part of `out`
    /// may have been written. `ENOSYS` without `CONFIG_NUMA`.
    pub fn nodes(&self, range: impl RangeBounds<usize>, out: &mut [i32]) -> Result<usize> {
        let span = self.span(range)?;
        page_statuses(span, None, MbindFlags::empty(), out)
    }

    /// Moves the pages of `range` to `node` (`move_pages`), keeping their contents.
    /// `out[i]` receives the node of the `i`th page afterwards or why it was not moved (a
    /// negative errno: `-ENOENT` not faulted in (`-EFAULT` before 6.12), `-EACCES` mapped
    /// by other processes too, without `MbindFlags::MOVE_ALL`, `-EBUSY` pinned, `-ENOMEM`
    /// the node is full).
    /// Returns how many entries were written, at most `out.len()`; pages past that are
    /// not moved. `flags` is `MOVE` or `MOVE_ALL` (`CAP_SYS_NICE`, else `EPERM`); `ENODEV`
    /// for a node without memory, `EACCES` for one the cpuset does not allow.
    pub fn move_to(
        &self,
        range: impl RangeBounds<usize>,
        node: u32,
        flags: MbindFlags,
        out: &mut [i32],
    ) -> Result<usize> {
        let span = self.span(range)?;
        let node = i32::try_from(node).map_err(|_| crate::Errno::ENODEV)?;
        page_statuses(span, Some(node), flags, out)
    }
}

/// Sets the memory policy of `[addr, addr + len)` (`mbind`), for address space the crate
/// owns but that is no [`Mapping`] (a reservation's).
///
/// # Safety
/// The range must be owned by the caller: the policy change splits VMAs there.
pub(crate) unsafe fn bind_span(
    addr: usize,
    len: usize,
    policy: &Policy,
    mode_flags: ModeFlags,
    flags: MbindFlags,
) -> Result<()> {
    let (mode, nodes) = policy.kernel_form()?;
    // SAFETY: forwarded to the caller; a policy changes no contents.
    unsafe {
        sys::mbind(
            addr as *mut c_void,
            len,
            mode,
            mode_flags,
            nodes.as_ref(),
            flags,
        )
    }
}

/// `move_pages` over the pages `span` touches, [`CHUNK`] at a time, each moved to
/// `target` (or, with none, only asked where it is); statuses go straight into `out`.
/// Returns how many pages were done: as many as `out` holds, at most.
pub(crate) fn page_statuses(
    span: Span,
    target: Option<i32>,
    flags: MbindFlags,
    out: &mut [i32],
) -> Result<usize> {
    let page = page_size();
    let first = span.addr & !(page - 1);
    // A span lies inside a mapping, so its end does not overflow.
    let pages = if span.len == 0 {
        0
    } else {
        (span.addr + span.len - first).div_ceil(page)
    };
    let count = pages.min(out.len());
    let mut addrs = [ptr::null_mut::<c_void>(); CHUNK];
    let targets = [target.unwrap_or(0); CHUNK];
    let targets = target.map_or(ptr::null(), |_| targets.as_ptr());
    let mut next = first;
    for status in out[..count].chunks_mut(CHUNK) {
        for addr in &mut addrs[..status.len()] {
            *addr = next as *mut c_void;
            next += page;
        }
        // SAFETY: `addrs` and `targets` hold CHUNK entries, at least `status.len()`, and
        // `status` is ours to write; the pages are this mapping's, and moving them keeps
        // their contents.
        unsafe {
            sys::move_pages(
                0,
                status.len(),
                addrs.as_ptr(),
                targets,
                status.as_mut_ptr(),
                flags,
            )?;
        }
    }
    Ok(count)
}
