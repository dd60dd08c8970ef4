//! Operation sequences on a `Reservation` and mappings placed in it: see
//! `mman_fuzz::reservation_ops`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mman_fuzz::reservation_ops::{self, Input};

fuzz_target!(init: mman_fuzz::start("reservation_ops"), |input: Input| {
    mman_fuzz::iteration(|| reservation_ops::run(&input));
});
