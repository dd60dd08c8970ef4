//! The mlock family against `VmLck` (`/proc/self/status`), `smaps` and `mincore`.
//!
//! `VmLck` is per process and the tests of one binary share the process, so every test here
//! holds `serial()` while it locks or measures; `mlockall`, which would lock every test's
//! memory, runs in forked children only.

#[macro_use]
mod common;

use common::*;
use mman::sys;
use mman::{Errno, MlockAllFlags, MlockFlags};

fn kb(bytes: usize) -> usize {
    bytes / 1024
}

#[test]
fn mlock_grows_vmlck_by_the_length_and_munlock_restores_it() {
    let _serial = serial();
    let map = Map::anon(4 * page());
    let before = vm_lck_kb();
    assert_eq!(unsafe { sys::mlock(map.ptr, map.len) }, Ok(()));
    assert_eq!(vm_lck_kb(), before + kb(map.len));
    if smaps_is_real() {
        assert!(has_vm_flag(map.ptr, "lo"), "{:?}", vm_flags(map.ptr));
    }
    assert_eq!(unsafe { sys::munlock(map.ptr, map.len) }, Ok(()));
    assert_eq!(vm_lck_kb(), before);
    if smaps_is_real() {
        assert!(!has_vm_flag(map.ptr, "lo"));
    }
}

#[test]
fn mlock_faults_every_page_in() {
    let _serial = serial();
    let map = Map::anon(4 * page());
    assert_eq!(resident(map.ptr, map.len), vec![false; 4]);
    assert_eq!(unsafe { sys::mlock(map.ptr, map.len) }, Ok(()));
    assert_eq!(resident(map.ptr, map.len), vec![true; 4]);
    assert_eq!(unsafe { sys::munlock(map.ptr, map.len) }, Ok(()));
}

#[test]
fn mlock_of_part_of_a_mapping_locks_only_those_pages() {
    let _serial = serial();
    let map = Map::anon(4 * page());
    let before = vm_lck_kb();
    assert_eq!(
        unsafe { sys::mlock(map.page_ptr(1).cast(), 2 * page()) },
        Ok(())
    );
    assert_eq!(vm_lck_kb(), before + kb(2 * page()));
    assert_eq!(resident(map.ptr, map.len), vec![false, true, true, false]);
    drop(map);
    // Unmapping locked memory unlocks it.
    assert_eq!(vm_lck_kb(), before);
}

#[test]
fn mlock2_onfault_faults_nothing_in_and_locks_pages_as_they_are_touched() {
    let _serial = serial();
    let map = Map::anon(4 * page());
    let before = vm_lck_kb();
    match unsafe { sys::mlock2(map.ptr, map.len, MlockFlags::ONFAULT) } {
        Ok(()) => {}
        Err(Errno::ENOSYS) => skip!("{}", enosys("mlock2", "4.4")),
        Err(e) => panic!("mlock2(ONFAULT): {e}"),
    }
    // The kernel accounts the whole locked range in VmLck at once ...
    assert_eq!(vm_lck_kb(), before + kb(map.len));
    // smaps names VM_LOCKONFAULT `lf`; older kernels (6.1 here) print it as `??`. The
    // residency checks below are what prove the on-fault behaviour.
    let flags = vm_flags(map.ptr);
    assert!(
        flags.iter().any(|f| f == "lf" || f == "??"),
        "lock-on-fault flag: {flags:?}"
    );
    // ... but, unlike mlock, faults nothing in: pages become resident (and locked) as touched.
    assert_eq!(resident(map.ptr, map.len), vec![false; 4]);
    assert_eq!(smaps_field(map.ptr, "Locked").as_deref(), Some("0 kB"));
    write_byte(map.page_ptr(1), 1);
    write_byte(map.page_ptr(3), 1);
    assert_eq!(resident(map.ptr, map.len), vec![false, true, false, true]);
    let locked = format!("{} kB", kb(2 * page()));
    assert_eq!(smaps_field(map.ptr, "Locked"), Some(locked));
    assert_eq!(unsafe { sys::munlock(map.ptr, map.len) }, Ok(()));
    assert_eq!(vm_lck_kb(), before);
}

