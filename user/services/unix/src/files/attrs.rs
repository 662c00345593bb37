//! The calls on attributes: `stat`, `lstat`, `fstat`, `newfstatat`,
//! `statfs`, `fstatfs`, `access`, `faccessat`, `faccessat2`, `chmod`,
//! `fchmod`, `fchmodat`, `chown`, `fchown`, `lchown`, `fchownat`,
//! `truncate`, `ftruncate`, `utime`, `utimes`, `futimesat`, `utimensat`.
//! `statx` answers `ENOSYS`, and glibc falls back to `newfstatat`.

use abide_abi::record::Record;
use abide_linux::errno::{EFAULT, ENOSYS};
use abide_linux::fs::at::{AT_FDCWD, AT_SYMLINK_NOFOLLOW};
use abide_linux::fs::Timespec;
use abide_vfs::{Caller, Files, Result, Vfs};

use super::fs::{done, path, with};
use crate::call::{Call, Outcome};

/// Runs `op` with the path at `path_at` (`None` for a null pointer).
fn at_path(
    c: &mut Call,
    path_at: u64,
    op: impl FnOnce(&mut Vfs, &mut Files, &Caller, &[u8]) -> Result<u64>,
) -> Outcome {
    let path = match path(c, path_at) {
        Ok(path) => path,
        Err(errno) => return Outcome::err(errno),
    };
    done(with(c, |vfs, files, caller| op(vfs, files, caller, &path)))
}

/// `newfstatat(dirfd, path, buf, flags)` for every stat form.
fn stat_at(c: &mut Call, dirfd: i32, path_at: u64, buf: u64, flags: u32) -> Outcome {
    let path = match path(c, path_at) {
        Ok(path) => path,
        Err(errno) => return Outcome::err(errno),
    };
    match with(c, |vfs, files, caller| {
        vfs.fstatat(files, caller, dirfd, &path, flags)
    }) {
        Ok(Ok(stat)) => Outcome::from(c.write(buf, stat.encode()).map(|()| 0)),
        Ok(Err(error)) => Outcome::err(error.errno()),
        Err(errno) => Outcome::err(errno),
    }
}

/// `stat(path, buf)`.
pub fn stat(c: &mut Call) -> Outcome {
    stat_at(c, AT_FDCWD, c.arg(0), c.arg(1), 0)
}

/// `lstat(path, buf)`.
pub fn lstat(c: &mut Call) -> Outcome {
    stat_at(c, AT_FDCWD, c.arg(0), c.arg(1), AT_SYMLINK_NOFOLLOW)
}

/// `newfstatat(dirfd, path, buf, flags)`.
pub fn newfstatat(c: &mut Call) -> Outcome {
    stat_at(c, c.arg(0) as i32, c.arg(1), c.arg(2), c.arg(3) as u32)
}

/// `fstat(fd, buf)`.
pub fn fstat(c: &mut Call) -> Outcome {
    let (fd, buf) = (c.arg(0) as i32, c.arg(1));
    match with(c, |vfs, files, caller| vfs.fstat(files, caller, fd)) {
        Ok(Ok(stat)) => Outcome::from(c.write(buf, stat.encode()).map(|()| 0)),
        Ok(Err(error)) => Outcome::err(error.errno()),
        Err(errno) => Outcome::err(errno),
    }
}

/// `statx`: not offered; glibc then uses `newfstatat`.
pub fn statx(_c: &mut Call) -> Outcome {
    Outcome::err(ENOSYS)
}

/// `statfs(path, buf)`.
pub fn statfs(c: &mut Call) -> Outcome {
    let buf = c.arg(1);
    let path = match path(c, c.arg(0)) {
        Ok(path) => path,
        Err(errno) => return Outcome::err(errno),
    };
    match with(c, |vfs, files, caller| vfs.statfs(files, caller, &path)) {
        Ok(Ok(statfs)) => Outcome::from(c.write(buf, statfs.encode()).map(|()| 0)),
        Ok(Err(error)) => Outcome::err(error.errno()),
        Err(errno) => Outcome::err(errno),
    }
}

