//! The calling thread's memory policy, and moving the whole process between nodes.

use core::ptr;

use super::{GetPolicyFlags, ModeFlags, NodeMask, Policy};
use crate::{sys, Result};

/// Sets the calling thread's memory policy (`set_mempolicy`): where the pages it faults in
/// from now on are placed, wherever no range policy ([`Mapping::set_policy`]) applies.
/// Pages already present stay where they are. `EINVAL` for a node set with no node that
/// is online and allowed (node 1 on a one-node machine), or flags the mode refuses.
///
/// [`Mapping::set_policy`]: crate::Mapping::set_policy
pub fn set_thread_policy(policy: &Policy, flags: ModeFlags) -> Result<()> {
    let (mode, nodes) = policy.kernel_form()?;
    sys::set_mempolicy(mode, flags, nodes.as_ref())
}

/// The calling thread's memory policy and its mode flags (`get_mempolicy`). `EINVAL` for a
/// mode newer than this crate.
pub fn thread_policy() -> Result<(Policy, ModeFlags)> {
    let (mut mode, mut nodes) = (0, NodeMask::EMPTY);
    // SAFETY: without ADDR no address is used; the kernel writes our mode and mask.
    unsafe {
        sys::get_mempolicy(
            Some(&mut mode),
            Some(&mut nodes),
            ptr::null_mut(),
            GetPolicyFlags::empty(),
        )?;
    }
    Policy::from_raw(mode, nodes)
}

/// The nodes the calling thread may allocate on (its cpuset's memory nodes:
/// `get_mempolicy(MPOL_F_MEMS_ALLOWED)`). On a machine without NUMA hardware that is
/// node 0.
pub fn allowed_nodes() -> Result<NodeMask> {
    let mut nodes = NodeMask::EMPTY;
    // SAFETY: without ADDR no address is used; the kernel writes our mask.
    unsafe {
        sys::get_mempolicy(
            None,
            Some(&mut nodes),
            ptr::null_mut(),
            GetPolicyFlags::MEMS_ALLOWED,
        )?;
    }
    Ok(nodes)
}

/// Moves the pages of this process that are on nodes `from` to nodes `to`
/// (`migrate_pages` of pid 0), keeping their contents. Returns how many pages could not be
/// moved (pinned or shared pages, a full node). The threads' and ranges' policies are not
/// changed: pages faulted in later go where those say.
pub fn migrate_own_pages(from: &NodeMask, to: &NodeMask) -> Result<usize> {
    sys::migrate_pages(0, from, to)
}
