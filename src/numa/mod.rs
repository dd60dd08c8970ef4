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
//!
//! ```
//! use mman::numa::{MbindFlags, ModeFlags, NodeMask, Policy};
//! use mman::{Errno, Mapping};
//!
//! let mut memory = Mapping::anonymous(16 * mman::page_size())?;
//! let on_node_0 = Policy::Bind(NodeMask::single(0)?);
//! match memory.set_policy(.., &on_node_0, ModeFlags::empty(), MbindFlags::empty()) {
//!     Err(Errno::ENOSYS) => return Ok(()), // a kernel without NUMA support
//!     answer => answer?,
//! }
//! memory.as_mut_slice()?.fill(1); // the pages are faulted in on node 0
//! let mut nodes = [-1; 16];
//! assert_eq!(memory.nodes(.., &mut nodes)?, 16);
//! assert_eq!(nodes, [0; 16]);
//! # Ok::<(), Errno>(())
//! ```

pub(crate) mod mask;
mod policy;
mod thread;

pub use mask::NodeMask;
pub use policy::{GetPolicyFlags, MbindFlags, ModeFlags, Policy, PolicyMode};
pub use thread::{allowed_nodes, migrate_own_pages, set_thread_policy, thread_policy};
