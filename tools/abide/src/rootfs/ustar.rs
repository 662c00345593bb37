//! A POSIX ustar writer: the format of the archives the guest reads (the
//! root tree, `--add`), which `lib/vfs`'s tar reader takes apart.
//!
//! Only what a root tree needs: directories, regular files with their
//! modes, symbolic links. Owner and group are 0 (`root`), the mtime is
//! [`MTIME`] for every entry, so the same tree always gives the same bytes.
//! Names longer than 100 bytes are split into ustar's prefix and name
//! fields; what still does not fit is an error, never a silent cut.

/// The modification time of every entry (the epoch): archives are
/// reproducible.
pub const MTIME: u64 = 0;
/// The size of a header and of the blocks data is padded to.
pub const BLOCK: usize = 512;

/// What an entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind<'a> {
    Directory,
    File(&'a [u8]),
    Symlink(&'a str),
}

/// An archive being written.
#[derive(Debug, Default)]
pub struct Ustar {
    bytes: Vec<u8>,
}

impl Ustar {
    pub fn new() -> Self {
        Ustar::default()
    }

    /// Appends an entry; `path` is relative (`bin/busybox`, `etc`), without
    /// a leading or trailing `/`.
    pub fn append(&mut self, path: &str, mode: u32, kind: &Kind) -> Result<(), String> {
        let mut header = [0u8; BLOCK];
        let name = match kind {
            Kind::Directory => format!("{path}/"),
            _ => path.to_string(),
        };
        let (prefix, name) = split_name(&name)
            .ok_or_else(|| format!("the path {path} is too long for a ustar archive"))?;
        put(&mut header, 0, 100, name.as_bytes());
        put_octal(&mut header, 100, 8, u64::from(mode & 0o7777));
        put_octal(&mut header, 108, 8, 0);
        put_octal(&mut header, 116, 8, 0);
        let (size, flag, link) = match kind {
            Kind::Directory => (0, b'5', ""),
            Kind::File(data) => (data.len() as u64, b'0', ""),
            Kind::Symlink(target) => (0, b'2', *target),
        };
        if link.len() > 100 {
            return Err(format!(
                "the link {path} -> {link} has a target too long for a ustar archive (100 bytes)"
            ));
        }
        if size >= 8u64.pow(11) {
            return Err(format!("{path} is too large for a ustar archive (8 GiB)"));
        }
        put_octal(&mut header, 124, 12, size);
        put_octal(&mut header, 136, 12, MTIME);
        header[156] = flag;
        put(&mut header, 157, 100, link.as_bytes());
        put(&mut header, 257, 6, b"ustar\0");
        put(&mut header, 263, 2, b"00");
        put(&mut header, 265, 32, b"root");
        put(&mut header, 297, 32, b"root");
        put_octal(&mut header, 329, 8, 0);
        put_octal(&mut header, 337, 8, 0);
        put(&mut header, 345, 155, prefix.as_bytes());
        // The checksum is taken with its own field as spaces.
        header[148..156].fill(b' ');
        let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
        put(&mut header, 148, 8, format!("{sum:06o}\0 ").as_bytes());
        self.bytes.extend_from_slice(&header);
        if let Kind::File(data) = kind {
            self.bytes.extend_from_slice(data);
            self.bytes
                .resize(self.bytes.len().next_multiple_of(BLOCK), 0);
        }
        Ok(())
    }

    /// The archive, ended by two zero blocks.
    pub fn finish(mut self) -> Vec<u8> {
        self.bytes.resize(self.bytes.len() + 2 * BLOCK, 0);
        self.bytes
    }
}

/// Splits `path` into ustar's prefix (155 bytes) and name (100 bytes) at a
/// `/`; `None` when no split fits.
fn split_name(path: &str) -> Option<(&str, &str)> {
    if path.len() <= 100 {
        return Some(("", path));
    }
    path.char_indices()
        .filter(|&(_, c)| c == '/')
        .map(|(i, _)| (&path[..i], &path[i + 1..]))
        .find(|(prefix, name)| prefix.len() <= 155 && name.len() <= 100 && !name.is_empty())
}

fn put(header: &mut [u8; BLOCK], at: usize, width: usize, bytes: &[u8]) {
    let len = bytes.len().min(width);
    header[at..at + len].copy_from_slice(&bytes[..len]);
}

/// `value` in octal, zero-padded to `width - 1` digits and NUL-ended.
fn put_octal(header: &mut [u8; BLOCK], at: usize, width: usize, value: u64) {
    let text = format!("{value:0digits$o}\0", digits = width - 1);
    put(header, at, width, text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A field of `header` as text, up to its first NUL.
    fn field(header: &[u8], at: usize, width: usize) -> String {
        let raw = &header[at..at + width];
        let end = raw.iter().position(|&b| b == 0).unwrap_or(width);
        String::from_utf8(raw[..end].to_vec()).unwrap()
    }

    #[test]
    fn entries_have_valid_headers() {
        let mut tar = Ustar::new();
        tar.append("etc", 0o755, &Kind::Directory).unwrap();
        tar.append("etc/hostname", 0o644, &Kind::File(b"abide\n"))
            .unwrap();
        tar.append("bin/sh", 0o777, &Kind::Symlink("busybox"))
            .unwrap();
        let bytes = tar.finish();
        assert_eq!(bytes.len(), 4 * BLOCK + 2 * BLOCK);
        let dir = &bytes[..BLOCK];
        assert_eq!(field(dir, 0, 100), "etc/");
        assert_eq!(field(dir, 100, 8), "0000755");
        assert_eq!(dir[156], b'5');
        assert_eq!(field(dir, 257, 6), "ustar");
        assert_eq!(field(dir, 263, 2), "00");
        let file = &bytes[BLOCK..2 * BLOCK];
        assert_eq!(field(file, 124, 12), "00000000006");
        assert_eq!(field(file, 136, 12), "00000000000");
        assert_eq!(&bytes[2 * BLOCK..2 * BLOCK + 6], b"abide\n");
        let link = &bytes[3 * BLOCK..4 * BLOCK];
        assert_eq!(link[156], b'2');
        assert_eq!(field(link, 157, 100), "busybox");
        // Checksums: the unsigned sum with the field as spaces.
        for header in [dir, file, link] {
            let mut copy = header.to_vec();
            copy[148..156].fill(b' ');
            let sum: u32 = copy.iter().map(|&b| u32::from(b)).sum();
            let stored = u32::from_str_radix(&field(header, 148, 7), 8).unwrap();
            assert_eq!(stored, sum);
        }
        assert!(bytes[4 * BLOCK..].iter().all(|&b| b == 0));
    }

    #[test]
    fn long_names_use_the_prefix_and_too_long_ones_are_refused() {
        let dir = "d".repeat(120);
        let path = format!("{dir}/file");
        let mut tar = Ustar::new();
        tar.append(&path, 0o644, &Kind::File(b"")).unwrap();
        let bytes = tar.finish();
        assert_eq!(field(&bytes, 0, 100), "file");
        assert_eq!(field(&bytes, 345, 155), dir);
        let mut tar = Ustar::new();
        assert!(tar
            .append(&"x".repeat(101), 0o644, &Kind::File(b""))
            .unwrap_err()
            .contains("too long"));
        assert!(tar
            .append("l", 0o777, &Kind::Symlink(&"t".repeat(101)))
            .unwrap_err()
            .contains("too long"));
    }

    #[test]
    fn the_same_entries_give_the_same_bytes() {
        let make = || {
            let mut tar = Ustar::new();
            tar.append("a", 0o600, &Kind::File(b"x")).unwrap();
            tar.finish()
        };
        assert_eq!(make(), make());
    }
}
