//! The calls on a file's attributes: `fstat`/`newfstatat`, `statfs`,
//! `fchmodat`, `fchownat`, `utimensat`, `truncate`/`ftruncate` and
//! `faccessat`, each with Linux's errno.

use crate::caller::{Caller, ProcEntry};
use crate::error::{fail, Error, Result};
use crate::fdtable::Files;
use crate::inode::{Ino, Kind};
use crate::perm::may;
use crate::vfs::{Node, Vfs};
use abide_linux::errno::{EACCES, EBADF, EINVAL, EISDIR, ENOENT, EOPNOTSUPP, EPERM};
use abide_linux::fs::at::{
    AT_EACCESS, AT_EMPTY_PATH, AT_NO_AUTOMOUNT, AT_SYMLINK_NOFOLLOW, UTIME_NOW, UTIME_OMIT,
};
use abide_linux::fs::magic::{PROC_SUPER_MAGIC, TMPFS_MAGIC};
use abide_linux::fs::mode::{S_IFDIR, S_IFLNK, S_IFREG, S_ISGID, S_ISUID};
use abide_linux::fs::{Stat, Statfs, Timespec};

/// The device number `stat` gives the RAM file system's files.
pub const RAM_DEV: u64 = 0x16;
/// The device number `stat` gives `/proc`'s files.
pub const PROC_DEV: u64 = 0x17;
/// The block size `stat` reports.
const BLOCK_SIZE: i64 = 4096;

impl Vfs {
    /// Resolves `path` from `dirfd` for the `*at` attribute calls
    /// (`AT_EMPTY_PATH`: `dirfd` itself; `AT_SYMLINK_NOFOLLOW`).
    fn at_node(
        &self,
        files: &Files,
        caller: &Caller,
        dirfd: i32,
        path: &[u8],
        flags: u32,
    ) -> Result<Node> {
        if path.is_empty() && flags & AT_EMPTY_PATH != 0 {
            return if dirfd == abide_linux::fs::at::AT_FDCWD {
                Ok(files.cwd.clone())
            } else {
                self.fd_node(files, dirfd)
            };
        }
        let start = self.start(files, caller, dirfd, path)?;
        let follow = flags & AT_SYMLINK_NOFOLLOW == 0;
        let node = self.walk(caller, start, path, follow)?;
        if follow {
            self.through_descriptor(files, caller, node)
        } else {
            Ok(node)
        }
    }

