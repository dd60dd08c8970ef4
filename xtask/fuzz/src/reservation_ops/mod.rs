//! `reservation_ops`: a `Reservation` of any size (inline page table or one in a mapping of
//! its own; zero and unreservable lengths), aligned or not, then sequences of `commit`
//! (every protection, grows-down/up and bits the kernel does not know included),
//! `decommit`, `reset`, `as_slice`/`as_mut_slice` with any bounds, placement of anonymous
//! and memfd mappings inside it (`MapOptions::map_in`/`map_file_in` at any offset, with any
//! length and alignment) and drops of those mappings.
//!
//! Checked, besides "no crash, no panic", against a book of each page's state kept by the
//! documented rules (`book`):
//! - every call answers as the book says (an anonymous placement exactly; a file placement
//!   may also be refused for the file's reasons, never granted where the book refuses), and
//!   a refused call changes nothing (`/proc/self/maps` over the reservation, `committed()`);
//! - a commit the kernel refuses (unknown protection bits) leaves its pages counted as
//!   committed and lends no access the call may have taken away;
//! - whatever is lent is mapped readable (writable) in `/proc/self/maps`, and is touched on
//!   every page;
//! - `committed()` matches the book after every operation;
//! - a placed mapping lies where asked; dropping it unmaps all of it; dropping the
//!   reservation unmaps everything it still owns and nothing of the placed mappings alive;
//!   the iteration gives back every descriptor and mapping (`crate::iteration`).

mod book;
pub mod input;
mod world;

pub use input::Input;

/// Runs one input.
pub fn run(input: &Input) {
    world::run(input);
}
