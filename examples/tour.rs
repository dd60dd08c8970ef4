//! A short walk through mman, printing what the kernel shows at each step.
//!
//! Run it with `cargo run --example tour`.

use std::ffi::CString;

use mman::{Access, MapOptions, Mapping, Memfd, Prot, SecretMemory, SharedMemory};

/// The `/proc/self/maps` line of the mapping that contains `addr`.
fn maps_line(addr: *const u8) -> String {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let addr = addr as usize;
    maps.lines()
        .find(|line| {
            let range = line.split_whitespace().next().unwrap_or("");
            let (start, end) = range.split_once('-').unwrap_or(("0", "0"));
            let parse = |s| usize::from_str_radix(s, 16).unwrap_or(0);
            (parse(start)..parse(end)).contains(&addr)
        })
        .unwrap_or("(not found)")
        .to_string()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("page size: {} bytes (from AT_PAGESZ)", mman::page_size());

    // 1. Anonymous memory: zero-filled, private, lent out as a slice.
    let mut memory = Mapping::anonymous(3 * mman::page_size())?;
    memory.as_mut_slice()?[..5].copy_from_slice(b"hello");
    println!(
        "\n1. anonymous mapping of {} bytes at {:p}",
        memory.len(),
        memory.as_ptr()
    );
    println!(
        "   wrote {:?}; maps: {}",
        std::str::from_utf8(&memory.as_slice()?[..5])?,
        maps_line(memory.as_ptr())
    );

    // 2. Protection: read-only, as /proc/self/maps now shows; slices of it are refused.
    memory.protect(.., Prot::READ)?;
    println!("\n2. after protect(READ): {}", maps_line(memory.as_ptr()));
    println!(
        "   as_mut_slice() now answers: {}",
        memory.as_mut_slice().unwrap_err()
    );
    memory.protect(.., Prot::READ | Prot::WRITE)?;

    // 3. Remap: grow to 64 pages; the kernel may move it, the bytes come along.
    let before = memory.as_ptr();
    memory.remap(64 * mman::page_size(), true)?;
    println!(
        "\n3. remapped {:p} -> {:p}, {} bytes, still says {:?}",
        before,
        memory.as_ptr(),
        memory.len(),
        std::str::from_utf8(&memory.as_slice()?[..5])?
    );

    // 4. A sealed memfd refuses writes.
    let memfd = Memfd::new(c"tour")?;
    memfd.set_len(mman::page_size() as u64)?;
    {
        let mut view = memfd.map(Access::ReadWrite)?;
        view.write_at(0, b"frozen contents")?;
    } // the writable mapping must be gone before sealing against writes
    memfd.freeze()?;
    println!("\n4. memfd sealed with {:?}", memfd.seals()?);
    println!(
        "   mapping it writable now answers: {}",
        memfd.map(Access::ReadWrite).unwrap_err()
    );
    let mut read_back = [0u8; 15];
    memfd.map(Access::ReadOnly)?.read_at(0, &mut read_back)?;
    println!(
        "   read-only mapping reads {:?}",
        std::str::from_utf8(&read_back)?
    );

    // 5. POSIX shared memory, written by a second process.
    let name = CString::new(format!("mman-tour-{}", std::process::id()))?;
    let shm = SharedMemory::create(&name, mman::page_size() as u64)?;
    let view = shm.map()?;
    // SAFETY: the process is single-threaded here; the child only makes system calls
    // through mman and leaves with _exit.
    match unsafe { libc::fork() } {
        0 => {
            let status = SharedMemory::open(&name, Access::ReadWrite)
                .and_then(|other| other.map())
                .and_then(|mut other| other.write_at(0, b"written by the child"));
            // SAFETY: _exit ends the child without running the parent's destructors.
            unsafe { libc::_exit(i32::from(status.is_err())) };
        }
        -1 => return Err("fork failed".into()),
        child => {
            let mut status = 0;
            // SAFETY: waits for the child just forked.
            unsafe { libc::waitpid(child, &mut status, 0) };
        }
    }
    let mut message = [0u8; 20];
    view.read_at(0, &mut message)?;
    println!(
        "\n5. /dev/shm/{} holds {:?}",
        name.to_str()?,
        std::str::from_utf8(&message)?
    );
    drop(shm); // created here, so unlinked on drop
    println!(
        "   after drop it exists: {}",
        std::path::Path::new("/dev/shm")
            .join(name.to_str()?)
            .exists()
    );

    // 6. Secret memory: memfd_secret if the kernel offers it, hardened memory otherwise.
    let mut secret = SecretMemory::new(32)?;
    secret.as_mut_slice().copy_from_slice(&[0x5a; 32]);
    println!(
        "\n6. secret memory: {:?}, guard pages by {:?}",
        secret.protection(),
        secret.guard()
    );
    println!("   maps: {}", maps_line(secret.as_slice().as_ptr()));

    // 7. The builder: huge pages, populate, fixed addresses and more.
    let populated = MapOptions::new().len(1 << 20).populate().map()?;
    println!(
        "\n7. MapOptions: 1 MiB populated at {:p}",
        populated.as_ptr()
    );
    Ok(())
}
