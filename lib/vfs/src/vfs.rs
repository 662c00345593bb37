//! The file systems' state: the RAM inodes (the root tree and `/dev`),
//! where `/proc` is mounted, and the open file descriptions, with the
//! bookkeeping that frees an inode once it is unlinked and closed.

use crate::dev::{Device, DEV_NODES};
use crate::error::{fail, Result};
use crate::file::OpenFile;
use crate::inode::{Dir, Ino, Inode, Kind};
use abide_linux::errno::{EEXIST, ENOENT, ENOTDIR};
use abide_linux::fs::Timespec;
use alloc::vec::Vec;

/// The inode number of `/`.
pub const ROOT_INO: Ino = 1;

/// A file the path lookup can reach: a RAM inode, or a generated entry of
/// `/proc` by its path under `/proc` (`""` is the mount point).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Ram(Ino),
    Proc(Vec<u8>),
}

/// Every file system of one Unix personality.
pub struct Vfs {
    inodes: Vec<Option<Inode>>,
    free_inodes: Vec<usize>,
    pub(crate) files: Vec<Option<OpenFile>>,
    pub(crate) free_files: Vec<usize>,
    /// The RAM directory `/proc` is mounted on.
    pub(crate) proc_mount: Option<Ino>,
}

impl Vfs {
    /// File systems holding only an empty `/` (mode 0755, root's), made at `now`.
    pub fn new(now: Timespec) -> Vfs {
        let mut vfs = Vfs {
            inodes: Vec::new(),
            free_inodes: Vec::new(),
            files: Vec::new(),
            free_files: Vec::new(),
            proc_mount: None,
        };
        let root = vfs.add_inode(Inode::new(Kind::Dir(Dir::new(ROOT_INO)), 0o755, 0, 0, now));
        debug_assert_eq!(root, ROOT_INO);
        vfs
    }

    /// Makes `/dev` (if missing) with the device nodes of [`DEV_NODES`]
    /// that are not there yet, and `/dev/fd`, `stdin`, `stdout`, `stderr`.
    pub fn populate_dev(&mut self, now: Timespec) -> Result<()> {
        let dev = self.ensure_dir(ROOT_INO, b"dev", 0o755, now)?;
        for (name, device) in DEV_NODES {
            let perm = if matches!(device, Device::Console) {
                0o600
            } else {
                0o666
            };
            self.ensure_node(dev, name.as_bytes(), Kind::Device(device), perm, now);
        }
        let links: [(&[u8], &[u8]); 4] = [
            (b"fd", b"/proc/self/fd"),
            (b"stdin", b"/proc/self/fd/0"),
            (b"stdout", b"/proc/self/fd/1"),
            (b"stderr", b"/proc/self/fd/2"),
        ];
        for (name, target) in links {
            self.ensure_node(dev, name, Kind::Symlink(target.to_vec()), 0o777, now);
        }
        Ok(())
    }

    /// Mounts `/proc` (making the directory if missing): lookups below it
    /// go to the caller's [`crate::ProcFs`].
    pub fn mount_proc(&mut self, now: Timespec) -> Result<()> {
        let proc = self.ensure_dir(ROOT_INO, b"proc", 0o555, now)?;
        self.proc_mount = Some(proc);
        Ok(())
    }

    /// The directory `name` in `parent`, made with `perm` if missing.
    pub(crate) fn ensure_dir(
        &mut self,
        parent: Ino,
        name: &[u8],
        perm: u32,
        now: Timespec,
    ) -> Result<Ino> {
        let existing = self
            .inode(parent)?
            .dir()
            .ok_or(crate::Error::Errno(ENOTDIR))?
            .get(name);
        match existing {
            Some(ino) if self.inode(ino)?.dir().is_some() => Ok(ino),
            Some(_) => fail(EEXIST),
            None => self.make_dir(parent, name, perm, 0, 0, now),
        }
    }

    /// Adds `kind` as `name` in `parent` unless the name is taken.
    fn ensure_node(&mut self, parent: Ino, name: &[u8], kind: Kind, perm: u32, now: Timespec) {
        let taken = self
            .dir(parent)
            .map(|dir| dir.get(name).is_some())
            .unwrap_or(true);
        if !taken {
            let ino = self.add_inode(Inode::new(kind, perm, 0, 0, now));
            self.link(parent, name, ino, now);
        }
    }

