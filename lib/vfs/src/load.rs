//! Preloading the RAM file system from a ustar archive: the root tree
//! (`rootfs`) and the trees `--add` places. A file borrows its bytes from
//! the archive — which lives as long as the component — until first
//! written, so loading copies no file data.

use crate::dev::Device;
use crate::inode::{Content, Ino, Inode, Kind};
use crate::pipe::Pipe;
use crate::tar::{entries, Entry, EntryKind, TarError};
use crate::vfs::{Vfs, ROOT_INO};
use abide_linux::fs::{makedev, Timespec};
use alloc::vec::Vec;

/// The components of a path inside an archive, without `.` and empties;
/// `None` if it climbs out with `..`.
fn components(path: &[u8]) -> Option<Vec<&[u8]>> {
    let parts: Vec<&[u8]> = path
        .split(|&byte| byte == b'/')
        .filter(|part| !part.is_empty() && *part != b".")
        .collect();
    if parts.iter().any(|part| *part == b"..") {
        None
    } else {
        Some(parts)
    }
}

impl Vfs {
    /// Loads every entry of `archive` below the directory `at` (an absolute
    /// path, made if missing); an entry replaces what had its name, a
    /// directory keeps its contents. Gives the number of entries loaded.
    pub fn load_tar(
        &mut self,
        archive: &'static [u8],
        at: &[u8],
        now: Timespec,
    ) -> Result<usize, TarError> {
        let conflict = |what| TarError { offset: 0, what };
        let base = components(at).ok_or(conflict("the target path climbs with .."))?;
        let mut top = ROOT_INO;
        for name in base {
            top = self
                .ensure_dir(top, name, 0o755, now)
                .map_err(|_| conflict("the target is not a directory"))?;
        }
        let list = entries(archive)?;
        let mut loaded = 0;
        for entry in &list {
            let path = entry.path();
            let Some(parts) = components(&path) else {
                continue;
            };
            let Some((name, dirs)) = parts.split_last() else {
                // The archive's own top directory: its attributes.
                self.set_attrs(top, entry);
                continue;
            };
            let mut dir = top;
            for part in dirs {
                dir = self
                    .ensure_dir(dir, part, 0o755, now)
                    .map_err(|_| conflict("a path runs through a non-directory"))?;
            }
            self.load_entry(top, dir, name, entry)?;
            loaded += 1;
        }
        Ok(loaded)
    }

    /// Puts one entry as `name` in `dir` (`top`: where hard links start).
    fn load_entry(
        &mut self,
        top: Ino,
        dir: Ino,
        name: &[u8],
        entry: &Entry<'static>,
    ) -> Result<(), TarError> {
        let time = Timespec {
            sec: entry.mtime,
            nsec: 0,
        };
        let existing = self.dir(dir).ok().and_then(|entries| entries.get(name));
        let existing_is_dir = existing
            .is_some_and(|ino| matches!(self.inode(ino), Ok(inode) if inode.dir().is_some()));
        if entry.kind == EntryKind::Dir {
            let ino = match existing {
                Some(ino) if existing_is_dir => ino,
                _ => {
                    if let Some(old) = existing {
                        self.remove_entry(dir, name, old, time);
                    }
                    self.make_dir(dir, name, entry.perm, entry.uid, entry.gid, time)
                        .map_err(|_| TarError {
                            offset: 0,
                            what: "cannot make a directory",
                        })?
                }
            };
            self.set_attrs(ino, entry);
            return Ok(());
        }
        if let Some(old) = existing {
            if existing_is_dir {
                return Err(TarError {
                    offset: 0,
                    what: "a file would replace a directory",
                });
            }
            self.remove_entry(dir, name, old, time);
        }
        let kind = match entry.kind {
            EntryKind::File => Kind::File(Content::borrowed(entry.data)),
            EntryKind::Symlink(target) => Kind::Symlink(target.to_vec()),
            EntryKind::Fifo => Kind::Fifo(Pipe::default()),
            EntryKind::CharDevice(major, minor) => {
                Kind::Device(Device::from_rdev(makedev(major, minor)))
            }
            EntryKind::BlockDevice(major, minor) => {
                Kind::Device(Device::Other(makedev(major, minor)))
            }
            EntryKind::HardLink(target) => {
                let ino = self.find_below(top, target).ok_or(TarError {
                    offset: 0,
                    what: "a hard link names a missing file",
                })?;
                self.link(dir, name, ino, time);
                return Ok(());
            }
            EntryKind::Dir => return Ok(()),
        };
        let ino = self.add_inode(Inode::new(kind, entry.perm, entry.uid, entry.gid, time));
        self.link(dir, name, ino, time);
        self.set_attrs(ino, entry);
        Ok(())
    }

    /// The inode at `path` below `top`, following no symbolic link.
    fn find_below(&self, top: Ino, path: &[u8]) -> Option<Ino> {
        let mut here = top;
        for part in components(path)? {
            here = self.dir(here).ok()?.get(part)?;
        }
        Some(here)
    }

    /// Gives `ino` the entry's mode, owner and times.
    fn set_attrs(&mut self, ino: Ino, entry: &Entry) {
        if let Ok(inode) = self.inode_mut(ino) {
            let time = Timespec {
                sec: entry.mtime,
                nsec: 0,
            };
            inode.perm = entry.perm;
            inode.uid = entry.uid;
            inode.gid = entry.gid;
            inode.atime = time;
            inode.mtime = time;
            inode.ctime = time;
        }
    }

    /// Whether the regular file at `path` (absolute, no symbolic links)
    /// still borrows its bytes from an archive (nothing has written it).
    pub fn borrows_archive(&self, path: &[u8]) -> Option<bool> {
        let ino = self.find_below(ROOT_INO, path)?;
        match &self.inode(ino).ok()?.kind {
            Kind::File(content) => Some(content.is_borrowed()),
            _ => None,
        }
    }
}
