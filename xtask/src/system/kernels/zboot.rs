//! EFI zboot images: a PE/COFF stub (`MZ`) that decompresses the kernel inside it when EFI
//! firmware starts it. Debian's loong64 `vmlinuz` is one, compressed with zstd, and qemu
//! 10.0 refuses those ("unable to handle EFI zboot image with "zstd" compression"); the
//! kernel image inside boots directly. The header (the kernel's
//! `drivers/firmware/efi/libstub/zboot-header.S`): `MZ` at byte 0, `zimg` at 4, the
//! payload's offset (u32, little-endian) at 8 and its size at 12, the compression's name
//! (NUL-padded) at 24.

use std::fs;
use std::path::Path;
use std::process::Command;

use super::succeed;

/// Replaces a zboot image at `path` by the kernel image inside it; leaves any other file.
pub fn unpack_in_place(path: &Path) -> Result<(), String> {
    let image = fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let Some(payload) = payload(&image, path)? else {
        return Ok(());
    };
    let compressed = path.with_extension("zst");
    fs::write(&compressed, payload)
        .map_err(|e| format!("cannot write {}: {e}", compressed.display()))?;
    // zstd(1) from bookworm's `zstd` package, which `cargo xtask setup` installs.
    let unpacked = succeed(
        Command::new("zstd")
            .args(["-d", "-q", "-f"])
            .arg(&compressed)
            .arg("-o")
            .arg(path),
    );
    let _ = fs::remove_file(&compressed);
    unpacked
}

/// The zstd payload of a zboot image; `None` for any other file.
fn payload<'a>(image: &'a [u8], path: &Path) -> Result<Option<&'a [u8]>, String> {
    if image.get(..2) != Some(b"MZ") || image.get(4..8) != Some(b"zimg") {
        return Ok(None);
    }
    let word = |at: usize| {
        image
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let method = image.get(24..32).unwrap_or_default();
    let method = String::from_utf8_lossy(method);
    let method = method.trim_end_matches('\0');
    if method != "zstd" {
        return Err(format!(
            "{}: an EFI zboot image compressed with {method:?}, which this unpacks no kernel from",
            path.display()
        ));
    }
    match (word(8), word(12)) {
        (Some(offset), Some(size)) => match image.get(offset..offset.saturating_add(size)) {
            Some(payload) => Ok(Some(payload)),
            None => Err(format!(
                "{}: zboot payload {offset}+{size} lies past the file's {} bytes",
                path.display(),
                image.len()
            )),
        },
        _ => Err(format!("{}: truncated zboot header", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(method: &[u8], offset: u32, size: u32) -> Vec<u8> {
        let mut image = vec![0u8; 40];
        image[..2].copy_from_slice(b"MZ");
        image[4..8].copy_from_slice(b"zimg");
        image[8..12].copy_from_slice(&offset.to_le_bytes());
        image[12..16].copy_from_slice(&size.to_le_bytes());
        image[24..24 + method.len()].copy_from_slice(method);
        image
    }

    #[test]
    fn the_payload_is_the_range_the_header_names() {
        let mut image = header(b"zstd", 40, 3);
        image.extend(b"abcdef");
        assert_eq!(
            payload(&image, Path::new("x")),
            Ok(Some(&b"abc"[..])),
            "offset 40, size 3"
        );
    }

    #[test]
    fn other_files_are_left_and_bad_headers_refused() {
        assert_eq!(payload(b"\x7fELF", Path::new("x")), Ok(None));
        assert!(payload(&header(b"gzip", 40, 0), Path::new("x")).is_err());
        assert!(payload(&header(b"zstd", 40, 100), Path::new("x")).is_err());
    }
}
