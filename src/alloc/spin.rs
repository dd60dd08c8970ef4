//! A spin lock for the allocator's shards: no libc, so no futex wrapper, and a lock held
//! for a few hundred instructions at a time needs none.

use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch::{self, nr};

/// A test-and-test-and-set lock. After a short spin it yields the CPU (`sched_yield`), so
/// that a holder preempted on a machine with fewer cores than threads can run and release.
pub(crate) struct SpinLock(AtomicBool);

/// How often to spin before yielding.
const SPINS: u32 = 64;

impl SpinLock {
    pub(crate) const fn new() -> SpinLock {
        SpinLock(AtomicBool::new(false))
    }

    /// Takes the lock if it is free.
    #[inline]
    pub(crate) fn try_lock(&self) -> bool {
        !self.0.load(Ordering::Relaxed)
            && self
                .0
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
    }

    /// Takes the lock, waiting for it as long as it takes.
    #[inline]
    pub(crate) fn lock(&self) {
        let mut spins = 0;
        while !self.try_lock() {
            if spins < SPINS {
                spins += 1;
                core::hint::spin_loop();
            } else {
                // SAFETY: sched_yield takes no arguments and touches no memory.
                unsafe { arch::syscall0(nr::SCHED_YIELD) };
            }
        }
    }

    /// Releases the lock, which the caller holds.
    #[inline]
    pub(crate) fn unlock(&self) {
        self.0.store(false, Ordering::Release);
    }
}
