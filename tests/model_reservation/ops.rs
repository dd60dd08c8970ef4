//! Random operations, drawn so that most could succeed in the world as it is and the rest
//! are refused for every documented reason.

use std::ops::Bound;

use mman::Prot;

use crate::common::page;
use crate::model::{Bounds, Op, Owner, Placement, Source, World, REFUSED_NAME, VALID_NAME};
use crate::model_support::Rng;
use crate::{FILE_PAGES, PAGES, SLOTS};

/// A protection for `commit`: mostly what allocators use, sometimes write-only, executable
/// or (refused) grows-down.
pub(crate) fn commit_prot(rng: &mut Rng) -> Prot {
    match rng.below(16) {
        0..=2 => Prot::empty(),
        3..=5 => Prot::READ,
        6..=12 => Prot::READ | Prot::WRITE,
        13 => Prot::WRITE,
        14 => Prot::READ | Prot::EXEC,
        _ => Prot::READ | Prot::WRITE | Prot::GROWSDOWN,
    }
}

/// A page-granular range: mostly inside the reservation (often a run of pages it still
/// owns, from one that satisfies `prefer`), sometimes off a page boundary, past the end,
/// reversed, or overflowing.
pub(crate) fn page_range(rng: &mut Rng, world: &World, prefer: impl Fn(Owner) -> bool) -> Bounds {
    let page = page();
    let len = PAGES * page;
    let (first, end) = match rng.below(3) {
        0 => {
            let first = rng.below(PAGES + 1);
            (first, first + rng.below(PAGES + 1 - first))
        }
        _ => own_run(rng, world, prefer).unwrap_or((0, 0)),
    };
    let (start, end) = (first * page, end * page);
    match rng.below(32) {
        0 => (
            Bound::Included(start + 1 + rng.below(page - 1)),
            Bound::Excluded(end),
        ),
        1 => (
            Bound::Included(start),
            Bound::Excluded(end + 1 + rng.below(page - 1)),
        ),
        2 => (Bound::Included(start), Bound::Excluded(len + page)),
        3 => (Bound::Included(start), Bound::Included(usize::MAX)),
        4 => (Bound::Included(end + page), Bound::Excluded(start)),
        5 => (Bound::Unbounded, Bound::Unbounded),
        6 => (Bound::Unbounded, Bound::Excluded(end)),
        7 => (Bound::Included(start), Bound::Unbounded),
        8 if end > start => (Bound::Included(start), Bound::Included(end - 1)),
        9 => (Bound::Excluded(start.wrapping_sub(1)), Bound::Excluded(end)),
        _ => (Bound::Included(start), Bound::Excluded(end)),
    }
}

/// Pages `first..end` of one run of pages the reservation still owns, from a page that
/// satisfies `prefer` if there is one; None if it owns none.
pub(crate) fn own_run(
    rng: &mut Rng,
    world: &World,
    prefer: impl Fn(Owner) -> bool,
) -> Option<(usize, usize)> {
    let own = |i: usize| matches!(world.owners[i], Owner::Own { .. });
    let preferred: Vec<usize> = (0..PAGES).filter(|&i| prefer(world.owners[i])).collect();
    let owned: Vec<usize> = (0..PAGES).filter(|&i| own(i)).collect();
    let first = match (preferred.is_empty(), owned.is_empty()) {
        (false, _) => rng.pick(&preferred),
        (true, false) => rng.pick(&owned),
        (true, true) => return None,
    };
    let mut end = first + 1;
    while end < PAGES && own(end) && !rng.one_in(4) {
        end += 1;
    }
    Some((first, end))
}

/// Any bytes: mostly inside (half the time within pages that are lendable), sometimes past
/// the end or overflowing.
pub(crate) fn byte_range(rng: &mut Rng, world: &World, mutable: bool) -> Bounds {
    let page = page();
    let len = PAGES * page;
    let lendable: Vec<usize> = (0..PAGES)
        .filter(|&i| world.owners[i].lendable(mutable))
        .collect();
    let (start, end) = match lendable.is_empty() || rng.one_in(4) {
        true => {
            let start = match rng.below(4) {
                0 => rng.below(PAGES) * page,
                _ => rng.below(len + 1),
            };
            (start, start + rng.below((len + 1 - start).min(3 * page)))
        }
        false => {
            let first = rng.pick(&lendable);
            let mut last = first;
            while last + 1 < PAGES && world.owners[last + 1].lendable(mutable) && rng.below(3) != 0
            {
                last += 1;
            }
            let start = first * page + rng.below(page);
            (start, start + rng.below((last + 1) * page - start + 1))
        }
    };
    match rng.below(24) {
        0 => (Bound::Included(start), Bound::Excluded(len + 1)),
        1 => (Bound::Included(start), Bound::Included(usize::MAX)),
        2 => (Bound::Unbounded, Bound::Excluded(end)),
        3 => (Bound::Included(start), Bound::Unbounded),
        _ => (Bound::Included(start), Bound::Excluded(end)),
    }
}

