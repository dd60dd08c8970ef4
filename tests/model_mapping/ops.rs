//! The operations a sequence is made of, and how they are drawn.

use std::ops::{Bound, RangeBounds};

use mman::{Advice, Prot};

use crate::common::page;
use crate::model_support::Rng;
use crate::state::{Memory, Slot};

/// Mappings alive at once.
pub const SLOTS: usize = 3;
/// The longest mapping, in pages: long enough for several VMAs, short enough to compare
/// every byte after every step.
pub const MAX_PAGES: usize = 6;

/// Where a new mapping is asked for.
#[derive(Clone, Copy, Debug)]
pub enum Place {
    /// Wherever the kernel chooses.
    Anywhere,
    /// Right after another slot's mapping (`MapOptions::at`).
    After(usize),
    /// Right before another slot's mapping.
    Before(usize),
    /// Overlapping another slot's mapping: never granted.
    Inside(usize),
    /// Ending this many pages below the `[stack]`: refused within the stack guard gap.
    BelowStack(usize),
}

/// A range argument: `..` or `start..end` in bytes (`start` page aligned).
#[derive(Clone, Copy, Debug)]
pub enum Span {
    All,
    Bytes(usize, usize),
}

impl RangeBounds<usize> for Span {
    fn start_bound(&self) -> Bound<&usize> {
        match self {
            Span::All => Bound::Unbounded,
            Span::Bytes(start, _) => Bound::Included(start),
        }
    }

    fn end_bound(&self) -> Bound<&usize> {
        match self {
            Span::All => Bound::Unbounded,
            Span::Bytes(_, end) => Bound::Excluded(end),
        }
    }
}

impl Span {
    /// Whether it names the whole mapping (`..` or `0..len()`).
    pub fn whole(self, len: usize) -> bool {
        match self {
            Span::All => true,
            Span::Bytes(start, end) => start == 0 && end == len,
        }
    }

