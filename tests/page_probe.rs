//! `page_size()` where no auxiliary vector can be read (a kernel before 6.4 without `/proc`,
//! stood in for by a seccomp filter) and `madvise` answers nothing useful (the filter again):
//! the size must still be the kernel's, never a guess. Its own test binary, because the
//! size is cached process-wide: the forked child must be the first to ask.

#[macro_use]
mod common;

use common::*;

/// `PR_GET_AUXV` (Linux 6.4): "AUXV" in ASCII.
const PR_GET_AUXV: u32 = 0x4155_5856;

/// Makes this process look like one on a kernel without `PR_GET_AUXV` and without `/proc`
/// (`openat` is `ENOENT`), under a filter that refuses `madvise` (`EPERM`).
fn hide_the_auxv_and_refuse_madvise() {
    let ld = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
    let jeq = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
    let ret = (libc::BPF_RET | libc::BPF_K) as u16;
    // `struct seccomp_data`: the call number at 0, the first argument's low half at 16 (20
    // on big-endian targets).
    let arg0_low = if cfg!(target_endian = "big") { 20 } else { 16 };
    let errno = |e: i32| libc::SECCOMP_RET_ERRNO | e as u32;
    let at = |code, jt, jf, k| libc::sock_filter { code, jt, jf, k };
    let mut program = [
        at(ld, 0, 0, 0),
        at(jeq, 0, 1, libc::SYS_madvise as u32),
        at(ret, 0, 0, errno(libc::EPERM)),
        at(jeq, 0, 1, libc::SYS_openat as u32),
        at(ret, 0, 0, errno(libc::ENOENT)),
        at(jeq, 0, 3, libc::SYS_prctl as u32),
        at(ld, 0, 0, arg0_low),
        at(jeq, 0, 1, PR_GET_AUXV),
        at(ret, 0, 0, errno(libc::EINVAL)),
        at(ret, 0, 0, libc::SECCOMP_RET_ALLOW),
    ];
    install_seccomp_filter(&mut program);
}

