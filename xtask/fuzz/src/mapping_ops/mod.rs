//! `mapping_ops`: sequences of operations on a few `Mapping`s, made by `MapOptions`
//! (anonymous, shared, droppable, backed by a memfd at any offset; lengths from 0 to huge)
//! and then changed and accessed through every range-checked method with any bounds.
//!
//! Checked, besides "no crash, no panic":
//! - a range outside the mapping (past the end, reversed, overflowing) and destructive advice
//!   are EINVAL and change nothing (`checks`);
//! - what the library lends or copies is accessible: every page of a lent slice is touched,
//!   and a copy of file memory matches the file (`access`);
//! - growing memory that cannot grow (shared anonymous; a file, except by `remap_file`) is
//!   refused; a failed remap leaves the mapping as it was; a successful one has the new length;
//! - dropping a `Mapping` unmaps all of it (`World::release`), and the iteration gives back
//!   every descriptor and mapping (`crate::iteration`).
//!
//! Accesses the kernel itself would answer with SIGBUS (bytes of a mapping past the end of
//! its file; huge pages when none is free) are not made: that signal is the documented
//! behaviour, not mman's to prevent.

pub(crate) mod access;
pub(crate) mod checks;
pub(crate) mod input;
mod world;

pub use input::Op;

/// Runs one input.
pub fn run(ops: &[Op]) {
    world::World::run(ops);
}