    /// The pages it touches in a mapping of `pages` pages (the kernel rounds the end up).
    pub fn pages(self, pages: usize) -> std::ops::Range<usize> {
        match self {
            Span::All => 0..pages,
            Span::Bytes(start, end) => start / page()..end.div_ceil(page()),
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub enum Op {
    Map {
        slot: usize,
        len: usize,
        memory: Memory,
        prot: Prot,
        grows_down: bool,
        place: Place,
    },
    Drop {
        slot: usize,
    },
    Protect {
        slot: usize,
        span: Span,
        prot: Prot,
    },
    Guard {
        slot: usize,
        span: Span,
    },
    Unguard {
        slot: usize,
        prot: Prot,
    },
    Advise {
        slot: usize,
        span: Span,
        advice: Advice,
    },
    Remap {
        slot: usize,
        len: usize,
        may_move: bool,
    },
    Lock {
        slot: usize,
        span: Span,
    },
    Unlock {
        slot: usize,
        span: Span,
    },
    WriteAt {
        slot: usize,
        offset: usize,
        len: usize,
        byte: u8,
    },
    /// `as_mut_slice`, then one byte written through it.
    MutSlice {
        slot: usize,
        offset: usize,
        byte: u8,
    },
    /// `atomic_u32`, then a store through it.
    Atomic {
        slot: usize,
        offset: usize,
        value: u32,
    },
    Seal {
        slot: usize,
    },
}

/// Advice the safe `advise` accepts everywhere, and that changes no contents.
pub const HARMLESS: [Advice; 8] = [
    Advice::Normal,
    Advice::Random,
    Advice::Sequential,
    Advice::WillNeed,
    Advice::DontDump,
    Advice::DoDump,
    Advice::DoFork,
    Advice::KeepOnFork,
];

/// Advice the safe `advise` refuses (`EINVAL`): it discards contents behind the program's
/// back, makes accesses fault, or leaves a forked child's `Mapping` dangling.
pub const REFUSED: [Advice; 8] = [
    Advice::Free,
    Advice::Remove,
    Advice::GuardInstall,
    Advice::GuardRemove,
    Advice::HwPoison,
    Advice::SoftOffline,
    Advice::DontFork,
    Advice::WipeOnFork,
];

/// What this kernel lets a sequence use.
#[derive(Clone, Copy, Debug)]
pub struct Features {
    pub seal: bool,
    /// Whether `MADV_GUARD_INSTALL` works on private / shared anonymous memory.
    pub private_markers: bool,
    pub shared_markers: bool,
    /// The stack guard gap, in bytes.
    pub gap: usize,
    /// Partial-failure mode: `vm.max_map_count` is (nearly) reached, so any call that
    /// splits a VMA may fail part-way. Locking is left out there (what a partly failed
    /// `mlock` locked is not observable cheaply), and so are placements and sealing.
    pub partial: bool,
}

/// A length of 1 to `max_pages` pages, often not a whole number of pages.
pub fn random_len(rng: &mut Rng, max_pages: usize) -> usize {
    let pages = 1 + rng.below(max_pages);
    if rng.one_in(3) {
        (pages - 1) * page() + 1 + rng.below(page() - 1)
    } else {
        pages * page()
    }
}

/// A protection, mostly of the common ones; `odd` adds the grows-down/up bits, which
/// `protect` must refuse.
fn random_prot(rng: &mut Rng, odd: bool) -> Prot {
    let mut prot = match rng.below(10) {
        0..=2 => Prot::empty(),
        3..=4 => Prot::READ,
        5..=8 => Prot::READ | Prot::WRITE,
        _ => rng.pick(&[Prot::WRITE, Prot::READ | Prot::EXEC]),
    };
    if odd && rng.one_in(20) {
        prot |= rng.pick(&[Prot::GROWSDOWN, Prot::GROWSUP]);
    }
    prot
}

fn random_span(rng: &mut Rng, slot: &Slot) -> Span {
    let len = slot.len();
    match rng.below(8) {
        0 | 1 => Span::All,
        2 => Span::Bytes(0, len),
        _ => {
            let pages = slot.pages.len();
            let first = rng.below(pages);
            let last = first + 1 + rng.below(pages - first);
            Span::Bytes(first * page(), (last * page()).min(len))
        }
    }
}

/// An offset for a copy: mostly inside (often near the end, where shrinking and growing
/// again must leave zeros), sometimes at or past the end.
pub fn random_offset(rng: &mut Rng, len: usize) -> usize {
    match rng.below(10) {
        0 => len + rng.below(8),
        1 => usize::MAX - rng.below(4),
        2 | 3 => len.saturating_sub(1 + rng.below(16)),
        _ => rng.below(len),
    }
}

/// A random operation that the model can predict in this state, or `None` to draw again.
pub fn pick(rng: &mut Rng, slots: &[Option<Slot>; SLOTS], features: &Features) -> Option<Op> {
    let slot = rng.below(SLOTS);
    let Some(held) = &slots[slot] else {
        return Some(pick_map(rng, slot, slots, features));
    };
    let sealed = held.sealed;
    let span = random_span(rng, held);
    let op = match rng.below(20) {
        0 if !features.partial => pick_map(rng, slot, slots, features),
        1 => Op::Drop { slot },
        2..=4 => Op::Protect {
            slot,
            span,
            prot: random_prot(rng, true),
        },
        5 => Op::Guard { slot, span },
        6 if !sealed => Op::Unguard {
            slot,
            prot: random_prot(rng, false),
        },
        7 | 8 => Op::Advise {
            slot,
            span,
            advice: pick_advice(rng, held)?,
        },
        9 | 10 => {
            let len = match rng.below(10) {
                0 => 0,
                1 => held.len() + 1 + rng.below(8),
                2 => held.len().saturating_sub(1 + rng.below(8)).max(1),
                _ => random_len(rng, MAX_PAGES),
            };
            // Kernels differ on whether a shrink that keeps every page is a sealed no-op.
            let same_pages = len.div_ceil(page()) == held.pages.len() && len < held.len();
            if sealed && same_pages {
                return None;
            }
            Op::Remap {
                slot,
                len,
                may_move: rng.one_in(2),
            }
        }
        11 if !features.partial
            && !held.pages[span.pages(held.pages.len())]
                .iter()
                .any(|p| p.marker) =>
        {
            Op::Lock { slot, span }
        }
        12 if !features.partial => Op::Unlock { slot, span },
        13 | 14 => Op::WriteAt {
            slot,
            offset: random_offset(rng, held.len()),
            len: rng.pick(&[1, 7, 8, 64, page(), held.len()]),
            byte: rng.next() as u8,
        },
        15 => Op::MutSlice {
            slot,
            offset: rng.below(held.len()),
            byte: rng.next() as u8,
        },
        16 => Op::Atomic {
            slot,
            offset: match rng.below(8) {
                0 => rng.below(held.len() + 4),
                _ => rng.below(held.len().div_ceil(4)) * 4,
            },
            value: rng.next() as u32,
        },
        17 if features.seal && !features.partial && !held.grows_down() && rng.one_in(6) => {
            Op::Seal { slot }
        }
        _ => return None,
    };
    Some(op)
}

/// Advice that the model can predict for `slot`.
fn pick_advice(rng: &mut Rng, slot: &Slot) -> Option<Advice> {
    Some(match rng.below(4) {
        0 | 1 => rng.pick(&HARMLESS),
        2 => rng.pick(&REFUSED),
        // Sealing refuses discarding read-only anonymous memory; kernels differ on when.
        _ if slot.sealed => return None,
        _ => rng.pick(&[Advice::DontNeed, Advice::DontNeedLocked]),
    })
}

fn pick_map(rng: &mut Rng, slot: usize, slots: &[Option<Slot>; SLOTS], features: &Features) -> Op {
    let memory = if rng.one_in(3) {
        Memory::Shared
    } else {
        Memory::Private
    };
    let others: Vec<usize> = (0..SLOTS)
        .filter(|&i| i != slot && slots[i].is_some())
        .collect();
    let place = match rng.below(10) {
        _ if features.partial => Place::Anywhere,
        0..=3 if !others.is_empty() => Place::Before(rng.pick(&others)),
        4 | 5 if !others.is_empty() => Place::After(rng.pick(&others)),
        6 if !others.is_empty() => Place::Inside(rng.pick(&others)),
        7 => {
            let gap = features.gap / page();
            Place::BelowStack(rng.pick(&[0, 1, gap / 2, gap - 1, gap, gap + 1]))
        }
        _ => Place::Anywhere,
    };
    Op::Map {
        slot,
        len: random_len(rng, MAX_PAGES),
        memory,
        prot: if rng.one_in(4) {
            random_prot(rng, false)
        } else {
            Prot::READ | Prot::WRITE
        },
        grows_down: rng.one_in(4),
        place,
    }
}