/// Found while the address space is at its limit (so no probe can map anything), the page
/// size is the kernel's; a mapping then grows "within its last page" only over bytes the
/// kernel mapped. With the size guessed as 64 KiB on a 4 KiB kernel, `remap` grew a 4 KiB
/// mapping to the next 64 KiB boundary without a call, and the slice over the new bytes
/// faulted (`SIGSEGV` from safe code).
#[test]
fn without_auxv_or_madvise_the_page_size_is_still_the_kernels() {
    if is_qemu_user() {
        skip!("qemu-user refuses seccomp filters (PR_SET_SECCOMP): no auxv source can be hidden");
    }
    // SAFETY: sysconf reads a constant of the C library (which had the auxv at start-up).
    let real = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
    let end = in_child(|| {
        hide_the_auxv_and_refuse_madvise();
        let old = set_soft_limit(libc::RLIMIT_AS, 0);
        let found = mman::page_size();
        restore_limit(libc::RLIMIT_AS, old);
        if found != real {
            write_stderr(&format!("page_size() {found}, the kernel's {real}\n"));
        }
        check_growth_within_the_last_page(found, real)
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

/// In a child whose page size was `found` on a kernel of `real`: safe code only, a mapping
/// of one kernel page grown to the end of what the crate takes for its last page; every
/// byte lent must be readable. Its exit code: 1 if the size was wrong, 2 if the mapping was
/// refused (with no stack top known, a test thread asking: see
/// `a_thread_with_no_stack_top_known_maps_past_what_lies_below_its_reach`).
fn check_growth_within_the_last_page(found: usize, real: usize) -> i32 {
    let mut mapping = match mman::Mapping::anonymous(real) {
        Ok(mapping) => mapping,
        Err(e) => {
            write_stderr(&format!("map after the probe: {e:?}\n"));
            return 2;
        }
    };
    let start = mapping.as_ptr() as usize;
    let to_boundary = (start + real).next_multiple_of(64 * 1024) - start;
    if mapping.remap(to_boundary, false).is_ok() {
        let bytes = mapping.as_slice().expect("private memory lends slices");
        let sum: u64 = bytes.iter().map(|&b| u64::from(b)).sum();
        assert_eq!(sum, 0);
    }
    i32::from(found != real)
}

/// With no auxiliary vector, a thread other than the main one does not know where the main
/// stack is: everything above its own stack, less the stack limit and guard gap, is taken
/// for the main stack's reach, and a mapping the kernel places there is asked for again
/// below. Those places stepped down by the mapping's length, 64 pages at most: where a C
/// library's arena (64 MiB) lay below, every one was taken, and the mapping was refused
/// (`ENOMEM`, about 1 run in 15 of this binary's tests). Here 70 MiB below the reach are
/// filled (more than the 64 page-sized steps of a 4 KiB kernel), and a hole is left above
/// for the kernel's first choice.
#[test]
fn a_thread_with_no_stack_top_known_maps_past_what_lies_below_its_reach() {
    if is_qemu_user() {
        skip!("qemu-user refuses seccomp filters (PR_SET_SECCOMP): no auxv source can be hidden");
    }
    let limit = limit(libc::RLIMIT_STACK);
    if limit.rlim_cur == libc::RLIM_INFINITY {
        skip!("RLIMIT_STACK is unlimited: the reach is then RAM and swap deep");
    }
    // SAFETY: sysconf reads a constant of the C library (mman is not asked: its answer is
    // cached process-wide, and each test here needs its child to be the first to ask).
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
    let fill = 70 << 20;
    let mib = 1 << 20;
    let end = std::thread::spawn(move || {
        in_child(move || {
            let local = 0u8;
            let here = std::ptr::addr_of!(local) as usize;
            // The reach as the crate computes it (its own frame is a little deeper).
            let floor = (here - limit.rlim_cur as usize - 256 * page) & !(page - 1);
            if floor < 4 * fill {
                return 78; // too little address space below (a 32-bit process)
            }
            // SAFETY: anonymous mappings of this child's own, at places nothing of it
            // uses (MAP_FIXED_NOREPLACE refuses those that are taken).
            let map = |at: usize, len: usize, flags: i32| unsafe {
                let flags = flags | libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE;
                libc::mmap(at as *mut libc::c_void, len, libc::PROT_NONE, flags, -1, 0)
            };
            let first_choice = map(0, page, 0);
            let mut at = floor + mib;
            while at > floor - fill {
                at -= mib;
                if map(at, mib, libc::MAP_FIXED_NOREPLACE) == libc::MAP_FAILED {
                    // Partly taken: the rest page by page.
                    for page_at in (at..at + mib).step_by(page) {
                        map(page_at, page, libc::MAP_FIXED_NOREPLACE);
                    }
                }
            }
            // SAFETY: the page mapped above, which nothing refers to.
            unsafe { libc::munmap(first_choice, page) };
            if (first_choice as usize) < floor {
                return 77; // the kernel's own choice was below the reach: nothing to show
            }
            hide_the_auxv_and_refuse_madvise();
            match mman::Mapping::anonymous(page) {
                Ok(mapping) if (mapping.as_ptr() as usize) < floor - fill => 0,
                Ok(mapping) => {
                    write_stderr(&format!(
                        "placed at {:p}, reach from {floor:#x}\n",
                        mapping.as_ptr()
                    ));
                    1
                }
                Err(e) => {
                    write_stderr(&format!("refused: {e:?}\n"));
                    2
                }
            }
        })
    })
    .join()
    .expect("the thread");
    if end == ChildEnd::Exited(77) {
        skip!("the kernel placed a page below the reach of its own accord: no hole above it");
    }
    if end == ChildEnd::Exited(78) {
        skip!("less than 280 MiB of address space below this thread's stack's reach");
    }
    assert_eq!(
        end,
        ChildEnd::Exited(0),
        "1: placed in the reach; 2: refused"
    );
}

/// Where nothing answers (the auxiliary vector hidden, `madvise`, `mprotect` and `msync`
/// refused), the process stops rather than guess.
#[test]
fn with_nothing_to_ask_the_process_stops_rather_than_guess() {
    if is_qemu_user() {
        skip!("qemu-user refuses seccomp filters (PR_SET_SECCOMP): no auxv source can be hidden");
    }
    let end = in_child(|| {
        hide_the_auxv_and_refuse_madvise();
        let ld = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
        let jeq = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
        let ret = (libc::BPF_RET | libc::BPF_K) as u16;
        let at = |code, jt, jf, k| libc::sock_filter { code, jt, jf, k };
        let mut program = [
            at(ld, 0, 0, 0),
            at(jeq, 1, 0, libc::SYS_mprotect as u32),
            at(jeq, 0, 1, libc::SYS_msync as u32),
            at(ret, 0, 0, libc::SECCOMP_RET_ERRNO | libc::EPERM as u32),
            at(ret, 0, 0, libc::SECCOMP_RET_ALLOW),
        ];
        install_seccomp_filter(&mut program);
        let found = mman::page_size();
        write_stderr(&format!("page_size() answered {found}\n"));
        0
    });
    assert_eq!(end, ChildEnd::Exited(127));
}

/// Makes `prctl(PR_GET_AUXV)` fail as on kernels before 6.4.
fn hide_pr_get_auxv() {
    let ld = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
    let jeq = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
    let ret = (libc::BPF_RET | libc::BPF_K) as u16;
    let arg0_low = if cfg!(target_endian = "big") { 20 } else { 16 };
    let at = |code, jt, jf, k| libc::sock_filter { code, jt, jf, k };
    let mut program = [
        at(ld, 0, 0, 0),
        at(jeq, 0, 3, libc::SYS_prctl as u32),
        at(ld, 0, 0, arg0_low),
        at(jeq, 0, 1, PR_GET_AUXV),
        at(ret, 0, 0, libc::SECCOMP_RET_ERRNO | libc::EINVAL as u32),
        at(ret, 0, 0, libc::SECCOMP_RET_ALLOW),
    ];
    install_seccomp_filter(&mut program);
}

/// In a child of its own user and mount namespace: `place` puts the forged vector (the real
/// stack addresses, where the stack's reach lies, and a page size of 64 KiB) at
/// `/proc/self/auxv`, `PR_GET_AUXV` is hidden, and `check` gets the page size the crate
/// found and the kernel's; the child exits with what `check` answers, 77 where there is no
/// namespace to mount in. `None`: the test is to skip, its reason reported.
fn with_a_forged_auxv(
    place: impl FnOnce(Vec<u8>),
    check: impl FnOnce(usize, usize) -> i32,
) -> Option<ChildEnd> {
    if is_qemu_user() {
        report_skip(
            "qemu-user refuses seccomp filters (PR_SET_SECCOMP): PR_GET_AUXV cannot be hidden",
        );
        return None;
    }
    // SAFETY: sysconf reads a constant of the C library.
    let real = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let (execfn, random) = unsafe {
        let value = |key| libc::getauxval(key) as usize;
        (value(libc::AT_EXECFN), value(libc::AT_RANDOM))
    };
    let end = in_child(|| {
        if unsafe { libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS) } != 0 {
            return 77; // no user namespaces here: reported as a skip below
        }
        // Files are made as root of the namespace, mapped to this user.
        std::fs::write("/proc/self/uid_map", format!("0 {uid} 1")).expect("uid_map");
        std::fs::write("/proc/self/setgroups", "deny").expect("setgroups");
        std::fs::write("/proc/self/gid_map", format!("0 {gid} 1")).expect("gid_map");
        place(
            [31, execfn, 25, random, 6, 64 * 1024, 0, 0]
                .iter()
                .flat_map(|word| word.to_ne_bytes())
                .collect(),
        );
        hide_pr_get_auxv();
        let found = mman::page_size();
        if found != real {
            write_stderr(&format!("page_size() {found}, the kernel's {real}\n"));
        }
        check(found, real)
    });
    if end == ChildEnd::Exited(77) {
        report_skip("unshare(CLONE_NEWUSER | CLONE_NEWNS) refused: no namespace to mount in");
        return None;
    }
    Some(end)
}

/// Mounts `fs` (with `flags`) from `source` at `target`; in a child, exits 3 if refused.
fn mount(
    source: &std::ffi::CStr,
    target: &std::ffi::CStr,
    fs: &std::ffi::CStr,
    flags: libc::c_ulong,
) {
    // SAFETY: NUL-terminated strings, no data.
    let done = unsafe {
        libc::mount(
            source.as_ptr(),
            target.as_ptr(),
            fs.as_ptr(),
            flags,
            std::ptr::null(),
        )
    };
    if done != 0 {
        write_stderr(&format!("mount {target:?}: {}\n", last_errno()));
        std::process::exit(3);
    }
}

/// A file at `/proc/self/auxv` that is not procfs's (a `/proc` that is a plain directory
/// of a container image, or any filesystem mounted there) says nothing about the process:
/// its `AT_PAGESZ` must not become the page size. Before, a 64 KiB `AT_PAGESZ` written to
/// a tmpfs over `/proc` (in a user and mount namespace of the child's own) was believed on
/// a 4 KiB kernel, and a `remap` "within the last page" lent unmapped bytes (`SIGSEGV`).
#[test]
fn an_auxv_file_outside_procfs_is_not_believed() {
    let place = |forged: Vec<u8>| {
        mount(c"none", c"/proc", c"tmpfs", 0);
        std::fs::create_dir("/proc/self").expect("mkdir");
        std::fs::write("/proc/self/auxv", forged).expect("forged auxv");
    };
    let check = check_growth_within_the_last_page;
    if let Some(end) = with_a_forged_auxv(place, check) {
        assert_eq!(end, ChildEnd::Exited(0), "1: believed; 3: a mount failed");
    }
}

/// Review round 3: the exception for files no path names (qemu-user serves its guest's
/// vector from a memfd) also took a file someone unlinked after bind-mounting it at
/// `/proc/self/auxv` (its link count 0, on tmpfs like a memfd): a forged page size of
/// 64 KiB was believed on a 4 KiB kernel. Such a file is the root of a mount, which no
/// memfd opened at that path is.
#[test]
fn an_unlinked_file_bind_mounted_at_the_auxv_path_is_not_believed() {
    let dir = std::env::temp_dir().join(unique_name("auxv-bind"));
    std::fs::create_dir(&dir).expect("mkdir");
    let path = |name: &str| {
        std::ffi::CString::new(dir.join(name).into_os_string().into_encoded_bytes())
            .expect("no NUL")
    };
    let place = |forged: Vec<u8>| {
        // A tmpfs of our own, where the forged vector is written, then bind-mounted at the
        // auxv path, then unlinked: a link count of 0, on tmpfs, like qemu-user's memfd.
        mount(c"none", &path(""), c"tmpfs", 0);
        std::fs::write(dir.join("forged"), forged).expect("forged auxv");
        mount(c"none", c"/proc", c"tmpfs", 0);
        std::fs::create_dir("/proc/self").expect("mkdir");
        std::fs::write("/proc/self/auxv", b"").expect("bind target");
        mount(&path("forged"), c"/proc/self/auxv", c"none", libc::MS_BIND);
        std::fs::remove_file(dir.join("forged")).expect("unlink");
    };
    let end = with_a_forged_auxv(place, |found, real| i32::from(found != real));
    let _ = std::fs::remove_dir(&dir);
    if let Some(end) = end {
        assert_eq!(end, ChildEnd::Exited(0), "1: believed; 3: a mount failed");
    }
}
