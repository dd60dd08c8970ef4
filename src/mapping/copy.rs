//! Copies to and from memory that may change underneath (shared, file-backed, droppable).
//!
//! Every access is a relaxed atomic one: the compiler neither merges, repeats nor elides
//! any, a concurrent writer (another process, another mapping of the same object) is seen
//! as a race the memory model allows rather than one it forbids, and loads never write, so
//! read-only mappings work (relaxed loads no wider than a register are plain loads on every
//! target Rust supports). Word-sized accesses over the aligned middle keep large copies as
//! fast as the volatile copies they replace; the ends go byte by byte. The bytes themselves
//! promise nothing: a copy racing a writer may see some of its words and not others.
//!
//! Within this process no access of another size can race these ones: a mapping is viewed
//! as atomics only through `&mut` (see `Mapping::as_atomics`), so its copies and its
//! atomics are never live at once.

use core::mem::size_of;
use core::sync::atomic::{AtomicU8, AtomicUsize, Ordering::Relaxed};

const WORD: usize = size_of::<usize>();

/// Splits `len` bytes starting at `addr` into a byte-wise head up to the first word
/// boundary and a number of whole words; the rest is byte-wise too. (`align_offset` may
/// answer "never", which makes everything head: slower, still correct.)
fn split(addr: *const u8, len: usize) -> (usize, usize) {
    let head = addr.align_offset(WORD).min(len);
    (head, (len - head) / WORD)
}

/// Copies `dst.len()` bytes from `src` into `dst`.
///
/// # Safety
/// `src` must be readable for `dst.len()` bytes, and accessed by no non-atomic write and no
/// atomic access of another size while the copy runs (anything outside this process may).
pub(crate) unsafe fn copy_out(src: *const u8, dst: &mut [u8]) {
    let (len, out) = (dst.len(), dst.as_mut_ptr());
    let (head, words) = split(src, len);
    for i in (0..head).chain(head + words * WORD..len) {
        // SAFETY: `i < len`: inside `dst` and, by the caller, inside the readable `src`,
        // where only atomic accesses race; `AtomicU8` has the alignment of `u8`.
        let byte = unsafe { AtomicU8::from_ptr(src.add(i).cast_mut()) }.load(Relaxed);
        // SAFETY: `i < len`, inside `dst`.
        unsafe { out.add(i).write(byte) };
    }
    for at in (0..words).map(|w| head + w * WORD) {
        // SAFETY: `at + WORD <= len`; `src + at` is word aligned (`head` aligned it), and
        // only atomic accesses of this size race with it (the caller's promise).
        let word = unsafe { AtomicUsize::from_ptr(src.add(at).cast::<usize>().cast_mut()) };
        // SAFETY: as above; the write to `dst` makes no alignment assumption.
        unsafe {
            out.add(at)
                .cast::<usize>()
                .write_unaligned(word.load(Relaxed))
        };
    }
}

/// Copies `src` to `dst`.
///
/// # Safety
/// `dst` must be writable for `src.len()` bytes, and accessed by nothing but atomic
/// accesses of the same sizes while the copy runs (anything outside this process may).
pub(crate) unsafe fn copy_in(src: &[u8], dst: *mut u8) {
    let (len, from) = (src.len(), src.as_ptr());
    let (head, words) = split(dst, len);
    for i in (0..head).chain(head + words * WORD..len) {
        // SAFETY: `i < len`: inside `src` and, by the caller, inside the writable `dst`.
        unsafe { AtomicU8::from_ptr(dst.add(i)).store(from.add(i).read(), Relaxed) };
    }
    for at in (0..words).map(|w| head + w * WORD) {
        // SAFETY: `at + WORD <= len`; the read from `src` makes no alignment assumption.
        let word = unsafe { from.add(at).cast::<usize>().read_unaligned() };
        // SAFETY: `dst + at` is word aligned (`head` aligned it) and writable.
        unsafe { AtomicUsize::from_ptr(dst.add(at).cast::<usize>()).store(word, Relaxed) };
    }
}
