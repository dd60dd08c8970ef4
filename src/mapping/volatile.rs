//! Copies to and from memory that may change underneath (shared, file-backed, droppable):
//! every access to it is volatile, so the compiler neither merges, repeats nor elides any,
//! and a concurrent writer is treated like a device rather than assumed away. Word-sized
//! accesses over the aligned middle keep large copies fast; the ends go byte by byte.

use core::mem::size_of;

const WORD: usize = size_of::<usize>();

/// Splits `len` bytes starting at `addr` into a byte-wise head up to the first word
/// boundary, a number of whole words, and the byte-wise rest. (`align_offset` may answer
/// "never", which makes everything head: slower, still correct.)
fn split(addr: *const u8, len: usize) -> (usize, usize) {
    let head = addr.align_offset(WORD).min(len);
    (head, (len - head) / WORD)
}

/// Copies `dst.len()` bytes from `src` into `dst`.
///
/// # Safety
/// `src` must be readable for `dst.len()` bytes.
pub(crate) unsafe fn copy_out(src: *const u8, dst: &mut [u8]) {
    let (len, out) = (dst.len(), dst.as_mut_ptr());
    let (head, words) = split(src, len);
    for i in (0..head).chain(head + words * WORD..len) {
        // SAFETY: `i < len`: inside `dst` and, by the caller, inside the readable `src`.
        unsafe { out.add(i).write(src.add(i).read_volatile()) };
    }
    for at in (0..words).map(|w| head + w * WORD) {
        // SAFETY: `at + WORD <= len`; `src + at` is word aligned (`head` aligned it); the
        // write to `dst` makes no alignment assumption.
        let word = unsafe { src.add(at).cast::<usize>().read_volatile() };
        // SAFETY: as above.
        unsafe { out.add(at).cast::<usize>().write_unaligned(word) };
    }
}

/// Copies `src` to `dst`.
///
/// # Safety
/// `dst` must be writable for `src.len()` bytes.
pub(crate) unsafe fn copy_in(src: &[u8], dst: *mut u8) {
    let (len, from) = (src.len(), src.as_ptr());
    let (head, words) = split(dst, len);
    for i in (0..head).chain(head + words * WORD..len) {
        // SAFETY: `i < len`: inside `src` and, by the caller, inside the writable `dst`.
        unsafe { dst.add(i).write_volatile(from.add(i).read()) };
    }
    for at in (0..words).map(|w| head + w * WORD) {
        // SAFETY: `at + WORD <= len`; the read from `src` makes no alignment assumption.
        let word = unsafe { from.add(at).cast::<usize>().read_unaligned() };
        // SAFETY: `dst + at` is word aligned (`head` aligned it) and writable.
        unsafe { dst.add(at).cast::<usize>().write_volatile(word) };
    }
}
