//! Flag types for every call, as `bitflags` over the kernel's own values.
//!
//! Values that differ between architectures come from `crate::arch`; everything here is
//! the same on every supported architecture. Each type accepts any bit pattern the kernel
//! does through `from_bits_retain`, so flags newer than this crate can still be passed.

mod advice;
mod file;
mod mapping;
mod sysv;

pub use advice::Advice;
pub use file::{FallocateFlags, MemfdFlags, Mode, OFlags, Seals};
pub use mapping::{MapFlags, MlockAllFlags, MlockFlags, MremapFlags, MsyncFlags, Prot};
pub use sysv::{ShmAtFlags, ShmGetFlags};

/// Where the kernel's huge-page-size field starts in mmap, memfd_create and shmget flags
/// (`include/uapi/asm-generic/hugetlb_encode.h`).
const HUGE_SHIFT: u32 = 26;
/// The field holds log2 of the size in six bits.
const HUGE_MASK: u32 = 0x3f;

/// Encodes `log2(page size)` into the huge-page-size field; out-of-range values are masked
/// to the field rather than spilling into other flags.
const fn huge_size_bits(log2: u32) -> u32 {
    (log2 & HUGE_MASK) << HUGE_SHIFT
}
