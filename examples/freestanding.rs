//! A program with no libc at all: its own `_start`, static, `#![no_std]`.
//!
//! It maps a page, writes a message through it, prints it, unmaps it and exits, with
//! nothing but mman underneath. `cargo xtask` links it (see `xtask/src/freestanding.rs`):
//! cargo builds it as an rlib so that `cargo test` and `clippy --all-targets` need no
//! special flags; the xtask builds it as a static library (`cargo rustc --crate-type
//! staticlib`), links that into an executable with `-nostdlib -static` and runs it, on
//! every architecture.
//!
//! The entry point and the memory functions a C library would supply are in
//! `examples/support/no_libc.rs`, shared with the size benchmark's twin of this program.
#![no_std]
#![no_main]
#![cfg_attr(target_arch = "mips64", feature(asm_experimental_arch))] // its `_start`

use mman::fd::BorrowedFd;
use mman::{
    sys, Access, Advice, Flush, MapOptions, Mapping, Memfd, Prot, Reservation, SecretMemory,
    SharedMemory, SysvSegment,
};

#[path = "support/no_libc.rs"]
mod no_libc;

const MESSAGE: &[u8] = b"freestanding: hello from a page mapped without libc\n";

fn run() -> mman::Result<()> {
    let mut page = Mapping::anonymous(mman::page_size())?;
    let bytes = page.as_mut_slice()?;
    let message = bytes.get_mut(..MESSAGE.len()).ok_or(mman::Errno::EINVAL)?;
    message.copy_from_slice(MESSAGE);
    // SAFETY: descriptor 1 is standard output, open for the life of the process.
    let stdout = unsafe { BorrowedFd::borrow_raw(1) };
    sys::write(stdout, message)?;
    drop(page);
    exercise_safe_layer()?;
    sys::write(stdout, b"freestanding: safe layer exercised\n")?;
    #[cfg(feature = "alloc")]
    {
        allocators::exercise()?;
        sys::write(stdout, b"freestanding: allocators exercised\n")?;
    }
    sys::write(stdout, b"freestanding: ok\n")?;
    Ok(())
}

/// Uses the rest of the safe layer once, so that the `mman_panic_check` build (see the
/// panic handlers below) covers it too.
fn exercise_safe_layer() -> mman::Result<()> {
    let page = mman::page_size();
    let mut memory = MapOptions::new().len(4 * page).populate().map()?;
    memory.protect(..page, Prot::READ)?;
    memory.protect(.., Prot::READ | Prot::WRITE)?;
    memory.advise(.., Advice::WillNeed)?;
    memory.remap(8 * page, true)?;
    memory.as_mut_slice()?.fill(1);
    let _ = memory.guard(..page)?;
    memory.unguard(Prot::READ | Prot::WRITE)?;

    let memfd = Memfd::new(c"freestanding")?;
    memfd.set_len(page as u64)?;
    let mut view = MapOptions::new().shared().map_file(&memfd, 0)?;
    view.write_at(0, b"sealed")?;
    view.flush(.., Flush::Sync)?;
    drop(view);
    memfd.freeze()?;
    let mut back = [0u8; 6];
    memfd.map(Access::ReadOnly)?.read_at(0, &mut back)?;

    let shm = SharedMemory::create(c"mman-freestanding", page as u64)?;
    shm.map()?
        .atomic_u32(0)?
        .store(1, core::sync::atomic::Ordering::Release);
    drop(shm);

    let segment = SysvSegment::create_private(page)?;
    segment.attach(Access::ReadWrite)?.write_at(0, &back)?;

    let mut secret = SecretMemory::new(32)?;
    secret.as_mut_slice().fill(0x5a);

    exercise_reservation(page, &memfd)
}