    /// Makes the directory `name` in `parent` (which must not have it).
    pub(crate) fn make_dir(
        &mut self,
        parent: Ino,
        name: &[u8],
        perm: u32,
        uid: u32,
        gid: u32,
        now: Timespec,
    ) -> Result<Ino> {
        let ino = self.add_inode(Inode::new(Kind::Dir(Dir::new(parent)), perm, uid, gid, now));
        self.link(parent, name, ino, now);
        if let Ok(parent) = self.inode_mut(parent) {
            parent.nlink += 1;
        }
        Ok(ino)
    }

    /// Stores a new inode, giving its number.
    pub(crate) fn add_inode(&mut self, inode: Inode) -> Ino {
        match self.free_inodes.pop() {
            Some(slot) => {
                if let Some(entry) = self.inodes.get_mut(slot) {
                    *entry = Some(inode);
                }
                slot as Ino + 1
            }
            None => {
                self.inodes.push(Some(inode));
                self.inodes.len() as Ino
            }
        }
    }

    /// The inode `ino`.
    pub(crate) fn inode(&self, ino: Ino) -> Result<&Inode> {
        let slot = (ino as usize).wrapping_sub(1);
        match self.inodes.get(slot) {
            Some(Some(inode)) => Ok(inode),
            _ => fail(ENOENT),
        }
    }

    /// The inode `ino`, to change.
    pub(crate) fn inode_mut(&mut self, ino: Ino) -> Result<&mut Inode> {
        let slot = (ino as usize).wrapping_sub(1);
        match self.inodes.get_mut(slot) {
            Some(Some(inode)) => Ok(inode),
            _ => fail(ENOENT),
        }
    }

    /// The directory `ino`.
    pub(crate) fn dir(&self, ino: Ino) -> Result<&Dir> {
        self.inode(ino)?.dir().ok_or(crate::Error::Errno(ENOTDIR))
    }

    /// The directory `ino`, to change.
    pub(crate) fn dir_mut(&mut self, ino: Ino) -> Result<&mut Dir> {
        self.inode_mut(ino)?
            .dir_mut()
            .ok_or(crate::Error::Errno(ENOTDIR))
    }

    /// Enters `ino` as `name` in `parent` (counting the link), stamping the
    /// parent's times.
    pub(crate) fn link(&mut self, parent: Ino, name: &[u8], ino: Ino, now: Timespec) {
        if let Ok(dir) = self.inode_mut(parent) {
            dir.mtime = now;
            dir.ctime = now;
            if let Some(dir) = dir.dir_mut() {
                dir.insert(name, ino);
            }
        }
        if let Ok(inode) = self.inode_mut(ino) {
            if inode.dir().is_none() {
                inode.nlink += 1;
            }
            inode.ctime = now;
        }
    }

    /// Drops one link of `ino` (and, for a directory, all of them) and
    /// frees it when nothing uses it any more.
    pub(crate) fn unlink_inode(&mut self, ino: Ino, now: Timespec) {
        if let Ok(inode) = self.inode_mut(ino) {
            inode.nlink = if inode.dir().is_some() {
                0
            } else {
                inode.nlink.saturating_sub(1)
            };
            inode.ctime = now;
        }
        self.release_if_unused(ino);
    }

    /// Frees `ino` if it has no link and no user.
    pub(crate) fn release_if_unused(&mut self, ino: Ino) {
        let unused = matches!(self.inode(ino), Ok(inode) if inode.nlink == 0 && inode.opens == 0);
        if unused && ino != ROOT_INO {
            let slot = ino as usize - 1;
            if let Some(entry) = self.inodes.get_mut(slot) {
                *entry = None;
                self.free_inodes.push(slot);
            }
        }
    }

    /// Counts one more user (open file or working directory) of `node`.
    pub(crate) fn hold(&mut self, node: &Node) {
        if let Node::Ram(ino) = node {
            if let Ok(inode) = self.inode_mut(*ino) {
                inode.opens += 1;
            }
        }
    }

    /// Counts one user of `node` fewer, freeing an unlinked inode.
    pub(crate) fn unhold(&mut self, node: &Node) {
        if let Node::Ram(ino) = node {
            if let Ok(inode) = self.inode_mut(*ino) {
                inode.opens = inode.opens.saturating_sub(1);
            }
            self.release_if_unused(*ino);
        }
    }

    /// How many inodes exist (for `statfs` and tests).
    pub fn inode_count(&self) -> usize {
        self.inodes.len() - self.free_inodes.len()
    }

    /// How many open file descriptions exist (for tests and `unix stats`).
    pub fn open_file_count(&self) -> usize {
        self.files.len() - self.free_files.len()
    }
}
