//! File calls, answered with `lib/vfs`: open, read, write, pipes,
//! directories, `fcntl`, `poll`, ... Every call the conformance README
//! lists is routed here by [`crate::dispatch`]. Submodules, one family
//! each: [`fds`] (descriptors), [`io`] (reads and writes), [`poll`],
//! [`names`], [`attrs`]; [`fs`] holds the file systems and the plumbing,
//! [`procfs`] generates `/proc`, [`device`] is the terminal's side.
//!
//! The interface the rest of the component uses: [`Files`] (a process's
//! descriptor table: [`Files::console`], [`Files::fork`], [`Files::exec`],
//! [`Files::close_all`]), [`program`] (an executable's bytes for `execve`)
//! and [`read_for_mmap`] (a file mapping's bytes).

mod attrs;
mod device;
mod fds;
mod fs;
mod io;
mod names;
mod poll;
mod procfs;

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use abide_linux::errno::{ELOOP, ENOSYS};
use abide_linux::fs::at::AT_FDCWD;
use abide_linux::fs::open::O_RDWR;
use abide_unix::table::Pid;
use abide_vfs::Caller;

use fs::component_caller;

pub use attrs::{
    access, chmod, chown, faccessat, faccessat2, fchmod, fchmodat, fchown, fchownat, fstat,
    fstatfs, ftruncate, futimesat, lchown, lstat, newfstatat, stat, statfs, statx, truncate, utime,
    utimensat, utimes,
};
pub use fds::{
    close, close_range, creat, dup, dup2, dup3, fadvise64, fallocate, fcntl, fdatasync, flock,
    fsync, ioctl, open, openat, pipe, pipe2, sync, syncfs,
};
pub use fs::{Fs, ANY_IO};
pub use io::{
    getdents64, lseek, pread64, preadv, pwrite64, pwritev, read, readv, sendfile, write, writev,
};
pub use names::{
    chdir, fchdir, getcwd, link, linkat, mkdir, mkdirat, mknod, mknodat, readlink, readlinkat,
    rename, renameat, renameat2, rmdir, symlink, symlinkat, umask, unlink, unlinkat,
};
pub use poll::{poll, ppoll, pselect6, select};

use crate::call::{Call, Outcome, WaitOn};
use crate::unix::Unix;

/// A process's open files: its `lib/vfs` descriptor table, working
/// directory and umask (out of it only while a call runs on it).
#[derive(Debug, Default)]
pub struct Files(Option<abide_vfs::Files>);

impl Files {
    /// The descriptors of a process the session starts: 0, 1 and 2 open
    /// on `/dev/console`, in `/`.
    pub fn console(fs: &mut Fs) -> Files {
        let vfs = fs.vfs();
        let mut files = vfs.new_files();
        let caller = component_caller(fs::now());
        for _ in 0..3 {
            let _ = vfs.openat(&mut files, &caller, AT_FDCWD, b"/dev/console", O_RDWR, 0);
        }
        Files(Some(files))
    }

    /// The child's copy at `fork`: the same open file descriptions.
    pub fn fork(&self, fs: &mut Fs) -> Files {
        Files(self.0.as_ref().map(|files| fs.vfs().fork_files(files)))
    }

    /// `execve`: close-on-exec descriptors close.
    pub fn exec(&mut self, fs: &mut Fs) {
        if let Some(files) = &mut self.0 {
            fs.vfs().close_on_exec(files);
        }
    }

    /// The process ended: every descriptor closes (pipe ends wake their
    /// peers).
    pub fn close_all(self, unix: &mut Unix) {
        if let Some(mut files) = self.0 {
            unix.fs.vfs().release_files(&mut files);
            unix.wake_matching(|on| matches!(on, WaitOn::Io(_)));
        }
    }

    /// Takes the table out for a call ([`fs::with`]).
    fn take(&mut self) -> Option<abide_vfs::Files> {
        self.0.take()
    }

    /// Puts the table back after a call.
    fn put(&mut self, files: abide_vfs::Files) {
        self.0 = Some(files);
    }
}

/// Makes `path` the working directory of process `pid`, as its own
/// `chdir` would (the session starts a command in its `cwd`).
pub fn start_in(unix: &mut Unix, pid: Pid, path: &str) -> Result<(), i64> {
    let mut call = Call {
        unix,
        tid: pid,
        pid,
        regs: Default::default(),
        timed_out: false,
    };
    fs::with(&mut call, |vfs, files, caller| {
        vfs.chdir(files, caller, path.as_bytes())
    })?
    .map_err(|error| error.errno())
}

