//! What a memmap2 (or rustix) user reaches for, against the real kernel: empty mappings
//! (no system call ever reaches the kernel with their dangling pointer: a seccomp filter
//! kills the child if one does), `as_mut_slice_unchecked`, advice through `&self` and the
//! kernel's knowledge of advice per version, slices of sealed files (and what the seals
//! keep others from doing), the book-kept protection, a descriptor's length, flushes from
//! inside the first page of an unaligned mapping, and raw advice values.

#[macro_use]
mod common;

use std::os::unix::fs::FileExt;

use common::*;
use mman::fd::{AsFd, AsRawFd};
use mman::{sys, Advice, Errno, Flush, MapOptions, Mapping, Memfd, Prot, Seals};

const RW: Prot = Prot::READ.union(Prot::WRITE);

/// A memfd of `len` bytes holding `pattern(i)` at byte `i`.
fn memfd_with(name: &std::ffi::CStr, len: usize) -> Memfd {
    let memfd = Memfd::new(name).expect("memfd");
    let data: Vec<u8> = (0..len).map(pattern).collect();
    file_of(&memfd).write_all_at(&data, 0).expect("pwrite");
    memfd
}

/// A new read-only descriptor of `file`'s file, opened through `/proc/self/fd`.
fn reopen_read_only(file: &Memfd) -> mman::fd::OwnedFd {
    use mman::fd::FromRawFd;
    let path = format!("/proc/self/fd/{}\0", file.as_fd().as_raw_fd());
    // SAFETY: a NUL-terminated path.
    let fd = unsafe { libc::open(path.as_ptr().cast(), libc::O_RDONLY | libc::O_CLOEXEC) };
    assert!(fd >= 0, "open {path}: {}", last_errno());
    // SAFETY: a fresh descriptor nothing else owns.
    unsafe { mman::fd::OwnedFd::from_raw_fd(fd) }
}

fn pattern(i: usize) -> u8 {
    (i % 251) as u8 ^ 0x5a
}

// ---- 1. Empty mappings ----

fn options_prot_readable(m: &Mapping) -> bool {
    m.protection().is_some_and(|prot| prot.contains(Prot::READ))
}

#[test]
fn an_empty_file_maps_to_an_empty_mapping_that_lends_empty_slices() {
    let empty = Memfd::new(c"empty").unwrap();
    for options in [
        MapOptions::new(),
        MapOptions::new().shared(),
        MapOptions::new().prot(Prot::READ),
        MapOptions::new().prot(Prot::empty()).shared(),
    ] {
        let mut m = options.map_file(&empty, 0).expect("empty file");
        assert_eq!(m.len(), 0);
        assert!(m.is_empty());
        assert_eq!(m.as_ptr() as usize % mman::page_size(), 0, "page aligned");
        assert!(!m.as_ptr().is_null());
        assert!(!is_mapped(m.as_ptr().cast()), "no kernel mapping behind it");
        assert_eq!(m.as_slice(), Ok(&[][..]));
        assert_eq!(m.as_mut_slice().map(|s| s.len()), Ok(0));
        // Copies are checked as for any mapping: range, then access.
        let readable = if options_prot_readable(&m) {
            Ok(())
        } else {
            Err(Errno::EACCES)
        };
        assert_eq!(m.read_at(0, &mut []), readable);
        assert_eq!(m.read_at(0, &mut [0]), Err(Errno::EINVAL));
        assert_eq!(m.write_at(1, &[]), Err(Errno::EINVAL));
    }
}

