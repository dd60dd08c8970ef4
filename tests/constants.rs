//! Every flag value, advice value and errno of the crate against the platform's own
//! definitions: glibc's (through `libc`, built for the target) and the kernel's uapi headers
//! (through `linux-raw-sys`). Syscall numbers are private to the crate; `sc_crosscheck.rs`
//! checks them by behaviour.

#[macro_use]
mod common;

use std::ffi::CStr;

use linux_raw_sys::general as uapi;
use mman::{
    Advice, Errno, MapFlags, MemfdFlags, MlockAllFlags, MlockFlags, Mode, MremapFlags, MsyncFlags,
    OFlags, Prot, Seals, ShmAtFlags, ShmGetFlags,
};

/// `same!(ours, theirs...)`: the crate's value equals each reference value (compared as
/// 32-bit words, so `MAP_HUGE_16GB`, negative as a C `int`, compares equal).
macro_rules! same {
    ($ours:expr, $($theirs:expr),+ $(,)?) => {
        $(
            assert_eq!(
                $ours as u32, $theirs as u32,
                "{} = {:#x}, but {} = {:#x}",
                stringify!($ours), $ours as u32, stringify!($theirs), $theirs as u32,
            );
        )+
    };
}

#[test]
fn prot_matches_libc_and_uapi() {
    same!(Prot::empty().bits(), libc::PROT_NONE, uapi::PROT_NONE);
    same!(Prot::READ.bits(), libc::PROT_READ, uapi::PROT_READ);
    same!(Prot::WRITE.bits(), libc::PROT_WRITE, uapi::PROT_WRITE);
    same!(Prot::EXEC.bits(), libc::PROT_EXEC, uapi::PROT_EXEC);
    same!(Prot::SEM.bits(), uapi::PROT_SEM);
    same!(
        Prot::GROWSDOWN.bits(),
        libc::PROT_GROWSDOWN,
        uapi::PROT_GROWSDOWN
    );
    same!(Prot::GROWSUP.bits(), libc::PROT_GROWSUP, uapi::PROT_GROWSUP);
}

#[cfg(target_arch = "aarch64")]
#[test]
fn prot_arm64_bti_mte_match_libc_and_uapi() {
    same!(Prot::BTI.bits(), libc::PROT_BTI, uapi::PROT_BTI);
    same!(Prot::MTE.bits(), libc::PROT_MTE, uapi::PROT_MTE);
}

#[test]
fn map_flags_match_libc_and_uapi() {
    same!(MapFlags::SHARED.bits(), libc::MAP_SHARED, uapi::MAP_SHARED);
    same!(
        MapFlags::PRIVATE.bits(),
        libc::MAP_PRIVATE,
        uapi::MAP_PRIVATE
    );
    same!(
        MapFlags::SHARED_VALIDATE.bits(),
        libc::MAP_SHARED_VALIDATE,
        uapi::MAP_SHARED_VALIDATE
    );
    same!(
        MapFlags::DROPPABLE.bits(),
        libc::MAP_DROPPABLE,
        uapi::MAP_DROPPABLE
    );
    same!(MapFlags::FIXED.bits(), libc::MAP_FIXED, uapi::MAP_FIXED);
    same!(
        MapFlags::ANONYMOUS.bits(),
        libc::MAP_ANONYMOUS,
        uapi::MAP_ANONYMOUS
    );
    same!(
        MapFlags::GROWSDOWN.bits(),
        libc::MAP_GROWSDOWN,
        uapi::MAP_GROWSDOWN
    );
    same!(MapFlags::LOCKED.bits(), libc::MAP_LOCKED, uapi::MAP_LOCKED);
    same!(
        MapFlags::NORESERVE.bits(),
        libc::MAP_NORESERVE,
        uapi::MAP_NORESERVE
    );
    same!(
        MapFlags::POPULATE.bits(),
        libc::MAP_POPULATE,
        uapi::MAP_POPULATE
    );
    same!(
        MapFlags::NONBLOCK.bits(),
        libc::MAP_NONBLOCK,
        uapi::MAP_NONBLOCK
    );
    same!(MapFlags::STACK.bits(), libc::MAP_STACK, uapi::MAP_STACK);
    same!(
        MapFlags::HUGETLB.bits(),
        libc::MAP_HUGETLB,
        uapi::MAP_HUGETLB
    );
    #[cfg(not(target_arch = "mips64"))]
    same!(MapFlags::SYNC.bits(), libc::MAP_SYNC, uapi::MAP_SYNC);
    same!(
        MapFlags::FIXED_NOREPLACE.bits(),
        libc::MAP_FIXED_NOREPLACE,
        uapi::MAP_FIXED_NOREPLACE
    );
    #[cfg(not(target_arch = "mips64"))]
    same!(MapFlags::UNINITIALIZED.bits(), uapi::MAP_UNINITIALIZED);
}

