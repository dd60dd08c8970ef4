//! The model: what each page of the reservation is and holds, each call's predicted
//! answer, and how the calls change the pages.

use std::ffi::CStr;
use std::ops::{Bound, Range};

use mman::fd::OwnedFd;
use mman::{sys, Advice, Errno, MapOptions, Mapping, Prot, Reservation};

use crate::check::perms_of;
use crate::common::{self, page};
use crate::{PAGES, SLOTS};

/// Whose a page of the reservation's range is, and what the model knows of it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Owner {
    /// The reservation's. `prot` is the kernel's protection of the page (none unless
    /// committed); `lazy` after `reset` until the next `commit`.
    Own {
        prot: Prot,
        committed: bool,
        lazy: bool,
    },
    /// Given to the mapping placed in slot `slot`.
    Placed { slot: usize },
    /// Given to a placed mapping since dropped: unmapped, never the reservation's again.
    Gone,
}

impl Owner {
    pub(crate) const RESERVED: Owner = Owner::Own {
        prot: Prot::empty(),
        committed: false,
        lazy: false,
    };

    /// Whether `as_slice` (or with `write`, `as_mut_slice`) may lend the page: committed,
    /// not reset since, and readable (and writable).
    pub(crate) fn lendable(self, write: bool) -> bool {
        let need = if write {
            Prot::READ | Prot::WRITE
        } else {
            Prot::READ
        };
        matches!(self, Owner::Own { prot, committed: true, lazy: false } if prot.contains(need))
    }

    /// Whether `reset` takes the page: reserved, or committed read-write (reset or not).
    pub(crate) fn resettable(self) -> bool {
        match self {
            Owner::Own {
                committed: false, ..
            } => true,
            Owner::Own { prot, .. } => prot.contains(Prot::READ | Prot::WRITE),
            _ => false,
        }
    }
}

/// A range as the calls take it.
pub(crate) type Bounds = (Bound<usize>, Bound<usize>);

/// Where a placed mapping's memory comes from.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Source {
    Anonymous,
    /// The memfd from page `page` plus `lead` bytes on (`lead` < a page).
    File {
        page: usize,
        lead: usize,
        shared: bool,
    },
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Placement {
    pub(crate) slot: usize,
    pub(crate) offset: usize,
    pub(crate) len: usize,
    pub(crate) prot: Prot,
    /// `MapOptions::align` (0: not called).
    pub(crate) align: usize,
    pub(crate) source: Source,
    /// `MapOptions::name` (anonymous memory only): named after the mapping is placed, so a
    /// refused name takes the mapping back out again.
    pub(crate) name: Option<&'static CStr>,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Op {
    Commit {
        range: Bounds,
        prot: Prot,
    },
    Decommit {
        range: Bounds,
    },
    Reset {
        range: Bounds,
    },
    /// `as_slice`, or `as_mut_slice` and a fill of the slice with `fill`.
    Slice {
        range: Bounds,
        mutable: bool,
        fill: u8,
    },
    Place(Placement),
    DropPlaced {
        slot: usize,
    },
    /// Memory pressure, as the test makes it (`MADV_PAGEOUT` of pages the reservation
    /// owns): the kernel discards reset pages not yet pinned, and must keep the rest.
    Pressure {
        pages: (usize, usize),
    },
}

/// A mapping placed inside the reservation, and what the model knows of it.
pub(crate) struct Held {
    pub(crate) map: Mapping,
    /// The pages of the reservation it took.
    pub(crate) pages: Range<usize>,
    /// Its permissions in `/proc/self/maps`.
    pub(crate) perms: &'static str,
    /// For private anonymous read-write memory: the byte it was filled with.
    pub(crate) fill: Option<u8>,
}

/// A name the kernel takes (where it names memory at all), and one it refuses everywhere.
pub(crate) const VALID_NAME: &CStr = c"mman-model";
pub(crate) const REFUSED_NAME: &CStr = c"bad$name";

/// The kernel features the model depends on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Features {
    /// `MADV_FREE` (Linux 4.5); without it `reset` takes the pages at once.
    pub(crate) free: bool,
    /// `MADV_PAGEOUT` (Linux 5.4), with which the test reclaims reset pages; not used where
    /// reclaim loses what was written to them ([`common::lazily_freed_stores_after_loads_lost`]).
    pub(crate) pageout: bool,
    /// `PR_SET_VMA_ANON_NAME` (Linux 5.17 with `CONFIG_ANON_VMA_NAME`): without it every
    /// name is refused.
    pub(crate) names: bool,
}

