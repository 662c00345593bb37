//! The calls that change names: `mkdirat`, `mknodat`, `symlinkat`,
//! `linkat`, `unlinkat`, `renameat2`; and the ones that read names or the
//! working directory: `readlinkat`, `chdir`, `fchdir`, `getcwd`, `umask`.

use crate::caller::Caller;
use crate::dev::Device;
use crate::error::{fail, Error, Result};
use crate::fdtable::Files;
use crate::inode::{Content, Ino, Inode, Kind};
use crate::path::Parent;
use crate::pipe::Pipe;
use crate::vfs::{Node, Vfs, ROOT_INO};
use abide_linux::errno::{EBUSY, EEXIST, EINVAL, EISDIR, ENOENT, ENOTDIR, ENOTEMPTY, EPERM, EXDEV};
use abide_linux::fs::at::{
    AT_EMPTY_PATH, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, RENAME_EXCHANGE, RENAME_NOREPLACE,
};
use abide_linux::fs::mode::{S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFMT, S_IFREG, S_IFSOCK};
use abide_linux::fs::Timespec;
use alloc::vec::Vec;

impl Vfs {
    /// Resolves the parent of a path to be made: a RAM directory the
    /// caller may write, and a name that is not there yet.
    fn new_name(
        &self,
        files: &Files,
        caller: &Caller,
        dirfd: i32,
        path: &[u8],
    ) -> Result<(Ino, Vec<u8>, Parent)> {
        let start = self.start(files, caller, dirfd, path)?;
        let parent = self.walk_parent(caller, start, path)?;
        if parent.is_special() || self.child(caller, &parent.dir, &parent.name)?.is_some() {
            return fail(EEXIST);
        }
        let Node::Ram(dir) = parent.dir else {
            return fail(ENOENT);
        };
        if self.inode(dir)?.nlink == 0 {
            return fail(ENOENT);
        }
        self.check_dir_write(caller, dir)?;
        Ok((dir, parent.name.clone(), parent))
    }

    /// `mkdirat`.
    pub fn mkdirat(
        &mut self,
        files: &Files,
        caller: &Caller,
        dirfd: i32,
        path: &[u8],
        mode: u32,
    ) -> Result<()> {
        let (dir, name, _) = self.new_name(files, caller, dirfd, path)?;
        let perm = mode & 0o7777 & !files.umask;
        self.make_dir(dir, &name, perm, caller.uid, caller.gid, caller.now)?;
        Ok(())
    }

    /// `mknodat`: a FIFO, a regular file or (root only) a device node.
    pub fn mknodat(
        &mut self,
        files: &Files,
        caller: &Caller,
        dirfd: i32,
        path: &[u8],
        mode: u32,
        rdev: u64,
    ) -> Result<()> {
        let kind = match mode & S_IFMT {
            0 | S_IFREG => Kind::File(Content::default()),
            S_IFIFO => Kind::Fifo(Pipe::default()),
            S_IFCHR | S_IFBLK if caller.uid != 0 => return fail(EPERM),
            S_IFCHR => Kind::Device(Device::from_rdev(rdev)),
            S_IFBLK => Kind::Device(Device::Other(rdev)),
            S_IFDIR => return fail(EPERM),
            S_IFSOCK => Kind::Fifo(Pipe::default()),
            _ => return fail(EINVAL),
        };
        let (dir, name, parent) = self.new_name(files, caller, dirfd, path)?;
        if parent.slash {
            return fail(ENOENT);
        }
        let perm = mode & 0o7777 & !files.umask;
        let ino = self.add_inode(Inode::new(kind, perm, caller.uid, caller.gid, caller.now));
        self.link(dir, &name, ino, caller.now);
        Ok(())
    }

    /// `symlinkat(target, dirfd, path)`.
    pub fn symlinkat(
        &mut self,
        files: &Files,
        caller: &Caller,
        target: &[u8],
        dirfd: i32,
        path: &[u8],
    ) -> Result<()> {
        if target.is_empty() {
            return fail(ENOENT);
        }
        let (dir, name, parent) = self.new_name(files, caller, dirfd, path)?;
        if parent.slash {
            return fail(ENOENT);
        }
        let inode = Inode::new(
            Kind::Symlink(target.to_vec()),
            0o777,
            caller.uid,
            caller.gid,
            caller.now,
        );
        let ino = self.add_inode(inode);
        self.link(dir, &name, ino, caller.now);
        Ok(())
    }

    /// `readlinkat`: the whole target (the caller cuts it to its buffer).
    pub fn readlinkat(
        &self,
        files: &Files,
        caller: &Caller,
        dirfd: i32,
        path: &[u8],
    ) -> Result<Vec<u8>> {
        let start = self.start(files, caller, dirfd, path)?;
        let node = if path.is_empty() {
            start
        } else {
            self.walk(caller, start, path, false)?
        };
        self.link_target(caller, &node)
            .ok_or(Error::Errno(if path.is_empty() { ENOENT } else { EINVAL }))
    }

