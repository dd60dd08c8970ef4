//! NUMA placement against the kernel's own answers: `mbind` through `Mapping::set_policy`,
//! the thread's policy, `move_pages` (`Mapping::nodes`, `Mapping::move_to`),
//! `migrate_pages`, home nodes.
//!
//! On a machine with one node (this host, qemu-user's host) the tests check the documented
//! answers there: node 0 is accepted and holds every page, other nodes are `EINVAL` or
//! `ENODEV`, untouched pages are `-ENOENT` (`-EFAULT` before 6.12). With two nodes (the system lane's VMs) they
//! check that pages really land on, and move to, the nodes asked for. A kernel without
//! `CONFIG_NUMA` (or qemu-user, which does not emulate these calls) answers `ENOSYS`: a
//! skip with that reason.

#[macro_use]
mod common;

use std::sync::{RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use common::*;
use linux_raw_sys::mempolicy as uapi;
use mman::numa::{
    allowed_nodes, migrate_own_pages, set_thread_policy, thread_policy, GetPolicyFlags, MbindFlags,
    ModeFlags, NodeMask, Policy, PolicyMode,
};
use mman::{Advice, Errno, Mapping};

const ENOENT: i32 = -(libc::ENOENT);
const EFAULT: i32 = -(libc::EFAULT);

/// The status `move_pages` gives a page never faulted in: `-ENOENT` since its lookup
/// became a `folio_walk` (Linux 6.12; seen on 6.12 and 6.18); before, `follow_page` with
/// `FOLL_DUMP` answered `-EFAULT` for an anonymous page without a page table entry, as for
/// the zero page (seen on 6.1).
fn untouched() -> i32 {
    if kernel_at_least(6, 12) {
        ENOENT
    } else {
        EFAULT
    }
}

/// `migrate_pages` moves every page of the process: tests that check where pages are hold
/// this for reading, the tests that migrate hold it for writing.
static PLACEMENT: RwLock<()> = RwLock::new(());

fn placement() -> RwLockReadGuard<'static, ()> {
    PLACEMENT.read().unwrap_or_else(|p| p.into_inner())
}

/// The nodes sysfs lists in `/sys/devices/system/node/<file>` ("0", "0-1", "0,2-3").
fn sysfs_nodes(file: &str) -> Option<Vec<u32>> {
    let text = std::fs::read_to_string(format!("/sys/devices/system/node/{file}")).ok()?;
    node_list(&text)
}

/// The nodes of a kernel node list ("0", "0-1", "0,2-3").
fn node_list(text: &str) -> Option<Vec<u32>> {
    let mut nodes = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        let (low, high) = part.split_once('-').unwrap_or((part, part));
        nodes.extend(low.parse::<u32>().ok()?..=high.parse::<u32>().ok()?);
    }
    Some(nodes)
}

/// The nodes this thread may allocate on, or why NUMA calls cannot be tested: `ENOSYS`
/// from a kernel without `CONFIG_NUMA` (which then has no `/sys/devices/system/node`) or
/// from qemu-user.
fn numa() -> Result<NodeMask, String> {
    match allowed_nodes() {
        Ok(nodes) => Ok(nodes),
        Err(Errno::ENOSYS) if is_qemu_user() => Err(enosys("get_mempolicy", "2.6.16")),
        Err(Errno::ENOSYS) => {
            assert_eq!(
                sysfs_nodes("possible"),
                None,
                "get_mempolicy is ENOSYS although sysfs lists NUMA nodes"
            );
            Err(format!(
                "get_mempolicy: ENOSYS (kernel {} built without CONFIG_NUMA)",
                kernel_release()
            ))
        }
        Err(e) => panic!("get_mempolicy(MPOL_F_MEMS_ALLOWED): {e}"),
    }
}

/// Two nodes with memory that this thread may use, or why not.
fn two_nodes() -> Result<(u32, u32), String> {
    let allowed = numa()?;
    let with_memory = sysfs_nodes("has_memory").expect("/sys/devices/system/node/has_memory");
    let usable: Vec<u32> = with_memory
        .into_iter()
        .filter(|&n| allowed.contains(n))
        .collect();
    match usable[..] {
        [a, b, ..] => balancing_off().map(|()| (a, b)),
        _ => Err(format!(
            "one NUMA node with memory ({usable:?}; the system lane's VMs have two)"
        )),
    }
}

