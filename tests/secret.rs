//! `SecretMemory` against the real kernel: which protection it got (`memfd_secret` where the
//! kernel offers it, shown as `secretmem` in `/proc/self/maps`; hardened anonymous memory
//! otherwise, as under qemu-user), zeroed contents, guard pages that fault (in forked
//! children), locked memory in `VmLck`, what a child inherits, and the error paths.
//!
//! Every test holds `common::serial()`: secret memory is locked, so creating one changes
//! the process-wide `VmLck` that `vmlck_counts_the_secret_and_its_guards` measures.

#[macro_use]
mod common;

use std::ffi::c_void;

use common::*;
use mman::{sys, Errno, Guard, Hardening, Protection, SecretMemory};

/// Whether this kernel (or emulator) offers `memfd_secret`, by its version and
/// configuration (`memfd_secret_missing`), checked against the call's answer: the
/// protection to expect.
fn memfd_secret_available() -> bool {
    match (sys::memfd_secret(true), memfd_secret_missing()) {
        (Ok(_fd), None) => true,
        (Err(Errno::ENOSYS), Some(_)) => false,
        (result, missing) => {
            panic!("memfd_secret: {result:?}, yet memfd_secret_missing() = {missing:?}")
        }
    }
}

fn body(s: &SecretMemory) -> usize {
    s.as_slice().as_ptr() as usize
}

/// Start of the trailing guard page: the body rounded up to whole pages.
fn trailing_guard(s: &SecretMemory) -> usize {
    body(s) + s.len().next_multiple_of(page())
}

#[test]
fn new_gives_zeroed_secret_memory_with_the_protection_it_reports() {
    let _serial = serial();
    let mut s = SecretMemory::new(100).unwrap();
    assert_eq!(s.len(), 100);
    assert!(!s.is_empty());
    assert_eq!(s.as_slice().len(), 100);
    assert_eq!(s.as_mut_slice().len(), 100);
    assert!(s.as_slice().iter().all(|&b| b == 0), "zeroed");
    assert_eq!(body(&s) % page(), 0, "the body starts on a page");
    s.as_mut_slice().copy_from_slice(&[0x5a; 100]);
    assert!(
        s.as_slice().iter().all(|&b| b == 0x5a),
        "written and read back"
    );

    let e = maps_entry(body(&s) as *const c_void).expect("body mapped");
    if memfd_secret_available() {
        assert_eq!(s.protection(), Protection::MemfdSecret);
        assert!(e.path.contains("secretmem"), "maps shows secretmem: {e:?}");
        assert_eq!(e.perms, "rw-s");
    } else {
        let Protection::Hardened(h) = s.protection() else {
            panic!("no memfd_secret, yet {:?}", s.protection());
        };
        assert!(h.locked, "root can lock: {h:?}");
        assert_eq!(e.path, "", "anonymous memory: {e:?}");
        assert_eq!(e.perms, "rw-p");
    }
}

#[test]
fn sizes_round_up_to_pages_between_the_guards() {
    let _serial = serial();
    let p = page();
    for len in [1, p - 1, p, p + 1, 3 * p + 17] {
        let mut s = SecretMemory::new(len).unwrap();
        assert_eq!(s.len(), len);
        for (i, b) in s.as_mut_slice().iter_mut().enumerate() {
            *b = i as u8;
        }
        assert!(
            s.as_slice().iter().enumerate().all(|(i, &b)| b == i as u8),
            "len {len}"
        );
        // The whole rounded body is accessible: its last byte is before the trailing guard.
        let last = trailing_guard(&s) - 1;
        assert_eq!(
            read_byte(last as *const u8),
            if len % p == 0 { (len - 1) as u8 } else { 0 }
        );
    }
}

#[test]
fn guard_pages_on_both_sides_fault() {
    let _serial = serial();
    if is_qemu_user() {
        skip!("{QEMU_MADVISE}: the guard advice reports success and installs nothing");
    }
    let p = page();
    let mut s = SecretMemory::new(p + 1).unwrap();
    s.as_mut_slice().fill(0x77);
    let (before, after) = (body(&s) - p, trailing_guard(&s));
    assert_eq!(after, body(&s) + 2 * p);
    // Guard advice refuses locked memory. Whether secretmem VMAs are VM_LOCKED changed
    // within stable series (see below) and is gone on 7.x, where the guards are advice.
    let locked = match s.protection() {
        Protection::MemfdSecret => body_marked_locked(&s),
        Protection::Hardened(h) => h.locked,
    };
    let expected = if locked || !kernel_at_least(6, 13) {
        Guard::ProtNone
    } else {
        Guard::Madvise
    };
    assert_eq!(s.guard(), expected);
    if s.guard() == Guard::ProtNone {
        let shared = s.protection() == Protection::MemfdSecret;
        let none = if shared { "---s" } else { "---p" };
        assert_eq!(perms(before as *const c_void), none, "leading guard");
        assert_eq!(perms(after as *const c_void), none, "trailing guard");
    }
    for (what, addr) in [
        ("leading", before),
        ("trailing", after),
        ("trailing end", after + p - 1),
    ] {
        let end = in_child(|| read_byte(addr as *const u8) as i32);
        assert_eq!(
            end,
            ChildEnd::Signaled(libc::SIGSEGV),
            "{what} guard at {addr:#x}"
        );
    }
}

