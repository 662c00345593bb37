//! A reader of POSIX ustar archives (with the GNU long-name and pax path
//! extensions): the entries of an archive as borrowed slices, no copy.

use alloc::vec::Vec;

/// What an archive entry is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryKind<'a> {
    File,
    Dir,
    Symlink(&'a [u8]),
    /// A hard link to the earlier entry with this path.
    HardLink(&'a [u8]),
    CharDevice(u32, u32),
    BlockDevice(u32, u32),
    Fifo,
}

/// One archive entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The ustar prefix (the path is `prefix/name`; often empty).
    pub prefix: &'a [u8],
    pub name: &'a [u8],
    pub kind: EntryKind<'a>,
    /// Permission bits (`0o7777`).
    pub perm: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: i64,
    /// A regular file's bytes.
    pub data: &'a [u8],
}

impl Entry<'_> {
    /// The entry's path: `prefix/name`.
    pub fn path(&self) -> Vec<u8> {
        let mut path = self.prefix.to_vec();
        if !path.is_empty() {
            path.push(b'/');
        }
        path.extend_from_slice(self.name);
        path
    }
}

/// A malformed archive: where and what.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TarError {
    pub offset: usize,
    pub what: &'static str,
}

const BLOCK: usize = 512;

/// Every entry of `archive`, in order.
pub fn entries(archive: &[u8]) -> Result<Vec<Entry<'_>>, TarError> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut long_path: Option<&[u8]> = None;
    let mut long_link: Option<&[u8]> = None;
    while let Some(header) = archive.get(at..at + BLOCK) {
        if header.iter().all(|&byte| byte == 0) {
            break;
        }
        let error = |what| TarError { offset: at, what };
        if !checksum_ok(header) {
            return Err(error("bad header checksum"));
        }
        let size = number(field(header, 124, 12)).ok_or(error("bad size"))? as usize;
        let data_at = at + BLOCK;
        let data = archive
            .get(data_at..data_at + size)
            .ok_or(error("entry runs past the end"))?;
        at = data_at + size.div_ceil(BLOCK) * BLOCK;
        let typeflag = header.get(156).copied().unwrap_or(0);
        match typeflag {
            b'L' => {
                long_path = Some(trim_nul(data));
                continue;
            }
            b'K' => {
                long_link = Some(trim_nul(data));
                continue;
            }
            b'x' => {
                for (key, value) in pax_records(data) {
                    match key {
                        b"path" => long_path = Some(value),
                        b"linkpath" => long_link = Some(value),
                        _ => {}
                    }
                }
                continue;
            }
            b'g' => continue,
            _ => {}
        }
        let name = trim_nul(field(header, 0, 100));
        let prefix = trim_nul(field(header, 345, 155));
        let is_ustar = field(header, 257, 5) == b"ustar";
        let (prefix, path) = match long_path.take() {
            Some(path) => (&[][..], path),
            None if is_ustar => (prefix, name),
            None => (&[][..], name),
        };
        let link = long_link
            .take()
            .unwrap_or_else(|| trim_nul(field(header, 157, 100)));
        let major = number(field(header, 329, 8)).unwrap_or(0) as u32;
        let minor = number(field(header, 337, 8)).unwrap_or(0) as u32;
        let kind = match typeflag {
            b'0' | 0 | b'7' => EntryKind::File,
            b'1' => EntryKind::HardLink(link),
            b'2' => EntryKind::Symlink(link),
            b'3' => EntryKind::CharDevice(major, minor),
            b'4' => EntryKind::BlockDevice(major, minor),
            b'5' => EntryKind::Dir,
            b'6' => EntryKind::Fifo,
            _ => continue,
        };
        let kind = if kind == EntryKind::File && path.last() == Some(&b'/') {
            EntryKind::Dir
        } else {
            kind
        };
        out.push(Entry {
            prefix,
            name: path,
            kind,
            perm: number(field(header, 100, 8)).unwrap_or(0o644) as u32 & 0o7777,
            uid: number(field(header, 108, 8)).unwrap_or(0) as u32,
            gid: number(field(header, 116, 8)).unwrap_or(0) as u32,
            mtime: number(field(header, 136, 12)).unwrap_or(0) as i64,
            data,
        });
    }
    if archive.len() > at && archive.len() < at + BLOCK {
        return Err(TarError {
            offset: at,
            what: "a header is cut short",
        });
    }
    Ok(out)
}

/// `len` bytes of `header` at `at`.
fn field(header: &[u8], at: usize, len: usize) -> &[u8] {
    header.get(at..at + len).unwrap_or_default()
}

/// `bytes` up to its first NUL.
fn trim_nul(bytes: &[u8]) -> &[u8] {
    match bytes.iter().position(|&byte| byte == 0) {
        Some(end) => bytes.get(..end).unwrap_or_default(),
        None => bytes,
    }
}

/// An octal field (NUL- or space-terminated), or GNU base-256.
fn number(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|&byte| byte & 0x80 != 0) {
        let mut value = 0u64;
        for (index, &byte) in field.iter().enumerate() {
            let byte = if index == 0 { byte & 0x7f } else { byte };
            value = value.checked_mul(256)?.checked_add(byte as u64)?;
        }
        return Some(value);
    }
    let digits = field
        .iter()
        .skip_while(|&&byte| byte == b' ')
        .take_while(|&&byte| (b'0'..=b'7').contains(&byte));
    let mut value = 0u64;
    let mut any = false;
    for &digit in digits {
        value = value.checked_mul(8)?.checked_add((digit - b'0') as u64)?;
        any = true;
    }
    if any || trim_nul(field).iter().all(|&byte| byte == b' ') {
        Some(value)
    } else {
        None
    }
}

/// Whether the header's checksum field matches its bytes.
fn checksum_ok(header: &[u8]) -> bool {
    let Some(stored) = number(field(header, 148, 8)) else {
        return false;
    };
    let sum: u64 = header
        .iter()
        .enumerate()
        .map(|(index, &byte)| {
            if (148..156).contains(&index) {
                b' ' as u64
            } else {
                byte as u64
            }
        })
        .sum();
    sum == stored
}

/// The `key=value` records of a pax extended header.
fn pax_records(mut data: &[u8]) -> Vec<(&[u8], &[u8])> {
    let mut records = Vec::new();
    while !data.is_empty() {
        let Some(space) = data.iter().position(|&byte| byte == b' ') else {
            break;
        };
        let Some(len) = core::str::from_utf8(data.get(..space).unwrap_or_default())
            .ok()
            .and_then(|len| len.parse::<usize>().ok())
        else {
            break;
        };
        let Some(record) = data.get(space + 1..len) else {
            break;
        };
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        if let Some(equals) = record.iter().position(|&byte| byte == b'=') {
            records.push((
                record.get(..equals).unwrap_or_default(),
                record.get(equals + 1..).unwrap_or_default(),
            ));
        }
        data = data.get(len..).unwrap_or_default();
    }
    records
}