#[test]
fn zero_lengths_of_files_are_empty_mappings_and_anonymous_ones_stay_einval() {
    let page = mman::page_size();
    let file = memfd_with(c"three-pages", 3 * page);
    // An offset at the end, with no length: the rest is empty.
    let at_end = MapOptions::new().map_file(&file, 3 * page as u64).unwrap();
    assert_eq!(at_end.len(), 0);
    // An explicit length of 0, at an aligned and an unaligned offset.
    for offset in [0, 100, page as u64] {
        let m = MapOptions::new().len(0).map_file(&file, offset).unwrap();
        assert_eq!((m.len(), m.as_ptr() as usize % page), (0, 0));
        assert_eq!(m.into_raw().1, 0);
    }
    // Past the end: still an error.
    let past = MapOptions::new().map_file(&file, 3 * page as u64 + 1);
    assert_eq!(err(past), Errno::EINVAL);
    // Nothing to place, and a protection mmap would refuse.
    assert_eq!(
        err(MapOptions::new().len(0).at(page << 20).map_file(&file, 0)),
        Errno::EINVAL
    );
    let growsdown = MapOptions::new().len(0).prot(Prot::READ | Prot::GROWSDOWN);
    assert_eq!(err(growsdown.map_file(&file, 0)), Errno::EINVAL);
    // Anonymous memory of length 0 stays EINVAL.
    assert_eq!(err(Mapping::anonymous(0)), Errno::EINVAL);
    assert_eq!(err(MapOptions::new().len(0).shared().map()), Errno::EINVAL);
    // A file that is not plain is still refused first (std's File is an `AsFd` of this
    // crate's only with feature `std`).
    #[cfg(feature = "std")]
    {
        let zero = std::fs::File::open("/dev/zero").unwrap();
        let zero_len = MapOptions::new().len(0).map_file(&zero, 0);
        assert_eq!(err(zero_len), Errno::ENODEV);
    }
}

/// A seccomp filter that kills the process at any of the calls that take a mapping's
/// address: installed in a forked child, it proves an empty mapping's methods make none.
fn forbid_address_calls() {
    // The uapi headers' numbers: the libc crate lacks some on some targets (SYS_shmdt on
    // powerpc64, where glibc goes through ipc(2); SYS_mseal on several).
    use linux_raw_sys::general as uapi;
    let calls = [
        uapi::__NR_munmap,
        uapi::__NR_mprotect,
        uapi::__NR_msync,
        uapi::__NR_madvise,
        uapi::__NR_mlock,
        uapi::__NR_mlock2,
        uapi::__NR_munlock,
        uapi::__NR_mremap,
        uapi::__NR_mseal,
        uapi::__NR_mincore,
        uapi::__NR_shmdt,
        uapi::__NR_mbind,
        uapi::__NR_set_mempolicy_home_node,
        uapi::__NR_get_mempolicy,
        uapi::__NR_move_pages,
    ];
    let n = calls.len() as u8;
    // Load the call number; for each forbidden one, jump to the kill; else allow.
    let mut program = vec![libc::sock_filter {
        code: (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16,
        jt: 0,
        jf: 0,
        k: 0,
    }];
    for (i, &call) in calls.iter().enumerate() {
        program.push(libc::sock_filter {
            code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
            jt: n - i as u8,
            jf: 0,
            k: call,
        });
    }
    for verdict in [libc::SECCOMP_RET_ALLOW, libc::SECCOMP_RET_KILL_PROCESS] {
        program.push(libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: verdict,
        });
    }
    install_seccomp_filter(&mut program);
}

