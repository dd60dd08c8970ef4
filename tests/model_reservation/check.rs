//! Comparing the model with the kernel (`/proc/self/maps`) and the library
//! (`committed()`, the bytes it lends), after every step and after the drops.

use mman::Prot;

use crate::common::page;
use crate::model::{Held, Owner, World};
use crate::model_support::vmas_in;
use crate::PAGES;

impl World<'_> {
    /// Compares the model with the kernel and the library; returns the first difference.
    /// Pages read back as zeros after a reset are settled here (the first read after the
    /// commit that pinned them).
    pub(crate) fn diverges(&mut self) -> Option<String> {
        let page = page();
        let kernel = maps_perms(self.base);
        for (i, got) in kernel.iter().enumerate() {
            let want = self.expected_perms(i);
            if *got != want {
                return Some(format!(
                    "page {i} ({:?}): maps {got:?}, model {want:?}",
                    self.owners[i]
                ));
            }
        }
        let committed = self
            .owners
            .iter()
            .filter(|o| {
                matches!(
                    o,
                    Owner::Own {
                        committed: true,
                        ..
                    }
                )
            })
            .count()
            * page;
        let got = self.space().committed();
        if got != committed {
            return Some(format!("committed() {got}, model {committed}"));
        }
        for i in 0..PAGES {
            if !self.owners[i].lendable(false) {
                continue;
            }
            let got = match self.space().as_slice(i * page..(i + 1) * page) {
                Ok(bytes) => bytes,
                Err(e) => return Some(format!("page {i} ({:?}): as_slice {e}", self.owners[i])),
            };
            let want = &self.bytes[i * page..(i + 1) * page];
            if got == want {
                if self.either[i] && want.iter().any(|&b| b != 0) {
                    self.either[i] = false;
                    self.resolved_old += 1;
                }
                self.either[i] = false;
                continue;
            }
            if self.either[i] && got.iter().all(|&b| b == 0) {
                self.either[i] = false;
                self.resolved_zero += 1;
                self.bytes[i * page..(i + 1) * page].fill(0);
                continue;
            }
            let at = got.iter().zip(want).position(|(g, w)| g != w).unwrap_or(0);
            return Some(format!(
                "page {i}: byte {at} reads {}, model {} (either old or zero: {})",
                got[at], want[at], self.either[i]
            ));
        }
        for (slot, held) in self.slots.iter().enumerate() {
            let Some(Held {
                map,
                fill: Some(fill),
                ..
            }) = held
            else {
                continue;
            };
            let bytes = map.as_slice().expect("placed private memory is lent");
            if !bytes.iter().all(|b| b == fill) {
                return Some(format!("slot {slot}: the placed mapping's bytes changed"));
            }
        }
        None
    }

    /// What `/proc/self/maps` must show for page `i`.
    pub(crate) fn expected_perms(&self, i: usize) -> Option<&'static str> {
        match self.owners[i] {
            Owner::Own { prot, .. } => Some(perms_of(prot, false)),
            Owner::Placed { slot } => Some(self.slots[slot].as_ref().expect("placed").perms),
            Owner::Gone => None,
        }
    }

    /// Drops the reservation, then the placed mappings, checking what stays mapped after
    /// each: nothing of the reservation's own, all of every placed mapping still alive.
    pub(crate) fn release(mut self) -> Option<String> {
        drop(self.space.take());
        for (i, got) in maps_perms(self.base).iter().enumerate() {
            let want = match self.owners[i] {
                Owner::Own { .. } | Owner::Gone => None,
                Owner::Placed { .. } => self.expected_perms(i),
            };
            if *got != want {
                return Some(format!(
                    "after the reservation's drop, page {i} ({:?}): maps {got:?}, model {want:?}",
                    self.owners[i]
                ));
            }
        }
        for held in self.slots.iter_mut().flatten() {
            if let Some(fill) = held.fill {
                let bytes = held
                    .map
                    .as_mut_slice()
                    .expect("placed private memory is lent");
                assert!(
                    bytes.iter().all(|&b| b == fill),
                    "a placed mapping's bytes changed"
                );
                bytes.fill(!fill);
            }
        }
        self.slots = Default::default();
        let left = maps_perms(self.base).iter().position(Option::is_some);
        left.map(|i| format!("after every drop, page {i} is still mapped"))
    }
}

/// The permission column of `/proc/self/maps` for `prot`.
pub(crate) fn perms_of(prot: Prot, shared: bool) -> &'static str {
    const PRIVATE: [&str; 8] = [
        "---p", "r--p", "-w-p", "rw-p", "--xp", "r-xp", "-wxp", "rwxp",
    ];
    const SHARED: [&str; 8] = [
        "---s", "r--s", "-w-s", "rw-s", "--xs", "r-xs", "-wxs", "rwxs",
    ];
    let prot = crate::model_support::recorded(prot);
    let bits = (prot & (Prot::READ | Prot::WRITE | Prot::EXEC)).bits() as usize;
    if shared {
        SHARED[bits]
    } else {
        PRIVATE[bits]
    }
}

/// The permissions `/proc/self/maps` shows for each of the `PAGES` pages from `start`
/// (`None` where nothing is mapped), reading no further than the reservation.
pub(crate) fn maps_perms(start: usize) -> [Option<&'static str>; PAGES] {
    let mut found = [None; PAGES];
    for vma in vmas_in(start, start + PAGES * page()) {
        for (i, slot) in found.iter_mut().enumerate() {
            let addr = start + i * page();
            if vma.start <= addr && addr < vma.end {
                // Interned, so that the model compares `&'static str`s.
                let shared = vma.perms[3] == b's';
                let prot = [(0, Prot::READ), (1, Prot::WRITE), (2, Prot::EXEC)]
                    .into_iter()
                    .filter(|&(at, _)| vma.perms[at] != b'-')
                    .fold(Prot::empty(), |prot, (_, bit)| prot | bit);
                *slot = Some(perms_of(prot, shared));
            }
        }
    }
    found
}