/// Switches automatic NUMA balancing off (`kernel.numa_balancing`, on by default where
/// there are two nodes), or says why it stays on. The balancer moves pages to the node of
/// the CPU touching them, under the tests that just placed them; and it makes whole ranges
/// `PROT_NONE` to see who touches them, which Linux 6.1's `move_pages` query reports as not
/// present (`-ENOENT`) until the next access: one full run saw all 8 pages of a migrated
/// mapping answer `-ENOENT` for two seconds.
fn balancing_off() -> Result<(), String> {
    const SWITCH: &str = "/proc/sys/kernel/numa_balancing";
    match std::fs::read_to_string(SWITCH) {
        Err(_) => Ok(()), // a kernel built without CONFIG_NUMA_BALANCING
        Ok(on) if on.trim() == "0" => Ok(()),
        Ok(_) => std::fs::write(SWITCH, "0").map_err(|e| {
            format!("automatic NUMA balancing is on and cannot be switched off ({SWITCH}: {e})")
        }),
    }
}

/// `pages` pages of private anonymous memory, with placement checks held off.
///
/// Never backed by transparent huge pages: a huge page placed for one touched page places
/// its untouched neighbours too. With 64 KiB pages (Debian's powerpc64le 6.1) 32 pages make
/// a 2 MiB huge page, well inside the ranges these tests touch every third page of.
fn pages(pages: usize) -> Mapping {
    let m = Mapping::anonymous(pages * page()).expect("anonymous mapping");
    match m.hint(.., Advice::NoHugePage) {
        // EINVAL: a kernel without THP, where there is nothing to keep off.
        Ok(()) | Err(Errno::EINVAL) => m,
        Err(e) => panic!("MADV_NOHUGEPAGE: {e}"),
    }
}

/// Writes a byte into every page (faulting each in where the policy says) and the page's
/// number into its first byte, so that moves can be checked not to change contents.
fn populate(m: &mut Mapping) {
    let p = page();
    for (i, page) in m.as_mut_slice().unwrap().chunks_mut(p).enumerate() {
        page[0] = i as u8;
        page[p - 1] = 0xa5;
    }
}

fn assert_contents_kept(m: &Mapping) {
    let p = page();
    for (i, page) in m.as_slice().unwrap().chunks(p).enumerate() {
        assert_eq!((page[0], page[p - 1]), (i as u8, 0xa5), "page {i}");
    }
}

/// The node (or negative errno) of each page of `m`.
fn nodes_of(m: &Mapping) -> Vec<i32> {
    let mut out = vec![i32::MIN; m.len().div_ceil(page())];
    let written = m.nodes(.., &mut out).expect("move_pages query");
    assert_eq!(written, out.len());
    out
}

/// The nodes of `m`'s pages once `done` holds for them, or after two seconds. A page the
/// kernel is migrating at the moment (compaction, NUMA balancing) has a migration entry,
/// which `move_pages` reports as not present (`-ENOENT`) until the move ends.
fn nodes_when(m: &Mapping, done: impl Fn(&[i32]) -> bool) -> Vec<i32> {
    answer_when(|| nodes_of(m), |nodes| done(nodes))
}

