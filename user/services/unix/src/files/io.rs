//! Reading and writing descriptors: `read`, `write`, `readv`, `writev`,
//! `pread64`, `pwrite64`, `preadv`, `pwritev`, `lseek`, `sendfile`,
//! `getdents64`. Pipes that cannot go on park the call on the pipe
//! ([`super::fs::outcome`]); a write to a pipe with no reader raises
//! `SIGPIPE`; the terminal's reads and writes go to [`super::device`].

use alloc::vec;
use alloc::vec::Vec;

use abide_linux::errno::{EFAULT, EINVAL, EPIPE};
use abide_vfs::Error;

use super::device;
use super::fs::{outcome, wake, with, ANY_IO};
use crate::call::{Call, Outcome};

/// The most bytes one read or write moves (a larger count is cut, as
/// Linux cuts at `MAX_RW_COUNT`).
const MAX_IO: usize = 1 << 20;
/// The most `iovec`s a vector call takes (`IOV_MAX`).
const IOV_MAX: u64 = 1024;

/// Where a read or write is: the descriptor's offset or an explicit one.
#[derive(Clone, Copy)]
enum At {
    Offset,
    Explicit(i64),
}

/// Reads `fd` (at `at`) into `data`: what the read gave, and the wait key
/// of `fd` (a pipe's inode, else [`ANY_IO`]).
fn read_vfs(
    c: &mut Call,
    fd: i32,
    data: &mut [u8],
    at: At,
) -> Result<(Result<usize, Error>, u64), i64> {
    with(c, |vfs, files, caller| {
        let key = vfs.wait_key(files, fd).ok().flatten().unwrap_or(ANY_IO);
        let got = match at {
            At::Offset => vfs.read(files, caller, fd, data),
            At::Explicit(offset) => vfs.pread(files, caller, fd, data, offset),
        };
        (got, key)
    })
}

/// Reads up to `count` bytes of `fd` (at `at`) into the caller's `buf`.
fn read_into(c: &mut Call, fd: i32, buf: u64, count: usize, at: At) -> Outcome {
    let mut data = vec![0u8; count.min(MAX_IO)];
    let (got, key) = match read_vfs(c, fd, &mut data, at) {
        Ok(pair) => pair,
        Err(errno) => return Outcome::err(errno),
    };
    match got {
        Ok(n) => {
            if c.write(buf, data.get(..n).unwrap_or_default()).is_err() {
                return Outcome::err(EFAULT);
            }
            if key != ANY_IO {
                wake(c.unix, key);
            }
            Outcome::Done(n as i64)
        }
        Err(Error::Device(dev)) => device::read(c, dev, buf, count),
        Err(error) => outcome(Err(error), key),
    }
}

/// Writes `bytes` to `fd` (at `at`).
fn write_from(c: &mut Call, fd: i32, bytes: &[u8], at: At) -> Outcome {
    let result = with(c, |vfs, files, caller| {
        let key = vfs.wait_key(files, fd).ok().flatten().unwrap_or(ANY_IO);
        let put = match at {
            At::Offset => vfs.write(files, caller, fd, bytes),
            At::Explicit(offset) => vfs.pwrite(files, caller, fd, bytes, offset),
        };
        (put, key)
    });
    let (put, key) = match result {
        Ok(pair) => pair,
        Err(errno) => return Outcome::err(errno),
    };
    match put {
        Ok(n) => {
            if key != ANY_IO {
                wake(c.unix, key);
            }
            Outcome::Done(n as i64)
        }
        Err(Error::Device(dev)) => device::write(c, dev, bytes),
        Err(Error::Errno(EPIPE)) => {
            crate::signal::send_thread(c.unix, c.tid, abide_linux::signal::SIGPIPE);
            Outcome::err(EPIPE)
        }
        Err(error) => outcome(Err(error), key),
    }
}

/// `read(fd, buf, count)`.
pub fn read(c: &mut Call) -> Outcome {
    read_into(c, c.arg(0) as i32, c.arg(1), c.arg(2) as usize, At::Offset)
}

/// `write(fd, buf, count)`.
pub fn write(c: &mut Call) -> Outcome {
    let Ok(bytes) = c.read(c.arg(1), (c.arg(2) as usize).min(MAX_IO)) else {
        return Outcome::err(EFAULT);
    };
    write_from(c, c.arg(0) as i32, &bytes, At::Offset)
}

