//! The checks after every step, for every mapping:
//!
//! - each lending call (`as_slice`, `as_mut_slice`, `read_at`, `write_at`, `atomic_u32`)
//!   answers what the model predicts;
//! - whatever is lent is really accessible, checked against the kernel alone
//!   (`kernel::check_accessible`), so that a wrong model cannot hide an unsound lend;
//! - the pages have the protection the model says (`/proc/self/maps`), and every page the
//!   kernel lets this process read holds the bytes the model says.

use mman::Result;

use crate::common::page;
use crate::kernel::{check_accessible, remote_read, Needs};
use crate::model_support::{vmas_in, Rng};
use crate::ops::random_offset;
use crate::state::{perms, Slot};

/// How many lending calls were granted and refused.
#[derive(Default)]
pub struct Lends {
    pub granted: usize,
    pub refused: usize,
}

impl Lends {
    fn count<T>(&mut self, r: &Result<T>) {
        match r {
            Ok(_) => self.granted += 1,
            Err(_) => self.refused += 1,
        }
    }
}

/// Checks one mapping; returns the first difference.
pub fn check(held: &mut Slot, rng: &mut Rng, lends: &mut Lends) -> std::result::Result<(), String> {
    check_pages(held)?;
    check_bytes(held)?;
    check_lending(held, rng, lends)
}

/// The protection of every page, as `/proc/self/maps` shows it.
fn check_pages(held: &Slot) -> std::result::Result<(), String> {
    let start = held.start();
    let vmas = vmas_in(start, held.kernel_end());
    for (i, p) in held.pages.iter().enumerate() {
        let addr = start + i * page();
        let want = perms(p.prot, held.memory);
        match vmas.iter().find(|v| v.start <= addr && addr < v.end) {
            None => return Err(format!("page {i} ({addr:#x}): model mapped, maps nothing")),
            Some(vma) if vma.perms != want => {
                return Err(format!(
                    "page {i} ({addr:#x}): model {}, maps {}",
                    String::from_utf8_lossy(&want),
                    vma.perms()
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Every page the kernel lets this process read (readable, no guard marker) holds the
/// model's bytes. Read with `process_vm_readv`, past the library's book-keeping.
fn check_bytes(held: &Slot) -> std::result::Result<(), String> {
    let start = held.start();
    let mut buf = vec![0u8; page()];
    for (i, p) in held.pages.iter().enumerate() {
        let from = i * page();
        let to = ((i + 1) * page()).min(held.len());
        let chunk = &mut buf[..to - from];
        let readable = remote_read(start + from, chunk);
        // As the kernel records the protection: riscv64's reads write-only pages too.
        let recorded = crate::model_support::recorded(p.prot);
        let want_readable = recorded.contains(mman::Prot::READ) && !p.marker;
        if readable != want_readable {
            return Err(format!(
                "page {i}: model says {}readable (prot {:?}, marker {}), the kernel {}",
                if want_readable { "" } else { "not " },
                p.prot,
                p.marker,
                if readable {
                    "reads it"
                } else {
                    "refuses a read"
                }
            ));
        }
        if readable && chunk != &held.bytes[from..to] {
            let at = (0..chunk.len())
                .find(|&j| chunk[j] != held.bytes[from + j])
                .unwrap_or(0);
            return Err(format!(
                "byte {:#x}: model {:#04x}, memory {:#04x}",
                from + at,
                held.bytes[from + at],
                chunk[at]
            ));
        }
    }
    Ok(())
}

/// Each lending call answers as predicted, and what it lends is accessible.
fn check_lending(
    held: &mut Slot,
    rng: &mut Rng,
    lends: &mut Lends,
) -> std::result::Result<(), String> {
    let len = held.len();
    let bytes = held.bytes.clone();
    let base = held.start();
    let byte_at = |addr: usize| bytes.get(addr - base).copied().unwrap_or(0);
    let compare = |what: &str, got: &Result<()>, want: Result<()>| match *got == want {
        true => Ok(()),
        false => Err(format!("{what}: got {got:?}, model {want:?}")),
    };

    let got = held.map.as_slice().map(|s| (s.as_ptr() as usize, s.len()));
    lends.count(&got);
    compare("as_slice", &got.map(drop), held.predict_slice())?;
    if let Ok((ptr, n)) = got {
        check_accessible(ptr, n, Needs::Read, byte_at).map_err(|e| format!("as_slice: {e}"))?;
    }

    let got = held
        .map
        .as_mut_slice()
        .map(|s| (s.as_ptr() as usize, s.len()));
    lends.count(&got);
    compare("as_mut_slice", &got.map(drop), held.predict_mut_slice())?;
    if let Ok((ptr, n)) = got {
        check_accessible(ptr, n, Needs::ReadWrite, byte_at)
            .map_err(|e| format!("as_mut_slice: {e}"))?;
    }

    let offset = random_offset(rng, len);
    let n = rng.below(len + 1).min(len.saturating_sub(offset).max(1));
    let mut buf = vec![0u8; n];
    let got = held.map.read_at(offset, &mut buf);
    lends.count(&got);
    compare(
        &format!("read_at({offset:#x}, {n})"),
        &got,
        held.predict_read(offset, n),
    )?;
    if got.is_ok() {
        check_accessible(base + offset, n, Needs::Read, byte_at)
            .map_err(|e| format!("read_at: {e}"))?;
        if buf != bytes[offset..offset + n] {
            return Err(format!(
                "read_at({offset:#x}, {n}) read other bytes than the model's"
            ));
        }
    }

    // One byte, the one the model says is there: the write changes nothing if it is right.
    let offset = random_offset(rng, len);
    let data = [bytes.get(offset).copied().unwrap_or(0)];
    let got = held.map.write_at(offset, &data);
    lends.count(&got);
    compare(
        &format!("write_at({offset:#x}, 1)"),
        &got,
        held.predict_write(offset, 1),
    )?;
    if got.is_ok() {
        check_accessible(base + offset, 1, Needs::Write, byte_at)
            .map_err(|e| format!("write_at: {e}"))?;
    }

    let offset = match rng.below(6) {
        0 => random_offset(rng, len),
        _ => rng.below(len.div_ceil(4)) * 4,
    };
    let got = held.map.atomic_u32(offset).map(drop);
    lends.count(&got);
    compare(
        &format!("atomic_u32({offset:#x})"),
        &got,
        held.predict_atomic_u32(offset),
    )?;
    if got.is_ok() {
        check_accessible(base + offset, 4, Needs::ReadWrite, byte_at)
            .map_err(|e| format!("atomic_u32: {e}"))?;
    }
    Ok(())
}
