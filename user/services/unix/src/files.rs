//! File calls (engineer `vfs` fills this module with `lib/vfs`): open,
//! read, write, pipes, directories, `fcntl`, `poll`, ... Every call the
//! conformance README lists is routed here by [`crate::dispatch`]; until
//! the VFS is wired, they answer `ENOSYS`, except what a first program
//! needs: writes to descriptors 1 and 2 go to the debug console, and
//! programs are read straight from the `rootfs` archive.
//!
//! The interface the rest of the component uses: [`Files`] (a process's
//! descriptor table: [`Files::console`], [`Files::fork`], [`Files::exec`],
//! [`Files::close_all`]), [`program`] (an executable's bytes for `execve`)
//! and [`read_for_mmap`] (a file mapping's bytes).

use alloc::string::String;
use alloc::vec::Vec;

use abide_linux::errno::{EBADF, EFAULT, ELOOP, ENODEV, ENOENT, ENOSYS};
use abide_rt::syscall;
use abide_unix::table::Pid;
use abide_vfs::tar::{self, EntryKind};

use crate::call::{Call, Outcome};
use crate::unix::Unix;

/// A process's open files (placeholder for `abide_vfs::Files`).
#[derive(Debug, Clone, Default)]
pub struct Files;

impl Files {
    /// The descriptors of a process the session starts: 0, 1 and 2 on the
    /// console.
    pub fn console() -> Files {
        Files
    }

    /// The child's copy at `fork`.
    pub fn fork(&self) -> Files {
        self.clone()
    }

    /// `execve`: close-on-exec descriptors close.
    pub fn exec(&mut self) {}

    /// The process ended: every descriptor closes (pipe ends wake their
    /// peers).
    pub fn close_all(self, unix: &mut Unix) {
        let _ = unix;
    }
}

/// The bytes of the program at `path` for process `pid`, and its path with
/// symbolic links resolved. Reads the `rootfs` archive until the VFS is
/// wired.
pub fn program(unix: &mut Unix, pid: Pid, path: &str) -> Result<(String, Vec<u8>), i64> {
    let _ = (unix, pid);
    let archive = syscall::bundle_read(abide_abi::host::ROOTFS_ARCHIVE).map_err(|_| ENOENT)?;
    let entries = tar::entries(&archive).map_err(|_| ENOENT)?;
    let mut path = String::from(path);
    if path == "/proc/self/exe" {
        path = String::from("/bin/busybox");
    }
    for _ in 0..8 {
        let wanted = path.trim_start_matches('/').trim_start_matches("./");
        let entry = entries
            .iter()
            .find(|e| {
                let path = e.path();
                let path = path.strip_prefix(b"./").unwrap_or(&path);
                path.strip_suffix(b"/").unwrap_or(path) == wanted.as_bytes()
            })
            .ok_or(ENOENT)?;
        match &entry.kind {
            EntryKind::File => return Ok((path, entry.data.to_vec())),
            EntryKind::Symlink(target) => {
                let target = String::from_utf8_lossy(target).into_owned();
                path = if target.starts_with('/') {
                    target
                } else {
                    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
                    alloc::format!("{dir}/{target}")
                };
            }
            _ => return Err(abide_linux::errno::EACCES),
        }
    }
    Err(ELOOP)
}

/// The bytes of `len` bytes of file `fd` at `offset` (zero-padded past
/// its end), for a private file mapping.
pub fn read_for_mmap(
    unix: &mut Unix,
    pid: Pid,
    fd: i32,
    offset: u64,
    len: u64,
) -> Result<Vec<u8>, i64> {
    let _ = (unix, pid, offset, len);
    if fd < 0 {
        return Err(EBADF);
    }
    Err(ENODEV)
}

/// `write(fd, buf, count)`: 1 and 2 to the debug console for now.
pub fn write(c: &mut Call) -> Outcome {
    let (fd, buf, count) = (c.arg(0), c.arg(1), c.arg(2) as usize);
    if fd != 1 && fd != 2 {
        return Outcome::err(EBADF);
    }
    let Ok(bytes) = c.read(buf, count.min(1 << 20)) else {
        return Outcome::err(EFAULT);
    };
    let _ = syscall::debug_write(&bytes);
    Outcome::Done(bytes.len() as i64)
}

/// `writev(fd, iov, iovcnt)`: 1 and 2 to the debug console for now.
pub fn writev(c: &mut Call) -> Outcome {
    let (fd, iov, count) = (c.arg(0), c.arg(1), c.arg(2));
    if fd != 1 && fd != 2 {
        return Outcome::err(EBADF);
    }
    let mut total = 0i64;
    for i in 0..count.min(1024) {
        let (Ok(base), Ok(len)) = (c.read_u64(iov + i * 16), c.read_u64(iov + i * 16 + 8)) else {
            return Outcome::err(EFAULT);
        };
        let Ok(bytes) = c.read(base, (len as usize).min(1 << 20)) else {
            return Outcome::err(EFAULT);
        };
        let _ = syscall::debug_write(&bytes);
        total += bytes.len() as i64;
    }
    Outcome::Done(total)
}

/// Declares file calls not written yet: each answers `ENOSYS` until the
/// VFS is wired (replace a name here by its function).
macro_rules! not_yet {
    ($($name:ident),* $(,)?) => {$(
        #[doc = concat!("`", stringify!($name), "`: not written yet (`ENOSYS`).")]
        pub fn $name(_c: &mut Call) -> Outcome {
            Outcome::err(ENOSYS)
        }
    )*};
}

not_yet!(
    read,
    open,
    openat,
    creat,
    close,
    close_range,
    lseek,
    pread64,
    pwrite64,
    readv,
    preadv,
    pwritev,
    pipe,
    pipe2,
    dup,
    dup2,
    dup3,
    fcntl,
    ioctl,
    poll,
    ppoll,
    select,
    pselect6,
    getdents,
    getdents64,
    stat,
    fstat,
    lstat,
    newfstatat,
    statx,
    statfs,
    fstatfs,
    access,
    faccessat,
    faccessat2,
    readlink,
    readlinkat,
    mkdir,
    mkdirat,
    rmdir,
    unlink,
    unlinkat,
    rename,
    renameat,
    renameat2,
    link,
    linkat,
    symlink,
    symlinkat,
    chdir,
    fchdir,
    getcwd,
    umask,
    chmod,
    fchmod,
    fchmodat,
    chown,
    fchown,
    lchown,
    fchownat,
    truncate,
    ftruncate,
    utime,
    utimes,
    futimesat,
    utimensat,
    mknod,
    mknodat,
    sendfile,
    copy_file_range,
    fsync,
    fdatasync,
    sync,
    syncfs,
    flock,
    fadvise64,
    fallocate,
);

/// The socket calls: no network; name lookups fail and go on, as on a
/// machine without one.
pub fn socket(_c: &mut Call) -> Outcome {
    Outcome::err(abide_linux::errno::EAFNOSUPPORT)
}
