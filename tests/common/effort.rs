//! How much of its optional work a test does.
//!
//! Some tests choose their own length: the model tests run random sequences until a count
//! or a time bound, the stress tests repeat a fixed number of rounds. On the host that
//! length costs seconds; under full-system emulation of another architecture the same
//! work is 10 to 50 times slower, and every lane of a full run has to fit one budget. So
//! these tests scale their counts and time bounds by `MMAN_TEST_EFFORT`, a percentage the
//! xtask sets per lane (100 where it is unset), and say in their output at what effort
//! they ran, so that a lane's log shows how much it proved. Effort never changes *what* a
//! test checks, only how many times.

use std::time::Duration;

/// The percentage from `MMAN_TEST_EFFORT`, clamped to 1..=100; 100 when unset or unreadable.
pub fn effort_percent() -> usize {
    std::env::var("MMAN_TEST_EFFORT")
        .ok()
        .and_then(|value| value.parse::<usize>().ok())
        .map_or(100, |percent| percent.clamp(1, 100))
}

/// `count` scaled by the effort, never below `floor` (a test must still do something).
pub fn scaled(count: usize, floor: usize) -> usize {
    (count * effort_percent() / 100).max(floor)
}

/// `bound` scaled by the effort.
pub fn scaled_time(bound: Duration) -> Duration {
    bound * effort_percent() as u32 / 100
}