#[test]
fn mlock2_without_flags_is_mlock() {
    let _serial = serial();
    let map = Map::anon(2 * page());
    let before = vm_lck_kb();
    match unsafe { sys::mlock2(map.ptr, map.len, MlockFlags::empty()) } {
        Ok(()) => {}
        Err(Errno::ENOSYS) => skip!("{}", enosys("mlock2", "4.4")),
        Err(e) => panic!("mlock2: {e}"),
    }
    assert_eq!(vm_lck_kb(), before + kb(map.len));
    assert_eq!(resident(map.ptr, map.len), vec![true; 2]);
    assert_eq!(unsafe { sys::munlock(map.ptr, map.len) }, Ok(()));
}

#[test]
fn mlock2_with_an_unknown_flag_is_einval() {
    let _serial = serial();
    let map = Map::anon(page());
    let r = unsafe { sys::mlock2(map.ptr, map.len, MlockFlags::from_bits_retain(0x2)) };
    match r {
        Err(Errno::ENOSYS) => skip!("{}", enosys("mlock2", "4.4")),
        r => assert_eq!(err(r), Errno::EINVAL),
    }
}

#[test]
fn mlock_and_munlock_of_an_unmapped_range_are_enomem() {
    let _serial = serial();
    let hole = free_address(page());
    let locked = unsafe { sys::mlock(hole, page()) };
    let unlocked = unsafe { sys::munlock(hole, page()) };
    if (locked.is_ok() || unlocked.is_ok()) && qemu_user_reserves_the_address_space() {
        skip!("qemu-user's reservation backs a 32-bit program's holes: munlock finds memory");
    }
    assert_eq!(err(locked), Errno::ENOMEM);
    assert_eq!(err(unlocked), Errno::ENOMEM);
}

/// Exit codes of the mlockall child, one per failed check.
const OK: i32 = 0;

#[test]
fn mlockall_current_locks_everything_and_munlockall_unlocks_it() {
    let _serial = serial();
    let map = Map::anon(64 * page());
    let len_kb = kb(map.len);
    // In a child: mlockall would otherwise lock every other test's memory too.
    let end = in_child(|| {
        // Memory locks are not inherited across fork.
        if vm_lck_kb() != 0 {
            return 1;
        }
        if sys::mlockall(MlockAllFlags::CURRENT) != Ok(()) {
            return 2;
        }
        if vm_lck_kb() < len_kb || resident(map.ptr, map.len) != vec![true; 64] {
            return 3;
        }
        if sys::munlockall() != Ok(()) {
            return 4;
        }
        if vm_lck_kb() != 0 {
            return 5;
        }
        OK
    });
    assert_eq!(end, ChildEnd::Exited(OK));
}

#[test]
fn mlockall_future_locks_mappings_made_afterwards() {
    let _serial = serial();
    let end = in_child(|| {
        if sys::mlockall(MlockAllFlags::FUTURE) != Ok(()) {
            return 1;
        }
        // A new mapping is locked (and faulted in) as it is made. (Exact VmLck values are
        // not checked here: the heap the checks themselves allocate is locked too.)
        let map = Map::anon(8 * page());
        if smaps_is_real() && !has_vm_flag(map.ptr, "lo") {
            return 2;
        }
        if vm_lck_kb() < kb(map.len) {
            return 3;
        }
        if resident(map.ptr, map.len) != vec![true; 8] {
            return 4;
        }
        if sys::munlockall() != Ok(()) || vm_lck_kb() != 0 {
            return 5;
        }
        OK
    });
    assert_eq!(end, ChildEnd::Exited(OK));
}

#[test]
fn mlockall_without_current_or_future_is_einval() {
    let _serial = serial();
    // Neither call locks anything when it fails, so no child is needed.
    assert_eq!(err(sys::mlockall(MlockAllFlags::empty())), Errno::EINVAL);
    assert_eq!(err(sys::mlockall(MlockAllFlags::ONFAULT)), Errno::EINVAL);
}
