//! NUMA memory policy and page placement (`mbind`, `set_mempolicy`, `get_mempolicy`,
//! `set_mempolicy_home_node`, `move_pages`, `migrate_pages`).
//!
//! Node sets are [`NodeMask`]s, passed with the `maxnode` that makes the kernel read and
//! write exactly [`NodeMask::BITS`] bits. Kernels built without `CONFIG_NUMA` answer every
//! call with `ENOSYS`.

use core::ptr;

use super::{c_void, check, check_unit};
use crate::arch::{self, nr};
use crate::numa::{mask::MAXNODE, GetPolicyFlags, MbindFlags, ModeFlags, NodeMask, PolicyMode};
use crate::Result;

/// The kernel's pointer to a node set, or null for none.
fn mask_ptr(mask: Option<&NodeMask>) -> usize {
    mask.map_or(0, |mask| mask.as_ptr() as usize)
}

/// The mode word: the mode with its flags or-ed in.
fn mode_word(mode: PolicyMode, flags: ModeFlags) -> usize {
    (mode.raw() | flags.bits()) as u32 as usize
}

/// Sets the memory policy of `[addr, addr + len)` (`mbind(2)`): pages faulted in from now
/// on are placed by it, and with `MbindFlags::MOVE` those already there are moved to follow
/// it. `addr` must be page aligned; `len` is rounded up to pages. A policy on part of a
/// mapping splits the kernel's VMA there. `nodes` must be `None` for `Default` and `Local`.
///
/// # Safety
/// The range must be the caller's: a policy change leaves contents as they are, but
/// splits VMAs, which changes what `mremap` can do with mappings others own.
#[inline]
pub unsafe fn mbind(
    addr: *mut c_void,
    len: usize,
    mode: PolicyMode,
    mode_flags: ModeFlags,
    nodes: Option<&NodeMask>,
    flags: MbindFlags,
) -> Result<()> {
    // SAFETY: the kernel reads NodeMask::BITS bits of `nodes`, which has them; the range is
    // the caller's.
    check_unit(unsafe {
        arch::syscall6(
            nr::MBIND,
            addr as usize,
            len,
            mode_word(mode, mode_flags),
            mask_ptr(nodes),
            MAXNODE,
            flags.bits() as usize,
        )
    })
}

/// Sets the calling thread's memory policy (`set_mempolicy(2)`), which places the pages it
/// faults in where no range policy applies. `nodes` must be `None` for `Default` and
/// `Local`.
#[inline]
pub fn set_mempolicy(
    mode: PolicyMode,
    mode_flags: ModeFlags,
    nodes: Option<&NodeMask>,
) -> Result<()> {
    // SAFETY: the kernel only reads NodeMask::BITS bits of `nodes`, which has them.
    check_unit(unsafe {
        arch::syscall3_readonly(
            nr::SET_MEMPOLICY,
            mode_word(mode, mode_flags),
            mask_ptr(nodes),
            MAXNODE,
        )
    })
}

/// Reads a memory policy (`get_mempolicy(2)`) into `mode` (the mode with its flags, or a
/// node number with `GetPolicyFlags::NODE`) and `nodes`: the calling thread's, or with
/// `GetPolicyFlags::ADDR` the one of the range that holds `addr` (`EFAULT` if nothing is
/// mapped there). `addr` must be null without `ADDR`. `EINVAL` if the kernel has more
/// possible nodes than [`NodeMask::BITS`].
///
/// # Safety
/// With `ADDR | NODE` the kernel faults in the page at `addr` as a read would (to find its
/// node): the caller answers for that read (device memory, a `userfaultfd` range).
#[inline]
pub unsafe fn get_mempolicy(
    mode: Option<&mut i32>,
    nodes: Option<&mut NodeMask>,
    addr: *mut c_void,
    flags: GetPolicyFlags,
) -> Result<()> {
    let mode = mode.map_or(ptr::null_mut(), |mode| mode as *mut i32);
    let nodes = nodes.map_or(ptr::null_mut(), |nodes| nodes.as_mut_ptr());
    // SAFETY: the kernel writes one int to `mode` and at most NodeMask::BITS bits to
    // `nodes` (it clears the words past nr_node_ids), both ours or null; the read of the
    // page at `addr` is the caller's.
    check_unit(unsafe {
        arch::syscall5(
            nr::GET_MEMPOLICY,
            mode as usize,
            nodes as usize,
            MAXNODE,
            addr as usize,
            flags.bits() as usize,
        )
    })
}

