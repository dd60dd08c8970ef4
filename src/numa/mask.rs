//! [`NodeMask`]: a set of NUMA node numbers as the kernel reads and writes it.

use crate::{Errno, Result};

/// Bits in a machine word: the kernel's node masks are arrays of `unsigned long`.
const WORD_BITS: usize = usize::BITS as usize;

/// A set of NUMA nodes, laid out as the kernel's `unsigned long` bitmap, of a fixed
/// [`NodeMask::BITS`] nodes: no allocation.
///
/// 1024 bits is `MAX_NUMNODES` of Debian's x86_64 kernels (`CONFIG_NODES_SHIFT=10`, the
/// most x86_64 and arm64 allow; Debian's arm64 kernels have 16), as `tests/numa.rs`
/// measures it: 1024 on Debian's x86_64 6.1 and 6.12 and on a 6.18 host, 16 on Debian's
/// arm64 6.1 and 6.12. `get_mempolicy` needs room for the kernel's `nr_node_ids`
/// (`EINVAL` otherwise), and `mbind` and friends refuse a set bit at or above the
/// kernel's `MAX_NUMNODES` (also `EINVAL`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct NodeMask {
    words: [usize; NodeMask::BITS / WORD_BITS],
}

impl NodeMask {
    /// How many nodes the mask can name: nodes `0..BITS`.
    pub const BITS: usize = 1024;

    /// The empty set.
    pub const EMPTY: NodeMask = NodeMask {
        words: [0; NodeMask::BITS / WORD_BITS],
    };

    /// The set of one node; `EINVAL` if `node >= BITS`.
    pub fn single(node: u32) -> Result<NodeMask> {
        let mut mask = NodeMask::EMPTY;
        mask.insert(node)?;
        Ok(mask)
    }

    /// The set of the given nodes; `EINVAL` if one of them is `>= BITS`.
    pub fn from_nodes(nodes: &[u32]) -> Result<NodeMask> {
        let mut mask = NodeMask::EMPTY;
        for &node in nodes {
            mask.insert(node)?;
        }
        Ok(mask)
    }

    /// Adds `node`; `EINVAL` (and no change) if `node >= BITS`.
    pub fn insert(&mut self, node: u32) -> Result<()> {
        let (word, bit) = Self::locate(node).ok_or(Errno::EINVAL)?;
        self.words[word] |= bit;
        Ok(())
    }

    /// Removes `node` (nothing to do if it is not in the set or not representable).
    pub fn remove(&mut self, node: u32) {
        if let Some((word, bit)) = Self::locate(node) {
            self.words[word] &= !bit;
        }
    }

    /// Whether `node` is in the set.
    pub fn contains(&self, node: u32) -> bool {
        Self::locate(node).is_some_and(|(word, bit)| self.words[word] & bit != 0)
    }

    /// How many nodes are in the set.
    pub fn count(&self) -> u32 {
        self.words.iter().map(|w| w.count_ones()).sum()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|&w| w == 0)
    }

    /// The lowest node in the set.
    pub fn first(&self) -> Option<u32> {
        self.iter().next()
    }

    /// The nodes in the set, lowest first.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        (0..NodeMask::BITS as u32).filter(move |&node| self.contains(node))
    }

    /// The bitmap as the kernel reads it.
    pub(crate) fn as_ptr(&self) -> *const usize {
        self.words.as_ptr()
    }

    /// The bitmap as the kernel writes it.
    pub(crate) fn as_mut_ptr(&mut self) -> *mut usize {
        self.words.as_mut_ptr()
    }

    /// Word index and bit of `node`, if it is representable.
    fn locate(node: u32) -> Option<(usize, usize)> {
        let node = node as usize;
        (node < NodeMask::BITS).then(|| (node / WORD_BITS, 1 << (node % WORD_BITS)))
    }
}

impl Default for NodeMask {
    fn default() -> NodeMask {
        NodeMask::EMPTY
    }
}

impl core::fmt::Debug for NodeMask {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// The `maxnode` argument that makes the kernel read (and write) exactly [`NodeMask::BITS`]
/// bits: every mempolicy call uses one bit fewer than it is told (`get_nodes` starts with
/// `--maxnode`), which is why libnuma passes its mask size plus one.
pub(crate) const MAXNODE: usize = NodeMask::BITS + 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mask_is_empty_only_without_nodes() {
        // Kills is_empty made `true` (no other test asked a non-empty mask).
        assert!(NodeMask::EMPTY.is_empty());
        for node in [0, 63, 64, NodeMask::BITS as u32 - 1] {
            assert!(!NodeMask::single(node).unwrap().is_empty(), "{node}");
        }
    }
}
