//! Reading the auxiliary vector the kernel gave this process, without libc.

use core::ffi::CStr;

use crate::fd::AsFd;
use crate::{sys, Mode, OFlags, Result};

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

/// Fills `words` from `/proc/self/auxv`; returns how many whole words were read.
fn read_proc_self_auxv(words: &mut [usize]) -> Result<usize> {
    const PATH: &CStr = c"/proc/self/auxv";
    let file = sys::open(PATH, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
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
