//! The input of `mapping_ops`: a sequence of operations, decoded with `arbitrary`.
//!
//! Numbers are drawn so that the interesting ones come up often: page boundaries and bytes
//! either side, the mapping's own end, values that overflow when added to, and lengths so
//! large that the kernel must refuse them.
//!
//! The seeds in `xtask/fuzz/corpus/mapping_ops/` were written against this encoding
//! (arbitrary 1.5: a byte saying "another operation follows", enum variants chosen by a
//! little-endian u32, fields in declaration order). After a change to these types they still
//! decode, to other operations; `cargo fuzz fmt` shows which.

use std::ops::Bound;

use arbitrary::Arbitrary;
use mman::{Advice, Flush, Prot};

/// Mappings alive at once.
pub const SLOTS: usize = 4;
/// The longest mapping, in pages (apart from huge lengths, which never succeed): iterations
/// stay fast, and locking or populating everything stays cheap.
pub const MAX_PAGES: usize = 64;

#[derive(Arbitrary, Debug)]
pub enum Op {
    /// Drops what the slot holds, then maps.
    Map {
        slot: Slot,
        request: MapRequest,
    },
    Drop {
        slot: Slot,
    },
    Protect {
        slot: Slot,
        range: Range,
        prot: ProtBits,
    },
    Flush {
        slot: Slot,
        range: Range,
        how: FlushHow,
    },
    Advise {
        slot: Slot,
        range: Range,
        advice: AdviceIndex,
    },
    Lock {
        slot: Slot,
        range: Range,
        on_fault: bool,
    },
    Unlock {
        slot: Slot,
        range: Range,
    },
    /// `remap`, or for a memfd mapping with `grow_file`, `remap_file`.
    Remap {
        slot: Slot,
        len: Len,
        may_move: bool,
        grow_file: bool,
    },
    Guard {
        slot: Slot,
        range: Range,
    },
    Unguard {
        slot: Slot,
        prot: ProtBits,
    },
    Read {
        slot: Slot,
        offset: Offset,
        len: IoLen,
    },
    Write {
        slot: Slot,
        offset: Offset,
        len: IoLen,
        byte: u8,
    },
    /// `as_slice` or `as_mut_slice`.
    Slice {
        slot: Slot,
        mutable: bool,
    },
    /// `atomic_u32`, or with `wide`, `atomic_u64`.
    Atomic {
        slot: Slot,
        offset: Offset,
        wide: bool,
        add: u32,
    },
    /// Resizes the memfd behind file mappings (which can leave their tail unbacked).
    SetFileLen {
        len: FileOffset,
    },
    SealFile {
        seals: u8,
    },
}

#[derive(Arbitrary, Debug)]
pub struct MapRequest {
    pub source: Source,
    /// None: `MapOptions` without a length (anonymous: EINVAL; file: the rest of it).
    pub len: Option<Len>,
    pub kind: Kind,
    pub prot: ProtBits,
    pub options: OptionBits,
    /// Options that make most maps fail, kept apart so that plain maps stay likely.
    pub exotic: Option<Exotic>,
}

impl MapRequest {
    pub fn huge_pages(&self) -> bool {
        self.exotic.is_some_and(|e| e.huge_pages.is_some())
    }
}

/// The `MapOptions` switches, one bit each (one input byte rather than seven).
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct OptionBits(u8);

impl OptionBits {
    pub const POPULATE: u8 = 1;
    pub const LOCKED: u8 = 2;
    pub const NO_RESERVE: u8 = 4;
    pub const STACK: u8 = 8;
    pub const GROWS_DOWN: u8 = 16;
    pub const TRANSPARENT_HUGE_PAGES: u8 = 32;
    pub const BELOW_2GIB: u8 = 64;

    pub fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
}

#[derive(Arbitrary, Debug, Clone, Copy, Default)]
pub struct Exotic {
    pub at: Option<At>,
    /// None: no huge pages; Some(0): the default size; Some(n): 2^n bytes.
    pub huge_pages: Option<u8>,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Source {
    Anonymous,
    /// `map_file` of the iteration's memfd from this offset.
    File(FileOffset),
    /// `Memfd::map` of all of it.
    WholeFile {
        read_only: bool,
    },
}

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Private,
    Shared,
    SharedValidate,
    Droppable,
    Sync,
}

/// Where `MapOptions::at` asks for the mapping.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum At {
    Raw(usize),
    /// A low address, 0 and the pages below `mmap_min_addr` included.
    Low(u16),
    /// Pages away from the start of another slot's mapping: adjacent mappings merge in the
    /// kernel, and overlapping ones must be refused.
    Beside {
        slot: Slot,
        pages: i8,
    },
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct Slot(u8);

impl Slot {
    pub fn index(self) -> usize {
        usize::from(self.0) % SLOTS
    }
}

