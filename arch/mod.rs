//! Everything that differs between architectures, and nothing else.
//!
//! Each architecture module provides the same items:
//! - `syscall0`..`syscall6` (and `_readonly` variants for calls that write no user memory),
//!   returning the kernel's raw word: `-errno` in `-4095..=-1` on failure;
//! - `nr::*`, the syscall numbers;
//! - calls whose *argument encoding* differs between ABIs (`mmap`, `ftruncate`, `fstatfs`):
//!   the 32-bit ABIs (`abi32.rs`) issue `mmap2` with a 4096-byte-unit offset and split
//!   64-bit lengths across two registers, s390x passes `mmap` a pointer to a six-word block,
//!   the other 64-bit ABIs share `abi64.rs`, all behind the same signature;
//! - constants whose values differ (`O_*`, `MAP_*`, `MCL_*`, `PROT_SEM`, `EDEADLOCK`), the
//!   `struct shmid64_ds` layout facts, and `SHMCTL_VERSION` (`IPC_64` where the ABI wants it);
//! - `sync_instruction_cache` for freshly written code, `exit_group`.
//!
//! An architecture whose kernel signals errors differently (powerpc's `sc` sets cr0.SO, mips
//! sets `$7`, and both return a positive errno) normalises to `-errno` inside its `syscallN`,
//! so the decoding in `crate::sys` stays the same everywhere.

#[cfg(target_pointer_width = "32")]
mod abi32;
#[cfg(target_pointer_width = "64")]
mod abi64;
mod generic_consts;
#[cfg(any(
    target_arch = "aarch64",
    target_arch = "riscv64",
    target_arch = "loongarch64"
))]
pub(crate) mod generic_nr;

cfg_if::cfg_if! {
    if #[cfg(target_arch = "x86_64")] {
        mod x86_64;
        pub(crate) use x86_64::*;
    } else if #[cfg(target_arch = "aarch64")] {
        mod aarch64;
        pub(crate) use aarch64::*;
    } else if #[cfg(target_arch = "riscv64")] {
        mod riscv64;
        pub(crate) use riscv64::*;
    } else if #[cfg(all(target_arch = "powerpc64", target_endian = "little"))] {
        mod powerpc64le;
        pub(crate) use powerpc64le::*;
    } else if #[cfg(target_arch = "s390x")] {
        mod s390x;
        pub(crate) use s390x::*;
    } else if #[cfg(target_arch = "loongarch64")] {
        mod loongarch64;
        pub(crate) use loongarch64::*;
    } else if #[cfg(target_arch = "x86")] {
        mod i686;
        pub(crate) use i686::*;
    } else if #[cfg(target_arch = "arm")] {
        mod arm;
        pub(crate) use arm::*;
    } else if #[cfg(target_arch = "mips64")] {
        mod mips64;
        pub(crate) use mips64::*;
    } else {
        compile_error!(
            "mman supports Linux on x86_64, aarch64, riscv64, powerpc64le, s390x, loongarch64, \
             mips64 (n64), i686 and armv7 (ARM mode) so far"
        );
    }
}
