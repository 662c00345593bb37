//! Shared helpers of the VFS tests: a caller, a small `/proc`, file
//! systems with `/dev` and `/proc` mounted, archives built with `tar`.
#![allow(dead_code)]

use abide_linux::fs::at::AT_FDCWD;
use abide_linux::fs::open::{O_CREAT, O_RDONLY, O_WRONLY};
use abide_linux::fs::Timespec;
use abide_vfs::{Caller, Error, Files, ProcEntry, ProcFs, Vfs};

/// The test clock.
pub const NOW: Timespec = Timespec {
    sec: 1_700_000_000,
    nsec: 5,
};

/// Random bytes that are all 0x5a.
fn fill(buf: &mut [u8]) {
    buf.fill(0x5a);
}

/// A `/proc` with processes 1 and 7: `<pid>/stat`, `<pid>/exe`, and `meminfo`.
pub struct TestProc;

impl ProcFs for TestProc {
    fn lookup(&self, path: &[u8]) -> Option<ProcEntry> {
        match path {
            b"" | b"1" | b"7" => Some(ProcEntry::Dir),
            b"meminfo" | b"1/stat" | b"7/stat" => Some(ProcEntry::File),
            b"1/exe" | b"7/exe" => Some(ProcEntry::Symlink(b"/bin/busybox".to_vec())),
            _ => None,
        }
    }
    fn list(&self, path: &[u8]) -> Vec<(Vec<u8>, ProcEntry)> {
        let names: &[(&[u8], ProcEntry)] = match path {
            b"" => &[
                (b"1", ProcEntry::Dir),
                (b"7", ProcEntry::Dir),
                (b"meminfo", ProcEntry::File),
            ],
            b"1" | b"7" => &[(b"stat", ProcEntry::File)],
            _ => &[],
        };
        names
            .iter()
            .map(|(name, entry)| (name.to_vec(), entry.clone()))
            .collect()
    }
    fn read(&self, path: &[u8]) -> Option<Vec<u8>> {
        match path {
            b"meminfo" => Some(b"MemTotal: 1024 kB\n".to_vec()),
            b"7/stat" => Some(b"7 (sh) S 1\n".to_vec()),
            b"1/stat" => Some(b"1 (init) S 0\n".to_vec()),
            _ => None,
        }
    }
}

static PROC: TestProc = TestProc;

/// Root, pid 7.
pub fn root() -> Caller<'static> {
    Caller {
        pid: 7,
        uid: 0,
        gid: 0,
        now: NOW,
        random: &fill,
        proc: &PROC,
    }
}

/// An ordinary user (1000:1000), pid 7.
pub fn user() -> Caller<'static> {
    Caller {
        uid: 1000,
        gid: 1000,
        ..root()
    }
}

/// File systems with `/dev`, `/proc` and `/tmp` (1777), and a process's files.
pub fn system() -> (Vfs, Files) {
    let mut vfs = Vfs::new(NOW);
    vfs.populate_dev(NOW).unwrap();
    vfs.mount_proc(NOW).unwrap();
    let mut files = vfs.new_files();
    vfs.mkdirat(&files, &root(), AT_FDCWD, b"/tmp", 0o777)
        .unwrap();
    vfs.fchmodat(&files, &root(), AT_FDCWD, b"/tmp", 0o1777, 0)
        .unwrap();
    files.umask = 0o022;
    (vfs, files)
}

/// The errno of a failed call.
pub fn errno<T: std::fmt::Debug>(result: Result<T, Error>) -> i64 {
    match result {
        Err(Error::Errno(errno)) => errno,
        other => panic!("expected an errno, got {other:?}"),
    }
}

/// Writes `bytes` to a new file at `path`.
pub fn put(vfs: &mut Vfs, files: &mut Files, path: &str, bytes: &[u8]) {
    let fd = vfs
        .openat(
            files,
            &root(),
            AT_FDCWD,
            path.as_bytes(),
            O_WRONLY | O_CREAT,
            0o644,
        )
        .unwrap();
    assert_eq!(vfs.write(files, &root(), fd, bytes).unwrap(), bytes.len());
    vfs.close(files, fd).unwrap();
}

/// The whole contents of the file at `path`.
pub fn get(vfs: &mut Vfs, files: &mut Files, path: &str) -> Vec<u8> {
    let fd = vfs
        .openat(files, &root(), AT_FDCWD, path.as_bytes(), O_RDONLY, 0)
        .unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 100];
    loop {
        let count = vfs.read(files, &root(), fd, &mut buf).unwrap();
        if count == 0 {
            break;
        }
        out.extend_from_slice(&buf[..count]);
    }
    vfs.close(files, fd).unwrap();
    out
}

/// The names `getdents64` lists in the directory at `path`.
pub fn list(vfs: &mut Vfs, files: &mut Files, path: &str, chunk: usize) -> Vec<String> {
    use abide_linux::fs::open::O_DIRECTORY;
    let fd = vfs
        .openat(
            files,
            &root(),
            AT_FDCWD,
            path.as_bytes(),
            O_RDONLY | O_DIRECTORY,
            0,
        )
        .unwrap();
    let mut names = Vec::new();
    let mut buf = vec![0u8; chunk];
    loop {
        let count = vfs.getdents64(files, &root(), fd, &mut buf).unwrap();
        if count == 0 {
            break;
        }
        let mut at = 0;
        while at < count {
            let len = u16::from_le_bytes([buf[at + 16], buf[at + 17]]) as usize;
            let name = &buf[at + 19..at + len];
            let end = name.iter().position(|&b| b == 0).unwrap();
            names.push(String::from_utf8(name[..end].to_vec()).unwrap());
            at += len;
        }
    }
    vfs.close(files, fd).unwrap();
    names
}

/// A ustar archive built with the `tar` crate, leaked to live as long as
/// the file systems that borrow it.
pub struct ArchiveBuilder(tar::Builder<Vec<u8>>);

impl ArchiveBuilder {
    pub fn new() -> Self {
        ArchiveBuilder(tar::Builder::new(Vec::new()))
    }

    fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_size(size);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(1_600_000_000);
        header
    }

    pub fn dir(mut self, path: &str, mode: u32) -> Self {
        let mut header = Self::header(tar::EntryType::Directory, mode, 0);
        self.0.append_data(&mut header, path, &[][..]).unwrap();
        self
    }

    pub fn file(mut self, path: &str, mode: u32, data: &[u8]) -> Self {
        let mut header = Self::header(tar::EntryType::Regular, mode, data.len() as u64);
        self.0.append_data(&mut header, path, data).unwrap();
        self
    }

    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        let mut header = Self::header(tar::EntryType::Symlink, 0o777, 0);
        self.0.append_link(&mut header, path, target).unwrap();
        self
    }

    pub fn hardlink(mut self, path: &str, target: &str) -> Self {
        let mut header = Self::header(tar::EntryType::Link, 0o644, 0);
        self.0.append_link(&mut header, path, target).unwrap();
        self
    }

    pub fn finish(self) -> &'static [u8] {
        Vec::leak(self.0.into_inner().unwrap())
    }
}
