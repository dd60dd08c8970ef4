//! Operation sequences on `Mapping`s: see `mman_fuzz::mapping_ops`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mman_fuzz::mapping_ops::{self, Op};

fuzz_target!(init: mman_fuzz::start("mapping_ops"), |ops: Vec<Op>| {
    mman_fuzz::iteration(|| mapping_ops::run(&ops));
});