/// A length for `MapOptions::len` and `remap`.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Len {
    Pages { pages: u8, bytes: u16 },
    Huge(u64),
}

impl Len {
    pub fn bytes(self, page: usize) -> usize {
        match self {
            Len::Pages { pages, bytes } => {
                let len = usize::from(pages) % (MAX_PAGES + 1) * page + usize::from(bytes) % page;
                len.min(MAX_PAGES * page)
            }
            // 2^57 and up: more than a 5-level page table addresses, so never mapped.
            Len::Huge(bits) => (bits | 1 << 57) as usize,
        }
    }
}

/// A file offset or size.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum FileOffset {
    Pages { pages: u8, bytes: u16 },
    Raw(u64),
}

impl FileOffset {
    pub fn bytes(self, page: usize) -> u64 {
        match self {
            FileOffset::Pages { pages, bytes } => {
                let pages = u64::from(pages) % (MAX_PAGES as u64 + 1);
                pages * page as u64 + u64::from(bytes) % page as u64
            }
            FileOffset::Raw(offset) => offset,
        }
    }
}

/// How many bytes `read_at` / `write_at` copy: up to one page more than the longest mapping.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct IoLen(u32);

impl IoLen {
    pub fn bytes(self, page: usize) -> usize {
        self.0 as usize % ((MAX_PAGES + 1) * page + 1)
    }
}

/// A byte offset into a mapping.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Offset {
    /// A page boundary, give or take a few bytes (wrapping below 0).
    Page {
        page: u8,
        delta: i16,
    },
    /// This many bytes before the mapping's end (wrapping, for more than its length).
    FromEnd(u16),
    Raw(usize),
}

impl Offset {
    pub fn bytes(self, len: usize, page: usize) -> usize {
        match self {
            Offset::Page { page: n, delta } => (usize::from(n) % (MAX_PAGES + 2))
                .wrapping_mul(page)
                .wrapping_add_signed(isize::from(delta)),
            Offset::FromEnd(back) => len.wrapping_sub(usize::from(back)),
            Offset::Raw(offset) => offset,
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum End {
    Included(Offset),
    Excluded(Offset),
    Unbounded,
}

impl End {
    fn bound(self, len: usize, page: usize) -> Bound<usize> {
        match self {
            End::Included(offset) => Bound::Included(offset.bytes(len, page)),
            End::Excluded(offset) => Bound::Excluded(offset.bytes(len, page)),
            End::Unbounded => Bound::Unbounded,
        }
    }
}

/// Any range a method accepts (`a..b`, `a..=b`, `..`, and the excluded-start forms).
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct Range {
    start: End,
    end: End,
}

/// A range resolved against a mapping's length.
pub type Bounds = (Bound<usize>, Bound<usize>);

impl Range {
    pub fn bounds(self, len: usize, page: usize) -> Bounds {
        (self.start.bound(len, page), self.end.bound(len, page))
    }
}

/// Mostly valid protections; with the top bit, also the grows-down/up flags and a bit the
/// kernel does not know.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct ProtBits(u8);

impl ProtBits {
    pub fn prot(self) -> Prot {
        let bits = u32::from(self.0);
        // READ, WRITE, EXEC and SEM.
        let mut prot = Prot::from_bits_retain(bits & 0xf);
        if bits & 0x80 != 0 {
            if bits & 0x10 != 0 {
                prot |= Prot::GROWSDOWN;
            }
            if bits & 0x20 != 0 {
                prot |= Prot::GROWSUP;
            }
            if bits & 0x40 != 0 {
                prot |= Prot::from_bits_retain(0x10);
            }
        }
        prot
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum FlushHow {
    Sync,
    Async,
    SyncInvalidate,
}

impl FlushHow {
    pub fn flush(self) -> Flush {
        match self {
            FlushHow::Sync => Flush::Sync,
            FlushHow::Async => Flush::Async,
            FlushHow::SyncInvalidate => Flush::SyncInvalidate,
        }
    }
}

/// Any advice, the destructive kinds included: the safe `advise` must refuse those.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct AdviceIndex(u8);

impl AdviceIndex {
    pub fn advice(self) -> Advice {
        use Advice::*;
        const ALL: [Advice; 27] = [
            Normal,
            Random,
            Sequential,
            WillNeed,
            DontNeed,
            Free,
            Remove,
            DontFork,
            DoFork,
            Mergeable,
            Unmergeable,
            HugePage,
            NoHugePage,
            DontDump,
            DoDump,
            WipeOnFork,
            KeepOnFork,
            Cold,
            PageOut,
            PopulateRead,
            PopulateWrite,
            DontNeedLocked,
            Collapse,
            HwPoison,
            SoftOffline,
            GuardInstall,
            GuardRemove,
        ];
        ALL[usize::from(self.0) % ALL.len()]
    }
}
