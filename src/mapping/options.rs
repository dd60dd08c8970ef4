//! [`MapOptions`]: the builder for every kind of mapping.

use core::ffi::{c_void, CStr};

use super::{adopt, huge, sealed, Kind, Mapping};
use crate::fd::{AsFd, AsRawFd, BorrowedFd};
use crate::numa::{MbindFlags, ModeFlags, Policy};
use crate::sys::FileBacking;
use crate::{page_size, stack_reach, sys, Advice, Errno, MapFlags, Prot, Reservation, Result};

/// The bits that hold the mapping type (`MAP_TYPE`): shared, private, validate, droppable.
const MAP_TYPE: MapFlags = MapFlags::from_bits_retain(0x0f);

/// Builds a [`Mapping`]: anonymous with [`map`](MapOptions::map), backed by a file or any
/// mappable descriptor with [`map_file`](MapOptions::map_file).
///
/// Defaults: private, read-write, no address hint, length required (for files: the file's
/// size from the offset on).
///
/// ```
/// use mman::{MapOptions, Prot};
/// let m = MapOptions::new().len(1 << 20).populate().map()?;
/// assert_eq!(m.as_slice()?.iter().filter(|&&b| b != 0).count(), 0);
/// # Ok::<(), mman::Errno>(())
/// ```
#[derive(Clone, Copy, Debug)]
#[must_use]
pub struct MapOptions {
    len: Option<usize>,
    prot: Prot,
    flags: MapFlags,
    /// The address asked for with [`at`](MapOptions::at); `None`: the kernel chooses.
    at: Option<usize>,
    /// The alignment asked for with [`align`](MapOptions::align); 0: a page.
    align: usize,
    transparent_huge_pages: bool,
    /// The name given with [`name`](MapOptions::name).
    name: Option<&'static CStr>,
    /// The NUMA policy given with [`policy`](MapOptions::policy).
    policy: Option<Policy>,
}

impl Default for MapOptions {
    fn default() -> Self {
        MapOptions::new()
    }
}

impl MapOptions {
    /// Private, read-write, no length yet.
    pub const fn new() -> MapOptions {
        MapOptions {
            len: None,
            prot: Prot::READ.union(Prot::WRITE),
            flags: MapFlags::PRIVATE,
            at: None,
            align: 0,
            transparent_huge_pages: false,
            name: None,
            policy: None,
        }
    }

    /// The length in bytes (required for anonymous memory; for files, defaults to the rest
    /// of the file from the offset).
    pub const fn len(mut self, len: usize) -> Self {
        self.len = Some(len);
        self
    }

    /// The protection to map with (default read-write).
    pub const fn prot(mut self, prot: Prot) -> Self {
        self.prot = prot;
        self
    }

    /// Changes are private to this mapping (copy-on-write). The default.
    pub const fn private(self) -> Self {
        self.kind(MapFlags::PRIVATE)
    }

    /// Changes are shared with every other mapping of the same memory (and, after `fork`,
    /// with children for anonymous memory).
    pub const fn shared(self) -> Self {
        self.kind(MapFlags::SHARED)
    }

    /// Shared, and the kernel rejects flags it does not know (`EOPNOTSUPP`) instead of
    /// ignoring them.
    pub const fn shared_validate(self) -> Self {
        self.kind(MapFlags::SHARED_VALIDATE)
    }

    /// Anonymous memory the kernel may free under memory pressure, reading back as zeros
    /// afterwards (Linux 6.11; `EINVAL` before, `EOPNOTSUPP` on 32-bit kernels).
    pub const fn droppable(self) -> Self {
        self.kind(MapFlags::DROPPABLE)
    }

    /// Synchronous page faults for DAX files (implies `shared_validate`). Not on mips, whose
    /// kernel has no `MAP_SYNC`.
    #[cfg(not(target_arch = "mips64"))]
    pub const fn sync(self) -> Self {
        self.kind(MapFlags::SHARED_VALIDATE).flag(MapFlags::SYNC)
    }

    /// Prefault every page now.
    pub const fn populate(self) -> Self {
        self.flag(MapFlags::POPULATE)
    }

    /// Lock the pages in memory (as `mlock`; the kernel does not report failure to lock).
    pub const fn locked(self) -> Self {
        self.flag(MapFlags::LOCKED)
    }

