//! `openat`: resolving or creating the file, Linux's checks and errno for
//! each flag (`O_CREAT`, `O_EXCL`, `O_TRUNC`, `O_DIRECTORY`, `O_NOFOLLOW`,
//! `O_PATH`, ...), FIFO ends, `/proc` snapshots; and opening a program
//! for `execve`.

use crate::caller::{Caller, ProcEntry};
use crate::dev::Device;
use crate::error::{fail, Error, Result};
use crate::fdtable::{Fd, Files};
use crate::file::OpenFile;
use crate::inode::{Content, Inode, Kind};
use crate::perm::{may, R, W, X};
use crate::vfs::{Node, Vfs};
use abide_linux::errno::{EACCES, EEXIST, EINVAL, EISDIR, ELOOP, ENOENT, ENOTDIR, ENXIO};
use abide_linux::fs::open::{
    O_ACCMODE, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_PATH, O_RDONLY,
    O_RDWR, O_TMPFILE, O_TRUNC, O_WRONLY,
};

/// The flags an `O_PATH` open keeps.
const PATH_FLAGS: u32 = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

impl Vfs {
    /// `openat(dirfd, path, flags, mode)`: gives the new descriptor (the
    /// lowest free one).
    pub fn openat(
        &mut self,
        files: &mut Files,
        caller: &Caller,
        dirfd: i32,
        path: &[u8],
        flags: u32,
        mode: u32,
    ) -> Result<i32> {
        let flags = if flags & O_PATH != 0 {
            flags & PATH_FLAGS
        } else {
            flags
        };
        if flags & O_TMPFILE == O_TMPFILE || (flags & O_CREAT != 0 && flags & O_DIRECTORY != 0) {
            return fail(EINVAL);
        }
        let access = flags & O_ACCMODE;
        if access == O_ACCMODE && flags & O_PATH == 0 {
            return fail(EINVAL);
        }
        let start = self.start(files, caller, dirfd, path)?;
        let node = if flags & O_CREAT != 0 {
            self.open_or_create(files, caller, start, path, flags, mode)?
        } else {
            let node = self.walk(caller, start, path, flags & O_NOFOLLOW == 0)?;
            if flags & O_NOFOLLOW != 0
                && flags & O_PATH == 0
                && self.link_target(caller, &node).is_some()
            {
                return fail(ELOOP);
            }
            node
        };
        let node = self.through_descriptor(files, caller, node)?;
        let is_dir = self.is_dir(caller, &node);
        if flags & O_DIRECTORY != 0 && !is_dir {
            return fail(ENOTDIR);
        }
        let writes = access != O_RDONLY || flags & O_TRUNC != 0;
        if is_dir && writes && flags & O_PATH == 0 {
            return fail(EISDIR);
        }
        let mut file = OpenFile::new(
            node.clone(),
            flags & !(O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC),
        );
        if flags & O_PATH == 0 {
            self.check_open(caller, &node, access, flags)?;
            match &node {
                Node::Proc(path) if !is_dir => {
                    file.snapshot = Some(caller.proc.read(path).ok_or(Error::Errno(ENOENT))?);
                }
                Node::Ram(ino) => {
                    let ino = *ino;
                    if flags & O_TRUNC != 0 && access != O_RDONLY {
                        self.truncate_inode(caller, ino, 0)?;
                    }
                    self.open_pipe_end(&mut file, ino);
                }
                Node::Proc(_) => {}
            }
        }
        self.install(files, file, flags & O_CLOEXEC != 0)
    }

    /// The `O_CREAT` half of `openat`: the existing file, or a new one.
    fn open_or_create(
        &mut self,
        files: &Files,
        caller: &Caller,
        start: Node,
        path: &[u8],
        flags: u32,
        mode: u32,
    ) -> Result<Node> {
        let parent = self.walk_parent(caller, start, path)?;
        if parent.is_special() {
            return fail(EISDIR);
        }
        let existing = self.child(caller, &parent.dir, &parent.name)?;
        match existing {
            Some(_) if flags & O_EXCL != 0 => fail(EEXIST),
            Some(node) => {
                if self.link_target(caller, &node).is_some() {
                    if flags & O_NOFOLLOW != 0 {
                        return fail(ELOOP);
                    }
                    return self.walk(caller, parent.dir, &parent.name, true);
                }
                if parent.slash && !self.is_dir(caller, &node) {
                    return fail(ENOTDIR);
                }
                Ok(node)
            }
            None if parent.slash => fail(EISDIR),
            None => {
                let Node::Ram(dir) = parent.dir else {
                    return fail(EACCES);
                };
                if self.inode(dir)?.nlink == 0 {
                    return fail(ENOENT);
                }
                self.check_dir_write(caller, dir)?;
                let perm = mode & 0o7777 & !files.umask;
                let inode = Inode::new(
                    Kind::File(Content::default()),
                    perm,
                    caller.uid,
                    caller.gid,
                    caller.now,
                );
                let ino = self.add_inode(inode);
                self.link(dir, &parent.name, ino, caller.now);
                Ok(Node::Ram(ino))
            }
        }
    }

