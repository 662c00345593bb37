//! The Linux guest's initramfs: a cpio archive in the "newc" format the
//! kernel unpacks into its root file system before it runs `/init`, and the
//! smallest static program the spawn benchmarks start (`/nop`).
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

/// `S_IFDIR`, `S_IFREG`, `S_IFCHR`: the file type bits of a mode.
const DIRECTORY: u32 = 0o040_000;
const REGULAR: u32 = 0o100_000;
const CHAR_DEVICE: u32 = 0o020_000;

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

/// Where [`nop_elf`] is loaded.
const NOP_BASE: u64 = 0x40_0000;

/// A complete static x86-64 Linux executable of 129 bytes that calls
/// `exit_group(0)`: an ELF header, one `PT_LOAD` program header mapping the
/// whole file read-and-execute, and three instructions. Abide's spawn
/// benchmark starts `nop`, a program that returns 0 from `main`; this is the
/// Linux counterpart with nothing a C library would add.
pub fn nop_elf() -> Vec<u8> {
    const EHDR: u16 = 64;
    const PHDR: u16 = 56;
    #[rustfmt::skip]
    const CODE: &[u8] = &[
        0xb8, 0xe7, 0x00, 0x00, 0x00, // mov eax, 231 (exit_group)
        0x31, 0xff,                   // xor edi, edi
        0x0f, 0x05,                   // syscall
    ];
    let size = u64::from(EHDR + PHDR) + CODE.len() as u64;
    let mut elf = Vec::new();
    // e_ident: magic, 64-bit, little endian, version 1, System V ABI.
    elf.extend_from_slice(b"\x7fELF\x02\x01\x01\x00");
    elf.extend_from_slice(&[0; 8]);
    elf.extend_from_slice(&2u16.to_le_bytes()); // e_type: ET_EXEC
    elf.extend_from_slice(&0x3eu16.to_le_bytes()); // e_machine: x86-64
    elf.extend_from_slice(&1u32.to_le_bytes()); // e_version
    elf.extend_from_slice(&(NOP_BASE + u64::from(EHDR + PHDR)).to_le_bytes()); // e_entry
    elf.extend_from_slice(&u64::from(EHDR).to_le_bytes()); // e_phoff
    elf.extend_from_slice(&0u64.to_le_bytes()); // e_shoff: no sections
    elf.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    for half in [EHDR, PHDR, 1, 64, 0, 0] {
        // e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx
        elf.extend_from_slice(&half.to_le_bytes());
    }
    elf.extend_from_slice(&1u32.to_le_bytes()); // p_type: PT_LOAD
    elf.extend_from_slice(&5u32.to_le_bytes()); // p_flags: R X
    for word in [0, NOP_BASE, NOP_BASE, size, size, 0x1000] {
        // p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align
        elf.extend_from_slice(&word.to_le_bytes());
    }
    elf.extend_from_slice(CODE);
    elf
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
            ]
        );
        assert_eq!(read(&Archive::new().finish()), []);
    }

    #[test]
    fn nop_is_a_static_executable() {
        use object::read::elf::{ElfFile64, FileHeader, ProgramHeader};
        use object::{Endianness, Object};
        let elf = nop_elf();
        assert_eq!(elf.len(), 129);
        let file = ElfFile64::<Endianness>::parse(elf.as_slice()).unwrap();
        assert_eq!(file.kind(), object::ObjectKind::Executable);
        assert_eq!(file.entry(), NOP_BASE + 120);
        let header = file.elf_header();
        let segments = header
            .program_headers(Endianness::Little, elf.as_slice())
            .unwrap();
        assert_eq!(segments.len(), 1);
        let segment = &segments[0];
        assert_eq!(segment.p_type(Endianness::Little), object::elf::PT_LOAD);
        assert_eq!(segment.p_filesz(Endianness::Little), 129);
        assert_eq!(segment.p_vaddr(Endianness::Little), NOP_BASE);
    }

    /// The host is an x86-64 Linux too: the program runs and exits 0.
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    #[test]
    fn nop_runs_and_exits_zero() {
        use std::os::unix::fs::PermissionsExt;
        let path = std::env::temp_dir().join(format!("abide-nop-{}", std::process::id()));
        std::fs::write(&path, nop_elf()).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        // Another test thread forking while the file was open for writing
        // makes exec fail with ETXTBSY until that child has exec'd: retry.
        let mut status = std::process::Command::new(&path).status();
        for _ in 0..50 {
            match &status {
                Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    status = std::process::Command::new(&path).status();
                }
                _ => break,
            }
        }
        std::fs::remove_file(&path).unwrap();
        assert!(status.unwrap().success());
    }
}
