//! Why no safe function can cause undefined behaviour: the rules, the kernel behaviours
//! that could break them, and the test that covers each. (Documentation only.)
//!
//! The promise: whatever its arguments, whatever other threads, other mappings of the same
//! object, neighbouring mappings or forked children do, and whether the kernel call
//! succeeds, fails or partly succeeds, a safe function of this crate cannot cause undefined
//! behaviour. What remains are *signals*: reading a file mapping past a truncated end raises
//! `SIGBUS`, as in C, and so does the first touch of a hole in a file someone other than
//! this crate sized (a file of its own making or a stranger's, never an object this crate
//! created or sized) once its filesystem is full.
//!
//! # The rules
//!
//! **1. Only address space the program owns is touched, and no memory is kept where the
//! main stack may grow.** Every `sys` call that takes an address is `unsafe`. A
//! [`Mapping`](crate::Mapping) owns its range and unmaps it once, on drop; every range a
//! method takes is checked against `[0, len())`. The main thread's stack grows down on
//! demand, as far as `RLIMIT_STACK` below its top, and the kernel keeps a *guard gap*
//! (`stack_guard_gap`, 256 pages by default) between it and an *accessible* mapping below;
//! up to an inaccessible or a grows-down mapping it grows with no gap at all, and
//! `mprotect` then makes the inaccessible one accessible without a look. The kernel places
//! mappings out of the stack's reach while it has room below its mapping base, but not
//! when it has none, nor in the bottom-up layout, nor at a hint; `MAP_FIXED_NOREPLACE`
//! and `mremap` growing in place check only overlap. A mapping in the reach would let a
//! deep recursion write its frames through slices this crate lent. So every mapping the
//! safe layer makes, attaches or moves, wherever the kernel or [`MapOptions::at`](crate::MapOptions::at) put it,
//! is checked against the reach (`src/stack_reach.rs`: from the stack's top, found in the
//! auxiliary vector, down by the soft `RLIMIT_STACK` and the guard gap) and refused
//! (`ENOMEM`) inside it. `at` passes its address as a hint, which the kernel refuses inside
//! the guard gap as it is now (`EEXIST`). [`Mapping::remap`](crate::Mapping::remap) never
//! grows in place: past its last page it moves the mapping into a region the kernel chose,
//! checked and reserved beforehand (see `src/mapping/grow.rs`); after a failed move that
//! reservation is never unmapped, since the kernel may have cleared it and another thread
//! mapped something there since.
//!
//! Memory is put at an address of the program's choosing only inside address space it
//! owns: a [`Reservation`](crate::Reservation) (reserved out of the stack's reach like any
//! mapping) hands pages over to a mapping placed there
//! ([`MapOptions::map_in`](crate::MapOptions::map_in)), which owns them from then on. The
//! placement never replaces anything: the reservation unmaps the pages and the mapping is
//! made with `MAP_FIXED_NOREPLACE`, so that a `MAP_FIXED` that failed after unmapping its
//! range (kernels differ in which failures come first) can never lead the reservation to
//! map over, or unmap, what another thread put in the hole.
//!
//! Every mapping is inherited by a forked child like anonymous memory, so that the child's
//! copy of a `Mapping` names memory the child has: [`map_file`](crate::MapOptions::map_file) takes only
//! regular files of filesystems whose mappings are plain page-cache ones (`ENODEV`
//! otherwise: a driver's `mmap` may set `VM_DONTCOPY`), and memory the crate itself keeps
//! from children ([`SecretMemory`](crate::SecretMemory)) knows when it is in one.
//!
//! A call reaches no further than its range: `Prot::GROWSDOWN`/`GROWSUP`, which extend
//! `mprotect` to the rest of a kernel VMA (and the kernel merges adjacent grows-down
//! mappings into one VMA), are refused by [`protect`](crate::Mapping::protect) and by
//! [`MapOptions::map`](crate::MapOptions::map).
//!
//! **2. A reference promises its bytes do not change, so only exclusive memory is lent.**
//! Private anonymous memory and [`SecretMemory`](crate::SecretMemory) are exclusive: only
//! the owning value changes them. So is a mapping of a file sealed against writing and
//! shrinking (`F_SEAL_WRITE | F_SEAL_SHRINK`, read with `F_GET_SEALS` when mapping; seals
//! are never removed) that lies within the file's size: no writer, writable shared
//! mapping, hole punch or truncation can reach its bytes, and a private one's written pages
//! are its own copies (see [`MapOptions::map_file`](crate::MapOptions::map_file)).
//! Other shared, file-backed and droppable memory is *volatile*, and so is memory whose
//! pages may not be there when touched (huge pages mapped without a reservation, which the
//! pool may fail to supply, or not yet faulted in, which a hugetlb cgroup limit may refuse:
//! `SIGBUS`, which must not come through a reference):
//! `as_slice` refuses them (`EPERM`); they are copied with relaxed atomic accesses
//! ([`read_at`](crate::Mapping::read_at), [`write_at`](crate::Mapping::write_at)), which
//! race soundly with other processes and with other mappings of the same object, or viewed
//! as atomics ([`as_atomics`](crate::Mapping::as_atomics); not over huge pages without a
//! reservation: views are references too). The memory model forbids a race between atomic
//! accesses of different sizes when one of them writes, and between a non-atomic access
//! and a write: so atomic views borrow the mapping *mutably*, and while one lives there is
//! no slice, no copy and no view of another size in this process:
//!
//! ```compile_fail,E0502
//! use core::sync::atomic::{AtomicU32, Ordering};
//! let mut m = mman::MapOptions::new().len(4096).shared().map()?;
//! let words = m.as_atomics::<AtomicU32>()?;
//! let mut copy = [0u8; 4];
//! m.read_at(0, &mut copy)?; // refused: the view borrows `m` mutably
//! words[0].store(1, Ordering::Relaxed);
//! # Ok::<(), mman::Errno>(())
//! ```
//!
//! Advice that destroys contents or makes accesses fault (`DontNeed` on volatile memory or
//! on huge pages, whose freed page may take the mapping's reservation with it,
//! `Free`, `Remove`, `GuardInstall`, `GuardRemove`, `HwPoison`, `SoftOffline`), and advice
//! that leaves a forked child's copy of the `Mapping` over unmapped (`DontFork`) or zeroed
//! (`WipeOnFork`) memory, is refused by [`advise`](crate::Mapping::advise) and offered by
//! the `unsafe` [`advise_unchecked`](crate::Mapping::advise_unchecked).
//!
//! **3. A slice is lent only while every byte is known to be accessible, and book-keeping is
//! pessimistic.** A `Mapping` records whether all of it is readable and writable. Whatever a
//! call may take away is cleared *before* the call; what it grants is set only after it
//! succeeded, and only when it covered the whole mapping. The kernel changes one VMA at a
//! time and can fail part-way (`ENOMEM` when a split would pass `vm.max_map_count`), so a
//! failed `protect` counts as having removed everything its protection does not grant.
//! Guard markers outlive `mprotect`, so after [`guard`](crate::Mapping::guard) only
//! [`unguard`](crate::Mapping::unguard) makes the mapping lendable again. A mapping that
//! may be partly sealed refuses `protect`, `guard` and moves (`EPERM`) up front, since the
//! kernel may change the unsealed part before refusing the rest.
//!
//! **4. Calls that act on process-wide state owned by others are `unsafe`.**
//! [`sys::pkey_free`](crate::sys::pkey_free) frees a key memory may still be tagged with,
//! which the next `pkey_alloc` hands out with new rights, like closing a descriptor someone
//! else owns:
//!
//! ```compile_fail,E0133
//! let _ = mman::sys::pkey_free(1); // refused: pkey_free is unsafe
//! ```
//!
//! # Outside the model
//!
//! As for Rust's standard library: writing this process's memory through `/proc/self/mem`,
//! resizing the hidden files behind its mappings through `/proc/self/map_files/` (which
//! needs `CAP_SYS_ADMIN` or `CAP_CHECKPOINT_RESTORE`: a System V segment or an anonymous
//! huge-page mapping can be truncated under it that way), debuggers and `ptrace`. Likewise
//! reopening through `/proc/self/fd/` a descriptor the crate holds open for a moment, which
//! needs no capability: [`MirrorBuffer::new`](crate::MirrorBuffer::new)'s memfd is sealed
//! against resizing but not against writing (its views write) and is closed before anything
//! is lent, but a thread that reopens it in that window keeps a descriptor of its own, through
//! which a later hole punch (`sys::fallocate`) or `write(2)`, or a writable mapping of it,
//! changes bytes under the slices the ring lends (review round 6c, run: a thread scanning
//! `/proc/self/fd` caught it within a few rings, and a punch zeroed the bytes of a live
//! `read_slice`). Closing that would take a ring with no descriptor at all (shared anonymous
//! memory, its second view made by `mremap` with an old length of 0). `SecretMemory`'s
//! `memfd_secret` descriptor cannot be reopened (`ENXIO`, run on 6.18), and its size is fixed
//! once set. And
//! raising `RLIMIT_STACK` at run time above the soft limit this crate read when it first
//! placed memory (it reads it once, then): the kernel chose its mapping base for the
//! limit at `exec`, so the main stack can then grow down to mappings the kernel placed (any
//! program's, not only this crate's), and to those placed at an address of the program's
//! choosing ([`MapOptions::at`](crate::MapOptions::at)) within the new reach. That
//! includes a limit lowered before the first placement and raised back afterwards, even to
//! no more than the process started with (review round 6b, run: with the limit lowered to
//! 1 MiB for the first look, a page `at` the stack's top less 4 MiB is placed, and lies in
//! the reach once the limit is 8 MiB again). And an environment
//! that answers a call with success without making it (a seccomp filter returning an
//! errno of 0, an emulator that ignores an advice, as qemu-user does with
//! `MADV_WIPEONFORK`): the book-keeping believes what succeeded. Refusals are inside the
//! model, whatever the call and whatever it answers: a filter that refuses one call and
//! lets another through must not make the crate believe something the refused call would
//! have told it (review round 4: a refused `MADV_GUARD_REMOVE` once passed for guard
//! advice the kernel did not know).
//!
//! # The table
//!
//! Each safe method, the kernel behaviours that could break its promise, and the tests that
//! cover them (`tests/<file>.rs`, function name).
//!
//! | method | hazard | how it is closed | test |
//! |---|---|---|---|
//! | `MapOptions::map`, `map_file`, `SysvSegment::attach` | a mapping in the main stack's reach (stack clash): placed there by the kernel when it has no room below its mapping base, or by `at`; reached by the stack while inaccessible or grows-down | every new mapping checked against the reach, `ENOMEM` | `soundness`: `placement_in_the_stacks_reach_is_refused`, `kernel_placements_in_the_stacks_reach_are_refused`, `grows_down_mappings_stay_out_of_the_stacks_reach` |
//! | | `at` inside the stack guard gap as it is now | hint, not `FIXED_NOREPLACE`; `EEXIST` unless placed there | `soundness`: `placement_in_the_stacks_reach_is_refused`, `nothing_is_placed_in_the_guard_gap_below_a_grows_down_mapping` |
//! | `map_file` | a file whose `mmap` sets `VM_DONTCOPY` (tracefs, perf, drivers): a forked child's `Mapping` names a range the child lacks | only regular files of plain filesystems (`ENODEV`); `map_file_unchecked` is `unsafe` | `soundness`: `map_file_takes_only_plain_files` |
//! | | `at` over an existing mapping, at 0, unaligned | hint never replaces; 0 and unaligned are `EINVAL` | `mapping`: `at_an_occupied_address_is_eexist_and_leaves_the_mapping_alone`, `at_address_zero_is_refused_and_leaves_page_zero_unmapped`, `at_an_unaligned_address_is_einval` |
//! | | `PROT_GROWSDOWN` in the protection | `EINVAL` | `soundness`: `protect_cannot_reach_past_its_range_with_growsdown` |
//! | | huge pages: the kernel maps (and unmaps) whole huge pages | length rounded for the unmap | `mapping`: `huge_page_mappings_shorter_than_a_huge_page_unmap_whole_on_drop` |
//! | `as_slice`, `as_mut_slice` | bytes changed by another process, a file writer, truncation, reclaim | lent only for exclusive memory (`EPERM`) | `mapping`: `shared_anonymous_memory_is_volatile_and_shared_with_a_child`, `private_file_mapping_is_copy_on_write_and_volatile`, `droppable_memory_is_volatile_on_6_11_and_einval_before` |
//! | | part of the mapping not accessible (protect, guard) | flags cleared before, set after whole-mapping success | `mapping`: `protect_changes_maps_permissions_and_what_the_safe_layer_lends`, `protect_does_not_lift_a_guard`; `soundness`: `restoring_part_of_a_mapping_does_not_restore_the_whole` |
//! | | a `protect` that fails part-way | pessimistic flags | `soundness`: `a_protect_that_fails_part_way_leaves_nothing_lent` |
//! | | huge pages mapped without a reservation (`no_reserve`, also of a sealed hugetlbfs memfd): a page the pool cannot supply when first touched raises `SIGBUS` through the slice (review round 4) | such memory is volatile (`Kind::UnreservedHugePages`, anonymous or of a file): copies only, whose `SIGBUS` is a signal | `mapping`: `huge_pages_without_a_reservation_are_not_lent` |
//! | | a forked child over unmapped or zeroed memory | `DontFork`/`WipeOnFork` only through `advise_unchecked` | `mapping`: `destructive_advice_is_einval_through_the_safe_advise` |
//! | | huge pages with a reservation under a hugetlb cgroup limit, which charges a page at its fault, not its reservation: the first touch past `hugetlb.<size>.max` raises `SIGBUS` through the slice (review round 5); a private mapping of a hugetlbfs file takes a page at each first write, charged then | every page faulted in when mapped (`MADV_POPULATE_READ`, which answers an error rather than the signal; hugetlb pages are never reclaimed); where that fails, and for private file mappings, the memory counts as missing pages (`Kind::UnreservedHugePages`: copies only) | `mapping`: `reserved_huge_pages_are_all_held_before_anything_is_lent`, `huge_pages_past_a_hugetlb_cgroup_limit_are_not_lent` (a child in a group whose limit is 0, where cgroup v2's hugetlb controller is enabled) |
//! | | private huge pages with a reservation in a forked child: the reservation is the maker's, so the child's first touch of a page (or its copy-on-write, or a read of a page the maker's copy-on-write took back) raises `SIGBUS` where the pool has no page to spare (review round 5) | a fork canary page (`MADV_WIPEONFORK`) per such mapping: in a child its copy is volatile (copies only, no atomic views); without the advice, volatile everywhere | `mapping`: `a_forked_child_does_not_lend_private_huge_pages_it_holds_no_reservation_for` |
//! | | atomics storing under a live slice | atomic views borrow mutably | `mapping`: `atomics_on_exclusive_memory_exclude_slices_by_borrowing`; the `compile_fail` example above |
//! | `read_at`, `write_at` | races with atomics of this process | relaxed atomic copies; views borrow mutably | `mapping`: `slices_and_copies_see_the_same_bytes`, `volatile_copies_are_exact_at_every_alignment_and_length` |
//! | | another process or mapping writing meanwhile | atomic accesses (no torn words in the aligned middle) | `mapping`: `shared_anonymous_memory_is_volatile_and_shared_with_a_child` |
//! | | a file truncated under the mapping | `SIGBUS`, a signal (not undefined behaviour) | `shm_objects`: `shrinking_an_object_under_a_mapping_makes_access_past_the_end_sigbus` |
//! | `as_atomics`, `atomic_u32`, `atomic_u64` | mixed-size racing atomics; read-only memory | one view at a time (`&mut`); `EACCES` unless read-write; alignment checked | `mapping`: `atomics_on_shared_memory_are_checked_and_shared_with_a_child`, `atomics_need_an_aligned_start` |
//! | | huge pages mapped without a reservation: a page the pool cannot supply raises `SIGBUS` when first touched, through the view, with no one else doing anything (review round 4; a hugetlbfs file's too, review round 5, which had stayed an ordinary file mapping) | `EPERM` (`Kind::UnreservedHugePages`, anonymous or of a file); copies still work. A file others truncate raises `SIGBUS` through a view as through a copy: a signal of their doing, held as for copies (no access is added by the compiler through an atomic view). A hole's first touch needs a block, and where there is none it raises `SIGBUS`, through a view too, no one else doing anything (review round 5, hole 16): a file on a filesystem out of space (a tmpfs with `size=`, as `/dev/shm` often is in containers; a full disk; a quota), and a memfd or `/dev/shm` file under strict overcommit (`vm.overcommit_memory` 2 charges their pages to the commit limit one at a time, at the first touch, and tmpfs reports a refusal as `ENOSPC`, "so that a failure on a sparse tmpfs mapping will give SIGBUS not OOM"). Objects the crate sizes have every block allocated when sized (`fallocate`, growing them at once: `SharedMemory::create` and `set_len`, `Memfd::set_len` but for huge-page memfds, whose pages are their reservations', and so the ring's memfd; `Mapping::remap_file`'s growth of a tmpfs file it is given; more than RAM and swap together is `ENOMEM` at once, as `mmap` answers under heuristic overcommit, rather than a tmpfs allocation that would end in the OOM killer): `ENOSPC` then, nothing changed, and no later touch finds the space gone. Files the crate did not size are their makers': `map_file` of any other descriptor, a `SharedMemory` opened and sized by another program, an object a holder resized or punched through a descriptor of its own (`sys::ftruncate`, `sys::fallocate`, `std::fs::File::set_len`). Their holes, like their truncation, are their maker's doing, and a full filesystem raises `SIGBUS` at the first touch of one: a signal the crate does not prevent, as it could not in general (a read-only descriptor cannot allocate, and on copy-on-write filesystems such as btrfs every rewrite of a block needs a new one) | `mapping`: `atomics_are_not_lent_over_huge_pages_without_a_reservation`; `shm_objects`: `objects_the_crate_sizes_hold_their_blocks_on_a_full_dev_shm` (`Signaled(7)` before), `objects_the_crate_sizes_have_their_pages_allocated` (0 bytes before) |
//! | | a file mapping reaching a page wholly past its file's end, made so (`map_file` takes any length, as `mmap` does) or grown so by `remap_file` with another file's descriptor: the touch raises `SIGBUS` through the view, no one else doing anything (review round 5) | `EPERM` (`Kind::FilePastItsEnd`: set when the size does not cover the mapping at `map_file`, and after every `remap_file`, which cannot know its descriptor is the mapping's file; `as_atomics` of read-write memory then asks the kernel whether the last page is backed, by faulting it in with `MADV_POPULATE_READ`, which answers an error rather than the signal); copies still work | `mapping`: `atomics_are_not_lent_over_pages_past_the_end_of_a_file` |
//! | `protect` | `PROT_GROWSDOWN` reaching merged neighbours | `EINVAL` | `soundness`: `protect_cannot_reach_past_its_range_with_growsdown` |
//! | | partial failure; guards outliving it; sealing | pessimistic flags; guarded until `unguard`; `EPERM` when sealed | `soundness`: `a_protect_that_fails_part_way_leaves_nothing_lent`, `sealed_mappings_refuse_protect_without_losing_access`; `mapping`: `protect_does_not_lift_a_guard` |
//! | | making memory executable: cache maintenance (aarch64, powerpc64) faulting on pages still unreadable | the instruction cache is made coherent only over readable pages: before the change if readable, after it if it makes them readable and no guard marker may remain (else `unguard` does it) | `mapping`: `making_a_guarded_mapping_executable_leaves_its_guard_pages_alone` (can fail only on real aarch64 or POWER hardware with Linux 6.13: QEMU's cache maintenance is a no-op) |
//! | `advise` | contents destroyed, faults, fork behaviour | refused advice is `EINVAL`; `DontNeed` only on exclusive memory (`&mut self`) | `mapping`: `destructive_advice_is_einval_through_the_safe_advise`, `dont_need_on_exclusive_memory_zeroes_it`, `harmless_advice_is_accepted_and_keeps_the_bytes` |
//! | | `DontNeed` on private huge pages frees the page and gives the reservation back to the mapping only since Linux 6.9 and not while the pool has surplus pages: another mapping takes the page and the next touch through a slice raises `SIGBUS` (review round 5) | `EINVAL` on huge pages | `mapping`: `discarding_private_huge_pages_is_refused_as_it_may_lose_their_reservation` |
//! | `lock`, `lock_on_fault`, `unlock`, `flush` | none on access (partial failure changes no access) | range checks | `mapping`: `lock_and_unlock_move_vmlck_and_fault_pages_in`, `flush_writes_a_shared_file_mapping_back_in_every_mode` |
//! | `MapOptions::map`, `map_in`, `map_file`, `map_file_in`, `remap`, `remap_file`, `SysvSegment::attach`, `Reservation::new`, `with_align`, `from_raw` (and so `SecretMemory`, `MirrorBuffer`) | a 32-bit program on a 64-bit kernel has 4 GiB of address space: a mapping (or a growth within its last page, or a segment a 64-bit program made) of more than `isize::MAX` bytes lent slices longer than any Rust object may be (undefined behaviour, stopped by the standard library's debug check; review round 4) | every mapping, reservation and attachment is held to `isize::MAX` bytes when made, grown or attached (`ENOMEM`); adopting a longer one (`Mapping::from_raw`) breaks its `# Safety` contract | `soundness`: `nothing_that_lends_is_longer_than_isize_max` (32-bit targets; skipped on 64-bit, whose address space is smaller) |
//! | `page_size` (and `remap`'s growth within the last page, every rounding to pages) | without the auxiliary vector (kernels before 6.4 with no `/proc`) the size was probed with a mapping of its own, and guessed (64 KiB) when that mapping could not be made (`ENOMEM`, `RLIMIT_AS`): too large, and `remap` lends bytes of a "last page" the kernel never mapped; too small, and a reservation's decommit takes pages it still lends | probed with empty ranges, which need no memory (the kernel checks the start's alignment first), asking `madvise`, then `mprotect`, then `msync`; an answer counts only if an address aligned to no page is `EINVAL` and the candidates are `EINVAL` up to one that is `Ok` (a seccomp filter's answer, the same everywhere, says nothing); where none answers, the process stops (`exit_group(127)`) rather than guess | unit tests `page::tests::the_probe_needs_no_memory_and_never_guesses` (`RLIMIT_AS` of 0 in a child), `only_answers_that_tell_aligned_from_unaligned_count`; `page_probe`: `without_auxv_or_madvise_the_page_size_is_still_the_kernels` (auxv hidden and `madvise` refused by a filter, `RLIMIT_AS` 0: the old fallback guessed 64 KiB and a `remap` within the "last page" lent unmapped bytes, `SIGSEGV`), `with_nothing_to_ask_the_process_stops_rather_than_guess` |
//! | `page_size`, the stack's reach (every mapping's placement check) | on kernels before 6.4 (no `PR_GET_AUXV`), a file at `/proc/self/auxv` that is not procfs's (where `/proc` is not mounted, a container image's plain file) believed: a forged `AT_PAGESZ` of 64 KiB on a 4 KiB kernel let `remap` grow "within the last page" over bytes never mapped (`SIGSEGV` from safe code), and forged `AT_EXECFN`/`AT_RANDOM` would move the stack's reach | the file is read only if `fstatfs` says procfs (`PROC_SUPER_MAGIC`), or it is a tmpfs file no path names (`stx_nlink` 0: qemu-user serves the guest's vector from a memfd of its own; a file made at the path has a link there) that is not the root of a mount (`STATX_ATTR_MOUNT_ROOT` reported and clear: a file bind-mounted at the path and unlinked afterwards has no link either, and review round 3 had it believed), else the crate probes as without an auxiliary vector | `page_probe`: `an_auxv_file_outside_procfs_is_not_believed` (tmpfs over `/proc` in a user and mount namespace, `PR_GET_AUXV` hidden by a seccomp filter), `an_unlinked_file_bind_mounted_at_the_auxv_path_is_not_believed` (page size 65536 believed on a 4 KiB kernel before); unit test `auxv::tests::the_auxv_file_is_read_only_from_the_kernel` |
//! | `remap` | in-place growth into the stack's reach or guard gap | never in place: growth past the last page moves into a reserved region the kernel placed, checked against the reach | `soundness`: `growth_never_happens_in_place`, `growing_by_moving_can_be_repeated`, `kernel_placements_in_the_stacks_reach_are_refused` |
//! | | a move that fails after the kernel cleared its destination, which another thread then maps | the reservation is never unmapped after a failure; a mapping of several VMAs is refused (`EFAULT`) before reserving | `soundness`: `growth_never_happens_in_place` |
//! | | growth past a backing object (SIGBUS) | only private anonymous memory grows | `mapping`: `remap_refuses_to_grow_shared_anonymous_memory` |
//! | | failure part-way | the mapping is as it was; a move's reservation is never unmapped unless known to be ours | `mapping`: `remap_in_place_blocked_by_a_neighbour_is_enomem_then_moves_if_allowed`, `drop_after_a_failed_remap_still_unmaps` |
//! | `remap_file` | file grown and left grown on failure; shrinking it back (as an earlier version did) pulls pages from under an atomic view another `Mapping` of the same file was lent meanwhile, having found them backed by the passing growth: `SIGBUS` through the view (review round 6, from another thread's failed `remap_file`) | every refusal that needs no system call comes before the file grows (`may_move` false for a growth past the last page, several VMAs, huge pages, sealed, too long); the file is never shrunk, and stays grown only if the kernel then fails the resize | `soundness`: `remap_file_that_fails_gives_the_file_its_size_back`; `mapping`: `a_failed_remap_file_never_shrinks_the_file_under_a_view` (`Signaled(7)` before) |
//! | `map_file` of a sealed file, then `as_slice`, `as_mut_slice` | bytes changed by `write(2)` through any descriptor, a writable shared mapping (also one made before the seal), a punched hole, truncation; a slice past the end (`SIGBUS` through a reference) | lent only when `F_GET_SEALS` has `WRITE` and `SHRINK` (`FUTURE_WRITE` is not enough) and the mapping lies within the size read *after* the seals; a shared mapping can never be writable (the kernel refuses `PROT_WRITE` at `mmap`, and at `mprotect` from 6.7, before which it refuses the shared mapping); a private one writes its own copies, through `&mut self`; never grows (`remap_file` is `EINVAL`) | `from_memmap2`: `a_memfd_sealed_against_writing_and_shrinking_lends_slices`, `sealed_bytes_cannot_be_changed_through_any_other_descriptor`, `fewer_seals_or_a_mapping_past_the_end_stay_volatile`, `any_descriptor_of_a_sealed_file_lends_slices_and_growth_is_not_needed` |
//! | | a sealed file with holes (sized by `ftruncate`, as a sender of a sealed memfd usually does): the first touch of a hole needs a page, and under strict overcommit (`vm.overcommit_memory` 2) a memfd's page is charged to the commit limit then, a refusal being `SIGBUS` through the slice (review round 6; read against mm/shmem.c, not run: the sysctl is the machine's) | every page of a sealed mapping faulted in when it is made (`MADV_POPULATE_READ`, an error where the touch would raise the signal); where that fails (the limit reached, unreadable memory, kernels before 5.14) the mapping is an ordinary, volatile file mapping; a page once there stays (swapped out with its charge; a hole needs a punch or a truncation, which the seals refuse) | `from_memmap2`: `a_sparse_sealed_memfd_is_lent_only_with_every_page_held` (0 bytes held before) |
//! | `map_file` of an empty file (an empty mapping) | a call with its dangling pointer (a `munmap` on drop would unmap whatever lies there) | every method answers without the kernel (`Ok` for protect, flush, advice, lock, seal, guard, NUMA policy and home node; `EINVAL` for growth); drop unmaps nothing; slices are empty | `from_memmap2`: `an_empty_mappings_methods_make_no_system_call_on_its_pointer` (a seccomp filter kills the child at any such call), `the_seccomp_filter_catches_a_call_on_a_real_mapping` |
//! | `hint` (`&self`) | advice while slices are alive or from several threads | only advice that changes neither bytes nor access, here or in a forked child (`EINVAL` otherwise); the split book-keeping is atomic | `from_memmap2`: `hints_take_a_shared_borrow_reach_the_kernel_and_keep_the_bytes`, `a_hint_on_part_of_a_mapping_keeps_it_from_moving`, `hints_work_on_volatile_memory_too` |
//! | `flush` | rounding the start down (msync needs a page-aligned address) reaching before the mapping | rounded within the kernel mapping, whose start is page aligned | `from_memmap2`: `flush_rounds_the_start_down_to_its_page_within_the_mapping` |
//! | `protection`, `file_len`, `sys::file_size`, `sys::advice_supported`, `Advice::is_supported` | none: book-keeping, `statx`, and `madvise(NULL, 0, advice)`, which touches nothing | – | `from_memmap2`: `protection_is_the_whole_mappings_or_none_when_parts_may_differ`, `file_len_is_the_statx_size_and_the_default_mapping_length`, `the_kernel_says_which_advice_it_knows_by_version` |
//! | `as_mut_slice_unchecked`, `sys::madvise_raw` | a `&mut` over memory others change; any advice | `unsafe`, with `# Safety` | `from_memmap2`: `as_mut_slice_unchecked_writes_shared_file_memory`, `raw_advice_round_trips_and_reaches_the_kernel` |
//! | `seal` | partial seal | `sealed` set before the call; drop leaks what cannot be unmapped | `mapping`: `seal_blocks_protect_and_remap_and_the_drop_leaks_the_mapping` |
//! | `guard`, `unguard` | markers outlive `mprotect`; partial installation | flags cleared before; only `unguard` restores | `mapping`: `guard_makes_accesses_fault_and_unguard_restores_them`, `unguard_after_the_prot_none_fallback_keeps_the_contents` |
//! | | an install that fails part-way (`EINVAL` on a locked VMA, after guarding the VMAs before it), judged by another advice's answer: where a seccomp filter refused only `MADV_GUARD_REMOVE`, it passed for "guard advice unknown", and `unguard` lent the markers' pages (`SIGSEGV` from safe code; review round 4) | after any failed install, markers count as present unless an empty `MADV_GUARD_INSTALL` (the same advice, which touches nothing) is refused as well; while they may be present, only a successful `MADV_GUARD_REMOVE` lends again | `soundness`: `a_guard_that_fails_part_way_is_removed_before_anything_is_lent`, `a_guard_whose_removal_is_refused_stays_guarded` |
//! | `set_policy`, `set_home_node` | a policy on part of the mapping splits its VMA (and may fail part-way), after which a move would find several VMAs and fail after reserving its destination | `split_by_flags` set before the call (as `lock` does), so `remap` refuses with `EFAULT` before reserving anything | `numa`: `a_policy_on_part_of_a_mapping_splits_it_and_keeps_it_from_moving` |
//! | | `MbindFlags::MOVE`/`MOVE_ALL` migrate pages under live slices and other threads | migration keeps contents (the kernel copies each page and remaps it atomically, accesses wait on the migration entry): nothing observable changes | `numa`: `moving_pages_to_the_other_node_keeps_their_contents`, `binding_to_node_0_places_populated_pages_there_and_reads_back` |
//! | | a bad node set, mode or flags | checked by the kernel before it changes anything (`EINVAL`); a node the mask cannot hold is refused before the call | `numa`: `absent_nodes_are_refused_and_change_nothing` |
//! | `nodes`, `move_to`, `policy_of` | the kernel writing statuses past the caller's buffer | at most `out.len()` pages per call, in chunks whose addresses live in a fixed array on the stack | `numa`: `nodes_works_through_many_chunks_and_stops_at_the_output`, `untouched_pages_and_the_zero_page_have_no_node` |
//! | | `move_to` migrating pages under live slices, or pages shared with a forked child | contents kept; pages other processes map move only with `MOVE_ALL` (`CAP_SYS_NICE`), and keep their contents for them too | `numa`: `moving_pages_to_their_own_node_keeps_them_and_their_contents`, `moving_pages_to_the_other_node_keeps_their_contents` |
//! | `numa::set_thread_policy`, `migrate_own_pages` | placement of the whole thread or process changes under other code | placement only: no byte changes, only where it lives | `numa`: `the_thread_policy_round_trips_and_places_the_threads_pages`, `migrating_the_process_moves_its_pages_to_the_other_node` |
//! | `SecretMemory` | a forked child's copy over unmapped memory (`memfd_secret` pages are not inherited) or zeros (fallback); its drop unmapping what the child has mapped there since | a `WIPEONFORK` canary page tells the child: its copy lends empty slices, and its drop writes and unmaps nothing; references held across `fork` are the `unsafe` fork's to answer for | `soundness`: `a_forked_child_neither_reads_nor_wipes_a_secret_it_lacks`, `a_forked_child_dropping_a_secret_it_lacks_unmaps_nothing_of_its_own`; `secret`: `a_forked_child_does_not_see_the_secret` |
//! | `SysvSegment::attach` | segment removed and its id reused between reading the size and attaching | attaches first, then reads the size of the segment it holds | `shm_objects`: `sysv_create_private_has_the_asked_size_and_two_attachments_share_bytes` |
//! | | a segment of huge pages another program made (`SHM_HUGETLB`, with or without `SHM_NORESERVE`; nothing in `shmid_ds` shows it): a first touch the pool or a hugetlb cgroup limit cannot supply raises `SIGBUS` through an atomic view (review round 5) | `MADV_COLD` on the first page tells huge pages apart (it refuses them before touching anything); then every page is faulted in (`MADV_POPULATE_READ`) before the attachment is handed out, or it is refused (`ENOMEM`); kernels before 5.14 cannot be asked | `shm_objects`: `huge_page_segments_are_held_before_views_are_lent` |
//! | `Reservation::new`, `with_align`, `from_raw` | reserved space in the main stack's reach | made through the checked placement (`ENOMEM` inside the reach); `from_raw` checks the range | `reservation`: `from_raw_refuses_the_stacks_reach` |
//! | | alignment slack left mapped, or trimmed from what another owns | the ends trimmed lie inside the region just mapped | `reservation`: `alignment_is_honoured_and_the_slack_given_back` |
//! | `Reservation::commit`, `decommit` | a slice over pages whose access a call removed, or that a failed call may have committed | a state per page: lowered before each call, raised only after success; failures count pages as committed but not lendable | `reservation`: `commit_makes_pages_accessible_and_decommit_gives_them_back`, `slices_need_committed_accessible_pages`, `bad_ranges_are_einval_and_change_nothing`; `model_reservation` |
//! | `Reservation::decommit`, then `commit` | a decommit of lazily freed (reset) pages whose `mprotect(PROT_NONE)` fails part-way (a split at the map-count limit) after making the first VMAs inaccessible: the next commit pins lazy pages by writing them as read-write memory (`SIGSEGV` from a safe call) | the lazy mark is cleared as soon as `MADV_DONTNEED` succeeded (zapped pages are lazily freed no longer), before the protection change; a lazy page is always read-write | `soundness`: `a_decommit_that_fails_part_way_leaves_no_page_to_pin` |
//! | `Reservation::reset` | `MADV_FREE` pages turning to zeros under a live slice | reset pages are not lent until a commit writes each (a compare-exchange of its first byte with itself), after which the kernel keeps it | `reservation`: `reset_memory_is_not_lent_until_committed_again` |
//! | `Reservation::as_slice`, `as_mut_slice` | bytes of uncommitted, inaccessible or given-away pages | every page the range touches must be committed readable (read-write for `&mut`); changes need `&mut self` | `reservation`: `slices_need_committed_accessible_pages` |
//! | `Reservation::advise` | advice that destroys contents or access | only advice that changes neither; decommit and reset give pages back | `reservation`: `commit_makes_pages_accessible_and_decommit_gives_them_back` |
//! | `MapOptions::map_in`, `map_file_in`, `align` | `MAP_FIXED` over memory in use; a failed `MAP_FIXED` that unmapped the range first, which another thread's mapping then takes | only pages of a reservation borrowed mutably, all reserved (`EBUSY` if committed); the pages are unmapped by the reservation and mapped with `MAP_FIXED_NOREPLACE`, which replaces nothing; after a failure they are reserved again the same way, or stay given away | `reservation`: `a_placed_mapping_takes_exactly_its_pages`, `placement_errors_change_nothing` |
//! | | the reservation's drop unmapping a placed mapping's pages, or what took them after it dropped | pages given to a mapping are never touched again by the reservation | `reservation`: `a_placed_mapping_takes_exactly_its_pages` |
//! | `Reservation::set_policy`, `nodes`, `MapOptions::policy` | a policy or query reaching pages given to a placed mapping; pages moved under live slices | pages given away are `EINVAL` (checked before the call); migration keeps contents, as for `Mapping::set_policy` | `numa`: `reservations_place_committed_pages_by_their_policy`, `map_options_place_new_mappings_by_their_policy` |
//! | `Mapping::set_name`, `Reservation::set_name`, `MapOptions::name` | none on access (a name changes no byte); splitting others' mappings | the whole of the caller's own range only | `reservation`: `names_show_in_proc_self_maps` |
//! | `alloc::PageAllocator`, `alloc::Malloc` (`GlobalAlloc`, whose methods are `unsafe` with the usual contract) | a block in the main stack's reach; growing in place into it (`mremap` checks only that the pages above are free); an over-aligned block misaligned by a move | every block placed through the checked placement; in place only if the grown block stays out of the reach, else moved with `MREMAP_FIXED` into a region reserved, out of the reach and aligned, beforehand; over-aligned blocks are reserved with no access and mapped over with `MAP_FIXED`, and a failure there leaves the range alone; failures are null with the old block unchanged | `alloc`: `blocks_never_lie_in_the_stacks_reach`, `page_blocks_are_aligned_up_to_1_gib_and_unmapped_when_freed`, `realloc_moves_pages_not_bytes_and_keeps_the_alignment`, `realloc_shrinks_in_place_and_grows_in_place_into_free_pages`, `out_of_address_space_is_null_and_leaks_nothing` |
//! | `alloc::Malloc`'s small blocks | a cached block serving a request larger than itself; a block freed into a shard that did not make it; two threads in one shard's dlmalloc or cache | every block of a cached size is made with the largest request of its size class, so any block of the class serves any request of it; the owner is found from the address (each shard's own 4 GiB, aligned to its size); a shard's dlmalloc and cache are used only under its lock | `alloc`: `cached_blocks_serve_every_size_of_their_class`, `threads_free_each_others_blocks`, `small_blocks_of_every_alignment_keep_their_contents` |
//! | `alloc::Segments` (dlmalloc's `Allocator`: safe methods that take addresses) | discarding or removing access from memory in use, through `free` or `free_part` of any range; a failed call leaving a hole another mapping could take | only page-aligned ranges inside what it handed out of its own reservation (`false` otherwise); commit and decommit are `mprotect` and `MADV_DONTNEED` on the reservation, which stays mapped whatever they answer | `alloc`: `segments_give_back_only_what_they_handed_out` |
//! | | a give-back whose `MADV_DONTNEED` discarded the range and whose `PROT_NONE` then failed (map-count limit) answering `false`, after which dlmalloc keeps using the zeroed range, its own records in it included | `true` once discarded, whatever `mprotect` answers (the range stays read-write and zero until handed out again); `MADV_DONTNEED` on the one VMA fails before discarding anything | `alloc`: `segments_that_discarded_a_range_say_so_even_if_protecting_it_fails` (a seccomp filter fails the `PROT_NONE`) |
//! | | safe code calling `free` on a segment a `Dlmalloc` uses (`Dlmalloc::allocator` lends the methods to anyone; the segment's blocks and dlmalloc's own book-keeping then fault) | `Segments::new` is `unsafe`: whoever makes one promises that only the `Dlmalloc` it serves calls its methods; `Malloc`'s shards keep theirs private | the `compile_fail` example on `Segments` |
//! | `MirrorBuffer::new` | views placed over memory in use; a ring in the stack's reach; the memfd resized under the views; a failed placement that unmapped its range first, which another thread's mapping then takes | the region is a `Reservation` (checked placement), and the control page and both views are placed in it with `MapOptions::map_in`/`map_file_in` (`MAP_FIXED_NOREPLACE`, never over anything; a refused step leaves its pages reserved again or no longer the region's, and every part made so far is given back by its owner); the memfd is sealed against shrinking and growing, and closed (a descriptor of it reopened through `/proc/self/fd/` while `new` runs is outside the model, see above: review round 6c) | `ring`: `the_two_views_are_one_memory_back_to_back`, `making_and_dropping_rings_leaks_nothing` |
//! | `ring::Producer::write_slice`, `ring::Consumer::read_slice` | two live slices over one physical byte (the two views alias one memory), also when the positions wrap; bytes changing under a slice | each slice lies in one window of `capacity` positions and the two never overlap as positions; positions are kept modulo `2 * capacity` by arithmetic that cannot overflow (`ring::position`), so a window's positions are distinct offsets at every wrap; a half's position moves only through `&mut self`; Release/Acquire on the positions (the argument is in `MirrorBuffer`'s docs) | `ring`: `live_slices_never_alias_as_positions_wrap`, `random_operations_match_a_vecdeque`, `producer_and_consumer_threads_stream_records_across_the_wrap`, `a_record_across_the_wrap_is_one_slice_both_ways`; unit tests of `ring::position` at the wrap (exhaustive for small capacities, and 3 TiB and the largest capacities) |
//! | | a forked child writing through its copy of a half into pages the parent lends (the memfd's pages are shared across fork) | the control page is private and `MADV_WIPEONFORK`: in a child every half finds it zero, lends nothing and unmaps nothing | `ring`: `a_forked_child_finds_its_halves_inert` |
//! | `Mapping`'s drop, `Reservation`'s drop, `MirrorBuffer`'s last half, `alloc::PageAllocator`'s `dealloc` and shrinking `realloc` | a range the kernel merged with its neighbours into one VMA is unmapped by splitting it, which the kernel refuses at `vm.max_map_count` (`ENOMEM`): the memory stayed mapped and resident for good, bytes included (a leak, not undefined behaviour) | on that refusal the range's memory is given back with `MADV_DONTNEED` (which splits nothing); only its address space stays mapped, owned by no one (`src/give_back.rs`). The kernel refuses only a range in the middle of one VMA (a split at both ends; a split at one end is let through at the limit): `MirrorBuffer`'s region always starts a VMA, as its first view maps the memfd from offset 0, which no mapping below can merge with, so its drop is never refused (review round 6b: run on 6.18 with the region's shape, a private page merged above the control page; 6.1's munmap has the same rule, by reading) | `soundness`: `a_drop_refused_at_the_map_count_limit_still_gives_the_memory_back`, `a_shrink_refused_at_the_map_count_limit_still_gives_the_tail_back` |
//! | `sys::pkey_free` | freeing a key memory still uses | `unsafe` | the `compile_fail` example above |
//! | `sys::ftruncate`, `sys::fallocate`, `shm_unlink`, `shm_remove`, `mlockall` | change objects others have mapped (a punched hole reads as zeros and may lack its block at the next touch; collapsing a range moves bytes) | at worst `SIGBUS`: signals, not undefined behaviour (slices are lent only of files sealed against writing and shrinking, which refuse punching and collapsing). This holds when the program does it to an object of its own whose memory this crate lends as atomic views (`Memfd::set_len` shrinking, `sys::fallocate` punching through `Memfd::as_fd`): the next access through the view raises the signal where it is made, as through a copy, and at no other place, since the compiler adds no access through an atomic view (`&AtomicU32` is not `dereferenceable` to LLVM, unlike `&u32`: rustc 1.95's IR, review round 6c) | `shm_objects`: `shrinking_an_object_under_a_mapping_makes_access_past_the_end_sigbus` |
