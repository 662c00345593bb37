//! Descriptor calls: `open`, `openat`, `creat`, `close`, `close_range`,
//! `pipe`, `pipe2`, `dup`, `dup2`, `dup3`, `fcntl`, `ioctl` (the
//! terminal's go to [`crate::tty`]), the syncs (`sync`, `fsync`,
//! `fdatasync`, `syncfs`: a checkpoint) and the calls that only check a
//! descriptor here (`flock`, `fadvise64`).

use abide_abi::syscall::Error;
use abide_linux::errno::{EBADF, EINVAL, EIO, ENOTTY, EOPNOTSUPP};
use abide_linux::fs::at::AT_FDCWD;
use abide_linux::fs::fcntl::{F_GETLK, F_SETFD, F_SETLK, F_SETLKW};
use abide_linux::fs::open::{O_CREAT, O_TRUNC, O_WRONLY};
use abide_rt::syscall;

use super::fs::{done, path, with};
use crate::call::{Call, Outcome, WaitOn};

/// `F_GETOWN`, `F_SETOWN`, the open-file-description locks and the pipe
/// size commands, answered here.
const F_SETOWN: u32 = 8;
const F_GETOWN: u32 = 9;
const F_OFD_GETLK: u32 = 36;
const F_OFD_SETLK: u32 = 37;
const F_OFD_SETLKW: u32 = 38;
const F_SETPIPE_SZ: u32 = 1031;
const F_GETPIPE_SZ: u32 = 1032;
/// `struct flock`'s `l_type` "no lock".
const F_UNLCK: u16 = 2;
/// `ioctl`s on any descriptor: close-on-exec on and off.
const FIONCLEX: u64 = 0x5450;
const FIOCLEX: u64 = 0x5451;
/// `close_range` flag: mark close-on-exec instead of closing.
const CLOSE_RANGE_CLOEXEC: u64 = 4;

/// Wakes every call parked on a pipe or a poll: a close may have ended
/// a pipe's last reader or writer.
fn closed(c: &mut Call) {
    c.unix.wake_matching(|on| matches!(on, WaitOn::Io(_)));
}

/// `openat(dirfd, path, flags, mode)` for the three open calls.
fn open_at(c: &mut Call, dirfd: i32, path_at: u64, flags: u32, mode: u32) -> Outcome {
    let path = match path(c, path_at) {
        Ok(path) => path,
        Err(errno) => return Outcome::err(errno),
    };
    let result = with(c, |vfs, files, caller| {
        vfs.openat(files, caller, dirfd, &path, flags, mode)
            .map(|fd| fd as u64)
    });
    // Opening a FIFO end may be what its peer waits for.
    closed(c);
    done(result)
}

/// `open(path, flags, mode)`.
pub fn open(c: &mut Call) -> Outcome {
    open_at(c, AT_FDCWD, c.arg(0), c.arg(1) as u32, c.arg(2) as u32)
}

/// `openat(dirfd, path, flags, mode)`.
pub fn openat(c: &mut Call) -> Outcome {
    open_at(
        c,
        c.arg(0) as i32,
        c.arg(1),
        c.arg(2) as u32,
        c.arg(3) as u32,
    )
}

/// `creat(path, mode)`.
pub fn creat(c: &mut Call) -> Outcome {
    open_at(
        c,
        AT_FDCWD,
        c.arg(0),
        O_CREAT | O_WRONLY | O_TRUNC,
        c.arg(1) as u32,
    )
}

/// `close(fd)`.
pub fn close(c: &mut Call) -> Outcome {
    let fd = c.arg(0) as i32;
    let result = with(c, |vfs, files, _| vfs.close(files, fd).map(|()| 0));
    closed(c);
    done(result)
}

/// `close_range(first, last, flags)`.
pub fn close_range(c: &mut Call) -> Outcome {
    let (first, last, flags) = (c.arg(0), c.arg(1), c.arg(2));
    if first > last || flags & !CLOSE_RANGE_CLOEXEC != 0 {
        return Outcome::err(EINVAL);
    }
    let result = with(c, |vfs, files, _| {
        let fds: alloc::vec::Vec<i32> = files
            .open_fds()
            .filter(|&fd| (first..=last).contains(&(fd as u64)))
            .collect();
        for fd in fds {
            let _ = if flags & CLOSE_RANGE_CLOEXEC != 0 {
                vfs.fcntl(files, fd, F_SETFD, 1).map(|_| ())
            } else {
                vfs.close(files, fd)
            };
        }
        Ok(0)
    });
    closed(c);
    done(result)
}

/// `pipe2(fds, flags)` and `pipe(fds)`.
fn make_pipe(c: &mut Call, fds_at: u64, flags: u32) -> Outcome {
    let result = with(c, |vfs, files, caller| vfs.pipe2(files, caller, flags));
    let (read_fd, write_fd) = match result {
        Ok(Ok(pair)) => pair,
        Ok(Err(error)) => return Outcome::err(error.errno()),
        Err(errno) => return Outcome::err(errno),
    };
    let mut bytes = [0u8; 8];
    bytes[..4].copy_from_slice(&read_fd.to_le_bytes());
    bytes[4..].copy_from_slice(&write_fd.to_le_bytes());
    if let Err(errno) = c.write(fds_at, &bytes) {
        let _ = with(c, |vfs, files, _| {
            let _ = vfs.close(files, read_fd);
            let _ = vfs.close(files, write_fd);
        });
        return Outcome::err(errno);
    }
    Outcome::Done(0)
}

/// `pipe(fds)`.
pub fn pipe(c: &mut Call) -> Outcome {
    make_pipe(c, c.arg(0), 0)
}