/// `pread64(fd, buf, count, offset)`.
pub fn pread64(c: &mut Call) -> Outcome {
    read_into(
        c,
        c.arg(0) as i32,
        c.arg(1),
        c.arg(2) as usize,
        At::Explicit(c.arg(3) as i64),
    )
}

/// `pwrite64(fd, buf, count, offset)`.
pub fn pwrite64(c: &mut Call) -> Outcome {
    let Ok(bytes) = c.read(c.arg(1), (c.arg(2) as usize).min(MAX_IO)) else {
        return Outcome::err(EFAULT);
    };
    write_from(c, c.arg(0) as i32, &bytes, At::Explicit(c.arg(3) as i64))
}

/// The caller's `iovec` array at `iov`: (base, length) pairs.
fn iovecs(c: &Call, iov: u64, count: u64) -> Result<Vec<(u64, usize)>, i64> {
    if count > IOV_MAX {
        return Err(EINVAL);
    }
    let mut out = Vec::new();
    for i in 0..count {
        let base = c.read_u64(iov + i * 16)?;
        let len = c.read_u64(iov + i * 16 + 8)?;
        out.push((base, usize::try_from(len).map_err(|_| EINVAL)?));
    }
    Ok(out)
}

/// `readv` and `preadv`: one read of the total, spread over the buffers.
fn readv_at(c: &mut Call, at: At) -> Outcome {
    let fd = c.arg(0) as i32;
    let vecs = match iovecs(c, c.arg(1), c.arg(2)) {
        Ok(vecs) => vecs,
        Err(errno) => return Outcome::err(errno),
    };
    let total: usize = vecs.iter().map(|&(_, len)| len).sum::<usize>().min(MAX_IO);
    // Read into the first buffer when it is the only one (the usual case),
    // else through a bounce buffer spread afterwards.
    if let [(base, len)] = vecs.as_slice() {
        return read_into(c, fd, *base, *len, at);
    }
    let mut data = vec![0u8; total];
    let (got, key) = match read_vfs(c, fd, &mut data, at) {
        Ok(pair) => pair,
        Err(errno) => return Outcome::err(errno),
    };
    let n = match got {
        Ok(n) => n,
        Err(Error::Device(dev)) => {
            let (base, len) = vecs
                .iter()
                .copied()
                .find(|&(_, len)| len > 0)
                .unwrap_or((0, 0));
            return device::read(c, dev, base, len);
        }
        Err(error) => return outcome(Err(error), key),
    };
    let mut rest = data.get(..n).unwrap_or_default();
    for (base, len) in vecs {
        let (now, later) = rest.split_at(len.min(rest.len()));
        if c.write(base, now).is_err() {
            return Outcome::err(EFAULT);
        }
        rest = later;
        if rest.is_empty() {
            break;
        }
    }
    if key != ANY_IO {
        wake(c.unix, key);
    }
    Outcome::Done(n as i64)
}

/// `writev` and `pwritev`: the buffers gathered into one write.
fn writev_at(c: &mut Call, at: At) -> Outcome {
    let vecs = match iovecs(c, c.arg(1), c.arg(2)) {
        Ok(vecs) => vecs,
        Err(errno) => return Outcome::err(errno),
    };
    let mut bytes = Vec::new();
    for (base, len) in vecs {
        let len = len.min(MAX_IO - bytes.len());
        match c.read(base, len) {
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(_) => return Outcome::err(EFAULT),
        }
    }
    write_from(c, c.arg(0) as i32, &bytes, at)
}

/// `readv(fd, iov, iovcnt)`.
pub fn readv(c: &mut Call) -> Outcome {
    readv_at(c, At::Offset)
}

/// `writev(fd, iov, iovcnt)`.
pub fn writev(c: &mut Call) -> Outcome {
    writev_at(c, At::Offset)
}

/// `preadv(fd, iov, iovcnt, offset)`.
pub fn preadv(c: &mut Call) -> Outcome {
    readv_at(c, At::Explicit(c.arg(3) as i64))
}

