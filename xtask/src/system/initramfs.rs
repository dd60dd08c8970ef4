//! A writer for the initramfs: a cpio archive in the "newc" format, the one
//! the kernel unpacks into its root filesystem before starting `/init`.
//! Uncompressed: the kernel takes it as is, and copying a few megabytes into
//! the guest costs less than compressing them.
//!
//! Format (linux Documentation/driver-api/early-userspace/buffer-format.rst):
//! each entry is the magic `070701`, thirteen 8-digit hex fields, the name
//! with its NUL, padding to 4 bytes, the data, padding to 4 bytes; a last
//! entry named `TRAILER!!!` ends the archive.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFCHR: u32 = 0o020000;

pub struct Initramfs {
    out: BufWriter<File>,
    /// Inode numbers only need to differ between entries.
    next_ino: u32,
}

impl Initramfs {
    pub fn create(path: &Path) -> io::Result<Initramfs> {
        Ok(Initramfs {
            out: BufWriter::new(File::create(path)?),
            next_ino: 1,
        })
    }

    /// A directory; it must come before anything inside it.
    pub fn dir(&mut self, path: &str) -> io::Result<()> {
        self.entry(path, S_IFDIR | 0o755, 2, (0, 0), &[])
    }

    /// An executable file with `contents`.
    pub fn executable(&mut self, path: &str, contents: &[u8]) -> io::Result<()> {
        self.entry(path, S_IFREG | 0o755, 1, (0, 0), contents)
    }

    /// A character device node, such as `/dev/console`.
    pub fn char_device(&mut self, path: &str, major: u32, minor: u32) -> io::Result<()> {
        self.entry(path, S_IFCHR | 0o600, 1, (major, minor), &[])
    }

    /// Writes the trailer and flushes the file.
    pub fn finish(mut self) -> io::Result<()> {
        self.entry("TRAILER!!!", 0, 1, (0, 0), &[])?;
        self.out.flush()
    }

    /// `path` is relative to the root (no leading `/`, as the kernel's own
    /// archives have it). Owner root, mtime 0: the archive is reproducible.
    fn entry(
        &mut self,
        path: &str,
        mode: u32,
        nlink: u32,
        rdev: (u32, u32),
        data: &[u8],
    ) -> io::Result<()> {
        let name_size = path.len() + 1; // with its NUL
        let file_size = u32::try_from(data.len()).map_err(|_| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("{path}: over 4 GiB"))
        })?;
        let fields = [
            self.next_ino,
            mode,
            0,
            0,
            nlink,
            0,
            file_size,
            0,
            0,
            rdev.0,
            rdev.1,
            name_size as u32,
            0,
        ];
        self.next_ino += 1;
        let mut header = String::from("070701");
        for field in fields {
            header.push_str(&format!("{field:08x}"));
        }
        self.out.write_all(header.as_bytes())?;
        self.out.write_all(path.as_bytes())?;
        self.out.write_all(&[0])?;
        self.pad(header.len() + name_size)?;
        self.out.write_all(data)?;
        self.pad(data.len())
    }

    /// Zeros up to the next multiple of 4, given how many bytes were written
    /// since the last aligned point (headers start aligned).
    fn pad(&mut self, written: usize) -> io::Result<()> {
        let zeros = (4 - written % 4) % 4;
        self.out.write_all(&[0; 3][..zeros])
    }
}
