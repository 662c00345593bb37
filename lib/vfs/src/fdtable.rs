//! A process's file state: its descriptor table (lowest free number,
//! close-on-exec flags, each descriptor naming a shared open file
//! description), its working directory and its umask.

use crate::error::{fail, Result};
use crate::vfs::{Node, ROOT_INO};
use abide_linux::errno::{EBADF, EMFILE};
use alloc::vec::Vec;

/// The most descriptors a process may have (`RLIMIT_NOFILE`'s usual 1024).
pub const MAX_FDS: usize = 1024;

/// An open file description's slot in the [`crate::Vfs`].
pub type FileId = usize;

/// One descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fd {
    pub file: FileId,
    pub cloexec: bool,
}

/// A process's descriptors, working directory and umask. Made by
/// [`crate::Vfs::new_files`], copied for `fork` by [`crate::Vfs::fork_files`].
#[derive(Debug)]
pub struct Files {
    pub(crate) fds: Vec<Option<Fd>>,
    pub(crate) cwd: Node,
    /// The file-mode creation mask.
    pub umask: u32,
}

impl Files {
    /// No descriptors, working directory `/`, umask 022.
    pub(crate) fn empty() -> Files {
        Files {
            fds: Vec::new(),
            cwd: Node::Ram(ROOT_INO),
            umask: 0o022,
        }
    }

    /// The open file description of descriptor `fd`.
    pub(crate) fn get(&self, fd: i32) -> Result<FileId> {
        Ok(self.entry(fd)?.file)
    }

    /// Descriptor `fd`.
    pub(crate) fn entry(&self, fd: i32) -> Result<Fd> {
        match usize::try_from(fd).ok().and_then(|fd| self.fds.get(fd)) {
            Some(Some(entry)) => Ok(*entry),
            _ => fail(EBADF),
        }
    }

    /// The lowest free descriptor at or above `min`.
    pub(crate) fn lowest_free(&self, min: usize) -> Result<usize> {
        let free = (min..MAX_FDS).find(|&fd| !matches!(self.fds.get(fd), Some(Some(_))));
        free.map_or(fail(EMFILE), Ok)
    }

    /// Puts `entry` at `fd` (which must be below [`MAX_FDS`]), giving what
    /// was there.
    pub(crate) fn set(&mut self, fd: usize, entry: Fd) -> Option<Fd> {
        if self.fds.len() <= fd {
            self.fds.resize(fd + 1, None);
        }
        self.fds.get_mut(fd).and_then(|slot| slot.replace(entry))
    }

    /// Empties `fd`, giving what was there.
    pub(crate) fn take(&mut self, fd: i32) -> Result<Fd> {
        let slot = usize::try_from(fd).ok().and_then(|fd| self.fds.get_mut(fd));
        match slot.and_then(|slot| slot.take()) {
            Some(entry) => Ok(entry),
            None => fail(EBADF),
        }
    }

    /// The open descriptors, lowest first.
    pub fn open_fds(&self) -> impl Iterator<Item = i32> + '_ {
        self.fds
            .iter()
            .enumerate()
            .filter(|(_, entry)| entry.is_some())
            .map(|(fd, _)| fd as i32)
    }

    /// Whether descriptor `fd` is open.
    pub fn is_open(&self, fd: i32) -> bool {
        self.entry(fd).is_ok()
    }

    /// Whether descriptor `fd` is closed on `execve`.
    pub fn cloexec(&self, fd: i32) -> Result<bool> {
        Ok(self.entry(fd)?.cloexec)
    }
}
