//! System V shared memory: shmget, shmat, shmdt, shm_remove, shm_segment_size.
//!
//! Every segment is removed by a guard, even when an assertion fails first.

#[macro_use]
mod common;

use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicI32, Ordering};

use common::*;
use mman::sys::{self, IPC_PRIVATE};
use mman::{Errno, ShmAtFlags, ShmGetFlags};

fn rw_600() -> ShmGetFlags {
    ShmGetFlags::RUSR | ShmGetFlags::WUSR
}

fn private_segment(size: usize) -> Segment {
    Segment(
        sys::shmget(IPC_PRIVATE, size, ShmGetFlags::CREAT | rw_600()).expect("shmget(IPC_PRIVATE)"),
    )
}

/// A key no other segment has: built from the pid, created with `IPC_EXCL`.
fn keyed_segment(size: usize) -> (i32, Segment) {
    static N: AtomicI32 = AtomicI32::new(1);
    loop {
        let key = (0x2d00_0000 | ((std::process::id() as i32 & 0xffff) << 8))
            + N.fetch_add(1, Ordering::Relaxed);
        match sys::shmget(key, size, ShmGetFlags::CREAT | ShmGetFlags::EXCL | rw_600()) {
            Ok(id) => return (key, Segment(id)),
            Err(Errno::EEXIST) => continue,
            Err(e) => panic!("shmget({key:#x}): {e}"),
        }
    }
}

/// An attachment, detached on drop.
struct Attached(*mut c_void);

impl Attached {
    fn new(id: i32, addr: *const c_void, flags: ShmAtFlags) -> Attached {
        Attached(
            unsafe { sys::shmat(id, addr, flags) }.unwrap_or_else(|e| panic!("shmat({id}): {e}")),
        )
    }

    fn bytes(&self, len: usize) -> &[u8] {
        unsafe { std::slice::from_raw_parts(self.0.cast::<u8>(), len) }
    }

    fn bytes_mut(&mut self, len: usize) -> &mut [u8] {
        unsafe { std::slice::from_raw_parts_mut(self.0.cast::<u8>(), len) }
    }
}

impl Drop for Attached {
    fn drop(&mut self) {
        // SAFETY: the test owns the attachment; nothing refers to it after the drop. EINVAL
        // when the test detached it itself.
        let detached = unsafe { sys::shmdt(self.0) };
        if !std::thread::panicking() {
            assert!(
                matches!(detached, Ok(()) | Err(Errno::EINVAL)),
                "shmdt: {detached:?}"
            );
        }
    }
}

fn glibc_segment_size(id: i32) -> usize {
    let mut ds: libc::shmid_ds = unsafe { std::mem::zeroed() };
    assert_eq!(
        unsafe { libc::shmctl(id, libc::IPC_STAT, &mut ds) },
        0,
        "shmctl(IPC_STAT): {}",
        last_errno()
    );
    ds.shm_segsz as usize
}

#[test]
fn segment_size_is_the_requested_size_and_matches_glibc_ipc_stat() {
    for size in [1, page(), 3 * page() + 17, 1 << 20] {
        let seg = private_segment(size);
        assert_eq!(sys::shm_segment_size(seg.0), Ok(size));
        assert_eq!(glibc_segment_size(seg.0), size);
    }
}

#[test]
fn shmat_read_write_is_shared_between_two_attachments() {
    let size = 2 * page();
    let seg = private_segment(size);
    let mut a = Attached::new(seg.0, ptr::null(), ShmAtFlags::empty());
    let b = Attached::new(seg.0, ptr::null(), ShmAtFlags::empty());
    assert_ne!(a.0, b.0);
    assert!(
        b.bytes(size).iter().all(|&x| x == 0),
        "new segments are zeroed"
    );
    a.bytes_mut(size)[page() + 3] = 0x5a;
    assert_eq!(b.bytes(size)[page() + 3], 0x5a);
    let entry = maps_entry(a.0).expect("attachment listed");
    assert_eq!(entry.perms, "rw-s");
    assert_eq!(
        entry.path, "/SYSV00000000 (deleted)",
        "IPC_PRIVATE shows as key 0"
    );
    assert_eq!(entry.end - entry.start, size);
}

#[test]
fn keyed_segment_shows_its_key_in_maps() {
    let (key, seg) = keyed_segment(page());
    let a = Attached::new(seg.0, ptr::null(), ShmAtFlags::empty());
    let entry = maps_entry(a.0).expect("attachment listed");
    assert_eq!(entry.path, format!("/SYSV{key:08x} (deleted)"));
}

#[test]
fn shmat_read_only_maps_r_s_and_writes_fault() {
    let seg = private_segment(page());
    let mut rw = Attached::new(seg.0, ptr::null(), ShmAtFlags::empty());
    rw.bytes_mut(page())[0] = 7;
    let ro = Attached::new(seg.0, ptr::null(), ShmAtFlags::RDONLY);
    assert_eq!(perms(ro.0), "r--s");
    assert_eq!(read_byte(ro.0.cast()), 7);
    let p = ro.0.cast::<u8>();
    let end = in_child(|| {
        write_byte(p, 8);
        0
    });
    assert_eq!(end, ChildEnd::Signaled(libc::SIGSEGV));
    assert_eq!(rw.bytes(page())[0], 7);
}