#[test]
fn an_empty_mappings_methods_make_no_system_call_on_its_pointer() {
    if is_qemu_user() {
        skip!("qemu-user: seccomp filters would see QEMU's host calls, not the guest's");
    }
    let empty = Memfd::new(c"empty").unwrap();
    let end = in_child_checked(|| {
        quiet_allocator();
        let mut m = MapOptions::new().map_file(&empty, 0).unwrap();
        let mut shared = MapOptions::new().shared().map_file(&empty, 0).unwrap();
        forbid_address_calls();
        // Each would reach the kernel (and the child would die of SIGSYS) if not for the
        // empty mapping's own answers.
        assert_eq!(m.protect(.., Prot::READ), Ok(()));
        assert_eq!(m.protect(.., RW), Ok(()));
        assert_eq!(m.flush(.., Flush::Sync), Ok(()));
        assert_eq!(m.advise(.., Advice::Random), Ok(()));
        // Refused for file memory before anything else, as for any file mapping.
        assert_eq!(m.advise(.., Advice::DontNeed), Err(Errno::EINVAL));
        assert_eq!(m.hint(.., Advice::WillNeed), Ok(()));
        // SAFETY: an empty mapping: nothing is advised.
        assert_eq!(unsafe { m.advise_unchecked(.., Advice::Remove) }, Ok(()));
        assert_eq!(m.lock(..), Ok(()));
        assert_eq!(m.lock_on_fault(..), Ok(()));
        assert_eq!(m.unlock(..), Ok(()));
        assert!(m.guard(..).is_ok());
        assert_eq!(m.unguard(RW), Ok(()));
        assert_eq!(m.remap(mman::page_size(), true), Err(Errno::EINVAL));
        assert_eq!(m.remap_file(&empty, 1, true), Err(Errno::EINVAL));
        assert_eq!(m.seal(), Ok(()));
        let local = mman::numa::Policy::Local;
        let (no_mode, no_flags) = (
            mman::numa::ModeFlags::empty(),
            mman::numa::MbindFlags::empty(),
        );
        assert_eq!(m.set_policy(.., &local, no_mode, no_flags), Ok(()));
        assert_eq!(m.set_home_node(.., 0), Ok(()));
        assert_eq!(m.nodes(.., &mut []), Ok(0));
        assert_eq!(m.move_to(.., 0, no_flags, &mut []), Ok(0));
        assert_eq!(
            shared
                .as_atomics::<std::sync::atomic::AtomicU32>()
                .map(|a| a.len()),
            Ok(0)
        );
        drop(m);
        drop(shared);
    });
    assert_eq!(
        end,
        ChildEnd::Exited(0),
        "a call reached the kernel (SIGSYS is 31)"
    );
    // remap_file refused before growing the file.
    assert_eq!(mman::file_len(&empty), Ok(0));
}

#[test]
fn the_seccomp_filter_catches_a_call_on_a_real_mapping() {
    if is_qemu_user() {
        skip!("qemu-user: seccomp filters would see QEMU's host calls, not the guest's");
    }
    // The check above cannot pass by accident: the same filter kills at a real call.
    let end = in_child(|| {
        quiet_allocator();
        let m = Mapping::anonymous(mman::page_size()).unwrap();
        forbid_address_calls();
        let _ = m.lock(..);
        0
    });
    // The kernel's number, not the libc crate's: 0.2.191 gives mips64 glibc the generic
    // signal numbers (31), where mips's SIGSYS is 12.
    let sigsys = linux_raw_sys::general::SIGSYS as i32;
    assert_eq!(end, ChildEnd::Signaled(sigsys));
}

// ---- 2. as_mut_slice_unchecked ----

#[test]
fn as_mut_slice_unchecked_writes_shared_file_memory() {
    let page = mman::page_size();
    let file = Memfd::new(c"unchecked").unwrap();
    file.set_len(2 * page as u64).unwrap();
    let mut m = MapOptions::new().shared().map_file(&file, 0).unwrap();
    assert_eq!(m.as_mut_slice().map(|s| s.len()), Err(Errno::EPERM));
    // SAFETY: the memfd is this test's alone.
    let bytes = unsafe { m.as_mut_slice_unchecked() };
    assert_eq!(bytes.len(), 2 * page);
    bytes[page + 7..page + 12].copy_from_slice(b"write");
    let mut back = [0; 5];
    file_of(&file)
        .read_exact_at(&mut back, page as u64 + 7)
        .unwrap();
    assert_eq!(&back, b"write");
    // A mapping at an unaligned offset starts at the byte asked for.
    let mut at = MapOptions::new()
        .shared()
        .len(10)
        .map_file(&file, page as u64 + 7)
        .unwrap();
    // SAFETY: as above.
    assert_eq!(&unsafe { at.as_mut_slice_unchecked() }[..5], b"write");
}

// ---- 3. Advice through &self, and which advice the kernel knows ----