impl Features {
    pub(crate) fn probe() -> Features {
        // The cache colour of shared placements too, known before any sequence runs.
        common::kernel_shared_colour();
        let probe = MapOptions::new()
            .len(page())
            .map()
            .expect("a page to probe");
        // SAFETY: the page was just mapped and nothing refers to its contents.
        let advise = |advice| unsafe { sys::madvise(probe.as_ptr().cast(), page(), advice) };
        Features {
            free: advise(Advice::Free) != Err(Errno::EINVAL),
            pageout: advise(Advice::PageOut) != Err(Errno::EINVAL) && reclaim_keeps_stores(),
            names: probe.set_name(VALID_NAME).is_ok(),
        }
    }
}

/// Whether reclaim keeps stores to reset pages here; if not, says why the test applies no
/// memory pressure (as a skip: the reuse of reset pages is then not proven on this machine).
fn reclaim_keeps_stores() -> bool {
    match common::lazily_freed_stores_after_loads_lost() {
        None => true,
        Some(why) => {
            common::report_skip(&format!(
                "memory pressure (MADV_PAGEOUT) not applied: {why}"
            ));
            false
        }
    }
}

/// One sequence: the reservation, the placed mappings, the model.
pub(crate) struct World<'a> {
    pub(crate) space: Option<Reservation>,
    pub(crate) base: usize,
    pub(crate) owners: [Owner; PAGES],
    /// The model's bytes of every page of the reservation's own (allocated once per batch:
    /// an allocation made while holes are open could land in one).
    pub(crate) bytes: &'a mut [u8],
    /// Pages whose bytes are either `bytes` or all zero (reset, not yet read since).
    pub(crate) either: [bool; PAGES],
    pub(crate) slots: [Option<Held>; SLOTS],
    pub(crate) memfd: &'a OwnedFd,
    pub(crate) features: Features,
    /// Pages whose reset content was found zeroed, and lends granted.
    pub(crate) resolved_zero: usize,
    pub(crate) resolved_old: usize,
    pub(crate) lent: usize,
}

impl<'a> World<'a> {
    /// A fresh reservation, all of whose pages are reserved; `bytes` is room for the model
    /// of its bytes.
    pub(crate) fn new(
        space: Reservation,
        bytes: &'a mut [u8],
        memfd: &'a OwnedFd,
        features: Features,
    ) -> World<'a> {
        bytes.fill(0);
        World {
            base: space.as_ptr() as usize,
            space: Some(space),
            owners: [Owner::RESERVED; PAGES],
            bytes,
            either: [false; PAGES],
            slots: Default::default(),
            memfd,
            features,
            resolved_zero: 0,
            resolved_old: 0,
            lent: 0,
        }
    }
}