/// `query`'s answer once `done` holds for it, or after two seconds (see [`nodes_when`]).
fn answer_when<T>(query: impl Fn() -> T, done: impl Fn(&T) -> bool) -> T {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let answer = query();
        if done(&answer) || Instant::now() > deadline {
            return answer;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Asserts that `m`'s pages are (or, within two seconds of moves ending, come to be) on
/// `expected`.
#[track_caller]
fn assert_nodes(m: &Mapping, expected: &[i32], what: &str) {
    let nodes = nodes_when(m, |nodes| nodes == expected);
    assert_eq!(nodes, expected, "{what}");
}

/// A node that is not online: `EINVAL` to the policy calls.
fn offline_node() -> u32 {
    let online = sysfs_nodes("online").expect("/sys/devices/system/node/online");
    (0..).find(|n| !online.contains(n)).unwrap()
}

/// The value of a setup step, or a skip with its reason.
macro_rules! or_skip {
    ($step:expr) => {
        match $step {
            Ok(value) => value,
            Err(reason) => skip!("{reason}"),
        }
    };
}

/// `Bind` to one node.
fn bind(node: u32) -> Policy {
    Policy::Bind(NodeMask::single(node).unwrap())
}

/// Sets `policy` on all of `m`, without flags.
fn apply(m: &Mapping, policy: &Policy) {
    m.set_policy(.., policy, ModeFlags::empty(), MbindFlags::empty())
        .unwrap_or_else(|e| panic!("set_policy({policy:?}): {e}"));
}

/// `count` pages under `policy`, then populated.
fn placed(count: usize, policy: &Policy) -> Mapping {
    let mut m = pages(count);
    apply(&m, policy);
    populate(&mut m);
    m
}

/// The process's inaccessible mappings (`---p`), as `(start, end)`.
fn inaccessible_ranges() -> Vec<(usize, usize)> {
    maps()
        .into_iter()
        .filter(|e| e.perms == "---p")
        .map(|e| (e.start, e.end))
        .collect()
}

#[test]
fn numa_values_match_uapi() {
    let modes = [
        (PolicyMode::Default, uapi::MPOL_DEFAULT),
        (PolicyMode::Preferred, uapi::MPOL_PREFERRED),
        (PolicyMode::Bind, uapi::MPOL_BIND),
        (PolicyMode::Interleave, uapi::MPOL_INTERLEAVE),
        (PolicyMode::Local, uapi::MPOL_LOCAL),
        (PolicyMode::PreferredMany, uapi::MPOL_PREFERRED_MANY),
        (
            PolicyMode::WeightedInterleave,
            uapi::MPOL_WEIGHTED_INTERLEAVE,
        ),
    ];
    for (ours, theirs) in modes {
        assert_eq!(ours.raw(), theirs as i32, "{ours:?}");
        assert_eq!(PolicyMode::from_raw(theirs as i32), Some(ours));
    }
    assert_eq!(PolicyMode::from_raw(uapi::MPOL_MAX as i32), None);
    let flags = [
        (
            ModeFlags::STATIC_NODES.bits() as u32,
            uapi::MPOL_F_STATIC_NODES,
        ),
        (
            ModeFlags::RELATIVE_NODES.bits() as u32,
            uapi::MPOL_F_RELATIVE_NODES,
        ),
        (
            ModeFlags::NUMA_BALANCING.bits() as u32,
            uapi::MPOL_F_NUMA_BALANCING,
        ),
        (MbindFlags::STRICT.bits(), uapi::MPOL_MF_STRICT),
        (MbindFlags::MOVE.bits(), uapi::MPOL_MF_MOVE),
        (MbindFlags::MOVE_ALL.bits(), uapi::MPOL_MF_MOVE_ALL),
        (GetPolicyFlags::NODE.bits(), uapi::MPOL_F_NODE),
        (GetPolicyFlags::ADDR.bits(), uapi::MPOL_F_ADDR),
        (
            GetPolicyFlags::MEMS_ALLOWED.bits(),
            uapi::MPOL_F_MEMS_ALLOWED,
        ),
    ];
    for (ours, theirs) in flags {
        assert_eq!(ours, theirs);
    }
    let all_mode_flags = ModeFlags::STATIC_NODES | ModeFlags::RELATIVE_NODES;
    assert_eq!(
        (all_mode_flags | ModeFlags::NUMA_BALANCING).bits() as u32,
        uapi::MPOL_MODE_FLAGS
    );
}

#[test]
fn node_masks_hold_exactly_their_nodes() {
    let mut mask = NodeMask::from_nodes(&[0, 63, 64, 1023]).unwrap();
    assert_eq!(mask.count(), 4);
    assert_eq!(mask.iter().collect::<Vec<_>>(), [0, 63, 64, 1023]);
    assert!(mask.contains(63) && mask.contains(64) && !mask.contains(65));
    assert_eq!(mask.insert(1024), Err(Errno::EINVAL));
    assert_eq!(mask.count(), 4, "a refused node changes nothing");
    assert!(!mask.contains(u32::MAX));
    mask.remove(0);
    assert_eq!(mask.first(), Some(63));
    assert_eq!(NodeMask::from_nodes(&[2, 4096]), Err(Errno::EINVAL));
    assert_eq!(NodeMask::single(5).unwrap().iter().collect::<Vec<_>>(), [5]);
    assert!(NodeMask::EMPTY.is_empty() && NodeMask::default().is_empty());
    assert_eq!(format!("{:?}", NodeMask::single(3).unwrap()), "{3}");
    // The kernel's bitmap layout: bit n of word n / 64.
    assert_eq!(std::mem::size_of::<NodeMask>(), NodeMask::BITS / 8);
}

#[test]
fn allowed_nodes_are_the_cpusets_memory_nodes() {
    let allowed: Vec<u32> = or_skip!(numa()).iter().collect();
    // The kernel shows the same set in /proc/self/status (with CONFIG_CPUSETS; without
    // cpusets every node with memory is allowed).
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let listed = status
        .lines()
        .find_map(|line| line.strip_prefix("Mems_allowed_list:"))
        .map(|list| node_list(list).expect("Mems_allowed_list"));
    let expected = listed.unwrap_or_else(|| sysfs_nodes("has_memory").expect("has_memory"));
    assert_eq!(allowed, expected);
    assert!(!allowed.is_empty());
}

#[test]
fn binding_to_node_0_places_populated_pages_there_and_reads_back() {
    let _placement = placement();
    or_skip!(numa());
    // Node 0 has memory on the host and in the VMs alike.
    let m = placed(8, &bind(0));
    let none = ModeFlags::empty();
    assert_eq!(m.policy_of(0), Ok((bind(0), none)));
    assert_eq!(m.policy_of(m.len() - 1), Ok((bind(0), none)));
    assert_eq!(m.policy_of(m.len()), Err(Errno::EINVAL), "past the end");
    assert_eq!(m.policy_of(usize::MAX), Err(Errno::EINVAL), "overflowing");
    assert_nodes(&m, &[0; 8], "");
    // With a mode flag, which get_mempolicy gives back.
    m.set_policy(.., &bind(0), ModeFlags::STATIC_NODES, MbindFlags::STRICT)
        .unwrap();
    assert_eq!(m.policy_of(5), Ok((bind(0), ModeFlags::STATIC_NODES)));
    apply(&m, &Policy::Default);
    assert_eq!(m.policy_of(0), Ok((Policy::Default, none)));
    assert_contents_kept(&m);
}

#[test]
fn untouched_pages_and_the_zero_page_have_no_node() {
    let _placement = placement();
    or_skip!(numa());
    let mut m = pages(4);
    assert_nodes(&m, &[untouched(); 4], "");
    // Read (the shared zero page is mapped), written, untouched, written.
    let p = page();
    assert_eq!(read_byte(m.as_ptr()), 0);
    let bytes = m.as_mut_slice().unwrap();
    bytes[p] = 1;
    bytes[3 * p] = 1;
    let nodes = nodes_when(&m, |nodes| nodes[1] >= 0 && nodes[3] >= 0);
    assert_eq!(nodes[0], EFAULT, "the zero page: {nodes:?}");
    assert!(nodes[1] >= 0 && nodes[3] >= 0, "{nodes:?}");
    assert_eq!(nodes[2], untouched(), "{nodes:?}");
}

#[test]
fn nodes_works_through_many_chunks_and_stops_at_the_output() {
    let _placement = placement();
    or_skip!(numa());
    // More than two of the crate's 128-page chunks; every third page written.
    let count = 300;
    let mut m = pages(count);
    let p = page();
    for i in (0..count).step_by(3) {
        m.as_mut_slice().unwrap()[i * p] = 1;
    }
    let nodes = nodes_when(&m, |nodes| nodes.iter().step_by(3).all(|&node| node >= 0));
    for (i, &node) in nodes.iter().enumerate() {
        if i % 3 == 0 {
            assert!(node >= 0, "page {i}: {node}");
        } else {
            assert_eq!(node, untouched(), "page {i}");
        }
    }
    // A shorter output gets the first pages; a sub-range its own pages, the partial pages
    // at its ends included.
    let query = |range: std::ops::Range<usize>| {
        let mut out = [i32::MIN; 10];
        let written = m.nodes(range, &mut out);
        (written, out)
    };
    let (written, short) = answer_when(|| query(0..m.len()), |(_, out)| out[..] == nodes[..10]);
    assert_eq!((written, &short[..]), (Ok(10), &nodes[..10]));
    let sub_range = 3 * p - 1..5 * p + 1;
    let (written, out) = answer_when(
        || query(sub_range.clone()),
        |(_, out)| out[..4] == nodes[2..6],
    );
    assert_eq!((written, &out[..4]), (Ok(4), &nodes[2..6]));
    assert_eq!(out[4..], [i32::MIN; 6], "nothing written past the pages");
    let mut out = [i32::MIN; 8];
    assert_eq!(
        m.nodes(p..p, &mut out),
        Ok(0),
        "an empty range has no pages"
    );
    assert_eq!(m.nodes(..m.len() + 1, &mut out), Err(Errno::EINVAL));
}

#[test]
fn absent_nodes_are_refused_and_change_nothing() {
    let _placement = placement();
    or_skip!(numa());
    let offline = offline_node();
    let m = placed(4, &Policy::Default);
    let before = nodes_when(&m, |nodes| nodes.iter().all(|&node| node >= 0));
    let none = ModeFlags::empty();
    let refused = |policy: &Policy, flags: MbindFlags| {
        assert_eq!(
            m.set_policy(.., policy, none, flags),
            Err(Errno::EINVAL),
            "{policy:?}"
        );
    };
    refused(&bind(offline), MbindFlags::MOVE);
    assert_eq!(m.policy_of(0), Ok((Policy::Default, none)));
    assert_eq!(
        set_thread_policy(
            &Policy::Interleave(NodeMask::single(offline).unwrap()),
            none
        ),
        Err(Errno::EINVAL)
    );
    // A preferred node the mask cannot hold is refused before any call; an empty Bind is
    // the kernel's EINVAL.
    refused(
        &Policy::Preferred(NodeMask::BITS as u32),
        MbindFlags::empty(),
    );
    refused(&Policy::Bind(NodeMask::EMPTY), MbindFlags::empty());
    // Moving pages to a node without memory: ENODEV for the whole call.
    let mut status = [i32::MIN; 4];
    for node in [offline, u32::MAX] {
        assert_eq!(
            m.move_to(.., node, MbindFlags::MOVE, &mut status),
            Err(Errno::ENODEV)
        );
    }
    assert_nodes(&m, &before, "");
    // Unaligned starts are the kernel's EINVAL.
    assert_eq!(
        m.set_policy(1.., &Policy::Local, none, MbindFlags::empty()),
        Err(Errno::EINVAL)
    );
    assert_contents_kept(&m);
}

#[test]
fn a_policy_on_part_of_a_mapping_splits_it_and_keeps_it_from_moving() {
    let _placement = placement();
    or_skip!(numa());
    let p = page();
    let (mut m, _) = hemmed_in(3);
    populate(&mut m);
    let start = m.as_ptr().cast();
    let whole = maps_entry(start).unwrap();
    assert_eq!(whole.end - whole.start, 3 * p);
    let interleave = Policy::Interleave(NodeMask::single(0).unwrap());
    let none = ModeFlags::empty();
    m.set_policy(p..2 * p, &interleave, none, MbindFlags::empty())
        .unwrap();
    let first = maps_entry(start).unwrap();
    assert_eq!(first.end - first.start, p, "split after the first page");
    assert_eq!(m.policy_of(p), Ok((interleave, none)));
    assert_eq!(m.policy_of(0), Ok((Policy::Default, none)));
    // Several VMAs cannot move: refused before any region is reserved for the move (a
    // reservation left behind would be a new inaccessible mapping of the grown size). In a
    // child, of one thread: other tests' reservations appeared in the parent meanwhile.
    let end = in_child_checked(|| {
        let before = inaccessible_ranges();
        assert_eq!(m.remap(64 * p, true), Err(Errno::EFAULT));
        let left_behind: Vec<_> = inaccessible_ranges()
            .into_iter()
            .filter(|r| !before.contains(r) && r.1 - r.0 >= 64 * p)
            .collect();
        assert_eq!(left_behind, [], "nothing reserved and left behind");
    });
    assert_eq!(end, ChildEnd::Exited(0));
    assert_eq!(m.remap(64 * p, true), Err(Errno::EFAULT));
    assert_contents_kept(&m);
    // Bytes outside the mapping are refused.
    assert_eq!(
        m.set_policy(2 * p..4 * p, &interleave, none, MbindFlags::empty()),
        Err(Errno::EINVAL)
    );
}

#[test]
fn the_thread_policy_round_trips_and_places_the_threads_pages() {
    let _placement = placement();
    or_skip!(numa());
    // A thread of its own: the policy is per thread, and this one ends with the test.
    std::thread::spawn(|| {
        let zero = NodeMask::single(0).unwrap();
        let none = ModeFlags::empty();
        assert_eq!(thread_policy(), Ok((Policy::Default, none)));
        for (policy, flags) in [
            (bind(0), none),
            (bind(0), ModeFlags::RELATIVE_NODES),
            (Policy::Interleave(zero), ModeFlags::STATIC_NODES),
            (Policy::Preferred(0), none),
            (Policy::Local, none),
            (Policy::Default, none),
        ] {
            set_thread_policy(&policy, flags).unwrap();
            assert_eq!(thread_policy(), Ok((policy, flags)));
        }
        // Flags Local refuses.
        assert_eq!(
            set_thread_policy(&Policy::Local, ModeFlags::STATIC_NODES),
            Err(Errno::EINVAL)
        );
        set_thread_policy(&bind(0), none).unwrap();
        let mut m = pages(4);
        populate(&mut m);
        assert_nodes(&m, &[0; 4], "");
        set_thread_policy(&Policy::Default, none).unwrap();
    })
    .join()
    .unwrap();
}

#[test]
fn home_node_needs_bind_or_preferred_many() {
    let _placement = placement();
    or_skip!(numa());
    let mut m = pages(4);
    match m.set_home_node(.., 0) {
        Err(Errno::ENOSYS) => skip!("{}", enosys("set_mempolicy_home_node", "5.17")),
        // No range policy at all: nothing to give a home node.
        answer => assert_eq!(answer, Err(Errno::ENOENT)),
    }
    apply(&m, &Policy::Interleave(NodeMask::single(0).unwrap()));
    assert_eq!(m.set_home_node(.., 0), Err(Errno::EOPNOTSUPP));
    apply(&m, &bind(0));
    assert_eq!(m.set_home_node(.., 0), Ok(()));
    assert_eq!(m.set_home_node(.., offline_node()), Err(Errno::EINVAL));
    populate(&mut m);
    assert_nodes(&m, &[0; 4], "");
}

#[test]
fn moving_pages_to_their_own_node_keeps_them_and_their_contents() {
    let _placement = placement();
    or_skip!(numa());
    let m = placed(6, &bind(0));
    let mut status = [i32::MIN; 6];
    assert_eq!(m.move_to(.., 0, MbindFlags::MOVE, &mut status), Ok(6));
    assert_eq!(status, [0; 6]);
    // An untouched page says why it was not moved.
    let fresh = pages(1);
    let mut one = [i32::MIN];
    assert_eq!(fresh.move_to(.., 0, MbindFlags::MOVE, &mut one), Ok(1));
    assert_eq!(one, [untouched()]);
    // STRICT is not a move_pages flag.
    assert_eq!(
        m.move_to(.., 0, MbindFlags::STRICT, &mut status),
        Err(Errno::EINVAL)
    );
    assert_contents_kept(&m);
}

#[test]
fn migrating_the_process_from_a_node_to_itself_moves_nothing() {
    let _whole_process = PLACEMENT.write().unwrap_or_else(|p| p.into_inner());
    or_skip!(numa());
    let zero = NodeMask::single(0).unwrap();
    assert_eq!(migrate_own_pages(&zero, &zero), Ok(0));
    let offline = NodeMask::single(offline_node()).unwrap();
    // Root may target nodes outside its cpuset; none of them has memory: EINVAL.
    assert_eq!(migrate_own_pages(&zero, &offline), Err(Errno::EINVAL));
}

#[test]
fn the_mask_names_every_node_the_kernel_can_have() {
    let _placement = placement();
    or_skip!(numa());
    // The kernel refuses a set bit at or above its MAX_NUMNODES (a power of two) and
    // ignores offline nodes below it: {0, 2^k - 1} is accepted exactly while 2^k is at most
    // MAX_NUMNODES.
    let m = pages(1);
    let accepts = |node: u32| {
        let set = Policy::Bind(NodeMask::from_nodes(&[0, node]).unwrap());
        match m.set_policy(.., &set, ModeFlags::empty(), MbindFlags::empty()) {
            Ok(()) => true,
            Err(Errno::EINVAL) => false,
            Err(e) => panic!("bind to {{0, {node}}}: {e}"),
        }
    };
    let max_numnodes = (1..=NodeMask::BITS.trailing_zeros())
        .map(|shift| 1u32 << shift)
        .take_while(|&limit| accepts(limit - 1))
        .last()
        .unwrap_or(1);
    write_stderr(&format!(
        "numa: kernel {} has MAX_NUMNODES {max_numnodes}\n",
        kernel_release()
    ));
    // Every possible node is below the limit found, and so within the mask (which the
    // probe cannot see past: it reports at most NodeMask::BITS).
    let possible = sysfs_nodes("possible").expect("sysfs possible nodes");
    assert!(possible.iter().all(|&n| n < max_numnodes), "{possible:?}");
}

#[test]
fn the_kernel_reads_the_masks_last_nodes() {
    or_skip!(numa());
    // MPOL_DEFAULT takes no nodes: set_mempolicy(2) refuses a non-empty mask with EINVAL,
    // whichever nodes it names, before looking at them. So a mask of only node 1022 or
    // 1023 is refused exactly when the kernel reads the mask's last bits: the `maxnode`
    // passed must be NodeMask::BITS + 1 (the kernel reads one bit fewer than it is told).
    // Kills MAXNODE made `BITS - 1` (nodes 1022 and 1023 unread: an empty mask, accepted)
    // and `BITS * 1` (node 1023 unread).
    let default = |mask: &NodeMask| {
        mman::sys::set_mempolicy(PolicyMode::Default, ModeFlags::empty(), Some(mask))
    };
    assert_eq!(default(&NodeMask::EMPTY), Ok(()));
    for node in [0, 1022, NodeMask::BITS as u32 - 1] {
        let mask = NodeMask::single(node).unwrap();
        assert_eq!(default(&mask), Err(Errno::EINVAL), "node {node}");
    }
    assert_eq!(thread_policy(), Ok((Policy::Default, ModeFlags::empty())));
}

// With two nodes: the kernel's placement, checked page by page.

#[test]
fn binding_to_the_second_node_places_pages_there() {
    let _placement = placement();
    let (first, second) = or_skip!(two_nodes());
    for node in [second, first] {
        let m = placed(8, &bind(node));
        assert_nodes(&m, &[node as i32; 8], &format!("bound to {node}"));
    }
}

#[test]
fn preferred_policies_place_pages_on_their_node() {
    let _placement = placement();
    let (first, second) = or_skip!(two_nodes());
    for node in [second, first] {
        let m = placed(8, &Policy::Preferred(node));
        assert_nodes(&m, &[node as i32; 8], &format!("preferred {node}"));
        let many = Policy::PreferredMany(NodeMask::single(node).unwrap());
        let m = placed(8, &many);
        assert_eq!(m.policy_of(0), Ok((many, ModeFlags::empty())));
        assert_nodes(&m, &[node as i32; 8], &format!("preferred-many {node}"));
    }
}

#[test]
fn interleaving_alternates_page_by_page() {
    let _placement = placement();
    let (first, second) = or_skip!(two_nodes());
    let both = NodeMask::from_nodes(&[first, second]).unwrap();
    // The node of a page follows from its offset in the mapping: the two alternate.
    let ours = [first as i32, second as i32];
    let alternate = |nodes: &[i32]| {
        nodes
            .windows(2)
            .all(|pair| pair[0] != pair[1] && pair.iter().all(|n| ours.contains(n)))
    };
    let nodes = nodes_when(&placed(16, &Policy::Interleave(both)), alternate);
    assert!(alternate(&nodes), "{nodes:?}");
}

#[test]
fn weighted_interleaving_uses_both_nodes() {
    let _placement = placement();
    let (first, second) = or_skip!(two_nodes());
    let both = NodeMask::from_nodes(&[first, second]).unwrap();
    let mut m = pages(16);
    let weighted = Policy::WeightedInterleave(both);
    match m.set_policy(.., &weighted, ModeFlags::empty(), MbindFlags::empty()) {
        Err(Errno::EINVAL) if !kernel_at_least(6, 9) => skip!(
            "MPOL_WEIGHTED_INTERLEAVE: EINVAL (needs Linux 6.9; kernel is {})",
            kernel_release()
        ),
        answer => answer.unwrap(),
    }
    assert_eq!(m.policy_of(0), Ok((weighted, ModeFlags::empty())));
    populate(&mut m);
    let both = [first as i32, second as i32];
    let nodes = nodes_when(&m, |nodes| both.iter().all(|node| nodes.contains(node)));
    for node in both {
        assert!(nodes.contains(&node), "{node} missing: {nodes:?}");
    }
}

#[test]
fn moving_pages_to_the_other_node_keeps_their_contents() {
    let _placement = placement();
    let (first, second) = or_skip!(two_nodes());
    let m = placed(8, &bind(first));
    assert_nodes(&m, &[first as i32; 8], "");
    // move_pages on half of it ...
    let p = page();
    let mut status = [i32::MIN; 4];
    assert_eq!(
        m.move_to(..4 * p, second, MbindFlags::MOVE, &mut status),
        Ok(4)
    );
    assert_eq!(status, [second as i32; 4]);
    let mut expected = [first as i32; 8];
    expected[..4].fill(second as i32);
    assert_nodes(&m, &expected, "");
    assert_contents_kept(&m);
    // ... and mbind with MOVE on all of it.
    let strict_move = MbindFlags::MOVE | MbindFlags::STRICT;
    m.set_policy(.., &bind(second), ModeFlags::empty(), strict_move)
        .unwrap();
    assert_nodes(&m, &[second as i32; 8], "");
    assert_contents_kept(&m);
}

#[test]
fn home_node_decides_within_a_bind_set() {
    let _placement = placement();
    let (first, second) = or_skip!(two_nodes());
    let both = Policy::Bind(NodeMask::from_nodes(&[first, second]).unwrap());
    for home in [second, first] {
        let mut m = pages(8);
        apply(&m, &both);
        match m.set_home_node(.., home) {
            Err(Errno::ENOSYS) => skip!("{}", enosys("set_mempolicy_home_node", "5.17")),
            answer => answer.unwrap(),
        }
        populate(&mut m);
        assert_nodes(&m, &[home as i32; 8], &format!("home {home}"));
    }
}

#[test]
fn migrating_the_process_moves_its_pages_to_the_other_node() {
    let _whole_process = PLACEMENT.write().unwrap_or_else(|p| p.into_inner());
    let (first, second) = or_skip!(two_nodes());
    let m = placed(8, &bind(first));
    assert_nodes(&m, &[first as i32; 8], "");
    // A range policy would pull pages back to `first`: default again before migrating.
    apply(&m, &Policy::Default);
    let (from, to) = (
        NodeMask::single(first).unwrap(),
        NodeMask::single(second).unwrap(),
    );
    migrate_own_pages(&from, &to).expect("migrate_pages");
    assert_nodes(&m, &[second as i32; 8], "");
    assert_contents_kept(&m);
    migrate_own_pages(&to, &from).expect("migrate_pages back");
    assert_nodes(&m, &[first as i32; 8], "");
}

/// The second node with memory where there are two, else node 0: where the placement tests
/// below put pages (on one node they check the calls and the answers, not a move).
fn target_node() -> u32 {
    two_nodes().map_or(0, |(_, second)| second)
}

#[test]
fn map_options_place_new_mappings_by_their_policy() {
    let _placement = placement();
    or_skip!(numa());
    let target = target_node();
    let mut m = mman::MapOptions::new()
        .len(8 * page())
        .policy(bind(target))
        .map()
        .unwrap();
    assert_eq!(m.policy_of(0).unwrap().0, bind(target));
    populate(&mut m);
    assert_nodes(&m, &[target as i32; 8], "");
    // Pages MAP_POPULATE faulted in during the mapping are moved to follow the policy.
    let populated = mman::MapOptions::new()
        .len(8 * page())
        .populate()
        .policy(bind(target))
        .map()
        .unwrap();
    assert_nodes(&populated, &[target as i32; 8], "");
    let refused = mman::MapOptions::new()
        .len(page())
        .policy(bind(offline_node()))
        .map();
    assert_eq!(refused.err(), Some(Errno::EINVAL));
}

#[test]
fn reservations_place_committed_pages_by_their_policy() {
    let _placement = placement();
    or_skip!(numa());
    let target = target_node();
    let mut space = mman::Reservation::new(8 * page()).unwrap();
    let none = ModeFlags::empty();
    space
        .set_policy(.., &bind(target), none, MbindFlags::empty())
        .unwrap();
    let mut out = vec![i32::MIN; 8];
    assert_eq!(space.nodes(.., &mut out).unwrap(), 8);
    assert_eq!(out, vec![untouched(); 8], "nothing committed yet");
    space
        .commit(.., mman::Prot::READ | mman::Prot::WRITE)
        .unwrap();
    space.as_mut_slice(..).unwrap().fill(1);
    space.nodes(.., &mut out).unwrap();
    assert_eq!(out, vec![target as i32; 8]);
    let offline = bind(offline_node());
    let refused = space.set_policy(.., &offline, none, MbindFlags::empty());
    assert_eq!(refused, Err(Errno::EINVAL));
    // Pages given to a placed mapping are not the reservation's to place or ask about.
    let placed = mman::MapOptions::new()
        .len(page())
        .map_in(&mut space, 0)
        .err();
    assert_eq!(
        placed,
        Some(Errno::EBUSY),
        "committed pages cannot be placed into"
    );
    space.decommit(0..page()).unwrap();
    let _placed = mman::MapOptions::new()
        .len(page())
        .map_in(&mut space, 0)
        .unwrap();
    assert_eq!(space.nodes(0..1, &mut out), Err(Errno::EINVAL));
    // An empty range lies on no page, given or not (as for slices): nothing to report.
    assert_eq!(space.nodes(1..1, &mut out), Ok(0));
    let flags = MbindFlags::empty();
    assert_eq!(
        space.set_policy(..page(), &bind(target), none, flags),
        Err(Errno::EINVAL)
    );
}
