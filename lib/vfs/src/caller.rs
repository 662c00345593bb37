//! What the component tells the file systems about each call: who makes
//! it (pid, uid, gid), the time, a source of random bytes for
//! `/dev/urandom`, and the generated files of `/proc`.

use abide_linux::fs::Timespec;
use alloc::vec::Vec;

/// What a name under `/proc` is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProcEntry {
    Dir,
    File,
    /// A symbolic link to this target (e.g. `<pid>/exe`).
    Symlink(Vec<u8>),
}

/// The generated files of `/proc`, which the component implements from its
/// process table. Paths are relative to `/proc`, without leading or
/// trailing slashes (`""` is `/proc` itself, `"12/stat"` a file); the VFS
/// itself answers `self`, the caller's `<pid>` directory.
pub trait ProcFs {
    /// What `path` is, if it exists.
    fn lookup(&self, path: &[u8]) -> Option<ProcEntry>;
    /// The names in the directory `path`, with what each is.
    fn list(&self, path: &[u8]) -> Vec<(Vec<u8>, ProcEntry)>;
    /// The contents of the file `path`, generated now (a read sees the
    /// contents as they were at its `open`).
    fn read(&self, path: &[u8]) -> Option<Vec<u8>>;
}

/// A `/proc` with nothing in it (for tests and early start-up).
pub struct EmptyProc;

impl ProcFs for EmptyProc {
    fn lookup(&self, path: &[u8]) -> Option<ProcEntry> {
        path.is_empty().then_some(ProcEntry::Dir)
    }
    fn list(&self, _path: &[u8]) -> Vec<(Vec<u8>, ProcEntry)> {
        Vec::new()
    }
    fn read(&self, _path: &[u8]) -> Option<Vec<u8>> {
        None
    }
}

/// The caller of one operation.
pub struct Caller<'a> {
    pub pid: u32,
    /// Effective user and group id (0: root, who passes permission checks).
    pub uid: u32,
    pub gid: u32,
    /// The time to stamp changes with.
    pub now: Timespec,
    /// Fills a buffer with random bytes (`/dev/urandom`).
    pub random: &'a dyn Fn(&mut [u8]),
    pub proc: &'a dyn ProcFs,
}
