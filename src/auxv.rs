//! Reading the auxiliary vector the kernel gave this process, without libc.

use core::ffi::CStr;

use crate::fd::AsFd;
use crate::{sys, Errno, Mode, OFlags, Result};

/// `AT_NULL` ends the vector.
pub(crate) const AT_NULL: usize = 0;
/// `AT_PAGESZ`: the page size, the same key on every architecture.
pub(crate) const AT_PAGESZ: usize = 6;
/// `AT_RANDOM`: the address of 16 random bytes the kernel put at the top of the stack.
pub(crate) const AT_RANDOM: usize = 25;
/// `AT_EXECFN`: the address of the program's file name, at the top of the stack.
pub(crate) const AT_EXECFN: usize = 31;

/// The value of `key` in this process's auxiliary vector, from `prctl(PR_GET_AUXV)` or,
/// on kernels before 6.4, `/proc/self/auxv`.
pub(crate) fn value(key: usize) -> Option<usize> {
    // 32 pairs: the keys of interest come early, and a longer vector is cut, not overflowed.
    let mut words = [0usize; 64];
    let filled = sys::prctl_get_auxv(&mut words)
        .or_else(|_| read_proc_self_auxv(&mut words))
        .ok()?;
    find(words.get(..filled)?, key)
}

/// Looks `key` up in `(type, value)` word pairs, stopping at `AT_NULL`.
fn find(words: &[usize], key: usize) -> Option<usize> {
    words
        .chunks_exact(2)
        .map(|pair| (pair[0], pair[1]))
        .take_while(|&(kind, _)| kind != AT_NULL)
        .find_map(|(kind, value)| (kind == key).then_some(value))
}

/// Fills `words` from `/proc/self/auxv`; returns how many whole words were read. `ENODEV`
/// unless the file is the kernel's (see `FileBacking::is_served_by_the_kernel`): where
/// `/proc` is not mounted, a file at that path (a container image's, say) is anyone's, and
/// a page size or stack top believed from it would make slices reach memory the kernel
/// never mapped.
fn read_proc_self_auxv(words: &mut [usize]) -> Result<usize> {
    const PATH: &CStr = c"/proc/self/auxv";
    let file = sys::open(PATH, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    if !sys::file_backing(file.as_fd())?.is_served_by_the_kernel() {
        return Err(Errno::ENODEV);
    }
    let len = core::mem::size_of_val(words);
    // SAFETY: the bytes of `words` are its whole extent; any byte pattern is a valid usize.
    let bytes = unsafe { core::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<u8>(), len) };
    let mut filled = 0;
    while let Some(rest) = bytes.get_mut(filled..).filter(|rest| !rest.is_empty()) {
        match sys::read(file.as_fd(), rest)? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled / core::mem::size_of::<usize>())
}

#[cfg(test)]
mod tests {
    extern crate std;

    /// `/proc/self/auxv` is read where it is procfs's, or a tmpfs file no path names
    /// (qemu-user's memfd), and its page size is the C library's; anything else is refused
    /// (as `page_probe` shows with a tmpfs over `/proc`, and with a file bind-mounted there
    /// and unlinked).
    #[test]
    fn the_auxv_file_is_read_only_from_the_kernel() {
        // SAFETY: a NUL-terminated path; the descriptor is closed below.
        let fd = unsafe { libc::open(c"/proc/self/auxv".as_ptr(), libc::O_RDONLY) };
        assert!(fd >= 0, "open /proc/self/auxv");
        // SAFETY: `struct statfs` and `struct stat` are plain integers, for which zero is
        // valid; the calls write one of each.
        let (fs, st) = unsafe {
            let (mut fs, mut st) = (
                core::mem::zeroed::<libc::statfs>(),
                core::mem::zeroed::<libc::stat>(),
            );
            assert_eq!(libc::fstatfs(fd, &mut fs), 0, "fstatfs");
            assert_eq!(libc::fstat(fd, &mut st), 0, "fstat");
            libc::close(fd);
            (fs, st)
        };
        let mut words = [0usize; 64];
        let read = super::read_proc_self_auxv(&mut words);
        let (procfs, tmpfs) = (0x9fa0, 0x0102_1994);
        let served = fs.f_type as u32 == procfs || (fs.f_type as u32 == tmpfs && st.st_nlink == 0);
        if !served {
            assert_eq!(read, Err(super::Errno::ENODEV));
            return;
        }
        let filled = read.expect("/proc/self/auxv");
        // SAFETY: sysconf reads a constant of the C library.
        let real = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        assert_eq!(super::find(&words[..filled], super::AT_PAGESZ), Some(real));
    }
}
