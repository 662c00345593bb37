//! The RAM file system's inodes: metadata and what each kind holds — a
//! directory's entries, a file's bytes (borrowed from the archive until
//! first written), a symlink's target, a FIFO's pipe, a device.

use crate::dev::Device;
use crate::pipe::Pipe;
use abide_linux::fs::dt::{DT_CHR, DT_DIR, DT_FIFO, DT_LNK, DT_REG};
use abide_linux::fs::mode::{S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG};
use abide_linux::fs::Timespec;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// An inode number of the RAM file system.
pub type Ino = u64;

/// A file's bytes: borrowed from the loaded archive (which lives as long
/// as the component) until the first change, then owned.
#[derive(Debug, Default)]
pub struct Content {
    borrowed: Option<&'static [u8]>,
    owned: Vec<u8>,
}

impl Content {
    /// Bytes borrowed from an archive.
    pub fn borrowed(bytes: &'static [u8]) -> Content {
        Content {
            borrowed: Some(bytes),
            owned: Vec::new(),
        }
    }

    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        self.borrowed.unwrap_or(&self.owned)
    }

    /// The bytes to change, copied out of the archive the first time.
    pub fn to_mut(&mut self) -> &mut Vec<u8> {
        if let Some(bytes) = self.borrowed.take() {
            self.owned = bytes.to_vec();
        }
        &mut self.owned
    }

    /// Whether the bytes are still the archive's.
    pub fn is_borrowed(&self) -> bool {
        self.borrowed.is_some()
    }
}

/// A directory's entries, listed in the order they were made so a
/// `getdents64` offset stays valid while entries come and go.
#[derive(Debug, Default)]
pub struct Dir {
    /// The directory holding this one (the root: itself).
    pub parent: Ino,
    by_name: BTreeMap<Vec<u8>, (Ino, u64)>,
    by_seq: BTreeMap<u64, Vec<u8>>,
    next_seq: u64,
}

impl Dir {
    /// An empty directory inside `parent`.
    pub fn new(parent: Ino) -> Dir {
        Dir {
            parent,
            ..Dir::default()
        }
    }

    /// The inode named `name`.
    pub fn get(&self, name: &[u8]) -> Option<Ino> {
        self.by_name.get(name).map(|&(ino, _)| ino)
    }

    /// Adds (or replaces) the entry `name`.
    pub fn insert(&mut self, name: &[u8], ino: Ino) {
        self.remove(name);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.by_name.insert(name.to_vec(), (ino, seq));
        self.by_seq.insert(seq, name.to_vec());
    }

    /// Removes the entry `name`, giving its inode.
    pub fn remove(&mut self, name: &[u8]) -> Option<Ino> {
        let (ino, seq) = self.by_name.remove(name)?;
        self.by_seq.remove(&seq);
        Some(ino)
    }

    /// Points the existing entry `name` at `ino`, keeping its place.
    pub fn repoint(&mut self, name: &[u8], ino: Ino) {
        if let Some(entry) = self.by_name.get_mut(name) {
            entry.0 = ino;
        }
    }

    /// Number of entries (without `.` and `..`).
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether it has no entries.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// The entries from sequence number `from` on: (sequence, name, inode).
    pub fn entries_from(&self, from: u64) -> impl Iterator<Item = (u64, &[u8], Ino)> {
        self.by_seq.range(from..).filter_map(|(&seq, name)| {
            let &(ino, _) = self.by_name.get(name)?;
            Some((seq, name.as_slice(), ino))
        })
    }

    /// The name under which `ino` is listed.
    pub fn name_of(&self, ino: Ino) -> Option<&[u8]> {
        self.by_name
            .iter()
            .find(|(_, &(entry, _))| entry == ino)
            .map(|(name, _)| name.as_slice())
    }
}

/// What an inode is and holds.
#[derive(Debug)]
pub enum Kind {
    Dir(Dir),
    File(Content),
    Symlink(Vec<u8>),
    Fifo(Pipe),
    Device(Device),
}

impl Kind {
    /// The `S_IF*` bits of its mode.
    pub fn format(&self) -> u32 {
        match self {
            Kind::Dir(_) => S_IFDIR,
            Kind::File(_) => S_IFREG,
            Kind::Symlink(_) => S_IFLNK,
            Kind::Fifo(_) => S_IFIFO,
            Kind::Device(_) => S_IFCHR,
        }
    }

    /// Its `d_type` in `getdents64`.
    pub fn dirent_type(&self) -> u8 {
        match self {
            Kind::Dir(_) => DT_DIR,
            Kind::File(_) => DT_REG,
            Kind::Symlink(_) => DT_LNK,
            Kind::Fifo(_) => DT_FIFO,
            Kind::Device(_) => DT_CHR,
        }
    }
}

/// One inode of the RAM file system.
#[derive(Debug)]
pub struct Inode {
    /// Permission bits (`0o7777`); the type comes from `kind`.
    pub perm: u32,
    pub uid: u32,
    pub gid: u32,
    /// Directory entries naming it (a directory: 2 + its subdirectories).
    pub nlink: u32,
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
    pub kind: Kind,
    /// Open file descriptions and working directories using it: the inode
    /// lives on after its last link goes while this is not zero.
    pub opens: u32,
}

impl Inode {
    /// A new inode owned by `uid:gid`, made at `now`, in no directory yet
    /// (a directory counts its `.` and its entry in its parent at once).
    pub fn new(kind: Kind, perm: u32, uid: u32, gid: u32, now: Timespec) -> Inode {
        let nlink = if matches!(kind, Kind::Dir(_)) { 2 } else { 0 };
        Inode {
            perm,
            uid,
            gid,
            nlink,
            atime: now,
            mtime: now,
            ctime: now,
            kind,
            opens: 0,
        }
    }

    /// Its full `st_mode`.
    pub fn mode(&self) -> u32 {
        self.kind.format() | self.perm
    }

    /// Its size in bytes as `stat` reports it.
    pub fn size(&self) -> u64 {
        match &self.kind {
            Kind::File(content) => content.bytes().len() as u64,
            Kind::Symlink(target) => target.len() as u64,
            Kind::Dir(dir) => (dir.len() as u64 + 2) * 20,
            Kind::Fifo(_) | Kind::Device(_) => 0,
        }
    }

    /// The directory it is, if it is one.
    pub fn dir(&self) -> Option<&Dir> {
        match &self.kind {
            Kind::Dir(dir) => Some(dir),
            _ => None,
        }
    }

    /// The directory it is, to change.
    pub fn dir_mut(&mut self) -> Option<&mut Dir> {
        match &mut self.kind {
            Kind::Dir(dir) => Some(dir),
            _ => None,
        }
    }
}