impl World<'_> {
    pub(crate) fn space(&self) -> &Reservation {
        self.space
            .as_ref()
            .expect("the reservation is alive until the end")
    }

    pub(crate) fn space_mut(&mut self) -> &mut Reservation {
        self.space
            .as_mut()
            .expect("the reservation is alive until the end")
    }

    /// Applies `op` to the reservation and to the model; returns what the library said and
    /// what the model predicted.
    pub(crate) fn apply(&mut self, op: Op) -> (mman::Result<()>, mman::Result<()>) {
        match op {
            Op::Commit { range, prot } => {
                let got = self.space_mut().commit(range, prot);
                let want = self.model_commit(range, prot);
                (got, want)
            }
            Op::Decommit { range } => {
                let got = self.space_mut().decommit(range);
                let want = self.owned_pages(range).map(|pages| {
                    for i in pages {
                        self.owners[i] = Owner::RESERVED;
                        self.either[i] = false;
                        self.page_bytes(i).fill(0);
                    }
                });
                (got, want)
            }
            Op::Reset { range } => {
                let got = self.space_mut().reset(range);
                (got, self.model_reset(range))
            }
            Op::Slice {
                range,
                mutable,
                fill,
            } => self.slice(range, mutable, fill),
            Op::Place(placement) => self.place(placement),
            Op::Pressure {
                pages: (first, end),
            } => {
                let addr = (self.base + first * page()) as *mut std::ffi::c_void;
                // SAFETY: the pages are the reservation's own, and no slice of them is
                // alive; reclaim changes no byte of memory that is not lazily freed, and
                // lazily freed pages are not lent until committed again.
                let got = unsafe { sys::madvise(addr, (end - first) * page(), Advice::PageOut) };
                (got, Ok(()))
            }
            Op::DropPlaced { slot } => {
                let held = self.slots[slot].take().expect("an occupied slot");
                drop(held.map);
                self.owners[held.pages].fill(Owner::Gone);
                (Ok(()), Ok(()))
            }
        }
    }

    /// `commit`: `EINVAL` for grows-down/up, a range not on page boundaries or outside, or
    /// one reaching given pages; otherwise the pages are committed with `prot`, and reset
    /// ones pinned (their bytes stay "old or zero" until read).
    pub(crate) fn model_commit(&mut self, range: Bounds, prot: Prot) -> mman::Result<()> {
        if prot.intersects(Prot::GROWSDOWN | Prot::GROWSUP) {
            return Err(Errno::EINVAL);
        }
        for i in self.owned_pages(range)? {
            self.owners[i] = Owner::Own {
                prot,
                committed: true,
                lazy: false,
            };
        }
        Ok(())
    }

    /// `reset`: `EINVAL` for a range not on page boundaries or outside, or holding pages
    /// committed with another protection than read-write, or given away; committed pages
    /// become lazy (contents "old or zero"), reserved ones stay as they are.
    pub(crate) fn model_reset(&mut self, range: Bounds) -> mman::Result<()> {
        let pages = self.owned_pages(range)?;
        if !self.owners[pages.clone()].iter().all(|o| o.resettable()) {
            return Err(Errno::EINVAL);
        }
        for i in pages {
            if let Owner::Own {
                prot,
                committed: true,
                ..
            } = self.owners[i]
            {
                if self.features.free {
                    self.owners[i] = Owner::Own {
                        prot,
                        committed: true,
                        lazy: true,
                    };
                    self.either[i] = true;
                } else {
                    // MADV_DONTNEED instead: zeros now, read-write memory at once.
                    self.page_bytes(i).fill(0);
                }
            }
        }
        Ok(())
    }

    /// `as_slice` or `as_mut_slice` of `range`: `EINVAL` outside the reservation, `EACCES`
    /// unless every page the bytes touch is lendable; a mutable slice is filled.
    pub(crate) fn slice(
        &mut self,
        range: Bounds,
        mutable: bool,
        fill: u8,
    ) -> (mman::Result<()>, mman::Result<()>) {
        let want = match span(range, PAGES * page()) {
            None => Err(Errno::EINVAL),
            Some(bytes) => {
                let lendable = touched(&bytes).all(|i| self.owners[i].lendable(mutable));
                if lendable {
                    Ok(bytes)
                } else {
                    Err(Errno::EACCES)
                }
            }
        };
        let base = self.base;
        let got = if mutable {
            self.space_mut().as_mut_slice(range).map(|slice| {
                slice.fill(fill);
                (slice.as_ptr() as usize - base, slice.len())
            })
        } else {
            let slice = self.space().as_slice(range);
            slice.map(|slice| (slice.as_ptr() as usize - base, slice.len()))
        };
        if let (Ok((start, len)), Ok(bytes)) = (got, &want) {
            assert_eq!(
                start..start + len,
                bytes.clone(),
                "the slice lent other bytes"
            );
            if mutable {
                self.bytes[bytes.clone()].fill(fill);
            }
            self.lent += 1;
        }
        (got.map(drop), want.map(drop))
    }

    /// `map_in` / `map_file_in`: `EINVAL` for a length of 0, an offset not on a page
    /// boundary (or on `align`'s), pages outside the reservation or given away; `EBUSY` if
    /// one is committed; otherwise the pages are the new mapping's.
    pub(crate) fn place(&mut self, p: Placement) -> (mman::Result<()>, mman::Result<()>) {
        let lead = match p.source {
            Source::File { lead, .. } => lead,
            Source::Anonymous => 0,
        };
        let want = self.model_place(&p, lead);
        let mut options = MapOptions::new().len(p.len).prot(p.prot);
        if p.align != 0 {
            options = options.align(p.align);
        }
        if let Some(name) = p.name {
            options = options.name(name);
        }
        let memfd = self.memfd;
        let space = self.space.as_mut().expect("alive");
        let result = match p.source {
            Source::Anonymous => options.map_in(space, p.offset),
            Source::File {
                page: first,
                lead,
                shared,
            } => {
                let options = if shared { options.shared() } else { options };
                let offset = (first * page() + lead) as u64;
                options.map_file_in(space, p.offset, memfd, offset)
            }
        };
        let got = match (result, &want) {
            (Ok(mut map), Ok(pages)) => {
                let start = self.base + p.offset + lead;
                assert_eq!(map.as_ptr() as usize, start, "placed elsewhere: {p:?}");
                assert_eq!(map.len(), p.len, "placed with another length: {p:?}");
                let shared = matches!(p.source, Source::File { shared: true, .. });
                let fill = match p.source {
                    Source::Anonymous if p.prot.contains(Prot::READ | Prot::WRITE) => {
                        let fill = (p.slot as u8 + 1) * 17;
                        let bytes = map.as_mut_slice().expect("placed private anonymous memory");
                        assert!(bytes.iter().all(|&b| b == 0), "placed memory is not fresh");
                        bytes.fill(fill);
                        Some(fill)
                    }
                    _ => None,
                };
                self.owners[pages.clone()].fill(Owner::Placed { slot: p.slot });
                self.slots[p.slot] = Some(Held {
                    map,
                    pages: pages.clone(),
                    perms: perms_of(p.prot, shared),
                    fill,
                });
                Ok(())
            }
            (result, _) => result.map(drop),
        };
        (got, want.map(drop))
    }

    /// The pages a placement takes, or the error it must answer.
    pub(crate) fn model_place(&self, p: &Placement, lead: usize) -> mman::Result<Range<usize>> {
        let page = page();
        let aligned =
            p.align == 0 || (p.align >= page && self.base.wrapping_add(p.offset) % p.align == 0);
        if p.len == 0 || !aligned || p.offset % page != 0 {
            return Err(Errno::EINVAL);
        }
        let end = p.offset.checked_add((p.len + lead).next_multiple_of(page));
        let end = end
            .filter(|&end| end <= PAGES * page)
            .ok_or(Errno::EINVAL)?;
        let pages = p.offset / page..end / page;
        let owners = &self.owners[pages.clone()];
        if !owners.iter().all(|o| matches!(o, Owner::Own { .. })) {
            return Err(Errno::EINVAL);
        }
        if owners.iter().any(|o| *o != Owner::RESERVED) {
            return Err(Errno::EBUSY);
        }
        if let Source::File {
            page: first,
            shared: true,
            ..
        } = p.source
        {
            // Where data caches alias (mips), the kernel refuses a shared mapping at a fixed
            // address whose cache colour differs from its file offset's.
            let colour = crate::common::kernel_shared_colour();
            let start = self.base.wrapping_add(p.offset);
            if start.wrapping_sub(first * page) % colour != 0 {
                return Err(Errno::EINVAL);
            }
        }
        match p.name {
            // Refused once placed: the mapping is taken out, the pages reserved again.
            Some(name) if name == REFUSED_NAME || !self.features.names => Err(Errno::EINVAL),
            _ => Ok(pages),
        }
    }

    /// The pages of `range` for a call that changes them: `EINVAL` unless it lies inside,
    /// on page boundaries, and reaches no page given away.
    pub(crate) fn owned_pages(&self, range: Bounds) -> mman::Result<Range<usize>> {
        let page = page();
        let bytes = span(range, PAGES * page).ok_or(Errno::EINVAL)?;
        if bytes.start % page != 0 || bytes.end % page != 0 {
            return Err(Errno::EINVAL);
        }
        let pages = bytes.start / page..bytes.end / page;
        if self.owners[pages.clone()]
            .iter()
            .all(|o| matches!(o, Owner::Own { .. }))
        {
            Ok(pages)
        } else {
            Err(Errno::EINVAL)
        }
    }

    pub(crate) fn page_bytes(&mut self, i: usize) -> &mut [u8] {
        &mut self.bytes[i * page()..(i + 1) * page()]
    }
}

/// The byte range `range` selects in `len` bytes, as documented: None if it reaches
/// outside, is reversed, or its end overflows.
pub(crate) fn span(range: Bounds, len: usize) -> Option<Range<usize>> {
    let start = match range.0 {
        Bound::Included(s) => s,
        Bound::Excluded(s) => s.checked_add(1)?,
        Bound::Unbounded => 0,
    };
    let end = match range.1 {
        Bound::Included(e) => e.checked_add(1)?,
        Bound::Excluded(e) => e,
        Bound::Unbounded => len,
    };
    (start <= end && end <= len).then_some(start..end)
}

/// The pages `bytes` touch: none for no bytes.
pub(crate) fn touched(bytes: &Range<usize>) -> Range<usize> {
    match bytes.is_empty() {
        true => 0..0,
        false => bytes.start / page()..bytes.end.div_ceil(page()),
    }
}