    /// `newfstatat`.
    pub fn fstatat(
        &self,
        files: &Files,
        caller: &Caller,
        dirfd: i32,
        path: &[u8],
        flags: u32,
    ) -> Result<Stat> {
        if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT) != 0 {
            return fail(EINVAL);
        }
        let node = self.at_node(files, caller, dirfd, path, flags)?;
        self.stat_node(caller, &node)
    }

    /// `fstat`.
    pub fn fstat(&self, files: &Files, caller: &Caller, fd: i32) -> Result<Stat> {
        let file = self.fd_file(files, fd)?;
        self.stat_node(caller, &file.node)
    }

    /// The `stat` of `node`.
    pub(crate) fn stat_node(&self, caller: &Caller, node: &Node) -> Result<Stat> {
        match node {
            Node::Ram(ino) => {
                let inode = self.inode(*ino)?;
                let size = inode.size();
                let rdev = match inode.kind {
                    Kind::Device(device) => device.rdev(),
                    _ => 0,
                };
                let blocks = match inode.kind {
                    Kind::File(_) => {
                        (size as i64 + BLOCK_SIZE - 1) / BLOCK_SIZE * (BLOCK_SIZE / 512)
                    }
                    _ => 0,
                };
                Ok(Stat {
                    dev: RAM_DEV,
                    ino: *ino,
                    nlink: inode.nlink as u64,
                    mode: inode.mode(),
                    uid: inode.uid,
                    gid: inode.gid,
                    rdev,
                    size: size as i64,
                    blksize: BLOCK_SIZE,
                    blocks,
                    atime: inode.atime,
                    mtime: inode.mtime,
                    ctime: inode.ctime,
                    ..Stat::default()
                })
            }
            Node::Proc(path) => {
                let entry = if path.is_empty() {
                    ProcEntry::Dir
                } else {
                    self.proc_entry(caller, path).ok_or(Error::Errno(ENOENT))?
                };
                let (mode, nlink, size) = match entry {
                    ProcEntry::Dir => (S_IFDIR | 0o555, 2, 0),
                    ProcEntry::File => (S_IFREG | 0o444, 1, 0),
                    ProcEntry::Symlink(target) => (S_IFLNK | 0o777, 1, target.len() as i64),
                };
                Ok(Stat {
                    dev: PROC_DEV,
                    ino: self.node_ino(node),
                    nlink,
                    mode,
                    size,
                    blksize: 1024,
                    atime: caller.now,
                    mtime: caller.now,
                    ctime: caller.now,
                    ..Stat::default()
                })
            }
        }
    }

    /// `statfs` of the file system holding `path`.
    pub fn statfs(&self, files: &Files, caller: &Caller, path: &[u8]) -> Result<Statfs> {
        let node = self.at_node(files, caller, abide_linux::fs::at::AT_FDCWD, path, 0)?;
        Ok(self.statfs_node(&node))
    }

    /// `fstatfs`.
    pub fn fstatfs(&self, files: &Files, fd: i32) -> Result<Statfs> {
        Ok(self.statfs_node(&self.fd_node(files, fd)?))
    }

    fn statfs_node(&self, node: &Node) -> Statfs {
        let used = self.inode_count() as u64;
        let fs_type = match node {
            Node::Ram(_) => TMPFS_MAGIC,
            Node::Proc(_) => PROC_SUPER_MAGIC,
        };
        Statfs {
            fs_type,
            bsize: BLOCK_SIZE,
            blocks: 1 << 18,
            bfree: 1 << 17,
            bavail: 1 << 17,
            files: used + (1 << 16),
            ffree: 1 << 16,
            namelen: 255,
            frsize: BLOCK_SIZE,
            ..Statfs::default()
        }
    }

    /// The RAM inode of a node whose attributes change (`/proc`'s cannot).
    fn changeable(node: &Node) -> Result<Ino> {
        match node {
            Node::Ram(ino) => Ok(*ino),
            Node::Proc(_) => fail(EPERM),
        }
    }

    /// `fchmodat` (`AT_SYMLINK_NOFOLLOW` on a link: `EOPNOTSUPP`).
    pub fn fchmodat(
        &mut self,
        files: &Files,
        caller: &Caller,
        dirfd: i32,
        path: &[u8],
        mode: u32,
        flags: u32,
    ) -> Result<()> {
        let node = self.at_node(files, caller, dirfd, path, flags)?;
        if flags & AT_SYMLINK_NOFOLLOW != 0 && self.link_target(caller, &node).is_some() {
            return fail(EOPNOTSUPP);
        }
        self.chmod_node(caller, &node, mode)
    }

    /// `fchmod`.
    pub fn fchmod(&mut self, files: &Files, caller: &Caller, fd: i32, mode: u32) -> Result<()> {
        let node = self.fd_node(files, fd)?;
        self.chmod_node(caller, &node, mode)
    }

    fn chmod_node(&mut self, caller: &Caller, node: &Node, mode: u32) -> Result<()> {
        let inode = self.inode_mut(Self::changeable(node)?)?;
        if caller.uid != 0 && caller.uid != inode.uid {
            return fail(EPERM);
        }
        inode.perm = mode & 0o7777;
        inode.ctime = caller.now;
        Ok(())
    }

    /// `fchownat` (`u32::MAX` leaves an id as it is).
    #[allow(clippy::too_many_arguments)]
    pub fn fchownat(
        &mut self,
        files: &Files,
        caller: &Caller,
        dirfd: i32,
        path: &[u8],
        uid: u32,
        gid: u32,
        flags: u32,
    ) -> Result<()> {
        let node = self.at_node(files, caller, dirfd, path, flags)?;
        self.chown_node(caller, &node, uid, gid)
    }

    /// `fchown`.
    pub fn fchown(
        &mut self,
        files: &Files,
        caller: &Caller,
        fd: i32,
        uid: u32,
        gid: u32,
    ) -> Result<()> {
        let node = self.fd_node(files, fd)?;
        self.chown_node(caller, &node, uid, gid)
    }

    fn chown_node(&mut self, caller: &Caller, node: &Node, uid: u32, gid: u32) -> Result<()> {
        let inode = self.inode_mut(Self::changeable(node)?)?;
        let uid_changes = uid != u32::MAX && uid != inode.uid;
        let gid_changes = gid != u32::MAX && gid != inode.gid;
        if caller.uid != 0
            && (uid_changes || (gid_changes && (caller.uid != inode.uid || gid != caller.gid)))
        {
            return fail(EPERM);
        }
        if uid != u32::MAX {
            inode.uid = uid;
        }
        if gid != u32::MAX {
            inode.gid = gid;
        }
        if matches!(inode.kind, Kind::File(_)) && (uid != u32::MAX || gid != u32::MAX) {
            inode.perm &= !(S_ISUID | S_ISGID);
        }
        inode.ctime = caller.now;
        Ok(())
    }

    /// `utimensat`: `path` `None` is `futimens(dirfd)`; `times` `None`
    /// sets both to now; `UTIME_NOW`/`UTIME_OMIT` as Linux.
    pub fn utimensat(
        &mut self,
        files: &Files,
        caller: &Caller,
        dirfd: i32,
        path: Option<&[u8]>,
        times: Option<[Timespec; 2]>,
        flags: u32,
    ) -> Result<()> {
        if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
            return fail(EINVAL);
        }
        let node = match path {
            None => self.fd_node(files, dirfd)?,
            Some(path) => self.at_node(files, caller, dirfd, path, flags)?,
        };
        let times = times.unwrap_or(
            [Timespec {
                sec: 0,
                nsec: UTIME_NOW,
            }; 2],
        );
        for time in &times {
            if time.nsec != UTIME_NOW
                && time.nsec != UTIME_OMIT
                && !(0..1_000_000_000).contains(&time.nsec)
            {
                return fail(EINVAL);
            }
        }
        let inode = self.inode_mut(Self::changeable(&node)?)?;
        let explicit = times
            .iter()
            .any(|time| time.nsec != UTIME_NOW && time.nsec != UTIME_OMIT);
        let owner = caller.uid == 0 || caller.uid == inode.uid;
        if !owner
            && (explicit
                || !may(
                    inode.perm,
                    inode.uid,
                    inode.gid,
                    caller,
                    crate::perm::W,
                    false,
                ))
        {
            return fail(if explicit { EPERM } else { EACCES });
        }
        let [atime, mtime] = times;
        let pick = |time: Timespec| {
            if time.nsec == UTIME_NOW {
                caller.now
            } else {
                time
            }
        };
        if atime.nsec != UTIME_OMIT {
            inode.atime = pick(atime);
        }
        if mtime.nsec != UTIME_OMIT {
            inode.mtime = pick(mtime);
        }
        inode.ctime = caller.now;
        Ok(())
    }

    /// `truncate`.
    pub fn truncate(
        &mut self,
        files: &Files,
        caller: &Caller,
        path: &[u8],
        length: i64,
    ) -> Result<()> {
        let length = u64::try_from(length).or(fail(EINVAL))?;
        let node = self.at_node(files, caller, abide_linux::fs::at::AT_FDCWD, path, 0)?;
        let ino = Self::changeable(&node).or(fail(EACCES))?;
        let inode = self.inode(ino)?;
        if inode.dir().is_some() {
            return fail(EISDIR);
        }
        if !may(
            inode.perm,
            inode.uid,
            inode.gid,
            caller,
            crate::perm::W,
            false,
        ) {
            return fail(EACCES);
        }
        self.truncate_inode(caller, ino, length)
    }

    /// `ftruncate` (the descriptor must be open for writing).
    pub fn ftruncate(
        &mut self,
        files: &Files,
        caller: &Caller,
        fd: i32,
        length: i64,
    ) -> Result<()> {
        let length = u64::try_from(length).or(fail(EINVAL))?;
        let file = self.fd_file(files, fd)?;
        if file.flags & abide_linux::fs::open::O_PATH != 0 {
            return fail(EBADF);
        }
        if !file.writable() {
            return fail(EINVAL);
        }
        let ino = Self::changeable(&file.node).or(fail(EINVAL))?;
        self.truncate_inode(caller, ino, length)
    }

    /// Sets regular file `ino`'s length (`EINVAL` for anything else).
    pub(crate) fn truncate_inode(&mut self, caller: &Caller, ino: Ino, length: u64) -> Result<()> {
        let length = usize::try_from(length).or(fail(EINVAL))?;
        let inode = self.inode_mut(ino)?;
        match &mut inode.kind {
            Kind::File(content) => {
                if content.bytes().len() != length {
                    content.to_mut().resize(length, 0);
                }
            }
            Kind::Dir(_) => return fail(EISDIR),
            // Truncating a FIFO or device (O_TRUNC) does nothing.
            Kind::Fifo(_) | Kind::Device(_) => return Ok(()),
            Kind::Symlink(_) => return fail(EINVAL),
        }
        inode.mtime = caller.now;
        inode.ctime = caller.now;
        Ok(())
    }

    /// `faccessat2`: whether the caller may `mode` (`R_OK | W_OK | X_OK`,
    /// or `F_OK`) the file.
    pub fn faccessat(
        &self,
        files: &Files,
        caller: &Caller,
        dirfd: i32,
        path: &[u8],
        mode: u32,
        flags: u32,
    ) -> Result<()> {
        if mode & !7 != 0 || flags & !(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
            return fail(EINVAL);
        }
        let node = self.at_node(files, caller, dirfd, path, flags)?;
        if mode == 0 {
            return Ok(());
        }
        match node {
            Node::Ram(ino) => {
                let inode = self.inode(ino)?;
                if may(
                    inode.perm,
                    inode.uid,
                    inode.gid,
                    caller,
                    mode,
                    inode.dir().is_some(),
                ) {
                    Ok(())
                } else {
                    fail(EACCES)
                }
            }
            Node::Proc(_) if mode & crate::perm::W != 0 => fail(EACCES),
            Node::Proc(_) => Ok(()),
        }
    }
}