/// `fstatfs(fd, buf)`.
pub fn fstatfs(c: &mut Call) -> Outcome {
    let (fd, buf) = (c.arg(0) as i32, c.arg(1));
    match with(c, |vfs, files, _| vfs.fstatfs(files, fd)) {
        Ok(Ok(statfs)) => Outcome::from(c.write(buf, statfs.encode()).map(|()| 0)),
        Ok(Err(error)) => Outcome::err(error.errno()),
        Err(errno) => Outcome::err(errno),
    }
}

/// `access(path, mode)`.
pub fn access(c: &mut Call) -> Outcome {
    let mode = c.arg(1) as u32;
    at_path(c, c.arg(0), |vfs, files, caller, p| {
        vfs.faccessat(files, caller, AT_FDCWD, p, mode, 0)
            .map(|()| 0)
    })
}

/// `faccessat(dirfd, path, mode)`.
pub fn faccessat(c: &mut Call) -> Outcome {
    let (dirfd, mode) = (c.arg(0) as i32, c.arg(2) as u32);
    at_path(c, c.arg(1), |vfs, files, caller, p| {
        vfs.faccessat(files, caller, dirfd, p, mode, 0).map(|()| 0)
    })
}

/// `faccessat2(dirfd, path, mode, flags)`.
pub fn faccessat2(c: &mut Call) -> Outcome {
    let (dirfd, mode, flags) = (c.arg(0) as i32, c.arg(2) as u32, c.arg(3) as u32);
    at_path(c, c.arg(1), |vfs, files, caller, p| {
        vfs.faccessat(files, caller, dirfd, p, mode, flags)
            .map(|()| 0)
    })
}

/// `chmod(path, mode)`.
pub fn chmod(c: &mut Call) -> Outcome {
    let mode = c.arg(1) as u32;
    at_path(c, c.arg(0), |vfs, files, caller, p| {
        vfs.fchmodat(files, caller, AT_FDCWD, p, mode, 0)
            .map(|()| 0)
    })
}

/// `fchmod(fd, mode)`.
pub fn fchmod(c: &mut Call) -> Outcome {
    let (fd, mode) = (c.arg(0) as i32, c.arg(1) as u32);
    done(with(c, |vfs, files, caller| {
        vfs.fchmod(files, caller, fd, mode).map(|()| 0)
    }))
}

/// `fchmodat(dirfd, path, mode, flags)`.
pub fn fchmodat(c: &mut Call) -> Outcome {
    let (dirfd, mode, flags) = (c.arg(0) as i32, c.arg(2) as u32, c.arg(3) as u32);
    at_path(c, c.arg(1), |vfs, files, caller, p| {
        vfs.fchmodat(files, caller, dirfd, p, mode, flags)
            .map(|()| 0)
    })
}

/// `chown(path, uid, gid)`.
pub fn chown(c: &mut Call) -> Outcome {
    let (uid, gid) = (c.arg(1) as u32, c.arg(2) as u32);
    at_path(c, c.arg(0), |vfs, files, caller, p| {
        vfs.fchownat(files, caller, AT_FDCWD, p, uid, gid, 0)
            .map(|()| 0)
    })
}

/// `lchown(path, uid, gid)`.
pub fn lchown(c: &mut Call) -> Outcome {
    let (uid, gid) = (c.arg(1) as u32, c.arg(2) as u32);
    at_path(c, c.arg(0), |vfs, files, caller, p| {
        vfs.fchownat(files, caller, AT_FDCWD, p, uid, gid, AT_SYMLINK_NOFOLLOW)
            .map(|()| 0)
    })
}

/// `fchown(fd, uid, gid)`.
pub fn fchown(c: &mut Call) -> Outcome {
    let (fd, uid, gid) = (c.arg(0) as i32, c.arg(1) as u32, c.arg(2) as u32);
    done(with(c, |vfs, files, caller| {
        vfs.fchown(files, caller, fd, uid, gid).map(|()| 0)
    }))
}