/// Runs `op` as process `pid` (or, before it has files, as a process in
/// `/`), for the component's own file accesses.
fn as_process<T>(
    unix: &mut Unix,
    pid: Pid,
    op: impl FnOnce(&mut abide_vfs::Vfs, &abide_vfs::Files, &Caller) -> T,
) -> T {
    let now = fs::now();
    let caller = Caller {
        pid,
        ..component_caller(now)
    };
    let own = unix
        .kernel
        .get_mut(&pid)
        .and_then(|kernel| kernel.files.take());
    let vfs = unix.fs.vfs();
    let out = match &own {
        Some(files) => op(vfs, files, &caller),
        None => {
            let mut files = vfs.new_files();
            let out = op(vfs, &files, &caller);
            vfs.release_files(&mut files);
            out
        }
    };
    if let (Some(files), Some(kernel)) = (own, unix.kernel.get_mut(&pid)) {
        kernel.files.put(files);
    }
    out
}

/// The bytes of the program at `path` for process `pid`, and its path with
/// the symbolic links of its last component resolved (what
/// `/proc/self/exe` shows). `EACCES` unless it is a regular file with an
/// execute bit.
pub fn program(unix: &mut Unix, pid: Pid, path: &str) -> Result<(String, Vec<u8>), i64> {
    let exe = if path == "/proc/self/exe" {
        unix.kernel
            .get(&pid)
            .map(|kernel| kernel.exe.clone())
            .filter(|exe| !exe.is_empty())
    } else {
        None
    };
    let path = exe.unwrap_or_else(|| String::from(path));
    as_process(unix, pid, |vfs, files, caller| {
        let bytes = vfs
            .exec_image(files, caller, AT_FDCWD, path.as_bytes())
            .map_err(|e| e.errno())?
            .to_vec();
        let mut resolved = path.clone().into_bytes();
        for _ in 0..abide_linux::fs::limits::MAXSYMLINKS {
            let Ok(target) = vfs.readlinkat(files, caller, AT_FDCWD, &resolved) else {
                break;
            };
            resolved = if target.first() == Some(&b'/') {
                target
            } else {
                let dir = resolved
                    .iter()
                    .rposition(|&byte| byte == b'/')
                    .map_or(0, |slash| slash + 1);
                let mut joined = resolved.get(..dir).unwrap_or_default().to_vec();
                joined.extend_from_slice(&target);
                joined
            };
        }
        if resolved.first() != Some(&b'/') {
            let mut absolute = vfs.getcwd(files).map_err(|e| e.errno())?;
            if absolute.last() != Some(&b'/') {
                absolute.push(b'/');
            }
            absolute.extend_from_slice(&resolved);
            resolved = absolute;
        }
        if resolved.len() > abide_linux::fs::limits::PATH_MAX {
            return Err(ELOOP);
        }
        Ok((String::from_utf8_lossy(&resolved).into_owned(), bytes))
    })
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
    let len = usize::try_from(len).map_err(|_| abide_linux::errno::ENOMEM)?;
    let offset = i64::try_from(offset).map_err(|_| abide_linux::errno::EINVAL)?;
    as_process(unix, pid, |vfs, files, caller| {
        let mut bytes = vec![0u8; len];
        let mut done = 0;
        while let Some(rest) = bytes.get_mut(done..).filter(|rest| !rest.is_empty()) {
            match vfs.pread(files, caller, fd, rest, offset + done as i64) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(error) => return Err(error.errno()),
            }
        }
        Ok(bytes)
    })
}

/// Whether `fd` of process `pid` is `/dev/zero`: a `MAP_SHARED` mapping
/// of it is shared anonymous memory, as on Linux.
pub fn is_dev_zero(unix: &mut Unix, pid: Pid, fd: i32) -> bool {
    as_process(unix, pid, |vfs, files, caller| {
        vfs.fstat(files, caller, fd)
            .is_ok_and(|stat| stat.rdev == abide_vfs::Device::Zero.rdev())
    })
}

/// `getdents` (the 32-bit-offset form glibc no longer uses) and
/// `copy_file_range`: not offered; programs fall back.
pub fn getdents(_c: &mut Call) -> Outcome {
    Outcome::err(ENOSYS)
}

/// `copy_file_range`: not offered (`ENOSYS`; `cp` falls back to `sendfile`
/// or reads and writes).
pub fn copy_file_range(_c: &mut Call) -> Outcome {
    Outcome::err(ENOSYS)
}

/// The socket calls: no network; name lookups fail and go on, as on a
/// machine without one.
pub fn socket(_c: &mut Call) -> Outcome {
    Outcome::err(abide_linux::errno::EAFNOSUPPORT)
}