#[test]
fn shmat_at_an_address_and_shmdt_unmaps_it() {
    let seg = private_segment(page());
    let want = quiet_address(page());
    let got = unsafe { sys::shmat(seg.0, want, ShmAtFlags::empty()) };
    assert_eq!(got, Ok(want));
    assert_eq!(perms(want), "rw-s");
    assert_eq!(unsafe { sys::shmdt(want) }, Ok(()));
    assert!(!is_mapped(want));
}

#[test]
fn shmat_rnd_rounds_the_address_down() {
    let seg = private_segment(page());
    let base = quiet_address(page());
    let unaligned = base.cast::<u8>().wrapping_add(100).cast::<c_void>();
    assert_eq!(
        err(unsafe { sys::shmat(seg.0, unaligned, ShmAtFlags::empty()) }),
        Errno::EINVAL
    );
    let got = unsafe { sys::shmat(seg.0, unaligned, ShmAtFlags::RND) };
    assert_eq!(
        got,
        Ok(base),
        "SHMLBA is the page size on this architecture"
    );
    assert_eq!(unsafe { sys::shmdt(base) }, Ok(()));
}

#[test]
fn shmat_remap_replaces_an_existing_mapping() {
    let seg = private_segment(page());
    let mut attached = Attached::new(seg.0, ptr::null(), ShmAtFlags::empty());
    attached.bytes_mut(page())[0] = 9;
    let mut map = Map::quiet(
        page(),
        mman::Prot::READ | mman::Prot::WRITE,
        mman::MapFlags::PRIVATE | mman::MapFlags::ANONYMOUS,
        -1,
        0,
    );
    map.bytes_mut()[0] = 1;
    assert_eq!(
        err(unsafe { sys::shmat(seg.0, map.ptr, ShmAtFlags::empty()) }),
        Errno::EINVAL,
        "occupied without REMAP"
    );
    let got = unsafe { sys::shmat(seg.0, map.ptr, ShmAtFlags::REMAP) };
    assert_eq!(got, Ok(map.ptr));
    assert_eq!(map.bytes()[0], 9, "the segment replaced the anonymous page");
    assert_eq!(unsafe { sys::shmdt(map.ptr) }, Ok(()));
    map.leak();
}

#[test]
fn removed_segment_is_gone_for_its_key_and_id() {
    let (key, seg) = keyed_segment(page());
    assert_eq!(
        sys::shmget(key, page(), rw_600()),
        Ok(seg.0),
        "found by key"
    );
    assert_eq!(sys::shm_remove(seg.0), Ok(()));
    assert_eq!(err(sys::shmget(key, page(), rw_600())), Errno::ENOENT);
    assert_eq!(
        err(unsafe { sys::shmat(seg.0, ptr::null(), ShmAtFlags::empty()) }),
        Errno::EINVAL
    );
    assert_eq!(err(sys::shm_segment_size(seg.0)), Errno::EINVAL);
    std::mem::forget(seg);
}

#[test]
fn segment_removed_while_attached_lives_until_detached() {
    let seg = private_segment(page());
    let mut a = Attached::new(seg.0, ptr::null(), ShmAtFlags::empty());
    a.bytes_mut(page())[0] = 3;
    assert_eq!(sys::shm_remove(seg.0), Ok(()));
    assert_eq!(a.bytes(page())[0], 3, "still attached and usable");
    assert_eq!(
        sys::shm_segment_size(seg.0),
        Ok(page()),
        "IPC_STAT still works until the last detach"
    );
    drop(a);
    assert_eq!(
        err(sys::shm_segment_size(seg.0)),
        Errno::EINVAL,
        "destroyed at the last detach"
    );
    std::mem::forget(seg);
}

#[test]
fn shmget_exclusive_on_an_existing_key_is_eexist() {
    let (key, _seg) = keyed_segment(page());
    let r = sys::shmget(
        key,
        page(),
        ShmGetFlags::CREAT | ShmGetFlags::EXCL | rw_600(),
    );
    assert_eq!(err(r), Errno::EEXIST);
}

#[test]
fn shmget_of_a_size_larger_than_the_existing_segment_is_einval() {
    let (key, _seg) = keyed_segment(page());
    assert_eq!(err(sys::shmget(key, 2 * page(), rw_600())), Errno::EINVAL);
}

#[test]
fn shmget_of_size_zero_with_creat_is_einval() {
    let r = sys::shmget(IPC_PRIVATE, 0, ShmGetFlags::CREAT | rw_600());
    assert_eq!(err(r), Errno::EINVAL);
}

#[test]
fn shmat_of_a_bad_id_is_einval() {
    assert_eq!(
        err(unsafe { sys::shmat(-1, ptr::null(), ShmAtFlags::empty()) }),
        Errno::EINVAL
    );
}

#[test]
fn shmdt_of_an_address_with_no_attachment_is_einval() {
    let map = Map::anon(page());
    assert_eq!(err(unsafe { sys::shmdt(map.ptr) }), Errno::EINVAL);
    assert_eq!(
        err(unsafe { sys::shmdt(quiet_address(page())) }),
        Errno::EINVAL
    );
}

#[test]
fn shm_remove_and_segment_size_of_a_bad_id_are_einval() {
    assert_eq!(err(sys::shm_remove(-1)), Errno::EINVAL);
    assert_eq!(err(sys::shm_segment_size(-1)), Errno::EINVAL);
}