#[test]
fn hints_take_a_shared_borrow_reach_the_kernel_and_keep_the_bytes() {
    let page = mman::page_size();
    let mut m = Mapping::anonymous(4 * page).unwrap();
    m.as_mut_slice().unwrap().fill(0x77);
    let bytes = m.as_slice().unwrap();
    // Given while `bytes` is borrowed, from two threads at once.
    std::thread::scope(|s| {
        s.spawn(|| assert_eq!(m.hint(.., Advice::Random), Ok(())));
        s.spawn(|| assert_eq!(m.hint(.., Advice::DontDump), Ok(())));
    });
    assert!(bytes.iter().all(|&b| b == 0x77));
    if smaps_is_real() {
        let flags = vm_flags(m.as_ptr().cast());
        assert!(flags.iter().any(|f| f == "rr"), "{flags:?}");
        assert!(flags.iter().any(|f| f == "dd"), "{flags:?}");
    }
    // PageOut reclaims (to swap if any); the bytes stay.
    assert_eq!(m.hint(.., Advice::PageOut), Ok(()));
    assert!(m.as_slice().unwrap().iter().all(|&b| b == 0x77));
    // Advice that changes bytes or access is not a hint.
    for advice in [
        Advice::DontNeed,
        Advice::DontNeedLocked,
        Advice::Free,
        Advice::Remove,
        Advice::DontFork,
        Advice::WipeOnFork,
        Advice::GuardInstall,
        Advice::GuardRemove,
        Advice::HwPoison,
        Advice::SoftOffline,
    ] {
        assert_eq!(m.hint(.., advice), Err(Errno::EINVAL), "{advice:?}");
    }
    assert!(m.as_slice().unwrap().iter().all(|&b| b == 0x77));
    // Out of range: EINVAL, nothing advised.
    assert_eq!(m.hint(..5 * page, Advice::Normal), Err(Errno::EINVAL));
}

#[test]
fn a_hint_on_part_of_a_mapping_keeps_it_from_moving() {
    let page = mman::page_size();
    let mut m = Mapping::anonymous(4 * page).unwrap();
    m.hint(page..2 * page, Advice::Random).unwrap();
    // The kernel may have split it: a move is refused before anything is reserved.
    assert_eq!(m.remap(64 * page, true), Err(Errno::EFAULT));
}

#[test]
fn hints_work_on_volatile_memory_too() {
    let page = mman::page_size();
    let file = memfd_with(c"hinted", 2 * page);
    let m = MapOptions::new().shared().map_file(&file, 0).unwrap();
    for advice in [
        Advice::Sequential,
        Advice::WillNeed,
        Advice::PageOut,
        Advice::Cold,
    ] {
        assert_eq!(m.hint(.., advice), Ok(()), "{advice:?}");
    }
    let mut back = vec![0; 2 * page];
    m.read_at(0, &mut back).unwrap();
    assert!(back.iter().enumerate().all(|(i, &b)| b == pattern(i)));
}

/// The Linux version each advice arrived in, with the configuration it needs, for the
/// kernels the lanes run (6.1, 6.12 and the host's).
fn advice_expected(advice: Advice) -> Option<bool> {
    // Built in is what counts: a kernel whose CPU maps no huge pages still knows the advice.
    let thp = thp_built_in();
    let ksm = std::path::Path::new("/sys/kernel/mm/ksm").exists();
    Some(match advice {
        Advice::Normal
        | Advice::Random
        | Advice::Sequential
        | Advice::WillNeed
        | Advice::DontNeed
        | Advice::Remove
        | Advice::DontFork
        | Advice::DoFork
        | Advice::DontDump
        | Advice::DoDump
        | Advice::Free
        | Advice::WipeOnFork
        | Advice::KeepOnFork => true,
        Advice::Mergeable | Advice::Unmergeable => ksm,
        Advice::HugePage | Advice::NoHugePage => thp,
        Advice::Cold | Advice::PageOut => kernel_at_least(5, 4),
        Advice::PopulateRead | Advice::PopulateWrite => kernel_at_least(5, 14),
        Advice::DontNeedLocked => kernel_at_least(5, 18),
        Advice::Collapse => thp && kernel_at_least(6, 1),
        Advice::GuardInstall | Advice::GuardRemove => kernel_at_least(6, 13),
        // CONFIG_MEMORY_FAILURE: present or not whatever the version.
        Advice::HwPoison | Advice::SoftOffline => return None,
        _ => return None,
    })
}

