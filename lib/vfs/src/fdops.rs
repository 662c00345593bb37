//! Descriptor operations: `close`, `dup`/`dup2`/`dup3`, `fcntl`, `pipe2`,
//! and a process's file state across `fork`, `execve` and exit.

use crate::error::{fail, Result};
use crate::fdtable::{Fd, Files, MAX_FDS};
use crate::file::OpenFile;
use crate::inode::{Inode, Kind};
use crate::pipe::Pipe;
use crate::vfs::{Node, Vfs};
use abide_linux::errno::{EBADF, EINVAL};
use abide_linux::fs::fcntl::{
    FD_CLOEXEC, F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_SETFD, F_SETFL,
};
use abide_linux::fs::open::{
    O_APPEND, O_CLOEXEC, O_DIRECT, O_LARGEFILE, O_NONBLOCK, O_RDONLY, O_WRONLY,
};

/// The status flags `F_SETFL` may change.
const SETFL_FLAGS: u32 = O_APPEND | O_NONBLOCK | O_DIRECT | abide_linux::fs::open::O_NOATIME;

impl Vfs {
    /// A new process's file state: no descriptors, in `/`, umask 022.
    pub fn new_files(&mut self) -> Files {
        let files = Files::empty();
        self.hold(&files.cwd);
        files
    }

    /// The child's copy for `fork`: the same descriptors naming the same
    /// open file descriptions (shared offsets), the same directory.
    pub fn fork_files(&mut self, files: &Files) -> Files {
        for entry in files.fds.iter().flatten() {
            if let Some(file) = self.file_mut(entry.file) {
                file.refs += 1;
            }
        }
        self.hold(&files.cwd);
        Files {
            fds: files.fds.clone(),
            cwd: files.cwd.clone(),
            umask: files.umask,
        }
    }

    /// Closes the close-on-exec descriptors (`execve`).
    pub fn close_on_exec(&mut self, files: &mut Files) {
        let doomed: alloc::vec::Vec<i32> = files
            .open_fds()
            .filter(|&fd| files.cloexec(fd).unwrap_or(false))
            .collect();
        for fd in doomed {
            let _ = self.close(files, fd);
        }
    }

    /// Closes every descriptor and lets go of the working directory (exit).
    pub fn release_files(&mut self, files: &mut Files) {
        let all: alloc::vec::Vec<i32> = files.open_fds().collect();
        for fd in all {
            let _ = self.close(files, fd);
        }
        self.unhold(&files.cwd);
        // Holding nothing now; `/` is never freed, so a second release is harmless.
        files.cwd = Node::Ram(crate::ROOT_INO);
    }

    /// `close`.
    pub fn close(&mut self, files: &mut Files, fd: i32) -> Result<()> {
        let entry = files.take(fd)?;
        self.release_file(entry.file);
        Ok(())
    }

    /// Points descriptor `fd` at `entry`'s description, closing what was there.
    fn put_fd(&mut self, files: &mut Files, fd: usize, entry: Fd) {
        if let Some(file) = self.file_mut(entry.file) {
            file.refs += 1;
        }
        if let Some(old) = files.set(fd, entry) {
            self.release_file(old.file);
        }
    }

    /// `dup`: the lowest free descriptor naming `fd`'s description.
    pub fn dup(&mut self, files: &mut Files, fd: i32) -> Result<i32> {
        self.dup_from(files, fd, 0, false)
    }

    /// `F_DUPFD`: the lowest free descriptor at or above `min`.
    fn dup_from(&mut self, files: &mut Files, fd: i32, min: usize, cloexec: bool) -> Result<i32> {
        let entry = files.entry(fd)?;
        if min >= MAX_FDS {
            return fail(EINVAL);
        }
        let new = files.lowest_free(min)?;
        self.put_fd(
            files,
            new,
            Fd {
                file: entry.file,
                cloexec,
            },
        );
        Ok(new as i32)
    }

    /// `dup2`: makes `new` name `old`'s description (closing `new` first).
    pub fn dup2(&mut self, files: &mut Files, old: i32, new: i32) -> Result<i32> {
        let entry = files.entry(old)?;
        if old == new {
            return Ok(new);
        }
        let slot = usize::try_from(new)
            .ok()
            .filter(|&fd| fd < MAX_FDS)
            .ok_or(crate::Error::Errno(EBADF))?;
        self.put_fd(
            files,
            slot,
            Fd {
                file: entry.file,
                cloexec: false,
            },
        );
        Ok(new)
    }

