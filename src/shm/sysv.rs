//! [`SysvSegment`]: a System V shared memory segment (`shmget`/`shmat`).

use core::ffi::c_void;
use core::ptr::NonNull;

use super::Access;
use crate::{
    page_size, stack_reach, sys, Advice, Errno, Mapping, Mode, Result, ShmAtFlags, ShmGetFlags,
};

/// A System V segment, named by its id (and, if it has one, a key).
#[derive(Debug)]
pub struct SysvSegment {
    id: i32,
    remove_on_drop: bool,
}

impl SysvSegment {
    /// A new segment of `size` bytes that only this process (and its children, or whoever
    /// learns the id) can attach; removed when this value drops and the last process detaches.
    pub fn create_private(size: usize) -> Result<SysvSegment> {
        SysvSegment::create_with(sys::IPC_PRIVATE, size, Mode::RUSR | Mode::WUSR)
    }

    /// A new segment for `key`, with permission bits `mode`; `EEXIST` if the key has one.
    /// Removed when this value drops (see [`remove_on_drop`](SysvSegment::remove_on_drop)).
    pub fn create(key: i32, size: usize, mode: Mode) -> Result<SysvSegment> {
        SysvSegment::create_with(key, size, mode)
    }

    fn create_with(key: i32, size: usize, mode: Mode) -> Result<SysvSegment> {
        let flags = ShmGetFlags::CREAT | ShmGetFlags::EXCL | ShmGetFlags::from_mode(mode);
        let id = sys::shmget(key, size, flags)?;
        Ok(SysvSegment {
            id,
            remove_on_drop: true,
        })
    }

    /// The existing segment for `key`; not removed on drop.
    pub fn open(key: i32) -> Result<SysvSegment> {
        Ok(SysvSegment {
            id: sys::shmget(key, 0, ShmGetFlags::empty())?,
            remove_on_drop: false,
        })
    }

    /// The segment with id `id` (as another process reports it); not removed on drop.
    pub fn from_id(id: i32) -> SysvSegment {
        SysvSegment {
            id,
            remove_on_drop: false,
        }
    }

    /// Whether dropping this value marks the segment for removal.
    pub fn remove_on_drop(mut self, remove: bool) -> SysvSegment {
        self.remove_on_drop = remove;
        self
    }

    /// The id other processes attach with.
    pub fn id(&self) -> i32 {
        self.id
    }

    /// The size in bytes (`shm_segsz`).
    pub fn size(&self) -> Result<usize> {
        sys::shm_segment_size(self.id)
    }

    /// Attaches the segment where the kernel chooses; detached when the mapping drops.
    ///
    /// The size is read after attaching: the id cannot name another segment while this
    /// process is attached to it, whereas a size read first could belong to a segment
    /// removed in between and replaced by a smaller one under the same id.
    ///
    /// A segment of huge pages (made elsewhere with `SHM_HUGETLB`) has every page faulted
    /// in first, so that no view of it raises `SIGBUS`; `ENOMEM` if the pool or a hugetlb
    /// cgroup limit cannot supply them.
    pub fn attach(&self, access: Access) -> Result<Mapping> {
        let flags = match access {
            Access::ReadOnly => ShmAtFlags::RDONLY,
            Access::ReadWrite => ShmAtFlags::empty(),
        };
        // SAFETY: a null address lets the kernel choose, so no mapping is replaced.
        let raw = unsafe { sys::shmat(self.id, core::ptr::null(), flags)? };
        // A null address comes only from attaching at 0, which is never asked for.
        let ptr = NonNull::new(raw.cast::<u8>()).ok_or(Errno::EINVAL);
        let usable = ptr.and_then(|ptr| {
            // A segment made by a 64-bit program may be longer than a 32-bit one's objects.
            let size = crate::mapping::object_len(self.size()?)?;
            stack_reach::check(raw as usize, size)?;
            hold_huge_pages(raw, size)?;
            Ok((ptr, size))
        });
        match usable {
            Ok((ptr, size)) => Ok(Mapping::attached(ptr, size, access.prot())),
            Err(e) => {
                // SAFETY: attached just now; nothing refers to it.
                let _ = unsafe { sys::shmdt(raw) };
                Err(e)
            }
        }
    }

    /// Marks the segment for removal once every process has detached.
    pub fn remove(mut self) -> Result<()> {
        self.remove_on_drop = false;
        sys::shm_remove(self.id)
    }
}

impl Drop for SysvSegment {
    fn drop(&mut self) {
        if self.remove_on_drop {
            let _ = sys::shm_remove(self.id);
        }
    }
}

/// Makes sure that every page of an attachment of huge pages is there before atomic views
/// are lent over it (review round 5): another program may have made the segment with
/// `SHM_HUGETLB` (and `SHM_NORESERVE`), which nothing in `shmid_ds` shows, and a first touch
/// of a huge page the pool cannot supply, or past a hugetlb cgroup limit, raises `SIGBUS`,
/// through a view too. `MADV_COLD` (5.4) on the first page tells huge pages apart: it
/// refuses them (`EINVAL`, as it does locked memory) before touching anything, and only
/// ages an ordinary page. Where it does not succeed, every page is faulted in
/// (`MADV_POPULATE_READ`, 5.14), and the attachment is refused (`ENOMEM`) if that fails:
/// the segment's pages cannot be had. Kernels without the advice (before 5.14) cannot be
/// asked, and attach as before.
fn hold_huge_pages(addr: *mut c_void, len: usize) -> Result<()> {
    // SAFETY: a hint on this attachment's first page: no byte and no access changes.
    if unsafe { sys::madvise(addr, page_size().min(len), Advice::Cold) }.is_ok() {
        return Ok(());
    }
    // SAFETY: the whole attachment, just made; a read fault changes no byte and no access.
    match unsafe { sys::madvise(addr, len, Advice::PopulateRead) } {
        Ok(()) => Ok(()),
        Err(Errno::EINVAL) if !Advice::PopulateRead.is_supported() => Ok(()),
        Err(_) => Err(Errno::ENOMEM),
    }
}
