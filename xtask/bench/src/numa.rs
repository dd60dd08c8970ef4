//! Asking the kernel which NUMA node each of 1,000 resident pages is on (`move_pages`
//! with no target nodes), three ways: glibc's `syscall()` and `mman::sys::move_pages`, each
//! one call with the page addresses prepared beforehand (the floor: what any caller must
//! at least pay), and `Mapping::nodes`, which builds the addresses itself, 128 pages per
//! call, on the stack.
//!
//! The ways take turns batch by batch, as in `walltime`. Every answer is checked: a query
//! that failed, or found a page missing, would time the wrong thing.

use std::ffi::c_void;
use std::path::Path;
use std::time::Instant;

use mman::{sys, Mapping};

use crate::stats::{Lines, Summary};

/// Pages per query.
pub const PAGES: usize = 1000;
/// Queries per timed batch.
const QUERIES: u32 = 20;
/// The name of the operation in the report.
const OPERATION: &str = "move_pages query, 1000 resident pages";

#[derive(Clone, Copy)]
enum Way {
    Glibc,
    Sys,
    Nodes,
}

impl Way {
    const ALL: [Way; 3] = [Way::Glibc, Way::Sys, Way::Nodes];

    fn name(self) -> &'static str {
        match self {
            Way::Glibc => "glibc syscall()",
            Way::Sys => "mman::sys::move_pages",
            Way::Nodes => "Mapping::nodes",
        }
    }
}

/// What a query works on: the mapping, its page addresses, and room for the answers.
struct Query {
    mapping: Mapping,
    pages: Vec<*mut c_void>,
    status: Vec<i32>,
}

impl Query {
    fn new() -> Result<Query, String> {
        let page = mman::page_size();
        let mut mapping = Mapping::anonymous(PAGES * page).map_err(|e| format!("map: {e:?}"))?;
        let bytes = mapping
            .as_mut_slice()
            .map_err(|e| format!("slice: {e:?}"))?;
        for offset in (0..bytes.len()).step_by(page) {
            bytes[offset] = 1;
        }
        let base = mapping.as_ptr() as usize;
        let pages = (0..PAGES)
            .map(|i| (base + i * page) as *mut c_void)
            .collect();
        Ok(Query {
            mapping,
            pages,
            status: vec![i32::MIN; PAGES],
        })
    }

    /// One query the given way; every page must be on a node.
    fn run(&mut self, way: Way) -> Result<(), String> {
        self.status.fill(i32::MIN);
        match way {
            Way::Glibc => {
                // SAFETY: `pages` and `status` hold PAGES entries; no target nodes.
                let ret = unsafe {
                    libc::syscall(
                        libc::SYS_move_pages,
                        0,
                        PAGES,
                        self.pages.as_ptr(),
                        std::ptr::null::<i32>(),
                        self.status.as_mut_ptr(),
                        0,
                    )
                };
                if ret != 0 {
                    return Err(format!("move_pages: {}", std::io::Error::last_os_error()));
                }
            }
            Way::Sys => {
                // SAFETY: as above.
                unsafe {
                    sys::move_pages(
                        0,
                        PAGES,
                        self.pages.as_ptr(),
                        std::ptr::null(),
                        self.status.as_mut_ptr(),
                        mman::numa::MbindFlags::empty(),
                    )
                }
                .map_err(|e| format!("sys::move_pages: {e:?}"))?;
            }
            Way::Nodes => {
                let written = self
                    .mapping
                    .nodes(.., &mut self.status)
                    .map_err(|e| format!("Mapping::nodes: {e:?}"))?;
                if written != PAGES {
                    return Err(format!("Mapping::nodes answered for {written} pages"));
                }
            }
        }
        match self.status.iter().find(|&&node| node < 0) {
            Some(status) => Err(format!("{}: a page's status is {status}", way.name())),
            None => Ok(()),
        }
    }
}

pub fn run(out: &Path, batches: usize) -> Result<(), String> {
    if batches == 0 {
        return Err("nothing to time: BATCHES must be at least 1".into());
    }
    let mut query = Query::new()?;
    // One untimed query each: faults in the code, settles the kernel's caches.
    for way in Way::ALL {
        query.run(way)?;
    }
    let mut samples = Way::ALL.map(|_| Vec::with_capacity(batches));
    for batch in 0..batches {
        for turn in 0..Way::ALL.len() {
            let i = (batch + turn) % Way::ALL.len();
            let start = Instant::now();
            for _ in 0..QUERIES {
                query.run(Way::ALL[i])?;
            }
            samples[i].push(start.elapsed().as_nanos() as f64 / f64::from(QUERIES));
        }
    }
    let mut lines = Lines::create(out)?;
    println!("{:<40} {:<24} {:>12}", "operation", "way", "µs/query");
    for (way, samples) in Way::ALL.iter().zip(samples) {
        let summary = Summary::of(&samples);
        lines.write(&[OPERATION, way.name()], summary)?;
        println!(
            "{OPERATION:<40} {:<24} {:>12.1}",
            way.name(),
            summary.median / 1000.0
        );
    }
    lines.finish()
}
