//! The input of `reservation_ops`: how large and how aligned a reservation to make, then a
//! sequence of operations on it, decoded with `arbitrary`. Ranges, offsets, lengths and
//! protections are `mapping_ops`'s (page boundaries and bytes either side, the end, values
//! that overflow, lengths no address space holds).

use arbitrary::Arbitrary;

use crate::mapping_ops::input::{FileOffset, Len, Offset, ProtBits, Range, Slot};

#[derive(Arbitrary, Debug)]
pub struct Input {
    pub size: Size,
    /// None: `Reservation::new`; else `with_align`.
    pub align: Option<Align>,
    pub ops: Vec<Op>,
}

/// The reservation's length.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Size {
    /// Up to 64 pages, and bytes short of a page more (0: `EINVAL`).
    Pages { pages: u8, bytes: u16 },
    /// 513 to 2560 pages: more than the inline page table holds, so it lives in a mapping
    /// of its own.
    Large(u16),
    /// This many bytes short of the end of the address space: `ENOMEM`.
    Huge(u16),
}

impl Size {
    pub fn bytes(self, page: usize) -> usize {
        match self {
            Size::Pages { pages, bytes } => {
                usize::from(pages) % 65 * page + usize::from(bytes) % page
            }
            Size::Large(pages) => (513 + usize::from(pages) % 2048) * page,
            Size::Huge(short) => usize::MAX - usize::from(short),
        }
    }
}

/// An alignment for `with_align` or `MapOptions::align`.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Align {
    /// 2^(n % 31): below a page too (refused by `with_align`), up to 1 GiB.
    Log2(u8),
    Raw(usize),
}

impl Align {
    pub fn bytes(self) -> usize {
        match self {
            Align::Log2(n) => 1 << (n % 31),
            Align::Raw(align) => align,
        }
    }
}

#[derive(Arbitrary, Debug)]
pub enum Op {
    Commit {
        range: Range,
        prot: ProtBits,
    },
    Decommit {
        range: Range,
    },
    Reset {
        range: Range,
    },
    /// `as_slice`, or `as_mut_slice` and a fill with `byte`.
    Slice {
        range: Range,
        mutable: bool,
        byte: u8,
    },
    /// `map_in` (or with a file offset, `map_file_in` of the iteration's memfd) into a slot,
    /// which must be empty (else nothing is done).
    Place {
        slot: Slot,
        offset: Offset,
        /// None: no length (anonymous: `EINVAL`; file: the rest of it).
        len: Option<Len>,
        prot: ProtBits,
        align: Option<Align>,
        file: Option<FileOffset>,
        shared: bool,
    },
    DropPlaced {
        slot: Slot,
    },
}
