//! Reading and writing mappings: whatever the library lends or copies must really be
//! accessible, and copies must agree with what was written and with the file.

use std::sync::atomic::Ordering::SeqCst;

use mman::{Errno, Mapping};

use super::checks::read_file;
use super::input::Slot;
use super::world::{Memory, World};

impl World<'_> {
    /// `read_at` (with `fill` None) or `write_at` (of `n` times `fill`) at `offset`.
    pub(super) fn copy(&mut self, slot: Slot, offset: usize, n: usize, fill: Option<u8>) {
        let backed = self.backed(slot);
        let Some(held) = self.slots[slot.index()].as_ref() else {
            return;
        };
        let io = |map: &mut Mapping, buf: &mut [u8]| match fill {
            Some(byte) => {
                buf.fill(byte);
                map.write_at(offset, buf)
            }
            None => map.read_at(offset, buf),
        };
        let Some(end) = offset.checked_add(n).filter(|&end| end <= held.map.len()) else {
            return self.refused(slot, |map, buf, _| io(map, &mut buf[..n]));
        };
        if end > backed {
            return;
        }
        let (buf, check) = self.scratch.split_at_mut(n);
        let held = self.slots[slot.index()].as_mut().expect("checked above");
        let result = io(&mut held.map, buf);
        if held.guarded {
            assert_eq!(result, Err(Errno::EACCES), "copy of guarded memory");
        }
        // Granted exactly when the book-keeping grants it: refusing wrongly is a bug too.
        let (read, write) = (fill.is_none(), fill.is_some());
        if let Some(granted) = held.book.grants(read, write) {
            let want = if granted { Ok(()) } else { Err(Errno::EACCES) };
            assert_eq!(
                result, want,
                "copy inside the mapping, book {:?}",
                held.book
            );
        }
        if let Err(e) = result {
            assert_eq!(e, Errno::EACCES, "copy inside the mapping");
            return;
        }
        let check = &mut check[..n];
        match (fill, held.memory) {
            (Some(_), Memory::Droppable) => {}
            // Write-only memory (PROT_WRITE alone) cannot be read back.
            (Some(byte), _) => match held.map.read_at(offset, check) {
                Ok(()) => assert!(check.iter().all(|&b| b == byte), "read back other bytes"),
                Err(e) => assert_eq!(e, Errno::EACCES, "read back"),
            },
            // Shared file memory is the file: what was read must be what the file holds.
            (
                None,
                Memory::File {
                    offset: base,
                    shared: true,
                    ..
                },
            ) => {
                read_file(&self.memfd, base + offset as u64, check);
                assert!(buf == check, "mapping and file differ at {offset:#x}");
            }
            (None, _) => {}
        }
    }

    /// `as_slice` or `as_mut_slice`: lent only for exclusive memory, and then every page
    /// must be accessible.
    pub(super) fn slice(&mut self, slot: Slot, mutable: bool) {
        let page = self.page;
        let backed = self.backed(slot);
        let Some(held) = self.slots[slot.index()].as_mut() else {
            return;
        };
        if backed < held.map.len() {
            return;
        }
        let result = match mutable {
            true => held.map.as_mut_slice().map(|bytes| touch_mut(bytes, page)),
            false => held.map.as_slice().map(|bytes| touch(bytes, page)),
        };
        if held.guarded {
            assert!(result.is_err(), "lent a slice of guarded memory");
        }
        match result {
            Ok(()) => assert!(held.memory.exclusive(), "lent a slice of volatile memory"),
            Err(e) if held.memory.exclusive() => assert_eq!(e, Errno::EACCES),
            Err(e) => assert_eq!(e, Errno::EPERM),
        }
        if let (true, Some(granted)) = (held.memory.exclusive(), held.book.grants(true, mutable)) {
            assert_eq!(
                result.is_ok(),
                granted,
                "slice (mutable {mutable}), book {:?}",
                held.book
            );
        }
    }

    /// `atomic_u32` (or with `wide`, `atomic_u64`), then an add through it. The view
    /// borrows the mapping mutably, so exclusive memory is allowed too: `EACCES` unless
    /// the book-keeping grants reading and writing, then `EINVAL` unless aligned and inside.
    pub(super) fn atomic(&mut self, slot: Slot, offset: usize, wide: bool, add: u32) {
        let backed = self.backed(slot);
        let covered = match self.slots[slot.index()].as_ref().map(|held| held.memory) {
            Some(Memory::File { offset, .. }) => self.covers(offset, self.len(slot)),
            _ => true,
        };
        let Some(held) = self.slots[slot.index()].as_mut() else {
            return;
        };
        let size = if wide { 8 } else { 4 };
        let call = |map: &mut Mapping| match wide {
            true => map.atomic_u64(offset).map(|a| {
                a.fetch_add(add.into(), SeqCst);
            }),
            false => map.atomic_u32(offset).map(|a| {
                a.fetch_add(add, SeqCst);
            }),
        };
        let inside = offset
            .checked_add(size)
            .is_some_and(|end| end <= held.map.len());
        let aligned =
            (held.map.as_ptr() as usize).is_multiple_of(size) && offset.is_multiple_of(size);
        let granted = held.book.grants(true, true);
        if let Memory::File {
            past_end: past_end @ true,
            ..
        } = &mut held.memory
        {
            if granted != Some(false) {
                // Read-write memory past its file's end, as far as the library knows: it
                // asks the kernel whether the file covers it now, and lends no view if not
                // (review round 5). A view it lends covers backed pages only.
                let result = call(&mut held.map);
                if covered && result != Err(Errno::EACCES) {
                    *past_end = false;
                }
                match result {
                    Ok(()) => assert!(covered && inside && aligned, "atomic past the end"),
                    Err(Errno::EPERM) => assert!(!covered, "a covered mapping refused"),
                    Err(Errno::EINVAL) => assert!(covered && !(inside && aligned)),
                    Err(e) => assert!(e == Errno::EACCES && granted.is_none(), "{e:?}"),
                }
                return;
            }
        }
        if held.memory == Memory::UnreservedHugePages && granted != Some(false) {
            // Never a view (review round 4), whatever the offset: EPERM once read-write.
            let result = call(&mut held.map);
            let refused = result == Err(Errno::EPERM);
            assert!(refused || (granted.is_none() && result == Err(Errno::EACCES)));
            return;
        }
        if !inside && granted == Some(true) {
            return self.refused(slot, |map, _, _| call(map));
        }
        if !inside || offset + size > backed {
            // Out of range and refused anyway, or past the end of the file (SIGBUS).
            if !inside {
                let result = call(&mut held.map);
                assert!(
                    matches!(result, Err(Errno::EACCES | Errno::EINVAL)),
                    "atomic out of range: {result:?}"
                );
            }
            return;
        }
        let result = call(&mut held.map);
        match result {
            Ok(()) => assert!(aligned, "misaligned atomic"),
            Err(Errno::EINVAL) => assert!(!aligned, "aligned atomic refused"),
            Err(e) => assert_eq!(e, Errno::EACCES),
        }
        if held.guarded {
            assert!(result.is_err(), "atomic of guarded memory");
        }
        if let Some(granted) = granted {
            let want = match (granted, aligned) {
                (false, _) => Err(Errno::EACCES),
                (true, false) => Err(Errno::EINVAL),
                (true, true) => Ok(()),
            };
            assert_eq!(result, want, "atomic, book {:?}", held.book);
        }
    }
}

/// Reads a byte of every page of a lent slice (and its last byte).
pub(crate) fn touch(bytes: &[u8], page: usize) {
    for i in (0..bytes.len())
        .step_by(page)
        .chain(bytes.len().checked_sub(1))
    {
        // SAFETY: `i` is inside the slice.
        unsafe { std::ptr::read_volatile(&bytes[i]) };
    }
}

/// Rewrites a byte of every page of a lent mutable slice (and its last byte).
pub(crate) fn touch_mut(bytes: &mut [u8], page: usize) {
    for i in (0..bytes.len())
        .step_by(page)
        .chain(bytes.len().checked_sub(1))
    {
        let byte = &mut bytes[i] as *mut u8;
        // SAFETY: `byte` points into the slice.
        unsafe { byte.write_volatile(byte.read_volatile()) };
    }
}