    /// `dup3`: `dup2` with `O_CLOEXEC`; `old == new` is `EINVAL`.
    pub fn dup3(&mut self, files: &mut Files, old: i32, new: i32, flags: u32) -> Result<i32> {
        if flags & !O_CLOEXEC != 0 || old == new {
            return fail(EINVAL);
        }
        let entry = files.entry(old)?;
        let slot = usize::try_from(new)
            .ok()
            .filter(|&fd| fd < MAX_FDS)
            .ok_or(crate::Error::Errno(EBADF))?;
        self.put_fd(
            files,
            slot,
            Fd {
                file: entry.file,
                cloexec: flags & O_CLOEXEC != 0,
            },
        );
        Ok(new)
    }

    /// `fcntl` for `F_DUPFD`, `F_DUPFD_CLOEXEC`, `F_GETFD`, `F_SETFD`,
    /// `F_GETFL`, `F_SETFL`; other commands are `EINVAL` (the component
    /// answers record locks itself).
    pub fn fcntl(&mut self, files: &mut Files, fd: i32, cmd: u32, arg: u64) -> Result<i64> {
        let entry = files.entry(fd)?;
        match cmd {
            F_DUPFD | F_DUPFD_CLOEXEC => {
                let min = usize::try_from(arg).unwrap_or(usize::MAX);
                self.dup_from(files, fd, min, cmd == F_DUPFD_CLOEXEC)
                    .map(i64::from)
            }
            F_GETFD => Ok(if entry.cloexec { FD_CLOEXEC as i64 } else { 0 }),
            F_SETFD => {
                if let Ok(slot) = usize::try_from(fd) {
                    files.set(
                        slot,
                        Fd {
                            file: entry.file,
                            cloexec: arg as u32 & FD_CLOEXEC != 0,
                        },
                    );
                }
                Ok(0)
            }
            F_GETFL => {
                let file = self.fd_file(files, fd)?;
                Ok((file.flags | O_LARGEFILE) as i64)
            }
            F_SETFL => {
                let file = self
                    .file_mut(entry.file)
                    .ok_or(crate::Error::Errno(EBADF))?;
                file.flags = (file.flags & !SETFL_FLAGS) | (arg as u32 & SETFL_FLAGS);
                Ok(0)
            }
            _ => fail(EINVAL),
        }
    }

    /// The status flags of `fd`'s description (access mode, `O_APPEND`,
    /// `O_NONBLOCK`, ...).
    pub fn status_flags(&self, files: &Files, fd: i32) -> Result<u32> {
        Ok(self.fd_file(files, fd)?.flags)
    }

    /// `pipe2`: a new pipe; gives (read end, write end).
    pub fn pipe2(
        &mut self,
        files: &mut Files,
        caller: &crate::Caller,
        flags: u32,
    ) -> Result<(i32, i32)> {
        if flags & !(O_CLOEXEC | O_NONBLOCK | O_DIRECT) != 0 {
            return fail(EINVAL);
        }
        let pipe = Pipe::with_both_ends();
        let inode = Inode::new(Kind::Fifo(pipe), 0o600, caller.uid, caller.gid, caller.now);
        let ino = self.add_inode(inode);
        let status = flags & (O_NONBLOCK | O_DIRECT);
        let cloexec = flags & O_CLOEXEC != 0;
        let reader = OpenFile::new(Node::Ram(ino), O_RDONLY | status);
        let writer = OpenFile::new(Node::Ram(ino), O_WRONLY | status);
        let read_fd = match self.install(files, reader, cloexec) {
            Ok(fd) => fd,
            Err(error) => {
                // The writer end was never opened: drop its count too.
                if let Ok(inode) = self.inode_mut(ino) {
                    if let Kind::Fifo(pipe) = &mut inode.kind {
                        pipe.writers = 0;
                    }
                }
                return Err(error);
            }
        };
        match self.install(files, writer, cloexec) {
            Ok(write_fd) => Ok((read_fd, write_fd)),
            Err(error) => {
                let _ = self.close(files, read_fd);
                Err(error)
            }
        }
    }
}