pub(crate) fn placement(rng: &mut Rng, world: &World, slot: usize) -> Placement {
    let page = page();
    let offset = match rng.below(12) {
        0 => rng.below(PAGES) * page + 1 + rng.below(page - 1),
        1 => PAGES * page,
        2 => usize::MAX - page + 1,
        // Mostly at a reserved page, where a placement can succeed.
        _ => {
            let reserved: Vec<usize> = (0..PAGES)
                .filter(|&i| world.owners[i] == Owner::RESERVED)
                .collect();
            match reserved.is_empty() {
                true => rng.below(PAGES) * page,
                false => rng.pick(&reserved) * page,
            }
        }
    };
    let source = match rng.below(4) {
        0 => Source::File {
            page: rng.below(FILE_PAGES),
            lead: if rng.one_in(4) { rng.below(page) } else { 0 },
            shared: rng.below(3) != 0,
        },
        _ => Source::Anonymous,
    };
    // A file mapping stays within the file: no access can fault with SIGBUS.
    let most = match source {
        Source::File {
            page: first, lead, ..
        } => (FILE_PAGES - first) * page - lead,
        Source::Anonymous => usize::MAX,
    };
    let whole = ((1 + rng.below(3)) * page).min(most);
    let len = match rng.below(10) {
        0 => 0,
        1 => whole - rng.below(whole.min(page)),
        _ => whole,
    };
    Placement {
        slot,
        offset,
        len,
        prot: rng.pick(&[
            Prot::READ,
            Prot::READ | Prot::WRITE,
            Prot::READ | Prot::WRITE,
        ]),
        align: rng.pick(&[0, 0, 0, page, 2 * page, 4 * page]),
        source,
        name: match (source, rng.below(8)) {
            (Source::Anonymous, 0) => Some(VALID_NAME),
            (Source::Anonymous, 1) => Some(REFUSED_NAME),
            _ => None,
        },
    }
}

/// A random operation for the world as it is.
pub(crate) fn pick(rng: &mut Rng, world: &World) -> Option<Op> {
    let op = match rng.below(18) {
        // Often over reset pages, which a commit pins.
        0..=3 => Op::Commit {
            range: page_range(rng, world, |o| matches!(o, Owner::Own { lazy: true, .. })),
            prot: commit_prot(rng),
        },
        4 | 5 => Op::Decommit {
            range: page_range(rng, world, |o| {
                matches!(
                    o,
                    Owner::Own {
                        committed: true,
                        ..
                    }
                )
            }),
        },
        // Often over written read-write pages, whose bytes a reset may then lose.
        6 | 7 => Op::Reset {
            range: page_range(rng, world, |o| o.lendable(true)),
        },
        8..=11 => {
            let mutable = rng.below(2) == 0;
            Op::Slice {
                range: byte_range(rng, world, mutable),
                mutable,
                fill: rng.below(256) as u8,
            }
        }
        12 | 13 => {
            let free = (0..SLOTS).filter(|&s| world.slots[s].is_none());
            let slot = free.min()?;
            Op::Place(placement(rng, world, slot))
        }
        // Mostly from a reset page on, which the kernel may then discard.
        14 | 15 if world.features.pageout => {
            let (first, end) = own_run(rng, world, |o| matches!(o, Owner::Own { lazy: true, .. }))?;
            Op::Pressure {
                pages: (first, end),
            }
        }
        _ => {
            let held: Vec<usize> = (0..SLOTS).filter(|&s| world.slots[s].is_some()).collect();
            if held.is_empty() {
                return None;
            }
            Op::DropPlaced {
                slot: rng.pick(&held),
            }
        }
    };
    Some(op)
}
