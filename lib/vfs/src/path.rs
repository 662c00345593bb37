//! Path resolution as Linux does it: from `/`, the working directory or a
//! directory descriptor; `.` and `..` (also out of `/proc`), symbolic
//! links up to 40 per lookup, trailing slashes, and the errno of each way
//! a lookup fails (`ENOENT`, `ENOTDIR`, `ELOOP`, `ENAMETOOLONG`, `EACCES`).

use crate::caller::{Caller, ProcEntry};
use crate::error::{fail, Error, Result};
use crate::fdtable::Files;
use crate::inode::Kind;
use crate::perm::{may, X};
use crate::vfs::{Node, Vfs, ROOT_INO};
use abide_linux::errno::{EACCES, EBADF, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR};
use abide_linux::fs::at::AT_FDCWD;
use abide_linux::fs::limits::{MAXSYMLINKS, NAME_MAX, PATH_MAX};
use alloc::vec::Vec;

/// The directory a path's last component is looked up in.
#[derive(Clone, Debug)]
pub(crate) struct Parent {
    pub dir: Node,
    /// The last component (empty when the path was only slashes).
    pub name: Vec<u8>,
    /// The path ended with a slash.
    pub slash: bool,
}

impl Parent {
    /// Whether the last component is `.` or `..` or missing.
    pub fn is_special(&self) -> bool {
        self.name.is_empty() || self.name == b"." || self.name == b".."
    }
}

/// Fails for an empty or overlong path.
pub(crate) fn check_path(path: &[u8]) -> Result<()> {
    if path.is_empty() {
        fail(ENOENT)
    } else if path.len() >= PATH_MAX {
        fail(ENAMETOOLONG)
    } else {
        Ok(())
    }
}

impl Vfs {
    /// Where a relative path starts for `dirfd` (`AT_FDCWD` or a directory
    /// descriptor).
    pub(crate) fn start(
        &self,
        files: &Files,
        caller: &Caller,
        dirfd: i32,
        path: &[u8],
    ) -> Result<Node> {
        if path.first() == Some(&b'/') {
            return Ok(Node::Ram(ROOT_INO));
        }
        if dirfd == AT_FDCWD {
            return Ok(files.cwd.clone());
        }
        let node = self.fd_node(files, dirfd)?;
        if path.is_empty() || self.is_dir(caller, &node) {
            Ok(node)
        } else {
            fail(ENOTDIR)
        }
    }

    /// The node open as descriptor `fd`.
    pub(crate) fn fd_node(&self, files: &Files, fd: i32) -> Result<Node> {
        let id = files.get(fd)?;
        Ok(self.file(id).ok_or(Error::Errno(EBADF))?.node.clone())
    }

    /// What `/proc/path` is, for `caller` (who `self` is).
    pub(crate) fn proc_entry(&self, caller: &Caller, path: &[u8]) -> Option<ProcEntry> {
        if path == b"self" {
            let mut target = Vec::new();
            push_decimal(&mut target, caller.pid as u64);
            return Some(ProcEntry::Symlink(target));
        }
        if let Some(entry) = crate::procfd::own_fd_entry(caller, path) {
            return Some(entry);
        }
        caller.proc.lookup(path)
    }

    /// Whether `node` is a directory.
    pub(crate) fn is_dir(&self, caller: &Caller, node: &Node) -> bool {
        match node {
            Node::Proc(path) => {
                path.is_empty() || matches!(self.proc_entry(caller, path), Some(ProcEntry::Dir))
            }
            Node::Ram(ino) => matches!(self.inode(*ino), Ok(inode) if inode.dir().is_some()),
        }
    }

    /// The target of `node` if it is a symbolic link.
    pub(crate) fn link_target(&self, caller: &Caller, node: &Node) -> Option<Vec<u8>> {
        match node {
            Node::Ram(ino) => match &self.inode(*ino).ok()?.kind {
                Kind::Symlink(target) => Some(target.clone()),
                _ => None,
            },
            Node::Proc(path) => match self.proc_entry(caller, path)? {
                ProcEntry::Symlink(target) => Some(target),
                _ => None,
            },
        }
    }

    /// The directory holding `node` (`..`); `/` is its own parent.
    pub(crate) fn parent_of(&self, node: &Node) -> Node {
        match node {
            Node::Ram(ino) => match self.inode(*ino).ok().and_then(|inode| inode.dir()) {
                Some(dir) => Node::Ram(dir.parent),
                None => Node::Ram(ROOT_INO),
            },
            Node::Proc(path) if path.is_empty() => {
                self.parent_of(&Node::Ram(self.proc_mount.unwrap_or(ROOT_INO)))
            }
            Node::Proc(path) => match path.iter().rposition(|&byte| byte == b'/') {
                Some(slash) => Node::Proc(path.get(..slash).unwrap_or_default().to_vec()),
                None => Node::Proc(Vec::new()),
            },
        }
    }

    /// The entry `name` (not `.` or `..`) of the directory `dir`.
    pub(crate) fn child(&self, caller: &Caller, dir: &Node, name: &[u8]) -> Result<Option<Node>> {
        match dir {
            Node::Ram(ino) => {
                let Some(child) = self.dir(*ino)?.get(name) else {
                    return Ok(None);
                };
                if Some(child) == self.proc_mount {
                    return Ok(Some(Node::Proc(Vec::new())));
                }
                Ok(Some(Node::Ram(child)))
            }
            Node::Proc(path) => {
                let mut full = path.clone();
                if !full.is_empty() {
                    full.push(b'/');
                }
                full.extend_from_slice(name);
                Ok(self.proc_entry(caller, &full).map(|_| Node::Proc(full)))
            }
        }
    }

