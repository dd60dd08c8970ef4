//! `page_size()` against glibc, and `init_from_auxv` (which changes a process-wide value, so
//! it runs in forked children only).

#[macro_use]
mod common;

use common::*;

const AT_NULL: usize = 0;
const AT_PAGESZ: usize = 6;
const AT_HWCAP: usize = 16;

#[test]
fn page_size_matches_sysconf_and_getauxval() {
    let ours = mman::page_size();
    let sysconf = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let auxv = unsafe { libc::getauxval(libc::AT_PAGESZ) };
    assert_eq!(ours as libc::c_long, sysconf);
    assert_eq!(ours as libc::c_ulong, auxv);
    assert!(ours.is_power_of_two() && ours >= 4096);
}

#[test]
fn page_size_is_the_alignment_the_kernel_enforces() {
    // mprotect accepts page-aligned addresses only: a page into a mapping is fine, half a
    // page is EINVAL.
    let map = Map::new(
        2 * page(),
        mman::Prot::empty(),
        mman::MapFlags::PRIVATE | mman::MapFlags::ANONYMOUS,
        -1,
        0,
    );
    let one = map.page_ptr(1).cast();
    let half = map.ptr.cast::<u8>().wrapping_add(page() / 2).cast();
    assert_eq!(
        unsafe { mman::sys::mprotect(one, page(), mman::Prot::READ) },
        Ok(())
    );
    assert_eq!(
        unsafe { mman::sys::mprotect(half, page(), mman::Prot::READ) },
        Err(mman::Errno::EINVAL)
    );
}

#[test]
fn page_size_is_the_same_from_every_thread() {
    let here = mman::page_size();
    let there: Vec<usize> = (0..4)
        .map(|_| std::thread::spawn(mman::page_size))
        .map(|t| t.join().expect("thread"))
        .collect();
    assert_eq!(there, vec![here; 4]);
}

/// Runs `init_from_auxv(vector)` in a child and reports `page_size()` afterwards (in KiB, as
/// an exit code must fit in a byte).
fn page_size_kib_after_init(vector: &[usize]) -> ChildEnd {
    in_child(|| {
        unsafe { mman::init_from_auxv(vector.as_ptr()) };
        (mman::page_size() / 1024) as i32
    })
}

#[test]
fn init_from_auxv_records_at_pagesz() {
    let vector = [AT_HWCAP, 0xdead, AT_PAGESZ, 64 * 1024, AT_NULL, 0];
    assert_eq!(page_size_kib_after_init(&vector), ChildEnd::Exited(64));
    let vector = [AT_PAGESZ, 16 * 1024, AT_NULL, 0];
    assert_eq!(page_size_kib_after_init(&vector), ChildEnd::Exited(16));
}

#[test]
fn init_from_auxv_ignores_a_vector_without_a_usable_at_pagesz() {
    let real = (page() / 1024) as i32;
    // No AT_PAGESZ before AT_NULL (the one after it is not part of the vector).
    let vector = [AT_HWCAP, 1, AT_NULL, 0, AT_PAGESZ, 8192];
    assert_eq!(page_size_kib_after_init(&vector), ChildEnd::Exited(real));
    // Not a power of two.
    let vector = [AT_PAGESZ, 12345, AT_NULL, 0];
    assert_eq!(page_size_kib_after_init(&vector), ChildEnd::Exited(real));
    // Empty.
    let vector = [AT_NULL, 0];
    assert_eq!(page_size_kib_after_init(&vector), ChildEnd::Exited(real));
}