#[test]
fn the_kernel_says_which_advice_it_knows_by_version() {
    if is_qemu_user() {
        skip!("{QEMU_MADVISE} (it says yes to every advice)");
    }
    for advice in Advice::ALL {
        let known = advice.is_supported();
        assert_eq!(sys::advice_supported(advice.raw()), Ok(known));
        if let Some(expected) = advice_expected(advice) {
            assert_eq!(known, expected, "{advice:?} on kernel {}", kernel_release());
        }
    }
    // Values no kernel has given meaning to.
    for raw in [5, 6, 7, 26, 99, 104, 1000, u32::MAX] {
        assert_eq!(sys::advice_supported(raw), Ok(false), "{raw}");
    }
}

// ---- 4. Sealed files lend slices ----

/// Maps `file` privately read-write and shared read-only, as far as the kernel lets.
fn sealed_mappings(file: &Memfd, len: usize) -> (Mapping, Result<Mapping, Errno>) {
    let private = MapOptions::new().len(len).map_file(file, 0).unwrap();
    let shared = MapOptions::new()
        .shared()
        .prot(Prot::READ)
        .len(len)
        .map_file(file, 0);
    (private, shared)
}

#[test]
fn a_memfd_sealed_against_writing_and_shrinking_lends_slices() {
    let page = mman::page_size();
    let file = memfd_with(c"frozen", 2 * page);
    file.add_seals(Seals::WRITE | Seals::SHRINK).unwrap();
    let (mut private, shared) = sealed_mappings(&file, 2 * page);
    assert!(!private.is_volatile());
    let bytes = private.as_slice().unwrap();
    assert!(bytes.iter().enumerate().all(|(i, &b)| b == pattern(i)));
    // A private mapping writes its own copies, never the file.
    private.as_mut_slice().unwrap()[3] = 0xee;
    assert_eq!(private.as_slice().unwrap()[3], 0xee);
    let mut byte = [0];
    file_of(&file).read_exact_at(&mut byte, 3).unwrap();
    assert_eq!(byte[0], pattern(3));
    // Shared mappings of a write-sealed memfd through a writable descriptor: read-only
    // from Linux 6.7 (the seal clears VM_MAYWRITE), refused (EPERM) before, unless the fix
    // was backported (Debian's 6.1.192 has it). Either way never writable.
    match shared {
        Ok(mut shared) => {
            assert!(!shared.is_volatile());
            assert_eq!(shared.as_slice().unwrap()[3], pattern(3));
            // It can never become writable: mprotect refuses, and nothing lent is lost.
            assert_eq!(shared.protect(.., RW), Err(Errno::EACCES));
            assert_eq!(shared.as_slice().unwrap()[3], pattern(3));
            assert_eq!(shared.as_mut_slice().map(|s| s.len()), Err(Errno::EACCES));
        }
        Err(e) => {
            assert_eq!(e, Errno::EPERM);
            assert!(
                !kernel_at_least(6, 7),
                "shared read-only mapping refused on {}",
                kernel_release()
            );
        }
    }
    // A writable shared mapping is refused at mmap.
    let writable = MapOptions::new().shared().map_file(&file, 0);
    assert_eq!(err(writable), Errno::EPERM);
}

