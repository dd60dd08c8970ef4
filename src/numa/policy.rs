//! Memory policies: the kernel's modes and flags (`include/uapi/linux/mempolicy.h`, the same
//! on every architecture) and [`Policy`], a mode together with the nodes it needs.

use super::NodeMask;
use crate::{Errno, Result};

/// A memory policy mode (`MPOL_*`), as `set_mempolicy` and `mbind` take it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(i32)]
#[non_exhaustive]
pub enum PolicyMode {
    /// The default: the thread's policy for a range, local allocation for a thread.
    Default = 0,
    /// Allocate on one node first, falling back to others.
    Preferred = 1,
    /// Allocate only on the given nodes.
    Bind = 2,
    /// Allocate page by page on the given nodes in turn.
    Interleave = 3,
    /// Allocate on the node of the CPU that faults the page (Linux 3.8).
    Local = 4,
    /// Allocate on any of the given nodes first, falling back to others (Linux 5.15).
    PreferredMany = 5,
    /// Interleave with the weights of `/sys/kernel/mm/mempolicy/weighted_interleave`
    /// (Linux 6.9).
    WeightedInterleave = 6,
}

impl PolicyMode {
    /// The kernel's value.
    pub const fn raw(self) -> i32 {
        self as i32
    }

    /// The mode of a kernel value (without mode flags); `None` for one this crate does not
    /// know.
    pub const fn from_raw(raw: i32) -> Option<PolicyMode> {
        Some(match raw {
            0 => PolicyMode::Default,
            1 => PolicyMode::Preferred,
            2 => PolicyMode::Bind,
            3 => PolicyMode::Interleave,
            4 => PolicyMode::Local,
            5 => PolicyMode::PreferredMany,
            6 => PolicyMode::WeightedInterleave,
            _ => return None,
        })
    }
}

bitflags::bitflags! {
    /// Flags or-ed into a policy mode (`MPOL_F_*` of `MPOL_MODE_FLAGS`).
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
    pub struct ModeFlags: i32 {
        /// The node set is not remapped when the task's cpuset changes (Linux 2.6.26).
        const STATIC_NODES = 1 << 15;
        /// The node set is relative to the task's allowed nodes (Linux 2.6.26).
        const RELATIVE_NODES = 1 << 14;
        /// Let NUMA balancing move pages between the nodes of a `Bind` set (Linux 5.15;
        /// `EINVAL` with other modes).
        const NUMA_BALANCING = 1 << 13;
        // Flags newer than this crate pass through.
        const _ = !0;
    }

    /// Flags of `mbind` (and, `MOVE` and `MOVE_ALL` only, `move_pages`): `MPOL_MF_*`.
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
    pub struct MbindFlags: u32 {
        /// Fail with `EIO` if pages already in the range do not follow the policy (and,
        /// with `MOVE`, could not be moved).
        const STRICT = 1 << 0;
        /// Move the range's pages that only this process maps so that they follow the
        /// policy. Their contents stay the same.
        const MOVE = 1 << 1;
        /// Move every page of the range, also those other processes map (needs
        /// `CAP_SYS_NICE`: `EPERM` otherwise).
        const MOVE_ALL = 1 << 2;
        const _ = !0;
    }

    /// Flags of `get_mempolicy` (`MPOL_F_NODE`, `MPOL_F_ADDR`, `MPOL_F_MEMS_ALLOWED`).
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
    pub struct GetPolicyFlags: u32 {
        /// With `ADDR`: return the node of the page at the address (faulting it in)
        /// instead of the mode. Alone: the next node of the thread's interleave policy.
        const NODE = 1 << 0;
        /// Return the policy of the range at the address instead of the thread's.
        const ADDR = 1 << 1;
        /// Return the nodes the thread may use (its cpuset's) in the mask (Linux 2.6.24).
        const MEMS_ALLOWED = 1 << 2;
        const _ = !0;
    }
}

/// Which bits of a `get_mempolicy` mode word are mode flags rather than the mode.
const MODE_FLAGS_MASK: i32 = ModeFlags::STATIC_NODES
    .union(ModeFlags::RELATIVE_NODES)
    .union(ModeFlags::NUMA_BALANCING)
    .bits();

/// A memory policy: where the kernel allocates the pages of a thread or of a range.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum Policy {
    /// The default (for a range: the thread's policy; for a thread: local allocation).
    Default,
    /// Only on these nodes; allocation fails (the faulting process is killed by the OOM
    /// killer or gets `SIGBUS`) when they have no free memory.
    Bind(NodeMask),
    /// First on this node, then elsewhere.
    Preferred(u32),
    /// First on any of these nodes, then elsewhere (Linux 5.15).
    PreferredMany(NodeMask),
    /// Page by page on these nodes in turn.
    Interleave(NodeMask),
    /// Interleaved by the node weights the system administrator set (Linux 6.9).
    WeightedInterleave(NodeMask),
    /// On the node of the CPU that faults the page.
    Local,
}

impl Policy {
    /// The mode and node set the kernel takes for this policy: no set for `Default` and
    /// `Local` (the kernel refuses one); `EINVAL` for a preferred node `>= NodeMask::BITS`.
    pub(crate) fn kernel_form(&self) -> Result<(PolicyMode, Option<NodeMask>)> {
        Ok(match *self {
            Policy::Default => (PolicyMode::Default, None),
            Policy::Local => (PolicyMode::Local, None),
            Policy::Preferred(node) => (PolicyMode::Preferred, Some(NodeMask::single(node)?)),
            Policy::Bind(mask) => (PolicyMode::Bind, Some(mask)),
            Policy::PreferredMany(mask) => (PolicyMode::PreferredMany, Some(mask)),
            Policy::Interleave(mask) => (PolicyMode::Interleave, Some(mask)),
            Policy::WeightedInterleave(mask) => (PolicyMode::WeightedInterleave, Some(mask)),
        })
    }

    /// The policy `get_mempolicy` described with `mode` (mode flags included) and `mask`,
    /// with its mode flags. `Preferred` with no node is how kernels before 5.15 report
    /// local allocation. `EINVAL` for a mode this crate does not know.
    pub(crate) fn from_raw(mode: i32, mask: NodeMask) -> Result<(Policy, ModeFlags)> {
        let flags = ModeFlags::from_bits_retain(mode & MODE_FLAGS_MASK);
        let mode = PolicyMode::from_raw(mode & !MODE_FLAGS_MASK).ok_or(Errno::EINVAL)?;
        let policy = match mode {
            PolicyMode::Default => Policy::Default,
            PolicyMode::Local => Policy::Local,
            PolicyMode::Preferred => match mask.first() {
                Some(node) => Policy::Preferred(node),
                None => Policy::Local,
            },
            PolicyMode::Bind => Policy::Bind(mask),
            PolicyMode::PreferredMany => Policy::PreferredMany(mask),
            PolicyMode::Interleave => Policy::Interleave(mask),
            PolicyMode::WeightedInterleave => Policy::WeightedInterleave(mask),
        };
        Ok((policy, flags))
    }
}
