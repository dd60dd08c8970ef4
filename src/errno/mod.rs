//! `Errno`: the error every call returns, with names and messages from a table in the crate
//! (there is no libc to ask).

use core::fmt;

/// A Linux error number, as the kernel returns it (positive: `EINVAL` is 22).
///
/// Any positive code can be held, including ones this crate has no name for; those print as
/// `"UNKNOWN"` / `"Unknown error"` rather than failing.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Errno(i32);

/// The result of every call in this crate.
pub type Result<T> = core::result::Result<T, Errno>;

/// Defines one associated constant per row and the code → (name, message) lookup. A row is
/// `CODE [mips MIPS_CODE] => NAME, "message";`, the bracket only where mips's kernel numbers
/// the error differently from the asm-generic table.
macro_rules! errno_table {
    ($($code:literal $([mips $mips:literal])? => $name:ident, $text:literal;)*) => {
        impl Errno {
            $(
                #[doc = $text]
                pub const $name: Errno = Errno(errno_code!($code $(, $mips)?));
            )*
        }

        /// The name and message of a known code.
        pub(super) const fn lookup(code: i32) -> Option<(&'static str, &'static str)> {
            match Errno(code) {
                $(Errno::$name => Some((stringify!($name), $text)),)*
                _ => None,
            }
        }
    };
}

/// A row's code on the architecture being built: the asm-generic one, or mips's own.
macro_rules! errno_code {
    ($generic:literal) => {
        $generic
    };
    ($generic:literal, $mips:literal) => {
        if cfg!(target_arch = "mips64") {
            $mips
        } else {
            $generic
        }
    };
}

mod table;

/// The name and message of a known code: the table's, and the `EDEADLOCK` of powerpc (58)
/// and mips (56), a code of its own there (glibc has no text for either, so the message is
/// the kernel headers' comment).
const fn lookup(code: i32) -> Option<(&'static str, &'static str)> {
    match table::lookup(code) {
        None if code == Errno::EDEADLOCK.0 => Some(("EDEADLOCK", "File locking deadlock error")),
        known => known,
    }
}

impl Errno {
    /// `EWOULDBLOCK` is another name for `EAGAIN` on Linux.
    pub const EWOULDBLOCK: Errno = Errno::EAGAIN;
    /// `EDEADLOCK` is another name for `EDEADLK`, except on powerpc and mips, where it is an
    /// errno of its own (58 and 56, "File locking deadlock error").
    pub const EDEADLOCK: Errno = Errno(crate::arch::EDEADLOCK);
    /// `ENOTSUP` is another name for `EOPNOTSUPP` on Linux.
    pub const ENOTSUP: Errno = Errno::EOPNOTSUPP;

    /// Wraps a positive error code. Unknown codes are kept as they are.
    #[inline]
    pub const fn from_raw(code: i32) -> Errno {
        Errno(code)
    }

    /// The positive error code, e.g. 22 for `EINVAL`.
    #[inline]
    pub const fn raw(self) -> i32 {
        self.0
    }

    /// The symbolic name, e.g. `"EINVAL"`; `"UNKNOWN"` for a code without one.
    pub fn name(self) -> &'static str {
        match lookup(self.0) {
            Some((name, _)) => name,
            None => "UNKNOWN",
        }
    }

    /// The message glibc's `strerror` gives, e.g. `"Invalid argument"`.
    pub fn description(self) -> &'static str {
        match lookup(self.0) {
            Some((_, text)) => text,
            None => "Unknown error",
        }
    }

    /// Replaces one errno by another, as glibc does on some paths (`shm_open`'s `EISDIR`).
    #[inline]
    pub(crate) fn remap(self, from: Errno, to: Errno) -> Errno {
        if self == from {
            to
        } else {
            self
        }
    }

    /// Decodes a raw syscall return word: `-4095..=-1` (compared as unsigned) is `-errno`,
    /// anything else is a successful value.
    #[inline(always)]
    pub(crate) const fn from_syscall(ret: usize) -> Result<usize> {
        if ret > (-4096isize) as usize {
            Err(Errno((ret as isize).wrapping_neg() as i32))
        } else {
            Ok(ret)
        }
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match lookup(self.0) {
            Some((name, _)) => write!(f, "Errno({name})"),
            None => write!(f, "Errno({})", self.0),
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match lookup(self.0) {
            Some((name, text)) => write!(f, "{text} ({name})"),
            None => write!(f, "Unknown error {}", self.0),
        }
    }
}

impl core::error::Error for Errno {}

#[cfg(feature = "std")]
impl From<Errno> for std::io::Error {
    fn from(errno: Errno) -> std::io::Error {
        std::io::Error::from_raw_os_error(errno.raw())
    }
}