/// A sealed file may have holes (sized by `ftruncate`, as a sender of a sealed memfd
/// usually does), and the first touch of a hole needs a page, which strict overcommit
/// (`vm.overcommit_memory` 2: memfds are charged page by page at the first touch, tmpfs
/// answering `ENOSPC`, which the fault turns into `SIGBUS`) can refuse: a `SIGBUS` through
/// the slice (review round 6; read against mm/shmem.c, not run: the sysctl is the whole
/// machine's). So a sealed mapping is lent only with every page held, faulted in when it
/// is made: the file's blocks cover it (0 bytes before the fix), or it is volatile.
#[test]
fn a_sparse_sealed_memfd_is_lent_only_with_every_page_held() {
    use std::os::unix::fs::MetadataExt;
    if is_qemu_user() {
        skip!("{QEMU_MADVISE}: MADV_POPULATE_READ, which faults a sealed mapping in");
    }
    let page = mman::page_size();
    let len = 8 * page;
    let allocated = |file: &Memfd| file_of(file).metadata().unwrap().blocks() * 512;
    for shared in [false, true] {
        let file = Memfd::new(c"sparse-frozen").unwrap();
        // Sized as a sender would, with holes: not by the crate's set_len, which allocates.
        sys::ftruncate(file.as_fd(), len as u64).unwrap();
        assert_eq!(allocated(&file), 0, "sparse");
        file.freeze().unwrap();
        let (private, read_only) = sealed_mappings(&file, len);
        let m = match shared {
            false => private,
            // Refused before 6.7 (see above): nothing to check.
            true => match read_only {
                Ok(m) => m,
                Err(_) => continue,
            },
        };
        match m.as_slice() {
            Ok(bytes) => {
                assert!(
                    allocated(&file) >= len as u64,
                    "shared {shared}: lent with {} of {len} bytes held",
                    allocated(&file)
                );
                assert!(bytes.iter().all(|&b| b == 0));
            }
            Err(e) => assert_eq!((e, m.is_volatile()), (Errno::EPERM, true)),
        }
    }
}

#[test]
fn sealed_bytes_cannot_be_changed_through_any_other_descriptor() {
    let page = mman::page_size();
    let file = memfd_with(c"frozen", 2 * page);
    file.freeze().unwrap();
    let m = MapOptions::new()
        .prot(Prot::READ)
        .map_file(&file, 0)
        .unwrap();
    let before = m.as_slice().unwrap().to_vec();
    let other = file_of(&file);
    // write(2), truncation, hole punching: all EPERM.
    assert_eq!(
        other.write_at(b"x", 0).map_err(|e| e.raw_os_error()),
        Err(Some(libc::EPERM))
    );
    assert_eq!(sys::ftruncate(file.as_fd(), 1), Err(Errno::EPERM));
    let punch = libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE;
    // SAFETY: fallocate takes no pointer.
    let punched = unsafe {
        libc::fallocate(
            std::os::fd::AsRawFd::as_raw_fd(&other),
            punch,
            0,
            page as libc::off_t,
        )
    };
    assert_eq!((punched, last_errno()), (-1, Errno::EPERM));
    // A fresh descriptor of the same file, opened read-write through /proc.
    let path = format!("/proc/self/fd/{}", file.as_fd().as_raw_fd());
    let reopened = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    assert_eq!(
        reopened.write_at(b"x", 0).map_err(|e| e.raw_os_error()),
        Err(Some(libc::EPERM))
    );
    assert_eq!(m.as_slice().unwrap(), &before[..]);
}

#[test]
fn any_descriptor_of_a_sealed_file_lends_slices_and_growth_is_not_needed() {
    let page = mman::page_size();
    let file = memfd_with(c"frozen-no-grow", page);
    file.add_seals(Seals::WRITE | Seals::SHRINK).unwrap();
    let fd = reopen_read_only(&file);
    let m = MapOptions::new().prot(Prot::READ).map_file(&fd, 0).unwrap();
    assert_eq!(m.as_slice().unwrap()[1], pattern(1));
    // Shared through a read-only descriptor: allowed on every kernel (no VM_MAYWRITE), lends
    // slices, and never becomes writable.
    let mut shared = MapOptions::new()
        .shared()
        .prot(Prot::READ)
        .map_file(&fd, 0)
        .unwrap();
    assert_eq!(shared.as_slice().unwrap()[1], pattern(1));
    assert_eq!(shared.protect(.., RW), Err(Errno::EACCES));
    assert_eq!(shared.as_slice().unwrap()[1], pattern(1));
    // The file may still grow: the mapped bytes stay.
    file.set_len(4 * page as u64).unwrap();
    assert_eq!(m.as_slice().unwrap()[1], pattern(1));
}

