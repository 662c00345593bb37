//! The calls on names: `mkdir`, `rmdir`, `unlink`, `rename`, `link`,
//! `symlink`, `readlink`, `mknod` (and their `*at` forms), `chdir`,
//! `fchdir`, `getcwd`, `umask`.

use alloc::vec::Vec;

use abide_linux::errno::{EINVAL, ERANGE};
use abide_linux::fs::at::{AT_FDCWD, AT_REMOVEDIR};
use abide_vfs::{Caller, Files, Result, Vfs};

use super::fs::{done, path, with};
use crate::call::{Call, Outcome};

/// Runs `op` with the path arguments at `paths` read from the caller.
fn with_paths<const N: usize>(
    c: &mut Call,
    paths: [u64; N],
    op: impl FnOnce(&mut Vfs, &mut Files, &Caller, [&[u8]; N]) -> Result<u64>,
) -> Outcome {
    let mut read: Vec<Vec<u8>> = Vec::new();
    for at in paths {
        match path(c, at) {
            Ok(bytes) => read.push(bytes),
            Err(errno) => return Outcome::err(errno),
        }
    }
    let args: [&[u8]; N] = core::array::from_fn(|i| read.get(i).map_or(&[][..], |p| p.as_slice()));
    done(with(c, |vfs, files, caller| op(vfs, files, caller, args)))
}

/// `mkdir(path, mode)`.
pub fn mkdir(c: &mut Call) -> Outcome {
    let mode = c.arg(1) as u32;
    with_paths(c, [c.arg(0)], |vfs, files, caller, [p]| {
        vfs.mkdirat(files, caller, AT_FDCWD, p, mode).map(|()| 0)
    })
}

/// `mkdirat(dirfd, path, mode)`.
pub fn mkdirat(c: &mut Call) -> Outcome {
    let (dirfd, mode) = (c.arg(0) as i32, c.arg(2) as u32);
    with_paths(c, [c.arg(1)], |vfs, files, caller, [p]| {
        vfs.mkdirat(files, caller, dirfd, p, mode).map(|()| 0)
    })
}

/// `rmdir(path)`.
pub fn rmdir(c: &mut Call) -> Outcome {
    with_paths(c, [c.arg(0)], |vfs, files, caller, [p]| {
        vfs.unlinkat(files, caller, AT_FDCWD, p, AT_REMOVEDIR)
            .map(|()| 0)
    })
}

/// `unlink(path)`.
pub fn unlink(c: &mut Call) -> Outcome {
    with_paths(c, [c.arg(0)], |vfs, files, caller, [p]| {
        vfs.unlinkat(files, caller, AT_FDCWD, p, 0).map(|()| 0)
    })
}

/// `unlinkat(dirfd, path, flags)`.
pub fn unlinkat(c: &mut Call) -> Outcome {
    let (dirfd, flags) = (c.arg(0) as i32, c.arg(2) as u32);
    with_paths(c, [c.arg(1)], |vfs, files, caller, [p]| {
        vfs.unlinkat(files, caller, dirfd, p, flags).map(|()| 0)
    })
}

/// `rename(old, new)`.
pub fn rename(c: &mut Call) -> Outcome {
    with_paths(c, [c.arg(0), c.arg(1)], |vfs, files, caller, [old, new]| {
        vfs.renameat2(files, caller, AT_FDCWD, old, AT_FDCWD, new, 0)
            .map(|()| 0)
    })
}

/// `renameat(olddirfd, old, newdirfd, new)`.
pub fn renameat(c: &mut Call) -> Outcome {
    let (olddir, newdir) = (c.arg(0) as i32, c.arg(2) as i32);
    with_paths(c, [c.arg(1), c.arg(3)], |vfs, files, caller, [old, new]| {
        vfs.renameat2(files, caller, olddir, old, newdir, new, 0)
            .map(|()| 0)
    })
}

/// `renameat2(olddirfd, old, newdirfd, new, flags)`.
pub fn renameat2(c: &mut Call) -> Outcome {
    let (olddir, newdir, flags) = (c.arg(0) as i32, c.arg(2) as i32, c.arg(4) as u32);
    with_paths(c, [c.arg(1), c.arg(3)], |vfs, files, caller, [old, new]| {
        vfs.renameat2(files, caller, olddir, old, newdir, new, flags)
            .map(|()| 0)
    })
}

/// `link(old, new)`.
pub fn link(c: &mut Call) -> Outcome {
    with_paths(c, [c.arg(0), c.arg(1)], |vfs, files, caller, [old, new]| {
        vfs.linkat(files, caller, AT_FDCWD, old, AT_FDCWD, new, 0)
            .map(|()| 0)
    })
}