/// A reservation committed, reset, decommitted, and with mappings placed inside it.
fn exercise_reservation(page: usize, memfd: &Memfd) -> mman::Result<()> {
    let mut space = Reservation::with_align(16 * page, 4 * page)?;
    let _ = space.set_name(c"freestanding");
    space.commit(0..4 * page, Prot::READ | Prot::WRITE)?;
    space.as_mut_slice(0..4 * page)?.fill(3);
    space.reset(0..2 * page)?;
    space.commit(0..2 * page, Prot::READ | Prot::WRITE)?;
    match space.advise(.., Advice::HugePage) {
        // EINVAL: a kernel built without transparent huge pages does not know the advice
        // (32-bit ARM has them only with LPAE: Debian's armmp kernels).
        Ok(()) | Err(mman::Errno::EINVAL) => {}
        Err(e) => return Err(e),
    }
    space.decommit(..)?;
    let mut placed = MapOptions::new().len(page).map_in(&mut space, 8 * page)?;
    placed.as_mut_slice()?.fill(1);
    let _mirror =
        MapOptions::new()
            .prot(Prot::READ)
            .map_file_in(&mut space, 12 * page, memfd, 0)?;
    let _aligned = MapOptions::new().len(page).align(4 * page).map()?;
    Ok(())
}

/// Calls mman's page allocator and the system layer it gives dlmalloc directly, without
/// collections (whose own panic paths would fail the `mman_panic_check` link), so that the
/// check covers them. `freestanding_alloc.rs` uses them through `Vec`, `String` and
/// `BTreeMap`.
#[cfg(feature = "alloc")]
mod allocators {
    use core::alloc::{GlobalAlloc, Layout};
    use mman::alloc::PageAllocator;
    use mman::Errno;

    pub fn exercise() -> mman::Result<()> {
        let page = mman::page_size();
        let layout = Layout::from_size_align(3 * page, 1 << 21).map_err(|_| Errno::EINVAL)?;
        // SAFETY: a non-zero size; each block is used within its size and given back once
        // with the layout it has then.
        unsafe {
            let block = PageAllocator.alloc_zeroed(layout);
            if block.is_null() {
                return Err(Errno::ENOMEM);
            }
            block.write(7);
            let grown = PageAllocator.realloc(block, layout, 64 * page);
            if grown.is_null() || grown.read() != 7 {
                return Err(Errno::EINVAL);
            }
            let grown_layout = Layout::from_size_align_unchecked(64 * page, 1 << 21);
            let shrunk = PageAllocator.realloc(grown, grown_layout, page);
            PageAllocator.dealloc(shrunk, Layout::from_size_align_unchecked(page, 1 << 21));
            let plain = PageAllocator.alloc(Layout::from_size_align_unchecked(100, 8));
            PageAllocator.dealloc(plain, Layout::from_size_align_unchecked(100, 8));
        }
        #[cfg(feature = "dlmalloc")]
        segments(page)?;
        Ok(())
    }

    /// dlmalloc's system layer: segments committed, trimmed and freed.
    #[cfg(feature = "dlmalloc")]
    fn segments(page: usize) -> mman::Result<()> {
        use mman::alloc::dlmalloc::Allocator;
        // SAFETY: no Dlmalloc uses these segments, and what is given back here is
        // never used again.
        let segments = unsafe { mman::alloc::Segments::new(1 << 30) };
        let (first, len, _) = segments.alloc(16 * page);
        let (second, _, _) = segments.alloc(page);
        if first.is_null() || len != 16 * page || second as usize != first as usize + len {
            return Err(Errno::EINVAL);
        }
        let released = segments.free(second, page)
            && segments.free_part(first, 16 * page, 4 * page)
            && segments.free(first, 4 * page)
            && segments.remap(first, page, 2 * page, true).is_null()
            && segments.allocates_zeros()
            && segments.can_release_part(0)
            && segments.page_size() == page;
        if released {
            Ok(())
        } else {
            Err(Errno::EINVAL)
        }
    }
}

// With feature `std` (as in `cargo test --all-features`) std is linked and brings its own.
#[cfg(all(not(feature = "std"), not(mman_panic_check)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    sys::exit_group(101)
}

// `cargo xtask test` also builds this with `--cfg mman_panic_check`: the handler then calls
// a symbol defined nowhere, so the link fails if any panic path is still reachable.
#[cfg(all(not(feature = "std"), mman_panic_check))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    unsafe extern "C" {
        fn mman_panic_is_reachable() -> !;
    }
    // SAFETY: never runs: the link fails first if this is reachable.
    unsafe { mman_panic_is_reachable() }
}
