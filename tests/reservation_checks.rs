//! `Reservation`'s checks and book-keeping where mutation testing (cargo-mutants over
//! `src/reservation`) found that no other test would notice a change: each test says which
//! mutant it kills, and asserts what the kernel shows (`/proc/self/maps`, bytes read back,
//! the errno).

#[macro_use]
mod common;

use common::reservation_addr as addr;
use common::reservation_page_perms as page_perms;
use common::{err, has_vm_flag, maps_entry, page, perms};
use mman::{Errno, MapOptions, Prot, Reservation};

#[test]
fn a_reservation_is_never_empty() {
    // Kills `is_empty -> true` and `==` made `!=`.
    for len in [1, page(), 3 * page() + 1] {
        let space = Reservation::new(len).unwrap();
        assert!(!space.is_empty(), "{len} bytes reserved");
        assert_eq!(space.len(), len.next_multiple_of(page()));
    }
}

#[test]
fn ranges_unaligned_at_both_ends_by_the_same_amount_are_einval() {
    // Start and end off a page boundary by the same amount: whole_pages' check
    // `(start | end) & mask` made `(start ^ end) & mask` would pass them (the low bits
    // cancel) and commit the page they start on.
    let p = page();
    let mut space = Reservation::new(4 * p).unwrap();
    for off in [1, p / 2, p - 1] {
        let range = off..p + off;
        let rw = Prot::READ | Prot::WRITE;
        assert_eq!(err(space.commit(range.clone(), rw)), Errno::EINVAL, "{off}");
        assert_eq!(err(space.decommit(range.clone())), Errno::EINVAL, "{off}");
        assert_eq!(err(space.reset(range)), Errno::EINVAL, "{off}");
    }
    assert_eq!(space.committed(), 0);
    assert_eq!(page_perms(&space), ["---p"; 4]);
    assert_eq!(err(space.as_slice(0..1)), Errno::EACCES);
}

/// Why `move_pages` answers `ENOSYS` here: qemu-user does not emulate it, and a kernel
/// without `CONFIG_NUMA` (which then has no `/sys/devices/system/node`) lacks it.
fn why_no_move_pages() -> String {
    if common::is_qemu_user() {
        return common::enosys("move_pages", "2.6.18");
    }
    assert!(
        !std::path::Path::new("/sys/devices/system/node").exists(),
        "move_pages is ENOSYS although sysfs lists NUMA nodes"
    );
    format!(
        "move_pages: ENOSYS (kernel {} built without CONFIG_NUMA)",
        common::kernel_release()
    )
}

#[test]
fn nodes_reports_the_pages_of_its_own_range() {
    // Kills `nodes`' `base + start` made `base - start`: every other query starts at
    // offset 0. Here the range starts a page in, and the page a page below the reservation
    // is known (reserved and never touched), so the mutant's answer differs.
    let p = page();
    let (base, _) = Reservation::new(4 * p).unwrap().into_raw();
    // SAFETY: the two halves of a reservation just given up, which nothing else uses; each
    // is unmapped by its own value.
    let (below, mut space) = unsafe {
        (
            Reservation::from_raw(base, 2 * p).unwrap(),
            Reservation::from_raw(base.add(2 * p), 2 * p).unwrap(),
        )
    };
    space.commit(p..2 * p, Prot::READ | Prot::WRITE).unwrap();
    space.as_mut_slice(p..2 * p).unwrap().fill(7);
    let mut node = [i32::MIN];
    match space.nodes(p..2 * p, &mut node) {
        Err(Errno::ENOSYS) => skip!("{}", why_no_move_pages()),
        answer => assert_eq!(answer, Ok(1)),
    }
    assert!(node[0] >= 0, "a touched page is on a node, not {}", node[0]);
    let mut untouched = [i32::MIN];
    assert_eq!(below.nodes(p..2 * p, &mut untouched), Ok(1));
    assert!(
        untouched[0] < 0,
        "a reserved page is on no node: {}",
        untouched[0]
    );
    assert_eq!(space.as_slice(p..2 * p).unwrap(), vec![7; p]);
}

#[test]
fn a_refused_placement_reserves_its_pages_again_as_they_were() {
    // Kills restore's flags `... | NORESERVE | FIXED_NOREPLACE` made `... | NORESERVE &
    // FIXED_NOREPLACE` (`&` binds first: neither flag is passed). The hole is free, so the
    // hint lands there anyway; what differs is MAP_NORESERVE, which the pages reserved again
    // lacked: a VMA of its own among the reservation's, without VmFlags `nr`.
    if !common::smaps_is_real() {
        skip!("qemu-user synthesizes smaps: VmFlags has only rd/wr/ex/sh/mr/mw/ms");
    }
    // In a forked child: another test thread could otherwise map into the pages a refused
    // placement frees for a moment.
    let end = common::in_child_checked(|| {
        let p = page();
        let space = &mut Reservation::new(4 * p).unwrap();
        // '$' is refused in names (and so is every name where the kernel cannot name memory):
        // refused after the pages were placed, so they are reserved again.
        let named = MapOptions::new().len(p).name(c"bad$name").map_in(space, p);
        assert_eq!(err(named), Errno::EINVAL);
        assert_eq!(perms(addr(space, p)), "---p", "reserved again");
        assert!(has_vm_flag(addr(space, p), "nr"), "MAP_NORESERVE again");
        // One VMA again, as before the placement (or part of a larger one, merged with a
        // neighbour of the same flags).
        let entry = maps_entry(addr(space, 0)).unwrap();
        let base = space.as_ptr() as usize;
        assert!(
            entry.start <= base && entry.end >= base + 4 * p,
            "{entry:?}"
        );
    });
    assert_eq!(end, common::ChildEnd::Exited(0));
}