    /// Permission and kind checks of opening `node` for `access`.
    fn check_open(&self, caller: &Caller, node: &Node, access: u32, flags: u32) -> Result<()> {
        let want = match access {
            O_RDONLY => R,
            O_WRONLY => W,
            _ => R | W,
        } | if flags & O_TRUNC != 0 { W } else { 0 };
        match node {
            Node::Proc(path) => match self.proc_entry(caller, path) {
                _ if want & W != 0 => fail(EACCES),
                Some(_) | None if path.is_empty() => Ok(()),
                Some(ProcEntry::Dir | ProcEntry::File) => Ok(()),
                _ => fail(ENOENT),
            },
            Node::Ram(ino) => {
                let inode = self.inode(*ino)?;
                if !may(
                    inode.perm,
                    inode.uid,
                    inode.gid,
                    caller,
                    want,
                    inode.dir().is_some(),
                ) {
                    return fail(EACCES);
                }
                match inode.kind {
                    Kind::Device(Device::Other(_)) => fail(ENXIO),
                    Kind::Fifo(ref pipe)
                        if access == O_WRONLY && flags & O_NONBLOCK != 0 && pipe.readers == 0 =>
                    {
                        fail(ENXIO)
                    }
                    _ => Ok(()),
                }
            }
        }
    }

    /// Counts a FIFO's new end and remembers what its peer had done.
    fn open_pipe_end(&mut self, file: &mut OpenFile, ino: crate::Ino) {
        let Ok(inode) = self.inode_mut(ino) else {
            return;
        };
        // A pipe of `pipe2` is in no directory: only `/dev/fd/N` reopens it.
        let anonymous = inode.nlink == 0;
        let Kind::Fifo(pipe) = &mut inode.kind else {
            return;
        };
        // A peer open now counts as seen (Linux's `open` would not have
        // waited for it), and a pipe's every peer does (Linux never waits
        // in opening one): an end reopened through `/dev/fd/N` reads
        // end-of-file once the writers are gone, even if none was left.
        let seen = |opens: u64, open_now: bool| {
            if anonymous {
                0
            } else {
                opens - u64::from(open_now)
            }
        };
        file.reader_opens_seen = seen(pipe.reader_opens, pipe.readers > 0);
        file.writer_opens_seen = seen(pipe.writer_opens, pipe.writers > 0);
        let access = file.flags & O_ACCMODE;
        if access != O_WRONLY {
            pipe.readers += 1;
            pipe.reader_opens += 1;
        }
        if access != O_RDONLY {
            pipe.writers += 1;
            pipe.writer_opens += 1;
        }
        if access == O_RDWR {
            // Both ends at once: it never waits for a peer.
            file.reader_opens_seen = 0;
            file.writer_opens_seen = 0;
        }
    }

    /// Fails unless `caller` may add and remove entries of directory `dir`.
    pub(crate) fn check_dir_write(&self, caller: &Caller, dir: crate::Ino) -> Result<()> {
        let inode = self.inode(dir)?;
        if may(inode.perm, inode.uid, inode.gid, caller, W | X, true) {
            Ok(())
        } else {
            fail(EACCES)
        }
    }

    /// Gives `file` the lowest free descriptor.
    pub(crate) fn install(
        &mut self,
        files: &mut Files,
        mut file: OpenFile,
        cloexec: bool,
    ) -> Result<i32> {
        let fd = match files.lowest_free(0) {
            Ok(fd) => fd,
            Err(error) => {
                file.refs = 1;
                let id = self.add_file(file);
                self.release_file(id);
                return Err(error);
            }
        };
        file.refs = 1;
        let id = self.add_file(file);
        files.set(fd, Fd { file: id, cloexec });
        Ok(fd as i32)
    }

    /// The bytes of the program at `path` for `execve`: a regular file
    /// the caller may execute (else `EACCES`), borrowed, not copied.
    pub fn exec_image(
        &self,
        files: &Files,
        caller: &Caller,
        dirfd: i32,
        path: &[u8],
    ) -> Result<&[u8]> {
        let start = self.start(files, caller, dirfd, path)?;
        let node = self.walk(caller, start, path, true)?;
        let Node::Ram(ino) = node else {
            return fail(EACCES);
        };
        let inode = self.inode(ino)?;
        match &inode.kind {
            Kind::File(content) if may(inode.perm, inode.uid, inode.gid, caller, X, false) => {
                Ok(content.bytes())
            }
            _ => fail(EACCES),
        }
    }
}
