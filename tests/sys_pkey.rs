//! Memory protection keys: pkey_alloc, pkey_mprotect, pkey_free, checked through
//! `/proc/self/smaps` (`ProtectionKey:`) and accesses in forked children.
//!
//! Access rights live in a per-thread register (x86 PKRU): `pkey_alloc` sets them for the
//! calling thread, and a child forked from that thread inherits them.
//!
//! Keys themselves belong to the whole process, and the kernel hands out the lowest free
//! one, so a test that frees a key and then expects it to be unallocated would race with
//! another test thread allocating it again. Every test therefore holds `serial()` while it runs.

#[macro_use]
mod common;

use common::*;
use mman::sys::{self, PKEY_DISABLE_ACCESS, PKEY_DISABLE_WRITE};
use mman::{Errno, Prot};

const RW: Prot = Prot::READ.union(Prot::WRITE);

/// A key, freed on drop.
struct Key(i32);

impl Drop for Key {
    fn drop(&mut self) {
        // SAFETY: the test that owned the key is done with it; pages it tagged keep the tag
        // (harmless: their access rights stay those the test set).
        let freed = unsafe { sys::pkey_free(self.0) };
        if !std::thread::panicking() {
            assert_eq!(freed, Ok(()), "pkey_free({})", self.0);
        }
    }
}

/// Allocates a key, or says why the system has none (by `/proc/cpuinfo`, not by the error).
fn alloc(rights: u32) -> Result<Key, String> {
    pkey_alloc_or_skip(rights).map(Key)
}

/// A fresh read-write page tagged with a new key of `rights`, or why the system has none.
fn tagged_page(rights: u32) -> Result<(Key, Map), String> {
    let key = alloc(rights)?;
    let map = Map::anon(page());
    assert_eq!(
        unsafe { sys::pkey_mprotect(map.ptr, page(), RW, key.0) },
        Ok(())
    );
    Ok((key, map))
}

fn protection_key(addr: *const std::ffi::c_void) -> Option<i32> {
    smaps_field(addr, "ProtectionKey").map(|v| v.parse().expect("numeric ProtectionKey"))
}

#[test]
fn pkey_mprotect_tags_the_range_and_disable_write_makes_writes_fault() {
    let _keys = serial();
    let key = match alloc(PKEY_DISABLE_WRITE) {
        Ok(key) => key,
        Err(reason) => skip!("{reason}"),
    };
    assert!(key.0 > 0, "key 0 is the default key and never handed out");
    let map = Map::anon(page());
    write_byte(map.page_ptr(0), 4);
    assert_eq!(
        unsafe { sys::pkey_mprotect(map.ptr, page(), RW, key.0) },
        Ok(())
    );
    assert_eq!(protection_key(map.ptr), Some(key.0));
    assert_eq!(
        perms(map.ptr),
        "rw-p",
        "the page protection itself still allows writes"
    );
    assert_eq!(read_byte(map.page_ptr(0)), 4, "reads are allowed");
    let p = map.page_ptr(0);
    let end = in_child(|| {
        write_byte(p, 5);
        0
    });
    assert_eq!(end, ChildEnd::Signaled(libc::SIGSEGV));
    assert_eq!(read_byte(p), 4);
}

#[test]
fn pkey_disable_access_makes_reads_fault() {
    let _keys = serial();
    let (key, map) = match tagged_page(PKEY_DISABLE_ACCESS) {
        Ok(tagged) => tagged,
        Err(reason) => skip!("{reason}"),
    };
    assert_eq!(protection_key(map.ptr), Some(key.0));
    let p = map.page_ptr(0);
    let end = in_child(|| read_byte(p) as i32);
    assert_eq!(end, ChildEnd::Signaled(libc::SIGSEGV));
}

#[test]
fn pkey_without_restrictions_leaves_access_alone() {
    let _keys = serial();
    let (_key, map) = match tagged_page(0) {
        Ok(tagged) => tagged,
        Err(reason) => skip!("{reason}"),
    };
    let p = map.page_ptr(0);
    let end = in_child(|| {
        write_byte(p, 6);
        read_byte(p) as i32
    });
    assert_eq!(end, ChildEnd::Exited(6));
}

#[test]
fn pkey_mprotect_with_key_minus_one_is_plain_mprotect() {
    let _keys = serial();
    let (key, map) = match tagged_page(PKEY_DISABLE_WRITE) {
        Ok(tagged) => tagged,
        Err(reason) => skip!("{reason}"),
    };
    // -1 changes the protection and keeps the key.
    assert_eq!(
        unsafe { sys::pkey_mprotect(map.ptr, page(), Prot::READ, -1) },
        Ok(())
    );
    assert_eq!(perms(map.ptr), "r--p");
    assert_eq!(protection_key(map.ptr), Some(key.0));
    // Key 0, the default, untags it.
    assert_eq!(
        unsafe { sys::pkey_mprotect(map.ptr, page(), RW, 0) },
        Ok(())
    );
    assert_eq!(protection_key(map.ptr), Some(0));
}

