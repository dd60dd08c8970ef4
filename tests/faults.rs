//! Fault injection: resource limits make the kernel refuse, in a forked child so the limits
//! stay there. Every call must return the documented errno, leave nothing behind (compared
//! exactly, see `common::leak`: every mapping range, `VmSize`, resident memory, every
//! descriptor; no /dev/shm entry) and not panic.

#[macro_use]
mod common;

use std::ffi::CString;

use common::{
    in_child, memfd_secret_missing, page, quiet_allocator, restore_limit, set_soft_limit, ChildEnd,
    Held,
};
use mman::{sys, Errno, MapFlags, Mapping, Memfd, MemfdFlags, Prot, SharedMemory};

/// `VmSize` of `/proc/self/status`, in bytes.
fn vm_size() -> u64 {
    Held::now().vm_size_kb * 1024
}

/// Runs `check` in a child and requires it to exit 0; the child reports failures through
/// its exit code (the line number of the failed expectation) and a message.
fn in_child_ok(check: impl FnOnce() -> i32) {
    let checked = || {
        // Resident memory is compared exactly: no transparent huge pages, which the kernel
        // collapses and splits (freeing zero-filled parts) on its own schedule.
        // SAFETY: prctl with integer arguments; it changes only this child's THP policy.
        let _ = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
        check()
    };
    assert_eq!(in_child(checked), ChildEnd::Exited(0));
}

/// Returns the line number from the child if `$got` is not `$want`.
macro_rules! expect {
    ($got:expr, $want:expr) => {
        let (got, want) = ($got, $want);
        if got != want {
            // Straight to stderr: libtest's capture would keep the message in the child.
            common::write_stderr(&format!(
                "line {}: got {:?}, want {:?}\n",
                line!(),
                got,
                want
            ));
            return line!() as i32;
        }
    };
}

/// Returns the line number from the child if what the process holds changed since `$before`.
macro_rules! expect_unchanged_since {
    ($before:expr) => {
        let differences = Held::now().differences_from(&$before);
        if !differences.is_empty() {
            common::write_stderr(&format!("line {}: leaked: {differences:#?}\n", line!()));
            return line!() as i32;
        }
    };
}

fn report(kind: &str, faults: usize) {
    common::write_stderr(&format!(
        "mman-faults: {kind}: {faults} faults injected, all refused cleanly\n"
    ));
}

#[test]
fn address_space_limit_makes_mmap_and_remap_fail_with_enomem() {
    if common::is_qemu_user() {
        // QEMU does not apply RLIMIT_AS (or DATA, STACK) to itself: it would limit the
        // emulator, not the guest.
        skip!("qemu-user does not apply RLIMIT_AS to the emulated process");
    }
    in_child_ok(|| {
        quiet_allocator();
        let mut grown = Mapping::anonymous(page()).expect("map");
        grown.as_mut_slice().expect("slice")[0] = 7;
        let big = 64 << 20;
        let old = set_soft_limit(libc::RLIMIT_AS, vm_size() + (1 << 20));
        // One round before the snapshot: the deepest of these paths may touch a stack page
        // for the first time (resident memory, counted as anonymous), which is no leak.
        let _ = Mapping::anonymous(big);
        let _ = grown.remap(big, true);
        let before = Held::now();
        let mut faults = 0;
        for _ in 0..100 {
            expect!(Mapping::anonymous(big).err(), Some(Errno::ENOMEM));
            let flags = MapFlags::PRIVATE | MapFlags::ANONYMOUS;
            let raw = unsafe { sys::mmap(std::ptr::null_mut(), big, Prot::READ, flags, -1, 0) };
            expect!(raw.err(), Some(Errno::ENOMEM));
            expect!(grown.remap(big, true), Err(Errno::ENOMEM));
            faults += 3;
        }
        restore_limit(libc::RLIMIT_AS, old);
        // The failed remap left the mapping as it was.
        expect!(grown.len(), page());
        expect!(grown.as_slice().map(|s| s[0]), Ok(7));
        expect_unchanged_since!(before);
        report("RLIMIT_AS", faults);
        0
    });
}

#[test]
fn memlock_limit_makes_mlock_fail() {
    if unsafe { libc::geteuid() } != 0 {
        skip!("needs root to drop to an unprivileged user (root ignores RLIMIT_MEMLOCK)");
    }
    in_child_ok(|| {
        let memory = Mapping::anonymous(4 * page()).expect("map");
        set_soft_limit(libc::RLIMIT_MEMLOCK, page() as u64);
        // Root's CAP_IPC_LOCK bypasses the limit: become nobody.
        expect!(unsafe { libc::setuid(65534) }, 0);
        let mut faults = 0;
        for _ in 0..100 {
            expect!(memory.lock(..), Err(Errno::ENOMEM));
            let raw = unsafe { sys::mlock(memory.as_ptr().cast(), 2 * page()) };
            expect!(raw, Err(Errno::ENOMEM));
            faults += 2;
        }
        // Within the limit, locking still works.
        expect!(memory.lock(..page()), Ok(()));
        expect!(memory.unlock(..page()), Ok(()));
        set_soft_limit(libc::RLIMIT_MEMLOCK, 0);
        expect!(memory.lock(..page()), Err(Errno::EPERM));
        report("RLIMIT_MEMLOCK", faults + 1);
        0
    });
}

#[test]
fn descriptor_limit_makes_memfd_and_shm_open_fail_with_emfile() {
    in_child_ok(|| {
        let name = CString::new(format!("mman-faults-{}", std::process::id())).expect("name");
        let path = format!("/dev/shm/{}", name.to_str().expect("utf-8"));
        // ENOSYS where the kernel has no memfd_secret (decided before any descriptor is
        // refused: reading what decides it needs one).
        let secret = match memfd_secret_missing() {
            Some(_) => Errno::ENOSYS,
            None => Errno::EMFILE,
        };
        quiet_allocator();
        // The lowest free descriptor number (dup returns it): a limit there refuses every
        // new descriptor.
        let lowest_free = unsafe { libc::dup(0) };
        unsafe { libc::close(lowest_free) };
        // One refused round before the snapshot (which needs descriptors, so it is taken
        // without the limit): the deepest of these paths may touch a stack page for the
        // first time (resident memory, counted as anonymous), which is no leak.
        let old = set_soft_limit(libc::RLIMIT_NOFILE, lowest_free as u64);
        let _ = sys::memfd_create(c"faults", MemfdFlags::CLOEXEC);
        let _ = Memfd::new(c"faults");
        let _ = SharedMemory::create(&name, page() as u64);
        let _ = sys::memfd_secret(true);
        restore_limit(libc::RLIMIT_NOFILE, old);
        let before = Held::now();
        let old = set_soft_limit(libc::RLIMIT_NOFILE, lowest_free as u64);
        let mut faults = 0;
        for _ in 0..100 {
            expect!(
                sys::memfd_create(c"faults", MemfdFlags::CLOEXEC).err(),
                Some(Errno::EMFILE)
            );
            expect!(Memfd::new(c"faults").err(), Some(Errno::EMFILE));
            expect!(
                SharedMemory::create(&name, page() as u64).err(),
                Some(Errno::EMFILE)
            );
            expect!(std::path::Path::new(&path).exists(), false);
            expect!(sys::memfd_secret(true).err(), Some(secret));
            faults += 4;
        }
        restore_limit(libc::RLIMIT_NOFILE, old);
        expect_unchanged_since!(before);
        report("RLIMIT_NOFILE", faults);
        0
    });
}
