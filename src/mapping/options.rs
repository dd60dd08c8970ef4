//! [`MapOptions`]: the builder for every kind of mapping.

use core::ffi::c_void;

use super::{adopt, huge, Kind, Mapping};
use crate::fd::{AsFd, AsRawFd, BorrowedFd};
use crate::sys::FileBacking;
use crate::{page_size, stack_reach, sys, Advice, Errno, MapFlags, Prot, Result};

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
    transparent_huge_pages: bool,
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
            transparent_huge_pages: false,
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

    /// Synchronous page faults for DAX files (implies `shared_validate`).
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

    /// Do not reserve swap space.
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
    /// in which case touching a page the pool cannot supply raises `SIGBUS`.
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

    /// Map within the first 2 GiB of the address space (x86_64 `MAP_32BIT`).
    #[cfg(target_arch = "x86_64")]
    pub const fn below_2gib(self) -> Self {
        self.flag(MapFlags::_32BIT)
    }

    /// Anonymous memory (zero-filled).
    // Always inline (with `finish` and `map_at`): as plain `#[inline]` the three grew past
    // what the compiler inlines, and `Mapping::anonymous` + drop went from 17 user
    // instructions to 157 (`cargo xtask bench`); inlined they cost 47.
    #[inline(always)]
    pub fn map(&self) -> Result<Mapping> {
        let len = self.len.ok_or(Errno::EINVAL)?;
        let kind = if self.is_shared() {
            Kind::SharedAnonymous
        } else if self.flags.contains(MapFlags::DROPPABLE) {
            Kind::Droppable
        } else {
            Kind::PrivateAnonymous
        };
        self.finish(len, MapFlags::ANONYMOUS, None, 0, kind)
    }

    /// Memory backed by `file` from byte `offset` on. An offset that is not page aligned is
    /// mapped from the page below, and the mapping starts at the byte asked for. Without a
    /// length, maps the rest of the file (`EINVAL` if that is empty).
    ///
    /// The bytes can change under the program (other writers, truncation), so the mapping
    /// is accessed by copies (see the crate documentation).
    ///
    /// Only regular files of filesystems whose mappings are plain page-cache mappings
    /// (tmpfs and so memfds and `/dev/shm`, hugetlbfs, ext4, xfs, btrfs, NFS, overlayfs and
    /// the like) are mapped here; anything else is `ENODEV`: a device's or a special
    /// filesystem's `mmap` may give the mapping flags the safe layer cannot account for,
    /// such as `VM_DONTCOPY`, which leaves a forked child's copy of the `Mapping` naming a
    /// range the child does not have. [`map_file_unchecked`](MapOptions::map_file_unchecked)
    /// maps those.
    pub fn map_file(&self, file: impl AsFd, offset: u64) -> Result<Mapping> {
        let file = file.as_fd();
        let backing = sys::file_backing(file)?;
        if !backing.is_plain() {
            return Err(Errno::ENODEV);
        }
        self.map_backed(file, backing, offset)
    }

    /// As [`map_file`](MapOptions::map_file), for any file or device.
    ///
    /// # Safety
    /// The mapping the file's `mmap` makes must be an ordinary one: inherited by a forked
    /// child like any other (no `VM_DONTCOPY`, or the child must neither use nor drop its
    /// copy of the `Mapping`), and resizable, protectable and unmappable by the range.
    pub unsafe fn map_file_unchecked(&self, file: impl AsFd, offset: u64) -> Result<Mapping> {
        let file = file.as_fd();
        self.map_backed(file, sys::file_backing(file)?, offset)
    }

    fn map_backed(
        &self,
        file: BorrowedFd<'_>,
        backing: FileBacking,
        offset: u64,
    ) -> Result<Mapping> {
        let len = match self.len {
            Some(len) => len,
            None => {
                let rest = backing.size.checked_sub(offset).ok_or(Errno::EINVAL)?;
                usize::try_from(rest).map_err(|_| Errno::ENOMEM)?
            }
        };
        self.finish(
            len,
            MapFlags::empty(),
            Some((file, backing)),
            offset,
            Kind::File,
        )
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
        // An address names where the byte at `offset` goes; its page starts `lead` earlier.
        let hint = match self.at {
            None => 0,
            Some(at) => placement(at, lead)?,
        };
        let flags = self.flags | extra;
        // Looked up before mmap, so that what is mapped can always be unmapped whole.
        let huge_page = huge::page_size_for(flags, file.as_ref().map(|(_, backing)| backing))?;
        let request = Request {
            len,
            lead,
            kernel_len,
            offset,
            fd: file.map_or(-1, |(file, _)| file.as_raw_fd()),
            flags,
            kind,
            huge_page,
        };
        let mut mapping = self.map_at(hint, &request)?;
        if self.at.is_some() && mapping.kernel_start() != hint {
            // The kernel would not place it there; `mapping` unmaps on return.
            return Err(Errno::EEXIST);
        }
        // Nowhere the main stack may grow, wherever the kernel or the hint put it.
        let span = mapping.kernel_span();
        if stack_reach::check(span.addr, span.len).is_err() {
            mapping = self.map_below_the_stacks_reach(mapping, request)?;
        }
        if self.transparent_huge_pages {
            let span = mapping.kernel_span();
            // SAFETY: MADV_HUGEPAGE changes how memory is backed, never its contents.
            unsafe { sys::madvise(span.ptr(), span.len, Advice::HugePage)? };
        }
        Ok(mapping)
    }

    /// Maps `request` with `hint` (0: none) as the address.
    #[inline(always)]
    fn map_at(&self, hint: usize, request: &Request) -> Result<Mapping> {
        // SAFETY: without MAP_FIXED the kernel never replaces an existing mapping (the
        // address is only a hint), so no memory in use changes.
        let raw = unsafe {
            sys::mmap(
                hint as *mut c_void,
                request.kernel_len,
                self.prot,
                request.flags,
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
    /// stack it made for its guest). Unless the caller chose the address, asks once more,
    /// right below that reach; `ENOMEM` if that fails too. `request` comes by value, so
    /// that the hot path never lays it out in memory for this call it does not make.
    #[cold]
    fn map_below_the_stacks_reach(&self, misplaced: Mapping, request: Request) -> Result<Mapping> {
        let span = misplaced.kernel_span();
        drop(misplaced);
        let align = request.huge_page.unwrap_or_else(page_size);
        let hint = match self.at {
            None => stack_reach::below(span.len, align).ok_or(Errno::ENOMEM)?,
            Some(_) => return Err(Errno::ENOMEM),
        };
        let mapping = self.map_at(hint, &request)?;
        let span = mapping.kernel_span();
        // Placed elsewhere, it may be anywhere: checked again (and unmapped on failure).
        stack_reach::check(span.addr, span.len)?;
        Ok(mapping)
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