    /// Checks that `caller` may search the directory `dir`.
    fn search(&self, caller: &Caller, dir: &Node) -> Result<()> {
        if !self.is_dir(caller, dir) {
            return fail(ENOTDIR);
        }
        match dir {
            Node::Ram(ino) => {
                let inode = self.inode(*ino)?;
                if may(inode.perm, inode.uid, inode.gid, caller, X, true) {
                    Ok(())
                } else {
                    fail(EACCES)
                }
            }
            Node::Proc(_) => Ok(()),
        }
    }

    /// Resolves `path` from `start` to a node, following a final symbolic
    /// link if `follow` (or if the path ends with a slash).
    pub(crate) fn walk(
        &self,
        caller: &Caller,
        start: Node,
        path: &[u8],
        follow: bool,
    ) -> Result<Node> {
        let mut links = 0;
        self.walk_counted(caller, start, path, follow, &mut links)
    }

    fn walk_counted(
        &self,
        caller: &Caller,
        start: Node,
        path: &[u8],
        follow: bool,
        links: &mut u32,
    ) -> Result<Node> {
        let parent = self.walk_parent_counted(caller, start, path, links)?;
        let node = match parent.name.as_slice() {
            b"" | b"." => return Ok(parent.dir),
            b".." => return Ok(self.parent_of(&parent.dir)),
            name => self
                .child(caller, &parent.dir, name)?
                .ok_or(Error::Errno(ENOENT))?,
        };
        let node = match self.link_target(caller, &node) {
            Some(target) if follow || parent.slash => {
                *links += 1;
                if *links > MAXSYMLINKS {
                    return fail(ELOOP);
                }
                self.walk_counted(caller, parent.dir, &target, true, links)?
            }
            _ => node,
        };
        if parent.slash && !self.is_dir(caller, &node) {
            return fail(ENOTDIR);
        }
        Ok(node)
    }

    /// Resolves all of `path` but its last component.
    pub(crate) fn walk_parent(&self, caller: &Caller, start: Node, path: &[u8]) -> Result<Parent> {
        let mut links = 0;
        self.walk_parent_counted(caller, start, path, &mut links)
    }

    fn walk_parent_counted(
        &self,
        caller: &Caller,
        start: Node,
        path: &[u8],
        links: &mut u32,
    ) -> Result<Parent> {
        check_path(path)?;
        let mut dir = if path.first() == Some(&b'/') {
            Node::Ram(ROOT_INO)
        } else {
            start
        };
        let slash = path.last() == Some(&b'/');
        let components: Vec<&[u8]> = path
            .split(|&byte| byte == b'/')
            .filter(|c| !c.is_empty())
            .collect();
        if components
            .iter()
            .any(|component| component.len() > NAME_MAX)
        {
            return fail(ENAMETOOLONG);
        }
        let Some((last, inner)) = components.split_last() else {
            return Ok(Parent {
                dir,
                name: Vec::new(),
                slash,
            });
        };
        for &component in inner {
            self.search(caller, &dir)?;
            dir = match component {
                b"." => dir,
                b".." => self.parent_of(&dir),
                name => {
                    let child = self
                        .child(caller, &dir, name)?
                        .ok_or(Error::Errno(ENOENT))?;
                    match self.link_target(caller, &child) {
                        Some(target) => {
                            *links += 1;
                            if *links > MAXSYMLINKS {
                                return fail(ELOOP);
                            }
                            self.walk_counted(caller, dir, &target, true, links)?
                        }
                        None => child,
                    }
                }
            };
        }
        self.search(caller, &dir)?;
        Ok(Parent {
            dir,
            name: last.to_vec(),
            slash,
        })
    }

    /// The absolute path of the directory `node` (`getcwd`), or `ENOENT`
    /// once it has been removed.
    pub(crate) fn path_of(&self, node: &Node) -> Result<Vec<u8>> {
        let mut names: Vec<Vec<u8>> = Vec::new();
        let mut here = match node {
            Node::Proc(path) => {
                if !path.is_empty() {
                    names.push(path.clone());
                }
                let mount = self.proc_mount.unwrap_or(ROOT_INO);
                names.push(self.name_in_parent(mount)?);
                self.parent_of(&Node::Ram(mount))
            }
            Node::Ram(_) => node.clone(),
        };
        while let Node::Ram(ino) = here {
            if ino == ROOT_INO {
                break;
            }
            if self.inode(ino)?.nlink == 0 {
                return fail(ENOENT);
            }
            names.push(self.name_in_parent(ino)?);
            here = self.parent_of(&here);
        }
        let mut path = Vec::new();
        for name in names.iter().rev() {
            path.push(b'/');
            path.extend_from_slice(name);
        }
        if path.is_empty() {
            path.push(b'/');
        }
        Ok(path)
    }

    /// The name of the directory `ino` in its parent.
    fn name_in_parent(&self, ino: crate::Ino) -> Result<Vec<u8>> {
        let parent = self.dir(ino)?.parent;
        let name = self.dir(parent)?.name_of(ino).ok_or(Error::Errno(ENOENT))?;
        Ok(name.to_vec())
    }
}

/// Appends `value` in decimal.
pub(crate) fn push_decimal(out: &mut Vec<u8>, value: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = value;
    loop {
        at -= 1;
        if let Some(digit) = digits.get_mut(at) {
            *digit = b'0' + (rest % 10) as u8;
        }
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(at..).unwrap_or_default());
}