#[test]
fn fewer_seals_or_a_mapping_past_the_end_stay_volatile() {
    let page = mman::page_size();
    let cases: [(&str, Seals); 4] = [
        ("unsealed", Seals::empty()),
        ("write only", Seals::WRITE),
        ("shrink and grow", Seals::SHRINK | Seals::GROW),
        (
            "future write and shrink",
            Seals::FUTURE_WRITE | Seals::SHRINK,
        ),
    ];
    for (what, seals) in cases {
        let file = memfd_with(c"partly-sealed", page);
        if !seals.is_empty() {
            file.add_seals(seals).unwrap();
        }
        let m = MapOptions::new()
            .prot(Prot::READ)
            .map_file(&file, 0)
            .unwrap();
        assert!(m.is_volatile(), "{what}");
        assert_eq!(m.as_slice().map(|s| s.len()), Err(Errno::EPERM), "{what}");
    }
    // Sealed, but mapped past the end (which would raise SIGBUS): volatile.
    let file = memfd_with(c"short", page);
    file.freeze().unwrap();
    let long = MapOptions::new()
        .prot(Prot::READ)
        .len(2 * page)
        .map_file(&file, 0)
        .unwrap();
    assert_eq!(long.as_slice().map(|s| s.len()), Err(Errno::EPERM));
    // A file that cannot be sealed (POSIX shared memory): volatile.
    let name = unique_cname("");
    // Created here, so unlinked on drop.
    let object = mman::SharedMemory::create(&name, page as u64).unwrap();
    let m = object.map().unwrap();
    assert_eq!(m.as_slice().map(|s| s.len()), Err(Errno::EPERM));
}

// ---- 5. The book-kept protection ----

#[test]
fn protection_is_the_whole_mappings_or_none_when_parts_may_differ() {
    let page = mman::page_size();
    let mut m = MapOptions::new().len(3 * page).map().unwrap();
    let perms_of = |m: &Mapping| perms(m.as_ptr().cast());
    assert_eq!(m.protection(), Some(RW));
    m.protect(page..2 * page, Prot::READ).unwrap();
    assert_eq!(m.protection(), None);
    m.protect(.., Prot::READ).unwrap();
    assert_eq!(m.protection(), Some(Prot::READ));
    if !is_qemu_user() {
        assert!(perms_of(&m).starts_with("r--"));
    }
    m.guard(..page).unwrap();
    assert_eq!(m.protection(), None);
    m.unguard(Prot::empty()).unwrap();
    assert_eq!(m.protection(), Some(Prot::empty()));
    // Made with a protection: that one.
    let x = MapOptions::new()
        .len(page)
        .prot(Prot::READ | Prot::EXEC)
        .map()
        .unwrap();
    assert_eq!(x.protection(), Some(Prot::READ | Prot::EXEC));
    // A protect that fails: unknown (pessimistic), and nothing granted.
    let file = memfd_with(c"read-only", page);
    let fd = reopen_read_only(&file);
    let mut ro = MapOptions::new()
        .shared()
        .prot(Prot::READ)
        .map_file(&fd, 0)
        .unwrap();
    assert_eq!(ro.protect(.., RW), Err(Errno::EACCES));
    assert_eq!(ro.protection(), None);
    let empty = Memfd::new(c"empty").unwrap();
    let e = MapOptions::new()
        .prot(Prot::READ)
        .map_file(&empty, 0)
        .unwrap();
    assert_eq!(e.protection(), Some(Prot::READ));
}

// ---- 6. A descriptor's length ----