/// `linkat(olddirfd, old, newdirfd, new, flags)` (an empty `old` with
/// `AT_EMPTY_PATH` is read as such).
pub fn linkat(c: &mut Call) -> Outcome {
    let (olddir, newdir, flags) = (c.arg(0) as i32, c.arg(2) as i32, c.arg(4) as u32);
    with_paths(c, [c.arg(1), c.arg(3)], |vfs, files, caller, [old, new]| {
        vfs.linkat(files, caller, olddir, old, newdir, new, flags)
            .map(|()| 0)
    })
}

/// `symlink(target, path)`.
pub fn symlink(c: &mut Call) -> Outcome {
    with_paths(
        c,
        [c.arg(0), c.arg(1)],
        |vfs, files, caller, [target, p]| {
            vfs.symlinkat(files, caller, target, AT_FDCWD, p)
                .map(|()| 0)
        },
    )
}

/// `symlinkat(target, dirfd, path)`.
pub fn symlinkat(c: &mut Call) -> Outcome {
    let dirfd = c.arg(1) as i32;
    with_paths(
        c,
        [c.arg(0), c.arg(2)],
        |vfs, files, caller, [target, p]| {
            vfs.symlinkat(files, caller, target, dirfd, p).map(|()| 0)
        },
    )
}

/// `readlinkat(dirfd, path, buf, size)` for both forms.
fn read_link(c: &mut Call, dirfd: i32, path_at: u64, buf: u64, size: u64) -> Outcome {
    if (size as i64) <= 0 {
        return Outcome::err(EINVAL);
    }
    let path = match path(c, path_at) {
        Ok(path) => path,
        Err(errno) => return Outcome::err(errno),
    };
    let target = match with(c, |vfs, files, caller| {
        vfs.readlinkat(files, caller, dirfd, &path)
    }) {
        Ok(Ok(target)) => target,
        Ok(Err(error)) => return Outcome::err(error.errno()),
        Err(errno) => return Outcome::err(errno),
    };
    let cut = target
        .get(..target.len().min(size as usize))
        .unwrap_or_default();
    Outcome::from(c.write(buf, cut).map(|()| cut.len() as u64))
}

/// `readlink(path, buf, size)`.
pub fn readlink(c: &mut Call) -> Outcome {
    read_link(c, AT_FDCWD, c.arg(0), c.arg(1), c.arg(2))
}

/// `readlinkat(dirfd, path, buf, size)`.
pub fn readlinkat(c: &mut Call) -> Outcome {
    read_link(c, c.arg(0) as i32, c.arg(1), c.arg(2), c.arg(3))
}

/// `mknod(path, mode, dev)`.
pub fn mknod(c: &mut Call) -> Outcome {
    let (mode, dev) = (c.arg(1) as u32, c.arg(2));
    with_paths(c, [c.arg(0)], |vfs, files, caller, [p]| {
        vfs.mknodat(files, caller, AT_FDCWD, p, mode, dev)
            .map(|()| 0)
    })
}

/// `mknodat(dirfd, path, mode, dev)`.
pub fn mknodat(c: &mut Call) -> Outcome {
    let (dirfd, mode, dev) = (c.arg(0) as i32, c.arg(2) as u32, c.arg(3));
    with_paths(c, [c.arg(1)], |vfs, files, caller, [p]| {
        vfs.mknodat(files, caller, dirfd, p, mode, dev).map(|()| 0)
    })
}

/// `chdir(path)`.
pub fn chdir(c: &mut Call) -> Outcome {
    with_paths(c, [c.arg(0)], |vfs, files, caller, [p]| {
        vfs.chdir(files, caller, p).map(|()| 0)
    })
}

/// `fchdir(fd)`.
pub fn fchdir(c: &mut Call) -> Outcome {
    let fd = c.arg(0) as i32;
    done(with(c, |vfs, files, caller| {
        vfs.fchdir(files, caller, fd).map(|()| 0)
    }))
}

/// `getcwd(buf, size)`: the length with its NUL.
pub fn getcwd(c: &mut Call) -> Outcome {
    let (buf, size) = (c.arg(0), c.arg(1) as usize);
    let mut cwd = match with(c, |vfs, files, _| vfs.getcwd(files)) {
        Ok(Ok(cwd)) => cwd,
        Ok(Err(error)) => return Outcome::err(error.errno()),
        Err(errno) => return Outcome::err(errno),
    };
    cwd.push(0);
    if cwd.len() > size {
        return Outcome::err(ERANGE);
    }
    Outcome::from(c.write(buf, &cwd).map(|()| cwd.len() as u64))
}

/// `umask(mask)`: the old mask.
pub fn umask(c: &mut Call) -> Outcome {
    let mask = c.arg(0) as u32;
    Outcome::from(with(c, |_, files, _| Vfs::umask(files, mask) as u64))
}