/// mips numbers most mapping flags its own way (`arch/mips/include/uapi/asm/mman.h`), and has
/// no `MAP_SYNC` or `MAP_UNINITIALIZED`: its `MAP_HUGETLB` is asm-generic's `MAP_SYNC` bit.
/// Spelled out, in case both references were ever built for the wrong architecture.
#[cfg(target_arch = "mips64")]
#[test]
fn mips_mapping_flags_have_mips_values() {
    same!(MapFlags::NORESERVE.bits(), 0x400);
    same!(MapFlags::ANONYMOUS.bits(), 0x800);
    same!(MapFlags::GROWSDOWN.bits(), 0x1000);
    same!(MapFlags::LOCKED.bits(), 0x8000);
    same!(MapFlags::POPULATE.bits(), 0x1_0000);
    same!(MapFlags::NONBLOCK.bits(), 0x2_0000);
    same!(MapFlags::STACK.bits(), 0x4_0000);
    same!(MapFlags::HUGETLB.bits(), 0x8_0000);
    same!(MapFlags::FIXED_NOREPLACE.bits(), 0x10_0000);
    same!(Prot::SEM.bits(), 0x10);
    // No flag the crate defines shares a bit with another (the huge page size field aside).
    let flags: Vec<u32> = MapFlags::all()
        .iter_names()
        .filter(|(name, _)| !["SHARED", "PRIVATE", "SHARED_VALIDATE", "DROPPABLE"].contains(name))
        .map(|(_, flag)| flag.bits())
        .collect();
    for (i, a) in flags.iter().enumerate() {
        for b in &flags[i + 1..] {
            assert_eq!(a & b, 0, "{a:#x} and {b:#x} overlap");
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[test]
fn map_32bit_matches_libc_and_uapi_on_x86_64() {
    same!(MapFlags::_32BIT.bits(), libc::MAP_32BIT, uapi::MAP_32BIT);
}

#[test]
fn map_huge_size_encodings_match_libc_and_uapi() {
    same!(
        MapFlags::HUGE_64KB.bits(),
        libc::MAP_HUGE_64KB,
        uapi::MAP_HUGE_64KB
    );
    same!(
        MapFlags::HUGE_512KB.bits(),
        libc::MAP_HUGE_512KB,
        uapi::MAP_HUGE_512KB
    );
    same!(
        MapFlags::HUGE_1MB.bits(),
        libc::MAP_HUGE_1MB,
        uapi::MAP_HUGE_1MB
    );
    same!(
        MapFlags::HUGE_2MB.bits(),
        libc::MAP_HUGE_2MB,
        uapi::MAP_HUGE_2MB
    );
    same!(
        MapFlags::HUGE_8MB.bits(),
        libc::MAP_HUGE_8MB,
        uapi::MAP_HUGE_8MB
    );
    same!(
        MapFlags::HUGE_16MB.bits(),
        libc::MAP_HUGE_16MB,
        uapi::MAP_HUGE_16MB
    );
    same!(
        MapFlags::HUGE_32MB.bits(),
        libc::MAP_HUGE_32MB,
        uapi::MAP_HUGE_32MB
    );
    same!(
        MapFlags::HUGE_256MB.bits(),
        libc::MAP_HUGE_256MB,
        uapi::MAP_HUGE_256MB
    );
    same!(
        MapFlags::HUGE_512MB.bits(),
        libc::MAP_HUGE_512MB,
        uapi::MAP_HUGE_512MB
    );
    same!(
        MapFlags::HUGE_1GB.bits(),
        libc::MAP_HUGE_1GB,
        uapi::MAP_HUGE_1GB
    );
    same!(
        MapFlags::HUGE_2GB.bits(),
        libc::MAP_HUGE_2GB,
        uapi::MAP_HUGE_2GB
    );
    same!(
        MapFlags::HUGE_16GB.bits(),
        libc::MAP_HUGE_16GB,
        uapi::MAP_HUGE_16GB
    );
    same!(
        MapFlags::huge_page_size_log2(16).bits(),
        libc::MAP_HUGETLB | libc::MAP_HUGE_64KB
    );
    same!(
        MapFlags::huge_page_size_log2(21).bits(),
        libc::MAP_HUGETLB | libc::MAP_HUGE_2MB
    );
    same!(
        MapFlags::huge_page_size_log2(30).bits(),
        libc::MAP_HUGETLB | libc::MAP_HUGE_1GB
    );
    same!(
        MapFlags::huge_page_size_log2(34).bits(),
        uapi::MAP_HUGETLB | uapi::MAP_HUGE_16GB
    );
    same!(MapFlags::huge_page_size_log2(0).bits(), uapi::MAP_HUGETLB);
}

#[test]
fn huge_size_field_is_masked_and_kept() {
    // A log2 beyond the 6-bit field must not spill into the bits above it (bit 32 does not
    // exist in a u32; 64 wraps to 0 in the field) ...
    assert_eq!(MapFlags::huge_page_size_log2(64), MapFlags::HUGETLB);
    // ... and the field's bits are accepted by `from_bits`, as the kernel accepts them.
    let encoded = uapi::MAP_HUGETLB | uapi::MAP_HUGE_16GB | uapi::MAP_PRIVATE | uapi::MAP_ANONYMOUS;
    assert_eq!(
        MapFlags::from_bits(encoded).map(|f| f.bits()),
        Some(encoded)
    );
    let mfd = uapi::MFD_HUGETLB | uapi::MFD_HUGE_1GB;
    assert_eq!(MemfdFlags::from_bits(mfd).map(|f| f.bits()), Some(mfd));
    // SHM_HUGE_* use the same encoding as MAP_HUGE_* (hugetlb_encode.h); glibc has no SHM_HUGE_*.
    let shm = libc::SHM_HUGETLB as u32 | uapi::MAP_HUGE_2MB | 0o600;
    assert_eq!(ShmGetFlags::from_bits(shm).map(|f| f.bits()), Some(shm));
}

#[test]
fn msync_mremap_mlock_flags_match_libc_and_uapi() {
    same!(MsyncFlags::ASYNC.bits(), libc::MS_ASYNC, uapi::MS_ASYNC);
    same!(
        MsyncFlags::INVALIDATE.bits(),
        libc::MS_INVALIDATE,
        uapi::MS_INVALIDATE
    );
    same!(MsyncFlags::SYNC.bits(), libc::MS_SYNC, uapi::MS_SYNC);
    same!(
        MremapFlags::MAYMOVE.bits(),
        libc::MREMAP_MAYMOVE,
        uapi::MREMAP_MAYMOVE
    );
    same!(
        MremapFlags::FIXED.bits(),
        libc::MREMAP_FIXED,
        uapi::MREMAP_FIXED
    );
    same!(
        MremapFlags::DONTUNMAP.bits(),
        libc::MREMAP_DONTUNMAP,
        uapi::MREMAP_DONTUNMAP
    );
    same!(
        MlockFlags::ONFAULT.bits(),
        libc::MLOCK_ONFAULT,
        uapi::MLOCK_ONFAULT
    );
    same!(
        MlockAllFlags::CURRENT.bits(),
        libc::MCL_CURRENT,
        uapi::MCL_CURRENT
    );
    same!(
        MlockAllFlags::FUTURE.bits(),
        libc::MCL_FUTURE,
        uapi::MCL_FUTURE
    );
    same!(
        MlockAllFlags::ONFAULT.bits(),
        libc::MCL_ONFAULT,
        uapi::MCL_ONFAULT
    );
}

#[test]
fn memfd_flags_and_seals_match_libc_and_uapi() {
    same!(
        MemfdFlags::CLOEXEC.bits(),
        libc::MFD_CLOEXEC,
        uapi::MFD_CLOEXEC
    );
    same!(
        MemfdFlags::ALLOW_SEALING.bits(),
        libc::MFD_ALLOW_SEALING,
        uapi::MFD_ALLOW_SEALING
    );
    same!(
        MemfdFlags::HUGETLB.bits(),
        libc::MFD_HUGETLB,
        uapi::MFD_HUGETLB
    );
    same!(
        MemfdFlags::NOEXEC_SEAL.bits(),
        libc::MFD_NOEXEC_SEAL,
        uapi::MFD_NOEXEC_SEAL
    );
    same!(MemfdFlags::EXEC.bits(), libc::MFD_EXEC, uapi::MFD_EXEC);
    same!(
        MemfdFlags::huge_page_size_log2(21).bits(),
        libc::MFD_HUGETLB | libc::MFD_HUGE_2MB
    );
    same!(
        MemfdFlags::huge_page_size_log2(30).bits(),
        uapi::MFD_HUGETLB | uapi::MFD_HUGE_1GB
    );
    same!(Seals::SEAL.bits(), libc::F_SEAL_SEAL, uapi::F_SEAL_SEAL);
    same!(
        Seals::SHRINK.bits(),
        libc::F_SEAL_SHRINK,
        uapi::F_SEAL_SHRINK
    );
    same!(Seals::GROW.bits(), libc::F_SEAL_GROW, uapi::F_SEAL_GROW);
    same!(Seals::WRITE.bits(), libc::F_SEAL_WRITE, uapi::F_SEAL_WRITE);
    same!(
        Seals::FUTURE_WRITE.bits(),
        libc::F_SEAL_FUTURE_WRITE,
        uapi::F_SEAL_FUTURE_WRITE
    );
    same!(Seals::EXEC.bits(), libc::F_SEAL_EXEC, uapi::F_SEAL_EXEC);
}

#[test]
fn open_flags_match_libc_and_uapi() {
    same!(OFlags::RDONLY.bits(), libc::O_RDONLY, uapi::O_RDONLY);
    same!(OFlags::WRONLY.bits(), libc::O_WRONLY, uapi::O_WRONLY);
    same!(OFlags::RDWR.bits(), libc::O_RDWR, uapi::O_RDWR);
    same!(OFlags::CREAT.bits(), libc::O_CREAT, uapi::O_CREAT);
    same!(OFlags::EXCL.bits(), libc::O_EXCL, uapi::O_EXCL);
    same!(OFlags::NOCTTY.bits(), libc::O_NOCTTY, uapi::O_NOCTTY);
    same!(OFlags::TRUNC.bits(), libc::O_TRUNC, uapi::O_TRUNC);
    same!(OFlags::APPEND.bits(), libc::O_APPEND, uapi::O_APPEND);
    same!(OFlags::NONBLOCK.bits(), libc::O_NONBLOCK, uapi::O_NONBLOCK);
    same!(OFlags::DSYNC.bits(), libc::O_DSYNC, uapi::O_DSYNC);
    same!(OFlags::SYNC.bits(), libc::O_SYNC, uapi::O_SYNC);
    same!(OFlags::CLOEXEC.bits(), libc::O_CLOEXEC, uapi::O_CLOEXEC);
    // These four differ between x86_64 and aarch64.
    same!(OFlags::DIRECT.bits(), libc::O_DIRECT, uapi::O_DIRECT);
    same!(
        OFlags::DIRECTORY.bits(),
        libc::O_DIRECTORY,
        uapi::O_DIRECTORY
    );
    same!(OFlags::NOFOLLOW.bits(), libc::O_NOFOLLOW, uapi::O_NOFOLLOW);
    // These differ on mips.
    same!(OFlags::CREAT.bits(), libc::O_CREAT, uapi::O_CREAT);
    // glibc defines O_LARGEFILE as 0 for 64-bit programs (the kernel forces it on them);
    // the flag's real value is the kernel's.
    same!(OFlags::LARGEFILE.bits(), uapi::O_LARGEFILE);
}

#[cfg(target_arch = "aarch64")]
#[test]
fn open_flags_that_differ_have_arm64_values() {
    // Spelled out, in case both references were ever built for the wrong architecture.
    same!(OFlags::DIRECTORY.bits(), 0x4000);
    same!(OFlags::NOFOLLOW.bits(), 0x8000);
    same!(OFlags::DIRECT.bits(), 0x10000);
    same!(OFlags::LARGEFILE.bits(), 0x20000);
}

#[cfg(target_arch = "mips64")]
#[test]
fn open_flags_that_differ_have_mips_values() {
    same!(OFlags::APPEND.bits(), 0x8);
    same!(OFlags::DSYNC.bits(), 0x10);
    same!(OFlags::NONBLOCK.bits(), 0x80);
    same!(OFlags::CREAT.bits(), 0x100);
    same!(OFlags::TRUNC.bits(), 0x200);
    same!(OFlags::EXCL.bits(), 0x400);
    same!(OFlags::NOCTTY.bits(), 0x800);
    same!(OFlags::LARGEFILE.bits(), 0x2000);
    same!(OFlags::SYNC.bits(), 0x4010);
    same!(OFlags::DIRECT.bits(), 0x8000);
    same!(OFlags::DIRECTORY.bits(), 0x1_0000);
    same!(OFlags::NOFOLLOW.bits(), 0x2_0000);
    same!(OFlags::CLOEXEC.bits(), 0x8_0000);
}

#[cfg(target_arch = "x86_64")]
#[test]
fn open_flags_that_differ_have_generic_values_on_x86_64() {
    same!(OFlags::DIRECTORY.bits(), 0x10000);
    same!(OFlags::NOFOLLOW.bits(), 0x20000);
    same!(OFlags::DIRECT.bits(), 0x4000);
    same!(OFlags::LARGEFILE.bits(), 0x8000);
}

#[test]
fn mode_bits_match_libc() {
    same!(Mode::SUID.bits(), libc::S_ISUID);
    same!(Mode::SGID.bits(), libc::S_ISGID);
    same!(Mode::SVTX.bits(), libc::S_ISVTX);
    same!(Mode::RUSR.bits(), libc::S_IRUSR);
    same!(Mode::WUSR.bits(), libc::S_IWUSR);
    same!(Mode::XUSR.bits(), libc::S_IXUSR);
    same!(Mode::RGRP.bits(), libc::S_IRGRP);
    same!(Mode::WGRP.bits(), libc::S_IWGRP);
    same!(Mode::XGRP.bits(), libc::S_IXGRP);
    same!(Mode::ROTH.bits(), libc::S_IROTH);
    same!(Mode::WOTH.bits(), libc::S_IWOTH);
    same!(Mode::XOTH.bits(), libc::S_IXOTH);
    assert_eq!(Mode::from_bits_truncate(0o600), Mode::RUSR | Mode::WUSR);
    assert_eq!(Mode::all().bits(), 0o7777);
}

#[test]
fn sysv_shm_flags_match_libc() {
    same!(ShmGetFlags::CREAT.bits(), libc::IPC_CREAT);
    same!(ShmGetFlags::EXCL.bits(), libc::IPC_EXCL);
    same!(ShmGetFlags::HUGETLB.bits(), libc::SHM_HUGETLB);
    same!(ShmGetFlags::NORESERVE.bits(), libc::SHM_NORESERVE);
    same!(ShmGetFlags::RUSR.bits(), libc::S_IRUSR);
    same!(ShmGetFlags::WUSR.bits(), libc::S_IWUSR);
    same!(ShmGetFlags::RGRP.bits(), libc::S_IRGRP);
    same!(ShmGetFlags::WGRP.bits(), libc::S_IWGRP);
    same!(ShmGetFlags::ROTH.bits(), libc::S_IROTH);
    same!(ShmGetFlags::WOTH.bits(), libc::S_IWOTH);
    same!(
        ShmGetFlags::huge_page_size_log2(21).bits(),
        libc::SHM_HUGETLB as u32 | uapi::MAP_HUGE_2MB
    );
    same!(
        ShmGetFlags::from_mode(Mode::from_bits_truncate(0o4640)).bits(),
        0o640
    );
    same!(ShmAtFlags::RDONLY.bits(), libc::SHM_RDONLY);
    same!(ShmAtFlags::RND.bits(), libc::SHM_RND);
    same!(ShmAtFlags::REMAP.bits(), libc::SHM_REMAP);
    same!(ShmAtFlags::EXEC.bits(), libc::SHM_EXEC);
    same!(mman::sys::IPC_PRIVATE, libc::IPC_PRIVATE);
}

#[test]
fn pkey_rights_and_shm_name_max_match_uapi() {
    // The libc crate has no PKEY_* constants.
    same!(mman::sys::PKEY_DISABLE_ACCESS, uapi::PKEY_DISABLE_ACCESS);
    same!(mman::sys::PKEY_DISABLE_WRITE, uapi::PKEY_DISABLE_WRITE);
    same!(mman::sys::SHM_NAME_MAX, libc::NAME_MAX, uapi::NAME_MAX);
}

/// `MADV_SOFT_OFFLINE` of the kernel and of glibc: 101, but mips's headers have none (mips
/// cannot enable `CONFIG_MEMORY_FAILURE`, so its kernel answers `EINVAL` to 101 as to any
/// unknown advice), so the crate's 101 is checked against the value itself there.
#[cfg(not(target_arch = "mips64"))]
const SOFT_OFFLINE: (u32, Option<i32>) = (uapi::MADV_SOFT_OFFLINE, Some(libc::MADV_SOFT_OFFLINE));
#[cfg(target_arch = "mips64")]
const SOFT_OFFLINE: (u32, Option<i32>) = (101, None);

#[test]
fn every_advice_matches_libc_and_uapi() {
    let table: &[(Advice, u32, Option<i32>)] = &[
        (Advice::Normal, uapi::MADV_NORMAL, Some(libc::MADV_NORMAL)),
        (Advice::Random, uapi::MADV_RANDOM, Some(libc::MADV_RANDOM)),
        (
            Advice::Sequential,
            uapi::MADV_SEQUENTIAL,
            Some(libc::MADV_SEQUENTIAL),
        ),
        (
            Advice::WillNeed,
            uapi::MADV_WILLNEED,
            Some(libc::MADV_WILLNEED),
        ),
        (
            Advice::DontNeed,
            uapi::MADV_DONTNEED,
            Some(libc::MADV_DONTNEED),
        ),
        (Advice::Free, uapi::MADV_FREE, Some(libc::MADV_FREE)),
        (Advice::Remove, uapi::MADV_REMOVE, Some(libc::MADV_REMOVE)),
        (
            Advice::DontFork,
            uapi::MADV_DONTFORK,
            Some(libc::MADV_DONTFORK),
        ),
        (Advice::DoFork, uapi::MADV_DOFORK, Some(libc::MADV_DOFORK)),
        (
            Advice::Mergeable,
            uapi::MADV_MERGEABLE,
            Some(libc::MADV_MERGEABLE),
        ),
        (
            Advice::Unmergeable,
            uapi::MADV_UNMERGEABLE,
            Some(libc::MADV_UNMERGEABLE),
        ),
        (
            Advice::HugePage,
            uapi::MADV_HUGEPAGE,
            Some(libc::MADV_HUGEPAGE),
        ),
        (
            Advice::NoHugePage,
            uapi::MADV_NOHUGEPAGE,
            Some(libc::MADV_NOHUGEPAGE),
        ),
        (
            Advice::DontDump,
            uapi::MADV_DONTDUMP,
            Some(libc::MADV_DONTDUMP),
        ),
        (Advice::DoDump, uapi::MADV_DODUMP, Some(libc::MADV_DODUMP)),
        (
            Advice::WipeOnFork,
            uapi::MADV_WIPEONFORK,
            Some(libc::MADV_WIPEONFORK),
        ),
        (
            Advice::KeepOnFork,
            uapi::MADV_KEEPONFORK,
            Some(libc::MADV_KEEPONFORK),
        ),
        (Advice::Cold, uapi::MADV_COLD, Some(libc::MADV_COLD)),
        (
            Advice::PageOut,
            uapi::MADV_PAGEOUT,
            Some(libc::MADV_PAGEOUT),
        ),
        (
            Advice::PopulateRead,
            uapi::MADV_POPULATE_READ,
            Some(libc::MADV_POPULATE_READ),
        ),
        (
            Advice::PopulateWrite,
            uapi::MADV_POPULATE_WRITE,
            Some(libc::MADV_POPULATE_WRITE),
        ),
        (
            Advice::DontNeedLocked,
            uapi::MADV_DONTNEED_LOCKED,
            Some(libc::MADV_DONTNEED_LOCKED),
        ),
        (
            Advice::Collapse,
            uapi::MADV_COLLAPSE,
            Some(libc::MADV_COLLAPSE),
        ),
        (
            Advice::HwPoison,
            uapi::MADV_HWPOISON,
            Some(libc::MADV_HWPOISON),
        ),
        (Advice::SoftOffline, SOFT_OFFLINE.0, SOFT_OFFLINE.1),
        // glibc (and so the libc crate) has no MADV_GUARD_* yet.
        (Advice::GuardInstall, uapi::MADV_GUARD_INSTALL, None),
        (Advice::GuardRemove, uapi::MADV_GUARD_REMOVE, None),
    ];
    for &(advice, kernel, glibc) in table {
        assert_eq!(
            advice.raw(),
            kernel,
            "{advice:?} vs the kernel's MADV_ value"
        );
        if let Some(glibc) = glibc {
            assert_eq!(
                advice.raw(),
                glibc as u32,
                "{advice:?} vs glibc's MADV_ value"
            );
        }
    }
    // Every variant is in the table above: 27 distinct values.
    let mut raws: Vec<u32> = table.iter().map(|(a, _, _)| a.raw()).collect();
    raws.sort_unstable();
    raws.dedup();
    assert_eq!(raws.len(), 27);
}

/// `(name, ours, glibc's)` for every errno constant.
macro_rules! errnos {
    ($($name:ident),+ $(,)?) => {
        [$((stringify!($name), Errno::$name, libc::$name)),+]
    };
}

const ALL_ERRNOS: [(&str, Errno, i32); 134] = errnos!(
    EPERM,
    ENOENT,
    ESRCH,
    EINTR,
    EIO,
    ENXIO,
    E2BIG,
    ENOEXEC,
    EBADF,
    ECHILD,
    EAGAIN,
    ENOMEM,
    EACCES,
    EFAULT,
    ENOTBLK,
    EBUSY,
    EEXIST,
    EXDEV,
    ENODEV,
    ENOTDIR,
    EISDIR,
    EINVAL,
    ENFILE,
    EMFILE,
    ENOTTY,
    ETXTBSY,
    EFBIG,
    ENOSPC,
    ESPIPE,
    EROFS,
    EMLINK,
    EPIPE,
    EDOM,
    ERANGE,
    EDEADLK,
    ENAMETOOLONG,
    ENOLCK,
    ENOSYS,
    ENOTEMPTY,
    ELOOP,
    ENOMSG,
    EIDRM,
    ECHRNG,
    EL2NSYNC,
    EL3HLT,
    EL3RST,
    ELNRNG,
    EUNATCH,
    ENOCSI,
    EL2HLT,
    EBADE,
    EBADR,
    EXFULL,
    ENOANO,
    EBADRQC,
    EBADSLT,
    EBFONT,
    ENOSTR,
    ENODATA,
    ETIME,
    ENOSR,
    ENONET,
    ENOPKG,
    EREMOTE,
    ENOLINK,
    EADV,
    ESRMNT,
    ECOMM,
    EPROTO,
    EMULTIHOP,
    EDOTDOT,
    EBADMSG,
    EOVERFLOW,
    ENOTUNIQ,
    EBADFD,
    EREMCHG,
    ELIBACC,
    ELIBBAD,
    ELIBSCN,
    ELIBMAX,
    ELIBEXEC,
    EILSEQ,
    ERESTART,
    ESTRPIPE,
    EUSERS,
    ENOTSOCK,
    EDESTADDRREQ,
    EMSGSIZE,
    EPROTOTYPE,
    ENOPROTOOPT,
    EPROTONOSUPPORT,
    ESOCKTNOSUPPORT,
    EOPNOTSUPP,
    EPFNOSUPPORT,
    EAFNOSUPPORT,
    EADDRINUSE,
    EADDRNOTAVAIL,
    ENETDOWN,
    ENETUNREACH,
    ENETRESET,
    ECONNABORTED,
    ECONNRESET,
    ENOBUFS,
    EISCONN,
    ENOTCONN,
    ESHUTDOWN,
    ETOOMANYREFS,
    ETIMEDOUT,
    ECONNREFUSED,
    EHOSTDOWN,
    EHOSTUNREACH,
    EALREADY,
    EINPROGRESS,
    ESTALE,
    EUCLEAN,
    ENOTNAM,
    ENAVAIL,
    EISNAM,
    EREMOTEIO,
    EDQUOT,
    ENOMEDIUM,
    EMEDIUMTYPE,
    ECANCELED,
    ENOKEY,
    EKEYEXPIRED,
    EKEYREVOKED,
    EKEYREJECTED,
    EOWNERDEAD,
    ENOTRECOVERABLE,
    ERFKILL,
    EHWPOISON,
    // Aliases.
    EWOULDBLOCK,
    EDEADLOCK,
    ENOTSUP,
);

#[test]
fn every_errno_constant_matches_libc() {
    for (name, ours, glibc) in ALL_ERRNOS {
        assert_eq!(ours.raw(), glibc, "Errno::{name}");
        assert_eq!(
            Errno::from_raw(glibc),
            ours,
            "Errno::from_raw(libc::{name})"
        );
    }
}

#[test]
fn errno_constants_cover_every_code_the_kernel_assigns() {
    let mut codes: Vec<i32> = ALL_ERRNOS.iter().map(|(_, e, _)| e.raw()).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes, common::named_errno_codes());
}

#[test]
fn errno_names_are_the_constant_names() {
    for (name, ours, _) in ALL_ERRNOS {
        let canonical = match name {
            "EWOULDBLOCK" => "EAGAIN",
            "EDEADLOCK" if !cfg!(any(target_arch = "powerpc64", target_arch = "mips64")) => {
                "EDEADLK"
            }
            "ENOTSUP" => "EOPNOTSUPP",
            other => other,
        };
        assert_eq!(ours.name(), canonical, "Errno::{name}.name()");
    }
}

fn glibc_strerror(code: i32) -> String {
    // strerror is not thread-safe in general; glibc's returns a static table string for
    // known codes and a thread-local buffer otherwise.
    let text = unsafe { CStr::from_ptr(libc::strerror(code)) };
    text.to_string_lossy().into_owned()
}

#[test]
fn errno_descriptions_match_glibc_strerror() {
    let named = common::named_errno_codes();
    let last = *named.last().expect("codes");
    // (mips's run passes 524, the kernel-internal ENOTSUPP: see the last test.)
    for code in (1..=last).filter(|&code| code != 524) {
        let errno = Errno::from_raw(code);
        let glibc = glibc_strerror(code);
        if code == Errno::EDEADLOCK.raw() && Errno::EDEADLOCK != Errno::EDEADLK {
            // powerpc's and mips's own EDEADLOCK: see the test below.
            continue;
        }
        if named.contains(&code) {
            assert_eq!(errno.description(), glibc, "description of code {code}");
        } else {
            // Unassigned: glibc says "Unknown error 41", as our Display does.
            assert_eq!(errno.description(), "Unknown error");
            assert_eq!(errno.to_string(), glibc, "Display of code {code}");
        }
    }
}

/// glibc has no text for the EDEADLOCK of its own that powerpc (58) and mips (56) have; the
/// crate takes the kernel header's comment (`arch/{powerpc,mips}/include/uapi/asm/errno.h`).
#[cfg(any(target_arch = "powerpc64", target_arch = "mips64"))]
#[test]
fn own_edeadlock_is_named_though_glibc_has_no_text_for_it() {
    let code = if cfg!(target_arch = "mips64") { 56 } else { 58 };
    assert_eq!(Errno::from_raw(code).name(), "EDEADLOCK");
    assert_eq!(
        Errno::from_raw(code).description(),
        "File locking deadlock error"
    );
    assert_eq!(glibc_strerror(code), format!("Unknown error {code}"));
}

#[test]
fn enotsupp_524_is_named_though_glibc_has_no_text_for_it() {
    // The kernel-internal ENOTSUPP leaks to user space on some paths; the crate names it.
    assert_eq!(Errno::from_raw(524).name(), "ENOTSUPP");
    assert_eq!(glibc_strerror(524), "Unknown error 524");
}