#[test]
fn pkey_free_releases_the_key_once() {
    let _keys = serial();
    let key = match alloc(0) {
        Ok(key) => key,
        Err(reason) => skip!("{reason}"),
    };
    let raw = key.0;
    std::mem::forget(key);
    // SAFETY: nothing is tagged with the key; the second call frees nothing.
    assert_eq!(unsafe { sys::pkey_free(raw) }, Ok(()));
    // SAFETY: as above.
    assert_eq!(
        err(unsafe { sys::pkey_free(raw) }),
        Errno::EINVAL,
        "double free"
    );
}

#[test]
fn pkey_free_of_invalid_keys_is_einval() {
    let _keys = serial();
    if let Err(reason) = alloc(0) {
        skip!("{reason}");
    }
    for key in [-1, 0x7fff, i32::MAX] {
        // SAFETY: none of these keys can be allocated, so nothing uses them.
        assert_eq!(
            err(unsafe { sys::pkey_free(key) }),
            Errno::EINVAL,
            "key {key}"
        );
    }
}

#[test]
fn pkey_mprotect_with_an_unallocated_key_is_einval() {
    let _keys = serial();
    let key = match alloc(0) {
        Ok(key) => key,
        Err(reason) => skip!("{reason}"),
    };
    let raw = key.0;
    drop(key);
    let map = Map::anon(page());
    assert_eq!(
        err(unsafe { sys::pkey_mprotect(map.ptr, page(), RW, raw) }),
        Errno::EINVAL
    );
    assert_eq!(
        err(unsafe { sys::pkey_mprotect(map.ptr, page(), RW, 0x7fff) }),
        Errno::EINVAL
    );
}

#[test]
fn pkey_alloc_with_bad_flags_or_rights_is_einval() {
    let _keys = serial();
    if let Err(reason) = alloc(0) {
        skip!("{reason}");
    }
    assert_eq!(err(sys::pkey_alloc(1, 0)), Errno::EINVAL, "flags must be 0");
    assert_eq!(
        err(sys::pkey_alloc(0, 0x100)),
        Errno::EINVAL,
        "unknown access right"
    );
}

/// Regression test for `pkey_alloc` passing its two arguments in the wrong order (issue 15):
/// flags must be 0 and the rights must reach the calling thread's key register. With the
/// arguments swapped, `pkey_alloc(0, rights)` would fail with EINVAL (rights taken for
/// flags) and `pkey_alloc(rights, 0)` would succeed; on a CPU with keys both are failures,
/// and only a CPU without keys (by `/proc/cpuinfo`) skips.
#[test]
fn pkey_alloc_takes_flags_then_rights() {
    let _keys = serial();
    for (rights, write_faults, read_faults) in [
        (0, false, false),
        (PKEY_DISABLE_WRITE, true, false),
        (PKEY_DISABLE_ACCESS, true, true),
        (PKEY_DISABLE_ACCESS | PKEY_DISABLE_WRITE, true, true),
    ] {
        let (_key, map) = match tagged_page(rights) {
            Ok(tagged) => tagged,
            Err(reason) => skip!("{reason}"),
        };
        let p = map.page_ptr(0);
        let read = in_child(|| i32::from(read_byte(p)) + 1);
        let write = in_child(|| {
            write_byte(p, 9);
            0
        });
        let faulted = |end: ChildEnd| match end {
            ChildEnd::Signaled(libc::SIGSEGV) => true,
            ChildEnd::Exited(_) => false,
            other => panic!("rights {rights:#x}: child ended with {other:?}"),
        };
        assert_eq!(faulted(read), read_faults, "rights {rights:#x}: read");
        assert_eq!(faulted(write), write_faults, "rights {rights:#x}: write");
        if !read_faults {
            assert_eq!(
                read,
                ChildEnd::Exited(1),
                "rights {rights:#x}: reads see zeros"
            );
        }
    }
    // Rights passed where flags belong: flags must be 0.
    for rights in [PKEY_DISABLE_ACCESS, PKEY_DISABLE_WRITE] {
        assert_eq!(
            err(sys::pkey_alloc(rights, 0)),
            Errno::EINVAL,
            "flags {rights:#x}"
        );
    }
}