    /// Do not reserve swap space (for huge pages: no pages of the pool, which makes the
    /// mapping volatile; see [`huge_pages`](MapOptions::huge_pages)).
    pub const fn no_reserve(self) -> Self {
        self.flag(MapFlags::NORESERVE)
    }

    /// Mark as a thread stack (`MAP_STACK`).
    pub const fn stack(self) -> Self {
        self.flag(MapFlags::STACK)
    }

    /// Grow down when the page below is touched (`MAP_GROWSDOWN`).
    pub const fn grows_down(self) -> Self {
        self.flag(MapFlags::GROWSDOWN)
    }

    /// Huge pages of the system's default huge page size (`MAP_HUGETLB`).
    ///
    /// The kernel maps whole huge pages: the mapping occupies its length rounded up to the
    /// huge page size (unmapped whole on drop), and a partial `protect`, `advise` or `lock`
    /// must start and end on huge-page boundaries (else `EINVAL`). The pages come from the
    /// pool the administrator reserved (`vm.nr_hugepages`): without enough of them `map`
    /// fails with `ENOMEM`, unless combined with [`no_reserve`](MapOptions::no_reserve),
    /// in which case touching a page the pool cannot supply raises `SIGBUS`: such a mapping
    /// (of a file too) is volatile, read and written by copies, which raise the signal,
    /// and never lent as slices, whose every byte must be known accessible.
    ///
    /// A reservation does not make a page present: the hugetlb cgroup controller charges a
    /// page when it is faulted in, and a fault past `hugetlb.<size>.max` raises `SIGBUS`.
    /// So with a reservation every page is faulted in when mapped (`MADV_POPULATE_READ`,
    /// Linux 5.14), and where that fails the mapping is volatile as without one. A private
    /// mapping's reservation is its maker's: a child made by `fork` holds none, and its
    /// copy-on-write of a page may raise `SIGBUS` when the pool has no page to spare. So in
    /// a child the child's copy of the `Mapping` is volatile as well (a fork canary page,
    /// `MADV_WIPEONFORK`, tells it). A private mapping of a hugetlbfs file takes a page of
    /// its own at each first write, charged then: volatile too. And discarding huge pages
    /// with [`Mapping::advise`]'s `DontNeed` is refused (`EINVAL`): the freed page may take
    /// the reservation with it.
    pub const fn huge_pages(self) -> Self {
        self.flag(MapFlags::HUGETLB)
    }

    /// Huge pages of `2^log2` bytes: 21 for 2 MiB, 30 for 1 GiB. As
    /// [`huge_pages`](MapOptions::huge_pages) otherwise; a size the machine lacks is `EINVAL`.
    pub const fn huge_pages_log2(self, log2: u32) -> Self {
        self.flag(MapFlags::huge_page_size_log2(log2))
    }

    /// Ask for transparent huge pages (`madvise(MADV_HUGEPAGE)` after mapping).
    pub const fn transparent_huge_pages(mut self) -> Self {
        self.transparent_huge_pages = true;
        self
    }

    /// Map exactly at `addr`, or fail with `EEXIST` (mapping nothing) unless the kernel
    /// places the mapping there. `EINVAL` for address 0 and for an address that is not page
    /// aligned (for a file mapping at an unaligned offset: whose page is not; see
    /// [`map_file`](MapOptions::map_file)); `ENOMEM` inside the main stack's reach, as for
    /// every mapping.
    ///
    /// The address is passed as a hint, which the kernel honours only where the range is
    /// free and outside the guard gap below the stacks as they are now
    /// (`MAP_FIXED_NOREPLACE`, which checks only overlap, is not used); the safe layer then
    /// refuses what lies where the main stack may still grow (see the
    /// [`soundness`](crate::soundness) page).
    pub const fn at(mut self, addr: usize) -> Self {
        self.at = Some(addr);
        self
    }

    /// Start the mapping at a multiple of `align`, a power of two of at least a page (else
    /// `EINVAL` when mapping): 2 MiB lets transparent huge pages back it from its first byte,
    /// 1 GiB suits huge-page sized regions. Address space of `len + align` is reserved for a
    /// moment and its ends beyond the aligned range unmapped, so alignment costs no memory
    /// (see [`Reservation::with_align`]). For a file mapping at an unaligned offset it is
    /// the start of the page holding the offset that is aligned. Not with
    /// [`at`](MapOptions::at) (`EINVAL`). 0, the default, asks for no more than a page.
    ///
    /// ```
    /// let m = mman::MapOptions::new().len(4 << 20).align(2 << 20).map()?;
    /// assert_eq!(m.as_ptr() as usize % (2 << 20), 0);
    /// # Ok::<(), mman::Errno>(())
    /// ```
    pub const fn align(mut self, align: usize) -> Self {
        self.align = align;
        self
    }