/// `pipe2(fds, flags)`.
pub fn pipe2(c: &mut Call) -> Outcome {
    make_pipe(c, c.arg(0), c.arg(1) as u32)
}

/// `dup(fd)`.
pub fn dup(c: &mut Call) -> Outcome {
    let fd = c.arg(0) as i32;
    done(with(c, |vfs, files, _| {
        vfs.dup(files, fd).map(|fd| fd as u64)
    }))
}

/// `dup2(old, new)`.
pub fn dup2(c: &mut Call) -> Outcome {
    let (old, new) = (c.arg(0) as i32, c.arg(1) as i32);
    let result = with(c, |vfs, files, _| {
        vfs.dup2(files, old, new).map(|fd| fd as u64)
    });
    closed(c);
    done(result)
}

/// `dup3(old, new, flags)`.
pub fn dup3(c: &mut Call) -> Outcome {
    let (old, new, flags) = (c.arg(0) as i32, c.arg(1) as i32, c.arg(2) as u32);
    let result = with(c, |vfs, files, _| {
        vfs.dup3(files, old, new, flags).map(|fd| fd as u64)
    });
    closed(c);
    done(result)
}

/// `fcntl(fd, cmd, arg)`: descriptors and flags by `lib/vfs`; locks
/// always granted (one machine, and programs here do not share files
/// with anyone else's); owners and pipe sizes fixed.
pub fn fcntl(c: &mut Call) -> Outcome {
    let (fd, cmd, arg) = (c.arg(0) as i32, c.arg(1) as u32, c.arg(2));
    let valid = with(c, |vfs, files, _| vfs.status_flags(files, fd));
    match valid {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => return Outcome::err(error.errno()),
        Err(errno) => return Outcome::err(errno),
    }
    match cmd {
        F_GETLK | F_OFD_GETLK => Outcome::from(c.write(arg, &F_UNLCK.to_le_bytes()).map(|()| 0)),
        F_SETLK | F_SETLKW | F_OFD_SETLK | F_OFD_SETLKW | F_SETOWN => Outcome::Done(0),
        F_GETOWN => Outcome::Done(0),
        F_GETPIPE_SZ | F_SETPIPE_SZ => Outcome::Done(abide_vfs::PIPE_CAPACITY as i64),
        _ => done(with(c, |vfs, files, _| {
            vfs.fcntl(files, fd, cmd, arg).map(|value| value as u64)
        })),
    }
}

/// `ioctl(fd, request, arg)`: the terminal's to [`crate::tty::ioctl`];
/// `FIOCLEX`/`FIONCLEX` on any descriptor; others are not a terminal.
pub fn ioctl(c: &mut Call) -> Outcome {
    let (fd, request) = (c.arg(0) as i32, c.arg(1));
    let device = match with(c, |vfs, files, _| vfs.device(files, fd)) {
        Ok(Ok(device)) => device,
        Ok(Err(error)) => return Outcome::err(error.errno()),
        Err(errno) => return Outcome::err(errno),
    };
    match request {
        FIOCLEX | FIONCLEX => {
            let flag = u64::from(request == FIOCLEX);
            done(with(c, |vfs, files, _| {
                vfs.fcntl(files, fd, F_SETFD, flag).map(|_| 0)
            }))
        }
        _ if device.is_some_and(|device| device.served_by_component()) => crate::tty::ioctl(c),
        _ => Outcome::err(ENOTTY),
    }
}

/// Checks `fd` is open: the answer of calls with nothing more to do.
fn check_fd(c: &mut Call) -> Outcome {
    let fd = c.arg(0) as i32;
    match with(c, |_, files, _| files.is_open(fd)) {
        Ok(true) => Outcome::Done(0),
        Ok(false) => Outcome::err(EBADF),
        Err(errno) => Outcome::err(errno),
    }
}

/// `fsync(fd)`: the file systems live in this component's memory, which
/// Abide's checkpoints keep; a sync commits one now ([`commit`]).
pub fn fsync(c: &mut Call) -> Outcome {
    match check_fd(c) {
        Outcome::Done(_) => commit(c),
        other => other,
    }
}

/// `fdatasync(fd)`: as `fsync`.
pub fn fdatasync(c: &mut Call) -> Outcome {
    fsync(c)
}

/// `syncfs(fd)`: as `fsync`.
pub fn syncfs(c: &mut Call) -> Outcome {
    fsync(c)
}

/// `sync()`: as `fsync`, for every file.
pub fn sync(c: &mut Call) -> Outcome {
    commit(c)
}

/// Commits a checkpoint holding everything done so far (Abide's `sync`,
/// through the component's `checkpoint` device), so what the caller wrote
/// survives a power cut. The whole component waits for the commit: the
/// calls are rare and the commit takes milliseconds. Without the device
/// or a store there is nothing to commit to and the call succeeds, as a
/// sync on a RAM file system does on Linux; a store that fails is `EIO`.
fn commit(c: &mut Call) -> Outcome {
    let Some(device) = c.unix.checkpoint else {
        return Outcome::Done(0);
    };
    match syscall::persist_sync(device) {
        Ok(_) | Err(Error::Unavailable) => Outcome::Done(0),
        Err(_) => Outcome::err(EIO),
    }
}

/// `flock(fd, operation)`: always granted.
pub fn flock(c: &mut Call) -> Outcome {
    check_fd(c)
}

/// `fadvise64(fd, offset, len, advice)`: advice taken, nothing to do.
pub fn fadvise64(c: &mut Call) -> Outcome {
    check_fd(c)
}

/// `fallocate(fd, mode, offset, len)`: not offered (`EOPNOTSUPP`; programs
/// fall back to writing).
pub fn fallocate(_c: &mut Call) -> Outcome {
    Outcome::err(EOPNOTSUPP)
}