    /// `linkat`: a new name for an existing non-directory.
    #[allow(clippy::too_many_arguments)]
    pub fn linkat(
        &mut self,
        files: &Files,
        caller: &Caller,
        olddirfd: i32,
        oldpath: &[u8],
        newdirfd: i32,
        newpath: &[u8],
        flags: u32,
    ) -> Result<()> {
        if flags & !(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH) != 0 {
            return fail(EINVAL);
        }
        let start = self.start(files, caller, olddirfd, oldpath)?;
        let old = if oldpath.is_empty() && flags & AT_EMPTY_PATH != 0 {
            start
        } else {
            self.walk(caller, start, oldpath, flags & AT_SYMLINK_FOLLOW != 0)?
        };
        let Node::Ram(ino) = old else {
            return fail(EXDEV);
        };
        if self.inode(ino)?.dir().is_some() {
            return fail(EPERM);
        }
        let (dir, name, parent) = self.new_name(files, caller, newdirfd, newpath)?;
        if parent.slash {
            return fail(ENOENT);
        }
        if self.inode(ino)?.nlink == 0 {
            return fail(ENOENT);
        }
        self.link(dir, &name, ino, caller.now);
        Ok(())
    }

    /// Resolves the parent of an existing entry to remove or rename.
    fn existing_entry(
        &self,
        files: &Files,
        caller: &Caller,
        dirfd: i32,
        path: &[u8],
    ) -> Result<(Parent, Ino, Ino)> {
        let start = self.start(files, caller, dirfd, path)?;
        let parent = self.walk_parent(caller, start, path)?;
        let Node::Ram(dir) = parent.dir else {
            return match self.child(caller, &parent.dir, &parent.name)? {
                Some(_) => fail(EPERM),
                None => fail(ENOENT),
            };
        };
        let ino = match parent.name.as_slice() {
            b"" => return fail(EBUSY),
            b"." => return fail(EINVAL),
            b".." => return fail(ENOTEMPTY),
            name => self.dir(dir)?.get(name).ok_or(Error::Errno(ENOENT))?,
        };
        Ok((parent, dir, ino))
    }

    /// `unlinkat`: removes a name, or with `AT_REMOVEDIR` an empty directory.
    pub fn unlinkat(
        &mut self,
        files: &Files,
        caller: &Caller,
        dirfd: i32,
        path: &[u8],
        flags: u32,
    ) -> Result<()> {
        if flags & !AT_REMOVEDIR != 0 {
            return fail(EINVAL);
        }
        let remove_dir = flags & AT_REMOVEDIR != 0;
        let (parent, dir, ino) = match self.existing_entry(files, caller, dirfd, path) {
            Err(Error::Errno(EBUSY | EINVAL | ENOTEMPTY)) if !remove_dir => return fail(EISDIR),
            other => other?,
        };
        let is_dir = self.inode(ino)?.dir().is_some();
        if remove_dir {
            if !is_dir {
                return fail(ENOTDIR);
            }
            if Some(ino) == self.proc_mount || ino == ROOT_INO {
                return fail(EBUSY);
            }
            if !self.dir(ino)?.is_empty() {
                return fail(ENOTEMPTY);
            }
        } else if is_dir {
            return fail(EISDIR);
        } else if parent.slash {
            return fail(ENOTDIR);
        }
        self.check_dir_write(caller, dir)?;
        self.remove_entry(dir, &parent.name, ino, caller.now);
        Ok(())
    }

    /// Takes `name` (inode `ino`) out of `dir` and drops its link.
    pub(crate) fn remove_entry(&mut self, dir: Ino, name: &[u8], ino: Ino, now: Timespec) {
        let is_dir = matches!(self.inode(ino), Ok(inode) if inode.dir().is_some());
        if let Ok(parent) = self.inode_mut(dir) {
            parent.mtime = now;
            parent.ctime = now;
            if is_dir {
                parent.nlink = parent.nlink.saturating_sub(1);
            }
            if let Some(entries) = parent.dir_mut() {
                entries.remove(name);
            }
        }
        self.unlink_inode(ino, now);
    }

