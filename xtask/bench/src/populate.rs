//! Making 1 GiB of anonymous memory resident, each way through mman: touching a byte per
//! page, `MAP_POPULATE`, `MADV_POPULATE_WRITE`, and huge pages (hugetlbfs pages when enough
//! are reserved, else transparent huge pages); and through a 2 MiB-aligned `Reservation`
//! committed with transparent huge pages asked for, against the same with them refused
//! (`MADV_NOHUGEPAGE`: 4 KiB pages whatever the system's THP mode).
//!
//! Timed: mapping and populating, not unmapping. The methods take turns round by round, so
//! that the state the previous round left (freed pages, compaction) is shared out fairly.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use mman::{Advice, MapOptions, Mapping, Prot, Reservation};

use crate::stats::{Lines, Summary};

const SIZE: usize = 1 << 30;

#[derive(Clone, Copy)]
enum Method {
    Touch,
    MapPopulate,
    PopulateWrite,
    /// `MAP_HUGETLB` pages, then a touch (which faults one huge page per 512 writes).
    HugeTlb,
    /// `MADV_HUGEPAGE`, then a touch: each first write in a 2 MiB block faults in a whole
    /// transparent huge page, if the kernel finds one.
    Thp,
    /// A 2 MiB-aligned reservation, committed, `MADV_HUGEPAGE`, then a touch.
    ReservationThp,
    /// The same with `MADV_NOHUGEPAGE`: base pages only.
    ReservationSmallPages,
}

/// What a method made resident.
enum Memory {
    Mapping(Mapping),
    Reservation(Reservation),
}

impl Memory {
    fn start(&self) -> *const u8 {
        match self {
            Memory::Mapping(mapping) => mapping.as_ptr(),
            Memory::Reservation(space) => space.as_ptr(),
        }
    }
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Touch => "touch each page",
            Method::MapPopulate => "MAP_POPULATE",
            Method::PopulateWrite => "MADV_POPULATE_WRITE",
            Method::HugeTlb => "MAP_HUGETLB + touch",
            Method::Thp => "THP (MADV_HUGEPAGE) + touch",
            Method::ReservationThp => "Reservation, 2 MiB-aligned, THP + touch",
            Method::ReservationSmallPages => "Reservation, MADV_NOHUGEPAGE + touch",
        }
    }

    fn make(self) -> mman::Result<Memory> {
        let advice = match self {
            Method::ReservationThp => Advice::HugePage,
            Method::ReservationSmallPages => Advice::NoHugePage,
            _ => return self.map().map(Memory::Mapping),
        };
        let mut space = Reservation::with_align(SIZE, 2 << 20)?;
        space.commit(.., Prot::READ | Prot::WRITE)?;
        space.advise(.., advice)?;
        touch_bytes(space.as_mut_slice(..)?);
        Ok(Memory::Reservation(space))
    }

    fn map(self) -> mman::Result<Mapping> {
        let options = MapOptions::new().len(SIZE);
        let mut mapping = match self {
            Method::Touch => options.map()?,
            Method::MapPopulate => return options.populate().map(),
            Method::PopulateWrite => {
                let mut mapping = options.map()?;
                mapping.advise(.., Advice::PopulateWrite)?;
                return Ok(mapping);
            }
            Method::HugeTlb => options.huge_pages().map()?,
            Method::Thp => options.transparent_huge_pages().map()?,
            Method::ReservationThp | Method::ReservationSmallPages => {
                return Err(mman::Errno::EINVAL)
            }
        };
        touch(&mut mapping)?;
        Ok(mapping)
    }
}

pub fn run(out: &Path, rounds: usize) -> Result<(), String> {
    if rounds == 0 {
        return Err("nothing to time: ROUNDS must be at least 1".into());
    }
    let huge = huge_method()?;
    let methods = [
        Method::Touch,
        Method::MapPopulate,
        Method::PopulateWrite,
        huge,
        Method::ReservationThp,
        Method::ReservationSmallPages,
    ];
    let mut samples = methods.map(|_| Vec::with_capacity(rounds));
    let mut huge_mib = methods.map(|_| 0);
    for _ in 0..rounds {
        for (i, method) in methods.iter().enumerate() {
            let start = Instant::now();
            let memory = method
                .make()
                .map_err(|e| format!("{}: {e:?}", method.name()))?;
            samples[i].push(ms(start.elapsed()));
            huge_mib[i] = huge_kib(memory.start())? / 1024;
        }
    }
    let mut lines = Lines::create(out)?;
    println!(
        "{:<40} {:>10} {:>16}",
        "1 GiB populated by", "ms", "in huge pages"
    );
    for ((method, samples), huge_mib) in methods.iter().zip(samples).zip(huge_mib) {
        let summary = Summary::of(&samples);
        lines.write(&[method.name(), &huge_mib.to_string()], summary)?;
        println!(
            "{:<40} {:>10.1} {:>12} MiB",
            method.name(),
            summary.median,
            huge_mib
        );
    }
    lines.finish()
}

/// Writes one byte in every base page: one page fault each, unless a huge page is there.
fn touch(mapping: &mut Mapping) -> mman::Result<()> {
    touch_bytes(mapping.as_mut_slice()?);
    Ok(())
}

fn touch_bytes(bytes: &mut [u8]) {
    let page = mman::page_size();
    for offset in (0..bytes.len()).step_by(page) {
        // Volatile: the writes are the point, and nothing reads them back.
        // SAFETY: `offset` is inside the slice.
        unsafe { bytes.as_mut_ptr().add(offset).write_volatile(1) };
    }
}

/// hugetlbfs pages if enough are reserved for 1 GiB, else transparent huge pages, if THP
/// is not switched off.
fn huge_method() -> Result<Method, String> {
    let meminfo = read("/proc/meminfo")?;
    let field = |name: &str| -> usize {
        meminfo
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    let free_bytes = field("HugePages_Free:") * field("Hugepagesize:") * 1024;
    if free_bytes >= SIZE {
        return Ok(Method::HugeTlb);
    }
    let thp = read("/sys/kernel/mm/transparent_hugepage/enabled")?;
    if thp.contains("[never]") {
        return Err("no hugetlbfs pages reserved and THP is off: no huge-page method".into());
    }
    Ok(Method::Thp)
}

/// How much of the mapping the kernel backs with huge pages, from `/proc/self/smaps`:
/// transparent ones (`AnonHugePages`) or hugetlbfs ones (`Private_Hugetlb`).
fn huge_kib(start: *const u8) -> Result<usize, String> {
    let smaps = read("/proc/self/smaps")?;
    let header = format!("{:x}-", start as usize);
    let kib = smaps
        .lines()
        .skip_while(|line| !line.starts_with(&header))
        .skip(1)
        // Field names start with a capital; the next mapping's header with a lowercase
        // hex address.
        .take_while(|line| line.starts_with(|c: char| c.is_ascii_uppercase()))
        .filter(|line| line.starts_with("AnonHugePages:") || line.starts_with("Private_Hugetlb:"))
        .filter_map(|line| line.split_whitespace().nth(1)?.parse::<usize>().ok())
        .sum();
    Ok(kib)
}

fn read(path: &str) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}