#[test]
fn file_len_is_the_statx_size_and_the_default_mapping_length() {
    let page = mman::page_size();
    let file = Memfd::new(c"len").unwrap();
    assert_eq!(mman::file_len(&file), Ok(0));
    file.set_len(2 * page as u64 + 17).unwrap();
    assert_eq!(mman::file_len(&file), Ok(2 * page as u64 + 17));
    assert_eq!(sys::file_size(file.as_fd()), Ok(2 * page as u64 + 17));
    assert_eq!(
        mman::file_len(&file).unwrap(),
        file_of(&file).metadata().unwrap().len()
    );
    let m = MapOptions::new().map_file(&file, 5).unwrap();
    assert_eq!(m.len() as u64, mman::file_len(&file).unwrap() - 5);
    // A number no descriptor has (above any RLIMIT_NOFILE).
    // SAFETY: not -1; statx only answers EBADF for it.
    let none = unsafe { mman::fd::BorrowedFd::borrow_raw(i32::MAX - 1) };
    assert_eq!(mman::file_len(none), Err(Errno::EBADF));
}

// ---- 7. Flush from inside the first page of an unaligned mapping ----

#[test]
fn flush_rounds_the_start_down_to_its_page_within_the_mapping() {
    let page = mman::page_size();
    let file = Memfd::new(c"flush").unwrap();
    file.set_len(4 * page as u64).unwrap();
    let offset = page as u64 + 100;
    let mut m = MapOptions::new()
        .shared()
        .len(2 * page)
        .map_file(&file, offset)
        .unwrap();
    m.write_at(10, b"first").unwrap();
    m.write_at(page, b"second").unwrap();
    // msync itself refuses an unaligned start: the rounding is what makes these work.
    // SAFETY: msync changes no bytes.
    let raw = unsafe { sys::msync(m.as_ptr().add(10).cast(), 5, mman::MsyncFlags::SYNC) };
    assert_eq!(raw, Err(Errno::EINVAL));
    for (range, how) in [
        (10..15, Flush::Sync),
        (0..1, Flush::Async),
        (page..page + 6, Flush::SyncInvalidate),
        (page - 100..2 * page, Flush::Sync),
        (2 * page..2 * page, Flush::Sync),
    ] {
        assert_eq!(m.flush(range.clone(), how), Ok(()), "{range:?}");
    }
    let mut back = [0; 6];
    file_of(&file)
        .read_exact_at(&mut back[..5], offset + 10)
        .unwrap();
    assert_eq!(&back[..5], b"first");
    file_of(&file)
        .read_exact_at(&mut back, offset + page as u64)
        .unwrap();
    assert_eq!(&back, b"second");
    // Still checked against the mapping.
    assert_eq!(m.flush(0..2 * page + 1, Flush::Sync), Err(Errno::EINVAL));
}

// ---- 8. Raw advice values ----

#[test]
fn raw_advice_round_trips_and_reaches_the_kernel() {
    for advice in Advice::ALL {
        assert_eq!(Advice::from_raw(advice.raw()), Some(advice));
    }
    assert_eq!(Advice::ALL.len(), 27);
    for raw in [5, 6, 7, 26, 99, 104, u32::MAX] {
        assert_eq!(Advice::from_raw(raw), None);
    }
    let page = mman::page_size();
    let mut m = Mapping::anonymous(page).unwrap();
    m.as_mut_slice().unwrap()[0] = 9;
    let (ptr, len) = (m.as_ptr().cast(), m.len());
    // SAFETY: no slice of the mapping is alive; DONTNEED zeroes private anonymous memory.
    unsafe { sys::madvise_raw(ptr, len, Advice::DontNeed.raw()) }.unwrap();
    if !is_qemu_user() {
        assert_eq!(m.as_slice().unwrap()[0], 0);
        // A value the kernel does not know: its EINVAL.
        // SAFETY: unknown advice does nothing.
        assert_eq!(
            unsafe { sys::madvise_raw(ptr, len, 99) },
            Err(Errno::EINVAL)
        );
    }
}