    /// Name the mapping: it shows as `[anon:NAME]` in `/proc/self/maps` (Linux 5.17 with
    /// `CONFIG_ANON_VMA_NAME`; see [`sys::set_anon_name`] for the names the kernel takes).
    /// Only anonymous memory is named (`EBADF` for files). If the kernel cannot name it, the
    /// mapping fails with its answer (`EINVAL` where naming is not built in); to treat the
    /// name as optional, map without one and call [`Mapping::set_name`], ignoring its error.
    pub const fn name(mut self, name: &'static CStr) -> Self {
        self.name = Some(name);
        self
    }

    /// Place the mapping's pages by a NUMA memory policy (`mbind` right after mapping, before
    /// any page is touched; with [`populate`](MapOptions::populate), which faults pages in
    /// during the mapping, they are moved to follow it). See
    /// [`Mapping::set_policy`](crate::Mapping::set_policy) for the policies and errors
    /// (`ENOSYS` without `CONFIG_NUMA`, `EINVAL` for nodes that are not online); if the
    /// policy is refused, nothing stays mapped.
    ///
    /// ```
    /// use mman::numa::{NodeMask, Policy};
    /// let m = mman::MapOptions::new()
    ///     .len(1 << 20)
    ///     .policy(Policy::Bind(NodeMask::single(0)?))
    ///     .map();
    /// # // Kernels without CONFIG_NUMA answer ENOSYS.
    /// # let m = match m { Err(mman::Errno::ENOSYS) => return Ok(()), m => m };
    /// assert_eq!(m?.len(), 1 << 20);
    /// # Ok::<(), mman::Errno>(())
    /// ```
    pub const fn policy(mut self, policy: Policy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// Map within the first 2 GiB of the address space (x86_64 `MAP_32BIT`).
    #[cfg(target_arch = "x86_64")]
    pub const fn below_2gib(self) -> Self {
        self.flag(MapFlags::_32BIT)
    }

    /// Anonymous memory (zero-filled).
    ///
    /// A length of 0 is `EINVAL`, as from `mmap`; more than `isize::MAX` bytes is `ENOMEM`
    /// (the longest a Rust object, and so a lent slice, may be: only a 32-bit program's
    /// address space holds more), for every kind of mapping. A file's length is found (an empty file
    /// gives an empty mapping, see [`map_file`](MapOptions::map_file)), but an anonymous
    /// length is the program's own choice, and 0 is almost always a miscomputed one; an
    /// empty anonymous mapping could not grow with [`remap`](Mapping::remap) either, since
    /// there is no kernel mapping to move.
    // Always inline (with `finish` and `map_at`): as plain `#[inline]` the three grew past
    // what the compiler inlines, and `Mapping::anonymous` + drop went from 17 user
    // instructions to 157 (`cargo xtask bench`); inlined they cost 47.
    #[inline(always)]
    pub fn map(&self) -> Result<Mapping> {
        let len = self.len.ok_or(Errno::EINVAL)?;
        self.finish(len, MapFlags::ANONYMOUS, None, 0, self.anonymous_kind())
    }

    /// Anonymous memory placed at byte `offset` of `space`, replacing reserved pages: the
    /// sound way to put memory at an address of the program's choosing. The pages are the
    /// mapping's from then on (the reservation never touches them again, and dropping the
    /// mapping unmaps them); the mapping is an ordinary [`Mapping`] otherwise.
    ///
    /// `EINVAL` unless `offset` is page aligned (and aligned as [`align`](MapOptions::align)
    /// asks) and the pages lie inside `space` and still belong to it, and with
    /// [`at`](MapOptions::at) or [`grows_down`](MapOptions::grows_down); `EBUSY` where a page
    /// is committed ([`Reservation::decommit`] it first). If the kernel refuses the mapping,
    /// the pages are reserved again, unless another thread's mapping took their place in the
    /// moment they were free, in which case they are no longer the reservation's; that
    /// moment is also why a busy multi-threaded program can see `EEXIST` here (the kernel
    /// gave the free pages to another thread's `mmap` first): nothing was replaced, and
    /// trying again elsewhere, or in a new reservation, is the answer.
    ///
    /// ```
    /// use mman::{MapOptions, Reservation};
    /// let page = mman::page_size();
    /// let mut space = Reservation::new(4 * page)?;
    /// let mut m = MapOptions::new().len(page).map_in(&mut space, 2 * page)?;
    /// assert_eq!(m.as_ptr(), space.as_ptr().wrapping_add(2 * page));
    /// m.as_mut_slice()?[0] = 1;
    /// # Ok::<(), mman::Errno>(())
    /// ```
    pub fn map_in(&self, space: &mut Reservation, offset: usize) -> Result<Mapping> {
        let len = self.len.ok_or(Errno::EINVAL)?;
        let request = self.request(len, MapFlags::ANONYMOUS, None, 0, self.anonymous_kind())?;
        self.place(space, offset, request)
    }

    /// `file` from byte `file_offset` on, placed at byte `offset` of `space`: as
    /// [`map_file`](MapOptions::map_file) for what is mapped, as
    /// [`map_in`](MapOptions::map_in) for where. With an unaligned `file_offset`, the page
    /// holding it goes at `offset`. A length of 0 (given, or an empty rest of the file) is
    /// `EINVAL`: unlike `map_file`'s empty mappings, a placement needs pages to place.
    /// Files `map_file` refuses are `ENODEV` here, and so are those of stacking filesystems
    /// (overlayfs, FUSE), whose mappings `map_file` can only judge once made.
    pub fn map_file_in(
        &self,
        space: &mut Reservation,
        offset: usize,
        file: impl AsFd,
        file_offset: u64,
    ) -> Result<Mapping> {
        let file = file.as_fd();
        let backing = sys::file_backing(file)?;
        // A stacking filesystem's file is known plain only once mapped (`crate::stacked`),
        // and a placement refused then would have taken the reservation's pages.
        if !backing.is_plain_unstacked() {
            return Err(Errno::ENODEV);
        }
        self.map_backed(file, backing, file_offset, Some((space, offset)))
    }

    /// Memory backed by `file` from byte `offset` on. An offset that is not page aligned is
    /// mapped from the page below, and the mapping starts at the byte asked for. Without a
    /// length, maps the rest of the file (`EINVAL` for an offset past its end).
    ///
    /// **Empty mappings.** A length of 0, given or found (an empty file, an offset at its
    /// end), gives an empty `Mapping`, as memmap2 does, rather than mmap's `EINVAL`: no
    /// kernel mapping, [`as_ptr`](Mapping::as_ptr) a dangling pointer aligned to the page
    /// size, empty slices, `Ok` from `protect`, `flush`, `advise`, `lock` and the like
    /// without any system call, and nothing unmapped on drop. It cannot grow (`remap` and
    /// `remap_file` are `EINVAL`: there is no kernel mapping to grow; map the file again).
    /// With [`at`](MapOptions::at) it is `EINVAL` (there is nothing to place). Anonymous
    /// memory of length 0 stays `EINVAL` (see [`map`](MapOptions::map)).
    ///
    /// ```
    /// let empty = mman::Memfd::new(c"empty")?;
    /// let m = mman::MapOptions::new().map_file(&empty, 0)?;
    /// assert_eq!(m.len(), 0);
    /// assert_eq!(m.as_slice()?, &[] as &[u8]);
    /// # Ok::<(), mman::Errno>(())
    /// ```
    ///
    /// The bytes can change under the program (other writers, truncation), so the mapping
    /// is accessed by copies (see the crate documentation), **unless the file is sealed**
    /// against writing and shrinking (`Seals::WRITE | Seals::SHRINK`, as
    /// [`Memfd::freeze`](crate::Memfd::freeze) seals it; checked once, here: seals are
    /// never removed) and the mapping lies within the file's size: then no one can change
    /// or truncate those bytes, and the mapping lends slices like private memory
    /// (`Seals::FUTURE_WRITE` is not enough: writable mappings made before it still write).
    /// A private mapping of a sealed file may be writable: what it writes goes to its own
    /// copies of the pages, through [`as_mut_slice`](Mapping::as_mut_slice). This works for
    /// any descriptor of a sealable file (memfds, including hugetlbfs ones, when mapped
    /// shared with a reservation: see [`huge_pages`](MapOptions::huge_pages)); files that
    /// cannot be sealed stay volatile. Every page of a sealed mapping is faulted in here
    /// (`MADV_POPULATE_READ`), since a hole of the file would otherwise take its page at the
    /// first touch, which strict overcommit may refuse with `SIGBUS`; where that fails (a
    /// mapping without `Prot::READ`, the commit limit reached, Linux before 5.14) the
    /// mapping is volatile too.
    ///
    /// ```
    /// use mman::{Access, MapOptions, Memfd, Prot};
    /// let memfd = Memfd::new(c"frozen")?;
    /// memfd.set_len(4096)?;
    /// memfd.map(Access::ReadWrite)?.write_at(0, b"hello")?;
    /// memfd.freeze()?; // WRITE | SHRINK | GROW
    /// let m = MapOptions::new().prot(Prot::READ).shared().len(4096).map_file(&memfd, 0);
    /// # // Before Linux 6.7 (without the change backported) the kernel refuses shared
    /// # // mappings of write-sealed files through writable descriptors.
    /// # let m = match m { Err(mman::Errno::EPERM) => MapOptions::new().prot(Prot::READ).len(4096).map_file(&memfd, 0), m => m };
    /// assert_eq!(&m?.as_slice()?[..5], b"hello");
    /// # Ok::<(), mman::Errno>(())
    /// ```
    ///
    /// Only regular files of filesystems whose mappings are plain page-cache mappings
    /// (tmpfs and so memfds and `/dev/shm`, hugetlbfs, ext4, xfs, btrfs, NFS, overlayfs and
    /// the like) are mapped here; anything else is `ENODEV`: a device's or a special
    /// filesystem's `mmap` may give the mapping flags the safe layer cannot account for,
    /// such as `VM_DONTCOPY`, which leaves a forked child's copy of the `Mapping` naming a
    /// range the child does not have. A file of a stacking filesystem (overlayfs, FUSE) is
    /// mapped by its lower file's: its mapping is made one a forked child inherits, or is
    /// `ENODEV` if the kernel refuses that (a special filesystem's or a driver's, such as
    /// tracefs under an overlay). [`map_file_unchecked`](MapOptions::map_file_unchecked)
    /// maps those.
    pub fn map_file(&self, file: impl AsFd, offset: u64) -> Result<Mapping> {
        let file = file.as_fd();
        let backing = sys::file_backing(file)?;
        if !backing.is_plain() {
            return Err(Errno::ENODEV);
        }
        let mapping = self.map_backed(file, backing, offset, None)?;
        crate::stacked::ordinary_or_refused(mapping, &backing)
    }

    /// As [`map_file`](MapOptions::map_file), for any file or device.
    ///
    /// # Safety
    /// The mapping the file's `mmap` makes must be an ordinary one: inherited by a forked
    /// child like any other (no `VM_DONTCOPY`, or the child must neither use nor drop its
    /// copy of the `Mapping`), and resizable, protectable and unmappable by the range.
    pub unsafe fn map_file_unchecked(&self, file: impl AsFd, offset: u64) -> Result<Mapping> {
        let file = file.as_fd();
        self.map_backed(file, sys::file_backing(file)?, offset, None)
    }

    /// Maps `file` from `offset` where the kernel places it, or at an offset of a
    /// reservation (`into`).
    fn map_backed(
        &self,
        file: BorrowedFd<'_>,
        backing: FileBacking,
        offset: u64,
        into: Option<(&mut Reservation, usize)>,
    ) -> Result<Mapping> {
        let len = match self.len {
            Some(len) => len,
            None => file_rest(&backing, offset)?,
        };
        let kind = match len {
            0 => Kind::File,
            // Pages wholly past the end raise SIGBUS: no views over them (see `Kind`). Only
            // plain files have a size that says where their pages end.
            _ if backing.is_plain() && reaches_past_the_end(backing.size, offset, len) => {
                Kind::FilePastItsEnd
            }
            _ => sealed::file_kind(file, offset, len),
        };
        let file = Some((file, backing));
        match into {
            // An empty mapping is nowhere: there is nothing to place.
            None if len == 0 => self.map_empty(offset),
            None => self.finish(len, MapFlags::empty(), file, offset, kind),
            Some((space, at)) => {
                let request = self.request(len, MapFlags::empty(), file, offset, kind)?;
                self.place(space, at, request)
            }
        }
    }

    /// The empty mapping a length of 0 gives a file (see [`map_file`](MapOptions::map_file)):
    /// the options are checked as for any mapping, and nothing is mapped.
    fn map_empty(&self, offset: u64) -> Result<Mapping> {
        // GROWSDOWN/GROWSUP are mprotect's; and nothing can be placed at an address.
        if self.at.is_some() || self.prot.intersects(Prot::GROWSDOWN.union(Prot::GROWSUP)) {
            return Err(Errno::EINVAL);
        }
        Ok(Mapping::empty(offset, Kind::File, self.prot, self.flags))
    }

    // Inline, so that a caller's constant options fold away the branches it does not take.
    #[inline(always)]
    fn finish(
        &self,
        len: usize,
        extra: MapFlags,
        file: Option<(BorrowedFd<'_>, FileBacking)>,
        offset: u64,
        kind: Kind,
    ) -> Result<Mapping> {
        if self.align != 0 {
            return self.map_aligned(len, extra, file, offset, kind);
        }
        // Taken apart into its fields and put together again only where it is used: as one
        // value, the compiler laid it out in memory ahead of the first `mmap`, for the cold
        // call below (12 more instructions per `Mapping::anonymous` + drop).
        let Request {
            len,
            lead,
            kernel_len,
            offset,
            fd,
            flags,
            kind,
            huge_page,
        } = self.request(len, extra, file, offset, kind)?;
        // No longer than a Rust object may be (placements inside a reservation are held to
        // it by the reservation's own length, aligned mappings by their reservation's).
        super::object_len(kernel_len)?;
        let request = || Request {
            len,
            lead,
            kernel_len,
            offset,
            fd,
            flags,
            kind,
            huge_page,
        };
        // An address names where the byte at `offset` goes; its page starts `lead` earlier.
        let hint = match self.at {
            None => 0,
            Some(at) => placement(at, lead)?,
        };
        let mut mapping = self.map_at(hint, MapFlags::empty(), &request())?;
        if self.at.is_some() && mapping.kernel_start() != hint {
            // The kernel would not place it there; `mapping` unmaps on return.
            return Err(Errno::EEXIST);
        }
        // Nowhere the main stack may grow, wherever the kernel or the hint put it.
        let span = mapping.kernel_span();
        if stack_reach::check(span.addr, span.len).is_err() {
            mapping = self.map_below_the_stacks_reach(mapping, request())?;
        }
        self.after_mapping(mapping)
    }

    /// What one `mmap` will ask for: the checks and computations every way of mapping
    /// shares.
    #[inline(always)]
    fn request(
        &self,
        len: usize,
        extra: MapFlags,
        file: Option<(BorrowedFd<'_>, FileBacking)>,
        offset: u64,
        kind: Kind,
    ) -> Result<Request> {
        // GROWSDOWN/GROWSUP are mprotect's, and a zero length maps nothing.
        if len == 0 || self.prot.intersects(Prot::GROWSDOWN.union(Prot::GROWSUP)) {
            return Err(Errno::EINVAL);
        }
        // Anonymous mappings have offset 0, so page_size() stays off their path.
        let lead = if offset == 0 {
            0
        } else {
            // The page size is a power of two: a mask, with no division that could panic.
            (offset & (page_size() as u64).wrapping_sub(1)) as usize
        };
        let kernel_len = len.checked_add(lead).ok_or(Errno::ENOMEM)?;
        let flags = self.flags | extra;
        // Looked up before mmap, so that what is mapped can always be unmapped whole.
        let huge_page = huge::page_size_for(flags, file.as_ref().map(|(_, backing)| backing))?;
        let kind = match huge_page {
            Some(_) if flags.contains(MapFlags::NORESERVE) => kind.without_reservation(),
            _ => kind,
        };
        Ok(Request {
            len,
            lead,
            kernel_len,
            offset,
            fd: file.map_or(-1, |(file, _)| file.as_raw_fd()),
            flags,
            kind,
            huge_page,
        })
    }

    /// Advice, name and NUMA policy asked for, once mapped, and for huge pages and sealed
    /// files every page faulted in by that policy (see `huge` and `sealed`); on failure
    /// `mapping` is unmapped.
    #[inline(always)]
    fn after_mapping(&self, mapping: Mapping) -> Result<Mapping> {
        let held = mapping.huge_page.is_some() || mapping.kind == Kind::SealedFile;
        if self.transparent_huge_pages || self.name.is_some() || self.policy.is_some() || held {
            self.advise_name_and_place(mapping)
        } else {
            Ok(mapping)
        }
    }

    #[cold]
    fn advise_name_and_place(&self, mut mapping: Mapping) -> Result<Mapping> {
        let span = mapping.kernel_span();
        if self.transparent_huge_pages {
            // SAFETY: MADV_HUGEPAGE changes how memory is backed, never its contents.
            unsafe { sys::madvise(span.ptr(), span.len, Advice::HugePage)? };
        }
        if let Some(policy) = &self.policy {
            // Pages MAP_POPULATE faulted in follow the policy too.
            let flags = match self.flags.contains(MapFlags::POPULATE) {
                true => MbindFlags::MOVE,
                false => MbindFlags::empty(),
            };
            // SAFETY: the whole of the mapping just made; a policy changes no contents.
            unsafe { super::bind_span(span.addr, span.len, policy, ModeFlags::empty(), flags)? };
        }
        if let Some(name) = self.name {
            // SAFETY: the whole of the mapping just made; naming changes no byte and no
            // access, and splits nothing (the whole is named).
            unsafe { sys::set_anon_name(span.ptr(), span.len, Some(name))? };
        }
        // Last: the pages are faulted in where the policy places them.
        if mapping.huge_page.is_some() {
            mapping.hold_every_huge_page();
        } else if mapping.kind == Kind::SealedFile {
            mapping.hold_every_sealed_page();
        }
        Ok(mapping)
    }

    /// A mapping at a multiple of `self.align`: placed at the start of an aligned
    /// reservation made for it.
    #[cold]
    fn map_aligned(
        &self,
        len: usize,
        extra: MapFlags,
        file: Option<(BorrowedFd<'_>, FileBacking)>,
        offset: u64,
        kind: Kind,
    ) -> Result<Mapping> {
        if self.at.is_some() {
            return Err(Errno::EINVAL);
        }
        let request = self.request(len, extra, file, offset, kind)?;
        let align = self.align.max(request.huge_page.unwrap_or(0));
        let mut space = Reservation::with_align(request.span_len()?, align)?;
        self.place(&mut space, 0, request)
    }

    /// Places `request` at byte `offset` of `space` (see `reservation::placement`).
    fn place(&self, space: &mut Reservation, offset: usize, request: Request) -> Result<Mapping> {
        if self.at.is_some() || self.flags.contains(MapFlags::GROWSDOWN) {
            return Err(Errno::EINVAL);
        }
        let align = match self.align {
            0 => page_size(),
            align if align.is_power_of_two() && align >= page_size() => align,
            _ => return Err(Errno::EINVAL),
        };
        if (space.as_ptr() as usize).wrapping_add(offset) & (align - 1) != 0 {
            return Err(Errno::EINVAL);
        }
        let claim = space.claim(offset, request.span_len()?)?;
        space.vacate(&claim)?;
        match self.map_at(claim.addr, MapFlags::FIXED_NOREPLACE, &request) {
            Ok(mapping) if mapping.kernel_start() == claim.addr => {
                match self.after_mapping(mapping) {
                    Ok(mapping) => Ok(mapping),
                    Err(e) => {
                        // The mapping was unmapped as it dropped: the hole is reserved again.
                        space.restore(claim);
                        Err(e)
                    }
                }
            }
            refused => {
                // The kernel's refusal, or (before 4.17, which takes the flag for a hint)
                // a mapping elsewhere, unmapped here as it drops.
                let answer = refused.and(Err(Errno::EEXIST));
                space.restore(claim);
                answer
            }
        }
    }

    /// Maps `request` with `hint` (0: none) as the address, and `placement` flags
    /// (`MAP_FIXED_NOREPLACE` or none).
    #[inline(always)]
    fn map_at(&self, hint: usize, placement: MapFlags, request: &Request) -> Result<Mapping> {
        // SAFETY: without MAP_FIXED the kernel never replaces an existing mapping (the
        // address is only a hint), so no memory in use changes.
        let raw = unsafe {
            sys::mmap(
                hint as *mut c_void,
                request.kernel_len,
                self.prot,
                request.flags | placement,
                request.fd,
                request.offset - request.lead as u64,
            )?
        };
        let base = adopt(raw, huge::kernel_len(request.kernel_len, request.huge_page))?;
        // SAFETY: `lead < page size <= kernel_len`, so the result stays inside the mapping.
        let ptr = unsafe { base.add(request.lead) };
        let (len, lead, offset, kind) = (request.len, request.lead, request.offset, request.kind);
        let mut mapping = Mapping::owned(ptr, len, lead, offset, kind, self.prot, request.flags);
        mapping.huge_page = request.huge_page;
        Ok(mapping)
    }

    /// `misplaced` lies where the main stack may grow: the kernel puts mappings there when
    /// it has no room below its mapping base (and qemu-user puts them right below the
    /// stack it made for its guest). Unless the caller chose the address, asks again below
    /// that reach, at [`stack_reach::hints_below`]'s places; `ENOMEM` if none is taken.
    /// `request` comes by value, so that the hot path never lays it out in memory for this
    /// call it does not make.
    #[cold]
    fn map_below_the_stacks_reach(&self, misplaced: Mapping, request: Request) -> Result<Mapping> {
        let span = misplaced.kernel_span();
        drop(misplaced);
        if self.at.is_some() {
            return Err(Errno::ENOMEM);
        }
        let align = request.huge_page.unwrap_or_else(page_size);
        for hint in stack_reach::hints_below(span.len, align) {
            let mapping = self.map_at(hint, MapFlags::empty(), &request)?;
            let span = mapping.kernel_span();
            // A hint the kernel ignored leaves the mapping anywhere: checked again, and
            // unmapped (dropped) if it is in the reach once more.
            if stack_reach::check(span.addr, span.len).is_ok() {
                return Ok(mapping);
            }
        }
        Err(Errno::ENOMEM)
    }

    const fn kind(mut self, kind: MapFlags) -> Self {
        self.flags = self.flags.difference(MAP_TYPE).union(kind);
        self
    }

    const fn flag(mut self, flag: MapFlags) -> Self {
        self.flags = self.flags.union(flag);
        self
    }

    const fn is_shared(&self) -> bool {
        self.flags.intersects(MapFlags::SHARED)
    }

    /// What anonymous memory mapped with these options is.
    #[inline(always)]
    fn anonymous_kind(&self) -> Kind {
        if self.is_shared() {
            Kind::SharedAnonymous
        } else if self.flags.contains(MapFlags::DROPPABLE) {
            Kind::Droppable
        } else {
            Kind::PrivateAnonymous
        }
    }
}

/// The page-aligned, non-zero address a mapping asked [`at`](MapOptions::at) `at` starts
/// at, with `lead` bytes of its first page before `at`.
fn placement(at: usize, lead: usize) -> Result<usize> {
    match at.checked_sub(lead) {
        // The page size is a power of two: a mask, with no division that could panic.
        Some(start) if start != 0 && start & (page_size() - 1) == 0 => Ok(start),
        _ => Err(Errno::EINVAL),
    }
}

/// Whether `len` bytes from `offset` reach a page that lies wholly past the end of a file
/// of `size` bytes (whose touch raises `SIGBUS`; the last page's tail past the end reads as
/// zeros).
fn reaches_past_the_end(size: u64, offset: u64, len: usize) -> bool {
    let backed = size.checked_next_multiple_of(page_size() as u64);
    match (offset.checked_add(len as u64), backed) {
        (Some(end), Some(backed)) => end > backed,
        (None, _) => true,
        // A size within a page of u64::MAX: every offset a mapping can have is below it.
        (Some(_), None) => false,
    }
}

/// The bytes of `file` from `offset` to its end: `EINVAL` past the end, `ENOMEM` for more
/// than the address space holds.
fn file_rest(file: &FileBacking, offset: u64) -> Result<usize> {
    let rest = file.size.checked_sub(offset).ok_or(Errno::EINVAL)?;
    usize::try_from(rest).map_err(|_| Errno::ENOMEM)
}

/// What one `mmap` of a [`MapOptions::finish`] asks for, and how the result is kept.
#[derive(Clone, Copy)]
struct Request {
    len: usize,
    lead: usize,
    kernel_len: usize,
    offset: u64,
    fd: i32,
    flags: MapFlags,
    kind: Kind,
    huge_page: Option<usize>,
}

impl Request {
    /// The whole pages the mapping occupies (whole huge pages for huge-page memory).
    fn span_len(&self) -> Result<usize> {
        // Huge pages are whole pages too: rounding to them rounds to pages.
        let unit = self.huge_page.unwrap_or_else(page_size);
        self.kernel_len
            .checked_next_multiple_of(unit)
            .ok_or(Errno::ENOMEM)
    }
}
