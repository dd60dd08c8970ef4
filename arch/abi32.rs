//! Argument encodings shared by the 32-bit ABIs (i386, arm EABI), which differ from
//! `abi64.rs` wherever a value can exceed 32 bits:
//! - `mmap` is `mmap2`, whose offset counts 4096-byte units (whatever the page size), so an
//!   offset that is not a multiple of 4096, or whose unit count does not fit a register, is
//!   `EINVAL` here, before any call;
//! - `fstatfs` is `fstatfs64`, which takes the size of its `struct statfs64` (84 bytes on
//!   both: arm packs it to 4-byte alignment, as i386's alignment already is);
//! - `struct shmid64_ds` holds 32-bit words: `shm_segsz` follows the 36-byte `ipc64_perm`.
//!
//! A 64-bit value travels as two registers, low word first, but arm puts the pair in an
//! even/odd register pair and i386 does not: each architecture writes its own `ftruncate`
//! from [`halves`].

use super::{nr, syscall3, syscall6};

/// `-EINVAL` as the kernel returns it: what `mmap` answers for an offset `mmap2` cannot
/// express, without asking the kernel.
const EINVAL: usize = (crate::Errno::EINVAL.raw() as usize).wrapping_neg();

/// The unit of `mmap2`'s offset on i386 and arm, on kernels of any page size.
const MMAP2_UNIT: u64 = 4096;

/// `mmap` through `mmap2`: the byte offset becomes a count of 4096-byte units.
///
/// # Safety
/// As for the `mmap` system call: the caller answers for what a fixed mapping replaces.
#[inline(always)]
pub(crate) unsafe fn mmap(
    addr: usize,
    len: usize,
    prot: usize,
    flags: usize,
    fd: usize,
    offset: u64,
) -> usize {
    if offset % MMAP2_UNIT != 0 {
        return EINVAL;
    }
    let Ok(units) = usize::try_from(offset / MMAP2_UNIT) else {
        return EINVAL;
    };
    // SAFETY: forwarded to the caller.
    unsafe { syscall6(nr::MMAP2, addr, len, prot, flags, fd, units) }
}

/// A 64-bit value as the two registers that carry it: `(low, high)`.
#[inline(always)]
pub(crate) fn halves(value: u64) -> (usize, usize) {
    (value as u32 as usize, (value >> 32) as usize)
}

/// `fallocate`: `fd`, `mode`, then the offset's and the length's low and high words. The
/// same on both: i386 takes six registers in a row (its ia32 entry), and on arm the two
/// pairs fall in `r2`/`r3` and `r4`/`r5`, already the even/odd pairs EABI wants.
///
/// # Safety
/// Punching or collapsing a range of a file that is mapped changes what its mappings see;
/// the caller answers for it.
#[inline(always)]
pub(crate) unsafe fn fallocate(fd: usize, mode: usize, offset: u64, len: u64) -> usize {
    let (offset_low, offset_high) = halves(offset);
    let (len_low, len_high) = halves(len);
    // SAFETY: forwarded to the caller.
    unsafe {
        syscall6(
            nr::FALLOCATE,
            fd,
            mode,
            offset_low,
            offset_high,
            len_low,
            len_high,
        )
    }
}

/// `struct statfs64` of i386 and arm: 84 bytes, `f_type` the first 32-bit word and
/// `f_bsize` the second.
pub(crate) type Statfs = [u32; 21];

/// `f_type` of a [`Statfs`] the kernel filled.
pub(crate) fn statfs_type(buf: &Statfs) -> u32 {
    buf[0]
}

/// `f_bsize` of a [`Statfs`] the kernel filled.
pub(crate) fn statfs_block_size(buf: &Statfs) -> usize {
    buf[1] as usize
}

/// `fstatfs64` into a [`Statfs`]; the kernel checks the size it is given (`EINVAL` if it is
/// not its structure's).
///
/// # Safety
/// `buf` must be valid for writes of a whole [`Statfs`].
#[inline(always)]
pub(crate) unsafe fn fstatfs(fd: usize, buf: *mut Statfs) -> usize {
    let size = core::mem::size_of::<Statfs>();
    // SAFETY: forwarded to the caller.
    unsafe { syscall3(nr::FSTATFS64, fd, size, buf as usize) }
}

/// Offset of `shm_segsz` in the 32-bit `struct shmid64_ds` (asm-generic, which i386 and arm
/// use): a 36-byte `ipc64_perm` (five ids, the mode and its padding, the sequence number,
/// two reserved words), then the size.
pub(crate) const SHMID_DS_SEGSZ_OFFSET: usize = 36;

#[cfg(test)]
mod tests {
    use core::mem::{offset_of, size_of};
    use linux_raw_sys::general as uapi;

    /// The uapi headers of the target (`linux-raw-sys` is generated from each
    /// architecture's): the size `fstatfs64` checks, and the two fields read.
    #[test]
    fn statfs64_is_the_uapi_headers_layout() {
        assert_eq!(size_of::<super::Statfs>(), size_of::<uapi::statfs64>());
        assert_eq!(offset_of!(uapi::statfs64, f_type), 0);
        assert_eq!(offset_of!(uapi::statfs64, f_bsize), 4);
    }

    /// glibc's `shmid_ds` is the kernel's `shmid64_ds` (the libc crate's copy of it).
    #[test]
    fn shm_segsz_lies_where_glibc_puts_it() {
        assert_eq!(
            offset_of!(libc::shmid_ds, shm_segsz),
            super::SHMID_DS_SEGSZ_OFFSET
        );
    }

    #[test]
    fn halves_are_low_then_high() {
        assert_eq!(super::halves(0x1_2345_6789), (0x2345_6789, 1));
        assert_eq!(super::halves(u64::MAX), (usize::MAX, usize::MAX));
    }
}