/// Sets the home node of the `Bind` and `PreferredMany` policies of the ranges in
/// `[addr, addr + len)` (`set_mempolicy_home_node(2)`, Linux 5.17): pages are allocated
/// there first when it is allowed. `EOPNOTSUPP` if a range in it has another policy,
/// `ENOENT` if none has a policy of its own, `EINVAL` for a node that is not online.
/// `flags` must be 0.
///
/// # Safety
/// As [`mbind`]: the range must be the caller's, since ranges split.
#[inline]
pub unsafe fn set_mempolicy_home_node(
    addr: *mut c_void,
    len: usize,
    home_node: u32,
    flags: u32,
) -> Result<()> {
    // SAFETY: no user memory is read or written; the range is the caller's.
    check_unit(unsafe {
        arch::syscall4(
            nr::SET_MEMPOLICY_HOME_NODE,
            addr as usize,
            len,
            home_node as usize,
            flags as usize,
        )
    })
}

/// Moves pages of process `pid` (0: this one) to nodes, or reports where they are
/// (`move_pages(2)`). `pages` holds `count` addresses; with `nodes` null, `status[i]`
/// receives the node of page `i` or a negative errno (`-ENOENT`: not present, which kernels
/// before 6.12 report as `-EFAULT` for anonymous memory; `-EFAULT`: not mapped, or the shared
/// zero page); otherwise page `i` is moved to `nodes[i]` and its
/// status is its node afterwards or why it was not moved. `flags`: `MOVE` (pages only `pid`
/// maps) or `MOVE_ALL` (`CAP_SYS_NICE`). Returns 0, or how many pages could not be moved.
///
/// # Safety
/// `pages` must be readable for `count` addresses, `nodes` (unless null) for `count` ints,
/// and `status` writable for `count` ints. Moving pages keeps their contents.
#[inline]
pub unsafe fn move_pages(
    pid: i32,
    count: usize,
    pages: *const *mut c_void,
    nodes: *const i32,
    status: *mut i32,
    flags: MbindFlags,
) -> Result<usize> {
    // SAFETY: forwarded to the caller.
    check(unsafe {
        arch::syscall6(
            nr::MOVE_PAGES,
            pid as usize,
            count,
            pages as usize,
            nodes as usize,
            status as usize,
            flags.bits() as usize,
        )
    })
}

/// Moves the pages of process `pid` (0: this one) that are on nodes `from` to nodes `to`
/// (`migrate_pages(2)`). Returns how many pages could not be moved. Contents stay the same.
/// Moving another user's process needs `CAP_SYS_NICE` (`EPERM`).
#[inline]
pub fn migrate_pages(pid: i32, from: &NodeMask, to: &NodeMask) -> Result<usize> {
    // SAFETY: the kernel reads NodeMask::BITS bits of each set; moving pages keeps their
    // contents.
    check(unsafe {
        arch::syscall4(
            nr::MIGRATE_PAGES,
            pid as usize,
            MAXNODE,
            from.as_ptr() as usize,
            to.as_ptr() as usize,
        )
    })
}

#[cfg(test)]
mod tests {
    use crate::arch::nr;
    use linux_raw_sys::general as uapi;

    #[test]
    fn numbers_are_the_kernels() {
        let ours = [
            nr::MBIND,
            nr::SET_MEMPOLICY,
            nr::GET_MEMPOLICY,
            nr::SET_MEMPOLICY_HOME_NODE,
            nr::MOVE_PAGES,
            nr::MIGRATE_PAGES,
        ];
        let theirs = [
            uapi::__NR_mbind,
            uapi::__NR_set_mempolicy,
            uapi::__NR_get_mempolicy,
            uapi::__NR_set_mempolicy_home_node,
            uapi::__NR_move_pages,
            uapi::__NR_migrate_pages,
        ];
        assert_eq!(ours, theirs.map(|n| n as usize));
    }
}