    /// `renameat2` with `RENAME_NOREPLACE` and `RENAME_EXCHANGE`.
    #[allow(clippy::too_many_arguments)]
    pub fn renameat2(
        &mut self,
        files: &Files,
        caller: &Caller,
        olddirfd: i32,
        oldpath: &[u8],
        newdirfd: i32,
        newpath: &[u8],
        flags: u32,
    ) -> Result<()> {
        if flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE) != 0
            || flags == RENAME_NOREPLACE | RENAME_EXCHANGE
        {
            return fail(EINVAL);
        }
        let (old_parent, old_dir, ino) = match self.existing_entry(files, caller, olddirfd, oldpath)
        {
            Err(Error::Errno(EINVAL | ENOTEMPTY)) => return fail(EBUSY),
            other => other?,
        };
        let start = self.start(files, caller, newdirfd, newpath)?;
        let new_parent = self.walk_parent(caller, start, newpath)?;
        if new_parent.is_special() {
            return fail(if new_parent.name.is_empty() {
                EBUSY
            } else {
                EINVAL
            });
        }
        let Node::Ram(new_dir) = new_parent.dir else {
            return fail(EXDEV);
        };
        if Some(ino) == self.proc_mount {
            return fail(EBUSY);
        }
        let is_dir = self.inode(ino)?.dir().is_some();
        if (old_parent.slash || new_parent.slash) && !is_dir {
            return fail(ENOTDIR);
        }
        if is_dir && self.is_within(new_dir, ino) {
            return fail(EINVAL);
        }
        self.check_dir_write(caller, old_dir)?;
        self.check_dir_write(caller, new_dir)?;
        let target = self.dir(new_dir)?.get(&new_parent.name);
        if flags & RENAME_EXCHANGE != 0 {
            let other = target.ok_or(Error::Errno(ENOENT))?;
            if self.inode(other)?.dir().is_some() && self.is_within(old_dir, other) {
                return fail(EINVAL);
            }
            self.dir_mut(old_dir)?.repoint(&old_parent.name, other);
            self.dir_mut(new_dir)?.repoint(&new_parent.name, ino);
            self.reparent(other, old_dir, new_dir, caller);
            self.reparent(ino, new_dir, old_dir, caller);
            return Ok(());
        }
        if let Some(other) = target {
            if other == ino {
                return Ok(());
            }
            if flags & RENAME_NOREPLACE != 0 {
                return fail(EEXIST);
            }
            if Some(other) == self.proc_mount {
                return fail(EBUSY);
            }
            let other_is_dir = self.inode(other)?.dir().is_some();
            match (is_dir, other_is_dir) {
                (true, false) => return fail(ENOTDIR),
                (false, true) => return fail(EISDIR),
                (true, true) if !self.dir(other)?.is_empty() => return fail(ENOTEMPTY),
                _ => {}
            }
            self.remove_entry(new_dir, &new_parent.name, other, caller.now);
        }
        self.dir_mut(old_dir)?.remove(&old_parent.name);
        self.link(new_dir, &new_parent.name, ino, caller.now);
        if let Ok(inode) = self.inode_mut(ino) {
            if inode.dir().is_none() {
                // `link` counted a new link; the old one went.
                inode.nlink -= 1;
            }
        }
        self.reparent(ino, new_dir, old_dir, caller);
        if let Ok(dir) = self.inode_mut(old_dir) {
            dir.mtime = caller.now;
            dir.ctime = caller.now;
        }
        Ok(())
    }

    /// A directory `ino` moved from `from` into `to`: its `..` and the
    /// parents' link counts follow.
    fn reparent(&mut self, ino: Ino, to: Ino, from: Ino, caller: &Caller) {
        if let Ok(dir) = self.dir_mut(ino) {
            dir.parent = to;
        } else {
            return;
        }
        if to != from {
            if let Ok(inode) = self.inode_mut(to) {
                inode.nlink += 1;
            }
            if let Ok(inode) = self.inode_mut(from) {
                inode.nlink = inode.nlink.saturating_sub(1);
            }
        }
        if let Ok(inode) = self.inode_mut(ino) {
            inode.ctime = caller.now;
        }
    }

    /// Whether directory `dir` is `ancestor` or inside it.
    fn is_within(&self, dir: Ino, ancestor: Ino) -> bool {
        let mut here = dir;
        loop {
            if here == ancestor {
                return true;
            }
            match self.dir(here) {
                Ok(entries) if entries.parent != here => here = entries.parent,
                _ => return false,
            }
        }
    }

    /// `chdir`.
    pub fn chdir(&mut self, files: &mut Files, caller: &Caller, path: &[u8]) -> Result<()> {
        let start = self.start(files, caller, abide_linux::fs::at::AT_FDCWD, path)?;
        let node = self.walk(caller, start, path, true)?;
        self.enter(files, caller, node)
    }

    /// `fchdir`.
    pub fn fchdir(&mut self, files: &mut Files, caller: &Caller, fd: i32) -> Result<()> {
        let node = self.fd_node(files, fd)?;
        self.enter(files, caller, node)
    }

    /// Makes the directory `node` the working directory.
    fn enter(&mut self, files: &mut Files, caller: &Caller, node: Node) -> Result<()> {
        if !self.is_dir(caller, &node) {
            return fail(ENOTDIR);
        }
        if let Node::Ram(ino) = node {
            let inode = self.inode(ino)?;
            if !crate::perm::may(
                inode.perm,
                inode.uid,
                inode.gid,
                caller,
                crate::perm::X,
                true,
            ) {
                return fail(abide_linux::errno::EACCES);
            }
        }
        self.hold(&node);
        let old = core::mem::replace(&mut files.cwd, node);
        self.unhold(&old);
        Ok(())
    }

    /// `getcwd`: the working directory's absolute path.
    pub fn getcwd(&self, files: &Files) -> Result<Vec<u8>> {
        self.path_of(&files.cwd)
    }

    /// `umask`: sets the mask, gives the old one.
    pub fn umask(files: &mut Files, mask: u32) -> u32 {
        core::mem::replace(&mut files.umask, mask & 0o777)
    }
}
