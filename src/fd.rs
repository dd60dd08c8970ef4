//! File descriptors: std's own types with feature `std`, look-alikes of the same names and
//! behaviour without it, so code written against `mman::fd` compiles either way.

#[cfg(feature = "std")]
pub use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};

#[cfg(not(feature = "std"))]
pub use polyfill::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};

#[cfg(not(feature = "std"))]
mod polyfill {
    use core::fmt;
    use core::marker::PhantomData;

    /// A raw file descriptor number.
    pub type RawFd = i32;

    /// An owned descriptor, closed on drop (as `std::os::fd::OwnedFd`).
    #[repr(transparent)]
    pub struct OwnedFd {
        fd: RawFd,
    }

    /// A descriptor borrowed for `'fd` (as `std::os::fd::BorrowedFd`).
    #[derive(Clone, Copy)]
    #[repr(transparent)]
    pub struct BorrowedFd<'fd> {
        fd: RawFd,
        _owner: PhantomData<&'fd OwnedFd>,
    }

    /// Borrows a descriptor (as `std::os::fd::AsFd`).
    pub trait AsFd {
        /// Borrows the descriptor.
        fn as_fd(&self) -> BorrowedFd<'_>;
    }

    /// Extracts the raw number (as `std::os::fd::AsRawFd`).
    pub trait AsRawFd {
        /// The raw number, still owned by `self`.
        fn as_raw_fd(&self) -> RawFd;
    }

    /// Gives up ownership of the raw number (as `std::os::fd::IntoRawFd`).
    pub trait IntoRawFd {
        /// The raw number; the caller now closes it.
        fn into_raw_fd(self) -> RawFd;
    }

    /// Takes ownership of a raw number (as `std::os::fd::FromRawFd`).
    pub trait FromRawFd {
        /// # Safety
        /// `fd` must be an open descriptor that nothing else owns or will close.
        unsafe fn from_raw_fd(fd: RawFd) -> Self;
    }

    impl BorrowedFd<'_> {
        /// # Safety
        /// `fd` must stay open for the whole lifetime of the result.
        #[inline]
        pub const unsafe fn borrow_raw(fd: RawFd) -> Self {
            BorrowedFd {
                fd,
                _owner: PhantomData,
            }
        }
    }

    impl AsFd for OwnedFd {
        #[inline]
        fn as_fd(&self) -> BorrowedFd<'_> {
            // SAFETY: `self` keeps the descriptor open for the borrow's lifetime.
            unsafe { BorrowedFd::borrow_raw(self.fd) }
        }
    }

    impl AsFd for BorrowedFd<'_> {
        #[inline]
        fn as_fd(&self) -> BorrowedFd<'_> {
            *self
        }
    }

    impl<T: AsFd + ?Sized> AsFd for &T {
        #[inline]
        fn as_fd(&self) -> BorrowedFd<'_> {
            T::as_fd(self)
        }
    }

    impl AsRawFd for OwnedFd {
        #[inline]
        fn as_raw_fd(&self) -> RawFd {
            self.fd
        }
    }

    impl AsRawFd for RawFd {
        #[inline]
        fn as_raw_fd(&self) -> RawFd {
            *self
        }
    }

    impl AsRawFd for BorrowedFd<'_> {
        #[inline]
        fn as_raw_fd(&self) -> RawFd {
            self.fd
        }
    }

    impl IntoRawFd for OwnedFd {
        #[inline]
        fn into_raw_fd(self) -> RawFd {
            let fd = self.fd;
            core::mem::forget(self);
            fd
        }
    }

    impl FromRawFd for OwnedFd {
        #[inline]
        unsafe fn from_raw_fd(fd: RawFd) -> Self {
            OwnedFd { fd }
        }
    }

    impl Drop for OwnedFd {
        fn drop(&mut self) {
            // Errors from close are not actionable here (the descriptor is gone either way),
            // as with std's OwnedFd.
            let _ = crate::sys::close_raw(self.fd);
        }
    }

    impl fmt::Debug for OwnedFd {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("OwnedFd").field("fd", &self.fd).finish()
        }
    }

    impl fmt::Debug for BorrowedFd<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("BorrowedFd").field("fd", &self.fd).finish()
        }
    }
}