/// `fchownat(dirfd, path, uid, gid, flags)`.
pub fn fchownat(c: &mut Call) -> Outcome {
    let (dirfd, uid, gid, flags) = (
        c.arg(0) as i32,
        c.arg(2) as u32,
        c.arg(3) as u32,
        c.arg(4) as u32,
    );
    at_path(c, c.arg(1), |vfs, files, caller, p| {
        vfs.fchownat(files, caller, dirfd, p, uid, gid, flags)
            .map(|()| 0)
    })
}

/// `truncate(path, length)`.
pub fn truncate(c: &mut Call) -> Outcome {
    let length = c.arg(1) as i64;
    at_path(c, c.arg(0), |vfs, files, caller, p| {
        vfs.truncate(files, caller, p, length).map(|()| 0)
    })
}

/// `ftruncate(fd, length)`.
pub fn ftruncate(c: &mut Call) -> Outcome {
    let (fd, length) = (c.arg(0) as i32, c.arg(1) as i64);
    done(with(c, |vfs, files, caller| {
        vfs.ftruncate(files, caller, fd, length).map(|()| 0)
    }))
}

/// Sets the times of `path` (`None`: of `dirfd`) to `times` (`None`: now).
fn set_times(
    c: &mut Call,
    dirfd: i32,
    path_at: u64,
    times: Option<[Timespec; 2]>,
    flags: u32,
) -> Outcome {
    let path = if path_at == 0 {
        None
    } else {
        match path(c, path_at) {
            Ok(path) => Some(path),
            Err(errno) => return Outcome::err(errno),
        }
    };
    done(with(c, |vfs, files, caller| {
        vfs.utimensat(files, caller, dirfd, path.as_deref(), times, flags)
            .map(|()| 0)
    }))
}

/// Reads two `struct timespec`s (`utimensat`) or, with `micro`, two
/// `struct timeval`s (`utimes`).
fn read_times(c: &Call, at: u64, micro: bool) -> core::result::Result<Option<[Timespec; 2]>, i64> {
    if at == 0 {
        return Ok(None);
    }
    let mut times = [Timespec::default(); 2];
    for (i, time) in times.iter_mut().enumerate() {
        let base = at + i as u64 * 16;
        let (sec, sub) = (c.read_u64(base)? as i64, c.read_u64(base + 8)? as i64);
        *time = if micro {
            if !(0..1_000_000).contains(&sub) {
                return Err(abide_linux::errno::EINVAL);
            }
            Timespec {
                sec,
                nsec: sub * 1000,
            }
        } else {
            Timespec { sec, nsec: sub }
        };
    }
    Ok(Some(times))
}

/// `utimensat(dirfd, path, times, flags)`.
pub fn utimensat(c: &mut Call) -> Outcome {
    let (dirfd, flags) = (c.arg(0) as i32, c.arg(3) as u32);
    match read_times(c, c.arg(2), false) {
        Ok(times) => set_times(c, dirfd, c.arg(1), times, flags),
        Err(errno) => Outcome::err(errno),
    }
}

/// `utimes(path, times)` (`timeval`s).
pub fn utimes(c: &mut Call) -> Outcome {
    match read_times(c, c.arg(1), true) {
        Ok(times) => set_times(c, AT_FDCWD, c.arg(0), times, 0),
        Err(errno) => Outcome::err(errno),
    }
}

/// `futimesat(dirfd, path, times)` (`timeval`s).
pub fn futimesat(c: &mut Call) -> Outcome {
    match read_times(c, c.arg(2), true) {
        Ok(times) => set_times(c, c.arg(0) as i32, c.arg(1), times, 0),
        Err(errno) => Outcome::err(errno),
    }
}

/// `utime(path, times)`: a `struct utimbuf` of two whole seconds.
pub fn utime(c: &mut Call) -> Outcome {
    let times = if c.arg(1) == 0 {
        None
    } else {
        match (c.read_u64(c.arg(1)), c.read_u64(c.arg(1) + 8)) {
            (Ok(atime), Ok(mtime)) => Some([
                Timespec {
                    sec: atime as i64,
                    nsec: 0,
                },
                Timespec {
                    sec: mtime as i64,
                    nsec: 0,
                },
            ]),
            _ => return Outcome::err(EFAULT),
        }
    };
    set_times(c, AT_FDCWD, c.arg(0), times, 0)
}
