//! The component's file systems and the plumbing every file call shares:
//! the one [`Vfs`] (loaded on first use from the `rootfs` and `add`
//! archives, with `/dev`, `/proc` and `/tmp`), the [`Caller`] a call runs
//! as, errors to outcomes, and waking the calls parked on a pipe.

use core::cell::RefCell;

use abide_linux::errno::{EBADF, EFAULT};
use abide_linux::fs::at::AT_FDCWD;
use abide_linux::fs::Timespec;
use abide_rt::syscall;
use abide_splitmix::SplitMix64;
use abide_vfs::{Caller, EmptyProc, Error, Vfs};

use super::procfs::ProcView;
use crate::call::{Call, Outcome, WaitOn};
use crate::unix::Unix;

/// The wait key of "any descriptor changed" (`poll`, `select`).
pub const ANY_IO: u64 = u64::MAX;

/// The file systems, made on first use.
#[derive(Default)]
pub struct Fs {
    vfs: Option<Vfs>,
}

impl Fs {
    /// The file systems: on first use, the root tree from the `rootfs`
    /// archive, the `add` archive over it, `/dev`, `/proc`, `/tmp`.
    pub fn vfs(&mut self) -> &mut Vfs {
        self.vfs.get_or_insert_with(load)
    }
}

/// Builds the file systems from the archives the host tool loaded.
fn load() -> Vfs {
    let now = now();
    let mut vfs = Vfs::new(now);
    for name in [
        abide_abi::host::ROOTFS_ARCHIVE,
        abide_abi::host::ADD_ARCHIVE,
    ] {
        let Ok(bytes) = syscall::bundle_read(name) else {
            continue;
        };
        // The archive lives as long as the component: its files borrow it.
        let archive: &'static [u8] = alloc::vec::Vec::leak(bytes);
        if let Err(error) = vfs.load_tar(archive, b"/", now) {
            abide_rt::println!(
                "unix: archive {name}: {} at byte {}",
                error.what,
                error.offset
            );
        }
    }
    let _ = vfs.populate_dev(now);
    let _ = vfs.mount_proc(now);
    let mut files = vfs.new_files();
    let caller = Caller {
        pid: 0,
        uid: 0,
        gid: 0,
        now,
        random: &|_| {},
        proc: &EmptyProc,
    };
    if vfs
        .mkdirat(&files, &caller, AT_FDCWD, b"/tmp", 0o1777)
        .is_ok()
    {
        let _ = vfs.fchmodat(&files, &caller, AT_FDCWD, b"/tmp", 0o1777, 0);
    }
    vfs.release_files(&mut files);
    vfs
}

/// A caller for the calls the component makes on its own behalf (root,
/// pid 0, an empty `/proc`).
pub fn component_caller(now: Timespec) -> Caller<'static> {
    Caller {
        pid: 0,
        uid: 0,
        gid: 0,
        now,
        random: &|_| {},
        proc: &EmptyProc,
    }
}

/// The wall-clock time files are stamped with.
pub fn now() -> Timespec {
    let ns = syscall::clock_ns() + crate::time::EPOCH_AT_BOOT * 1_000_000_000;
    Timespec {
        sec: (ns / 1_000_000_000) as i64,
        nsec: (ns % 1_000_000_000) as i64,
    }
}

/// Runs `op` on the file systems with the calling process's files, as
/// that process; `EBADF` when the process has none.
pub fn with<T>(
    c: &mut Call,
    op: impl FnOnce(&mut Vfs, &mut abide_vfs::Files, &Caller) -> T,
) -> Result<T, i64> {
    let pid = c.pid;
    let unix = &mut *c.unix;
    let seed = unix.next_random();
    let mut files = unix
        .kernel
        .get_mut(&pid)
        .and_then(|kernel| kernel.files.take())
        .ok_or(EBADF)?;
    let generator = RefCell::new(SplitMix64::new(seed));
    let random = |buf: &mut [u8]| {
        let mut source = generator.borrow_mut();
        for chunk in buf.chunks_mut(8) {
            let word = source.next().to_le_bytes();
            chunk.copy_from_slice(word.get(..chunk.len()).unwrap_or_default());
        }
    };
    let view = ProcView {
        table: &unix.table,
        kernel: &unix.kernel,
        vfs_pid: pid,
    };
    let caller = Caller {
        pid,
        uid: 0,
        gid: 0,
        now: now(),
        random: &random,
        proc: &view,
    };
    let out = op(unix.fs.vfs(), &mut files, &caller);
    if let Some(kernel) = unix.kernel.get_mut(&pid) {
        kernel.files.put(files);
    }
    Ok(out)
}

/// The outcome of a VFS result that needs no more work: a value, or
/// `-errno` (a would-block answer parks on `key`).
pub fn outcome(result: Result<u64, Error>, key: u64) -> Outcome {
    match result {
        Ok(value) => Outcome::Done(value as i64),
        Err(Error::WouldBlock) => Outcome::Block(WaitOn::Io(key), None),
        Err(error) => Outcome::err(error.errno()),
    }
}

/// Flattens the context's `EBADF` and the call's own result.
pub fn done(result: Result<Result<u64, Error>, i64>) -> Outcome {
    match result {
        Ok(result) => outcome(result, ANY_IO),
        Err(errno) => Outcome::err(errno),
    }
}

/// Wakes the calls parked on pipe `key` and those polling.
pub fn wake(unix: &mut Unix, key: u64) {
    unix.wake(WaitOn::Io(key));
    unix.wake(WaitOn::Io(ANY_IO));
}

/// A path argument's bytes (`EFAULT`, `ENAMETOOLONG`).
pub fn path(c: &Call, addr: u64) -> Result<alloc::vec::Vec<u8>, i64> {
    if addr == 0 {
        return Err(EFAULT);
    }
    c.read_cstr(addr, crate::call::PATH_MAX)
}
