//! A bump arena over one `Reservation`: it reserves a large range once, commits pages as
//! allocations need them, and gives them all back on `reset`, the way an allocator's
//! operating-system layer works. Prints the reservation's `/proc/self/maps` lines as it
//! goes.
//!
//! Run it with `cargo run --example arena`.

use mman::{Errno, Prot, Reservation};

/// Bytes of address space the arena may grow to.
const CAPACITY: usize = 64 << 20;

/// Hands out byte slices from a reservation, committing pages only as it reaches them.
struct Arena {
    space: Reservation,
    /// Bytes handed out.
    used: usize,
    /// Bytes committed (whole pages from the start).
    committed: usize,
}

impl Arena {
    fn new() -> Result<Arena, Errno> {
        let mut space = Reservation::with_align(CAPACITY, 2 << 20)?;
        // A name shows in /proc/self/maps, where the kernel supports it; none is no error.
        let _ = space.set_name(c"example-arena");
        Ok(Arena {
            space,
            used: 0,
            committed: 0,
        })
    }

    /// `len` zeroed bytes, aligned to 16.
    fn alloc(&mut self, len: usize) -> Result<&mut [u8], Errno> {
        let start = self.used.next_multiple_of(16);
        let end = start.checked_add(len).ok_or(Errno::ENOMEM)?;
        if end > self.space.len() {
            return Err(Errno::ENOMEM);
        }
        if end > self.committed {
            // Grow by whole pages, at least 256 KiB at a time.
            let page = mman::page_size();
            let grown = end
                .max(self.committed + (256 << 10))
                .next_multiple_of(page)
                .min(self.space.len());
            self.space
                .commit(self.committed..grown, Prot::READ | Prot::WRITE)?;
            self.committed = grown;
        }
        self.used = end;
        self.space.as_mut_slice(start..end)
    }

    /// Frees everything at once: the pages go back to the kernel, the space stays reserved.
    fn reset(&mut self) -> Result<(), Errno> {
        self.space.decommit(..self.committed)?;
        self.used = 0;
        self.committed = 0;
        Ok(())
    }
}

/// The `/proc/self/maps` lines of the range `[start, start + len)`.
fn maps_lines(start: *const u8, len: usize) -> Vec<String> {
    let (start, end) = (start as usize, start as usize + len);
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    maps.lines()
        .filter(|line| {
            let range = line.split_whitespace().next().unwrap_or("");
            let (from, to) = range.split_once('-').unwrap_or(("0", "0"));
            let parse = |s| usize::from_str_radix(s, 16).unwrap_or(0);
            parse(from) < end && parse(to) > start
        })
        .map(str::to_string)
        .collect()
}

fn show(arena: &Arena, when: &str) {
    println!(
        "{when}: {} bytes used, {} committed",
        arena.used,
        arena.space.committed()
    );
    for line in maps_lines(arena.space.as_ptr(), arena.space.len()) {
        println!("    {line}");
    }
}

fn main() -> Result<(), Errno> {
    let mut arena = Arena::new()?;
    show(&arena, "reserved 64 MiB");

    let mut total = 0usize;
    for i in 0..1000usize {
        let bytes = arena.alloc(1000 + i)?;
        bytes.fill((i % 251) as u8);
        total += bytes.len();
    }
    assert_eq!(arena.space.as_slice(0..3)?, &[0, 0, 0]);
    show(&arena, &format!("after 1000 allocations ({total} bytes)"));

    arena.reset()?;
    show(&arena, "after reset");
    assert_eq!(arena.space.committed(), 0);
    assert!(
        arena.space.as_slice(0..1).is_err(),
        "nothing is committed any more"
    );

    let again = arena.alloc(4096)?;
    assert!(
        again.iter().all(|&b| b == 0),
        "given back pages come back as zeros"
    );
    show(&arena, "after one more allocation");
    Ok(())
}