/// `pwritev(fd, iov, iovcnt, offset)`.
pub fn pwritev(c: &mut Call) -> Outcome {
    writev_at(c, At::Explicit(c.arg(3) as i64))
}

/// `lseek(fd, offset, whence)`.
pub fn lseek(c: &mut Call) -> Outcome {
    let (fd, offset, whence) = (c.arg(0) as i32, c.arg(1) as i64, c.arg(2) as u32);
    super::fs::done(with(c, |vfs, files, _| {
        vfs.lseek(files, fd, offset, whence)
    }))
}

/// `getdents64(fd, dirp, count)`.
pub fn getdents64(c: &mut Call) -> Outcome {
    let (fd, dirp, count) = (c.arg(0) as i32, c.arg(1), (c.arg(2) as usize).min(MAX_IO));
    let mut buf = vec![0u8; count];
    let got = with(c, |vfs, files, caller| {
        vfs.getdents64(files, caller, fd, &mut buf)
    });
    match got {
        Ok(Ok(n)) => match c.write(dirp, buf.get(..n).unwrap_or_default()) {
            Ok(()) => Outcome::Done(n as i64),
            Err(errno) => Outcome::err(errno),
        },
        Ok(Err(error)) => Outcome::err(error.errno()),
        Err(errno) => Outcome::err(errno),
    }
}

/// `sendfile(out_fd, in_fd, offset, count)`: within the file systems by
/// `lib/vfs`; to or from the terminal as a read and a write.
pub fn sendfile(c: &mut Call) -> Outcome {
    let (out_fd, in_fd, offset_at, count) = (
        c.arg(0) as i32,
        c.arg(1) as i32,
        c.arg(2),
        c.arg(3) as usize,
    );
    let offset = if offset_at == 0 {
        None
    } else {
        match c.read_u64(offset_at) {
            Ok(offset) => Some(offset as i64),
            Err(errno) => return Outcome::err(errno),
        }
    };
    let result = with(c, |vfs, files, caller| {
        let key = vfs.wait_key(files, out_fd).ok().flatten().unwrap_or(ANY_IO);
        (
            vfs.sendfile(files, caller, out_fd, in_fd, offset, count),
            key,
        )
    });
    let (sent, key) = match result {
        Ok(pair) => pair,
        Err(errno) => return Outcome::err(errno),
    };
    match sent {
        Ok((n, new_offset)) => {
            if let (true, Some(new)) = (offset_at != 0, new_offset) {
                if c.write_u64(offset_at, new as u64).is_err() {
                    return Outcome::err(EFAULT);
                }
            }
            if key != ANY_IO {
                wake(c.unix, key);
            }
            Outcome::Done(n as i64)
        }
        Err(Error::Device(_)) => sendfile_through(c, out_fd, in_fd, offset_at, offset, count),
        Err(Error::Errno(EPIPE)) => {
            crate::signal::send_thread(c.unix, c.tid, abide_linux::signal::SIGPIPE);
            Outcome::err(EPIPE)
        }
        Err(error) => outcome(Err(error), key),
    }
}

/// `sendfile` with the terminal at one end: one read, then one write.
fn sendfile_through(
    c: &mut Call,
    out_fd: i32,
    in_fd: i32,
    offset_at: u64,
    offset: Option<i64>,
    count: usize,
) -> Outcome {
    let mut data = vec![0u8; count.min(64 * 1024)];
    let got = with(c, |vfs, files, caller| match offset {
        Some(at) => vfs.pread(files, caller, in_fd, &mut data, at),
        None => vfs.read(files, caller, in_fd, &mut data),
    });
    let n = match got {
        Ok(Ok(n)) => n,
        // From the terminal: Linux refuses it too (no `splice_read`).
        Ok(Err(Error::Device(_))) => return Outcome::err(EINVAL),
        Ok(Err(error)) => return outcome(Err(error), ANY_IO),
        Err(errno) => return Outcome::err(errno),
    };
    let bytes = data.get(..n).unwrap_or_default().to_vec();
    let written = write_from(c, out_fd, &bytes, At::Offset);
    if let (Some(at), Outcome::Done(put)) = (offset, written) {
        if put >= 0 && c.write_u64(offset_at, (at + put) as u64).is_err() {
            return Outcome::err(EFAULT);
        }
    }
    written
}
