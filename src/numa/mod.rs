//! NUMA placement: node sets, memory policies, and the calling thread's policy.
//!
//! The system calls are in [`sys`](crate::sys) (`mbind`, `set_mempolicy`, `get_mempolicy`,
//! `set_mempolicy_home_node`, `move_pages`, `migrate_pages`); policies for a range of a
//! mapping are set with [`Mapping::set_policy`](crate::Mapping::set_policy), and
//! [`Mapping::nodes`](crate::Mapping::nodes) tells where its pages are.
//!
//! Placement never changes contents: a page moved to another node keeps its bytes, so
//! every call here is safe. Kernels without `CONFIG_NUMA` answer `ENOSYS`; a one-node
//! machine accepts node 0 and refuses the others with `EINVAL`.

pub(crate) mod mask;
mod policy;
mod thread;

pub use mask::NodeMask;
pub use policy::{GetPolicyFlags, MbindFlags, ModeFlags, Policy, PolicyMode};
pub use thread::{allowed_nodes, migrate_own_pages, set_thread_policy, thread_policy};