#[test]
fn a_forked_child_does_not_see_the_secret() {
    let _serial = serial();
    if is_qemu_user() {
        skip!("{QEMU_MADVISE}: MADV_WIPEONFORK / MADV_DONTFORK may be emulated");
    }
    let mut s = SecretMemory::new(64).unwrap();
    s.as_mut_slice().fill(0xa7);
    let at = body(&s);
    let end = in_child(|| read_byte(at as *const u8) as i32);
    match s.protection() {
        // The whole mapping is MADV_DONTFORK: nothing is mapped there in the child.
        Protection::MemfdSecret => assert_eq!(end, ChildEnd::Signaled(libc::SIGSEGV)),
        Protection::Hardened(Hardening {
            wiped_on_fork: true,
            ..
        }) => assert_eq!(
            end,
            ChildEnd::Exited(0),
            "MADV_WIPEONFORK: the child reads 0"
        ),
        Protection::Hardened(h) => panic!("a 4.14+ kernel wipes on fork: {h:?}"),
    }
    assert_eq!(s.as_slice()[0], 0xa7, "the parent keeps it");
}

#[test]
fn vmlck_counts_the_secret_and_its_guards_until_dropped() {
    let _serial = serial();
    let p = page();
    let base = vm_lck_kb();
    let s = SecretMemory::new(3 * p).unwrap();
    let locked = match s.protection() {
        Protection::MemfdSecret => true,
        Protection::Hardened(h) => h.locked,
    };
    assert!(
        locked,
        "running as root, the fallback locks too: {:?}",
        s.protection()
    );
    // Whether secretmem VMAs are marked VM_LOCKED (and counted in VmLck) changed within
    // stable series (Debian's 6.1.176 and 6.12.95 mark them; 6.1.192 and 6.12.117 only make
    // them unevictable), so VmLck must agree with what the VMA says.
    let counted = match s.protection() {
        Protection::MemfdSecret if !body_marked_locked(&s) => 0,
        _ => 5 * p / 1024,
    };
    assert_eq!(
        vm_lck_kb(),
        base + counted,
        "3 body pages and 2 guard pages"
    );
    drop(s);
    assert_eq!(vm_lck_kb(), base, "released on drop");
}

#[test]
fn secret_memory_is_excluded_from_core_dumps() {
    let _serial = serial();
    if !smaps_is_real() {
        skip!("qemu-user synthesizes smaps: VmFlags lacks dd and lo");
    }
    let s = SecretMemory::new(10).unwrap();
    let flags = vm_flags(body(&s) as *const c_void);
    assert!(flags.iter().any(|f| f == "dd"), "VM_DONTDUMP: {flags:?}");
    // As above: whether secretmem VMAs are VM_LOCKED differs between stable releases; the
    // fallback locks its memory itself.
    let locked = flags.iter().any(|f| f == "lo");
    let must_be_locked = s.protection() != Protection::MemfdSecret;
    assert!(locked || !must_be_locked, "VM_LOCKED: {flags:?}");
    if let Protection::Hardened(h) = s.protection() {
        assert!(h.excluded_from_dumps && h.wiped_on_fork, "{h:?}");
        assert!(flags.iter().any(|f| f == "wf"), "VM_WIPEONFORK: {flags:?}");
    }
}

#[test]
fn drop_unmaps_the_secret_and_its_guards() {
    let _serial = serial();
    let end = in_child_checked(|| {
        let p = page();
        let s = SecretMemory::new(2 * p).unwrap();
        let (start, end) = (body(&s) - p, body(&s) + 3 * p);
        for a in (start..end).step_by(p) {
            assert!(is_mapped(a as *const c_void), "{a:#x} mapped while alive");
        }
        drop(s);
        for a in (start..end).step_by(p) {
            assert!(!is_mapped(a as *const c_void), "{a:#x} unmapped after drop");
        }
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

#[test]
fn zero_and_huge_lengths_are_refused() {
    let _serial = serial();
    assert_eq!(SecretMemory::new(0).err(), Some(Errno::EINVAL));
    for len in [usize::MAX, usize::MAX - page() + 1, usize::MAX - 2 * page()] {
        assert_eq!(
            SecretMemory::new(len).err(),
            Some(Errno::ENOMEM),
            "len {len:#x}"
        );
    }
}

/// Whether the kernel marked the secret's body `VM_LOCKED` (`lo` in its smaps `VmFlags`).
fn body_marked_locked(s: &SecretMemory) -> bool {
    smaps_is_real() && vm_flags(body(s) as *const c_void).iter().any(|f| f == "lo")
}
