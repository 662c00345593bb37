//! The Linux guest's initramfs: a cpio archive in the "newc" format the
//! kernel unpacks into its root file system before it runs `/init`.
//!
//! The archive is uncompressed (the kernel takes plain cpio as well as
//! compressed). Each member is a 110-byte ASCII header (`070701` and
//! thirteen 8-digit hexadecimal fields), the NUL-terminated path and the
//! data, both padded to 4 bytes; a member named `TRAILER!!!` ends it.
//! Times, owners and inode numbers are fixed, so the same inputs always give
//! the same bytes.

/// Builds a newc archive in memory.
#[derive(Debug, Default)]
pub struct Archive {
    bytes: Vec<u8>,
    /// Inode number of the next member (each member is its own file).
    next_inode: u32,
}

/// `S_IFDIR`, `S_IFREG`, `S_IFCHR`, `S_IFLNK`: the file type bits of a mode.
const DIRECTORY: u32 = 0o040_000;
const REGULAR: u32 = 0o100_000;
const CHAR_DEVICE: u32 = 0o020_000;
const SYMLINK: u32 = 0o120_000;

impl Archive {
    pub fn new() -> Archive {
        Archive {
            bytes: Vec::new(),
            next_inode: 1,
        }
    }

    /// A directory (`path` without a leading `/`, its parent added first).
    pub fn directory(&mut self, path: &str, permissions: u32) {
        self.member(path, DIRECTORY | permissions, 2, (0, 0), &[]);
    }

    /// A regular file.
    pub fn file(&mut self, path: &str, permissions: u32, data: &[u8]) {
        self.member(path, REGULAR | permissions, 1, (0, 0), data);
    }

    /// A character device node, e.g. `dev/console` (5, 1).
    pub fn char_device(&mut self, path: &str, permissions: u32, major: u32, minor: u32) {
        self.member(path, CHAR_DEVICE | permissions, 1, (major, minor), &[]);
    }

    /// A symbolic link to `target` (newc keeps the target as the data).
    pub fn symlink(&mut self, path: &str, target: &str) {
        self.member(path, SYMLINK | 0o777, 1, (0, 0), target.as_bytes());
    }

    /// The archive, with its trailer.
    pub fn finish(mut self) -> Vec<u8> {
        self.next_inode = 0;
        self.member("TRAILER!!!", 0, 1, (0, 0), &[]);
        self.bytes
    }

    fn member(&mut self, path: &str, mode: u32, links: u32, rdev: (u32, u32), data: &[u8]) {
        let name_size = path.len() + 1;
        let fields = [
            self.next_inode,
            mode,
            0, // uid
            0, // gid
            links,
            0, // mtime
            u32::try_from(data.len()).expect("an initramfs member over 4 GiB"),
            0, // device the file was on: major
            0, // and minor
            rdev.0,
            rdev.1,
            u32::try_from(name_size).expect("a path over 4 GiB"),
            0, // checksum: only for the 070702 format
        ];
        self.next_inode += 1;
        self.bytes.extend_from_slice(b"070701");
        for field in fields {
            self.bytes
                .extend_from_slice(format!("{field:08X}").as_bytes());
        }
        self.bytes.extend_from_slice(path.as_bytes());
        self.bytes.push(0);
        self.pad();
        self.bytes.extend_from_slice(data);
        self.pad();
    }

    /// Zeros up to the next multiple of 4.
    fn pad(&mut self) {
        let padded = self.bytes.len().next_multiple_of(4);
        self.bytes.resize(padded, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One member as a reader sees it.
    #[derive(Debug, PartialEq, Eq)]
    struct Member {
        name: String,
        mode: u32,
        rdev: (u32, u32),
        data: Vec<u8>,
    }

    /// A minimal newc reader: checks the magic, the alignment and the
    /// trailer, and returns the members before it.
    fn read(archive: &[u8]) -> Vec<Member> {
        let mut members = Vec::new();
        let mut at = 0;
        loop {
            assert_eq!(at % 4, 0);
            let header = &archive[at..at + 110];
            assert_eq!(&header[..6], b"070701");
            let field = |i: usize| {
                let hex = std::str::from_utf8(&header[6 + 8 * i..14 + 8 * i]).unwrap();
                u32::from_str_radix(hex, 16).unwrap()
            };
            let (name_size, file_size) = (field(11) as usize, field(6) as usize);
            let name_start = at + 110;
            let name = &archive[name_start..name_start + name_size];
            assert_eq!(name.last(), Some(&0));
            let name = String::from_utf8(name[..name_size - 1].to_vec()).unwrap();
            let data_start = (name_start + name_size).next_multiple_of(4);
            let data = archive[data_start..data_start + file_size].to_vec();
            at = (data_start + file_size).next_multiple_of(4);
            if name == "TRAILER!!!" {
                assert_eq!(at, archive.len());
                return members;
            }
            members.push(Member {
                name,
                mode: field(1),
                rdev: (field(9), field(10)),
                data,
            });
        }
    }

    #[test]
    fn the_header_is_newc() {
        let mut archive = Archive::new();
        archive.file("init", 0o755, b"hello");
        let bytes = archive.finish();
        let expected_header = concat!(
            "070701", "00000001", // inode
            "000081ED", // regular file, 0755
            "00000000", // uid
            "00000000", // gid
            "00000001", // links
            "00000000", // mtime
            "00000005", // size
            "00000000", "00000000", "00000000", "00000000", "00000005", // "init" and its NUL
            "00000000",
        );
        assert_eq!(&bytes[..110], expected_header.as_bytes());
        // 110 + 5 = 115, padded to 116; then the data, padded to 124.
        assert_eq!(&bytes[110..116], b"init\0\0");
        assert_eq!(&bytes[116..124], b"hello\0\0\0");
        assert_eq!(&bytes[124..130], b"070701");
    }

    #[test]
    fn members_read_back() {
        let mut archive = Archive::new();
        archive.directory("dev", 0o755);
        archive.char_device("dev/console", 0o600, 5, 1);
        archive.file("init", 0o755, &[1, 2, 3, 4]);
        archive.file("empty", 0o644, &[]);
        archive.symlink("bin/sh", "busybox");
        let members = read(&archive.finish());
        assert_eq!(
            members,
            [
                Member {
                    name: "dev".into(),
                    mode: 0o040_755,
                    rdev: (0, 0),
                    data: vec![]
                },
                Member {
                    name: "dev/console".into(),
                    mode: 0o020_600,
                    rdev: (5, 1),
                    data: vec![]
                },
                Member {
                    name: "init".into(),
                    mode: 0o100_755,
                    rdev: (0, 0),
                    data: vec![1, 2, 3, 4]
                },
                Member {
                    name: "empty".into(),
                    mode: 0o100_644,
                    rdev: (0, 0),
                    data: vec![]
                },
                Member {
                    name: "bin/sh".into(),
                    mode: 0o120_777,
                    rdev: (0, 0),
                    data: b"busybox".to_vec()
                },
            ]
        );
        assert_eq!(read(&Archive::new().finish()), []);
    }
}
