//! One system call being answered: the [`Call`] every module function gets
//! (the component's state, the calling thread and process, its registers,
//! and access to its memory) and the [`Outcome`] it returns.
//!
//! The blocking API: a call that cannot finish now returns
//! [`Outcome::Block`] with what it waits on ([`WaitOn`]) and an optional
//! deadline (clock nanoseconds). The thread stays stopped, its request
//! parked (`abide_unix::waits`); when something changes what it waits on,
//! the module that changed it calls [`crate::unix::Unix::wake`], and the
//! call runs again from the start with the same registers (so a module
//! function must be safe to run again: decide before changing anything).
//! When the deadline passes, it runs again with [`Call::timed_out`] set and
//! must then finish (its timeout result). A signal for the thread
//! interrupts the wait: the call answers `EINTR`, or runs again after the
//! handler when the handler has `SA_RESTART` and [`WaitOn::restartable`]
//! says so. A new trap of the same thread replaces the parked request.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use abide_abi::trap::TrapRegisters;
use abide_linux::errno::{EFAULT, ENAMETOOLONG};
use abide_rt::syscall;
use abide_unix::table::Pid;

use crate::unix::Unix;

/// What a parked call waits for. Modules add the keys they need.
// `Io` and `Tty` are for the files and tty modules, being wired.
#[allow(dead_code)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum WaitOn {
    /// A child of this process changed state (`wait4`, `waitid`).
    Child(Pid),
    /// The vfork child `pid` exec'd or ended.
    Vfork(Pid),
    /// A futex word: the process and the address.
    Futex(Pid, u64),
    /// Only the deadline (`nanosleep`, `clock_nanosleep`).
    Sleep,
    /// A signal (`rt_sigsuspend`, `pause`).
    Signal,
    /// `SIGCONT`: the thread's process is stopped.
    Stopped,
    /// Any file or pipe readiness change (`poll`, `select`, reads and
    /// writes on pipes: the `vfs` module may use finer keys).
    Io(u64),
    /// The console terminal has input or room.
    Tty,
}

impl WaitOn {
    /// Whether a call parked on this restarts after a `SA_RESTART` handler
    /// (Linux's `ERESTARTSYS`), rather than answering `EINTR` always
    /// (sleeps, `poll`, `rt_sigsuspend`).
    pub fn restartable(self) -> bool {
        !matches!(self, WaitOn::Sleep | WaitOn::Signal | WaitOn::Stopped)
    }
}

/// What answering a call came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Finished: this value (or `-errno`) goes to `rax`.
    Done(i64),
    /// Cannot finish now: park until `WaitOn` changes or the deadline.
    Block(WaitOn, Option<u64>),
    /// Finished, and the call set every register itself ([`Call::regs`]:
    /// `execve`, `rt_sigreturn`).
    Resume,
    /// No answer: the thread is gone (`exit`) or is answered later by
    /// other means.
    Silent,
}

impl Outcome {
    /// `-errno`.
    pub fn err(errno: i64) -> Outcome {
        Outcome::Done(-errno)
    }

    /// A value or an errno.
    pub fn from(result: Result<u64, i64>) -> Outcome {
        match result {
            Ok(value) => Outcome::Done(value as i64),
            Err(errno) => Outcome::err(errno),
        }
    }
}

/// The longest path a call accepts (`PATH_MAX`).
pub const PATH_MAX: usize = 4096;

/// A call in progress.
pub struct Call<'a> {
    pub unix: &'a mut Unix,
    /// The calling thread's and process's Linux ids.
    pub tid: Pid,
    pub pid: Pid,
    /// The registers it trapped with; [`Outcome::Resume`] loads them as
    /// they are when the call returns.
    pub regs: TrapRegisters,
    /// This is the run after the parked call's deadline passed.
    pub timed_out: bool,
}

impl Call<'_> {
    /// Argument `i` (0..6: `rdi, rsi, rdx, r10, r8, r9`).
    pub fn arg(&self, i: usize) -> u64 {
        match i {
            0 => self.regs.rdi,
            1 => self.regs.rsi,
            2 => self.regs.rdx,
            3 => self.regs.r10,
            4 => self.regs.r8,
            5 => self.regs.r9,
            _ => 0,
        }
    }

    /// The system-call number.
    pub fn number(&self) -> u64 {
        self.regs.rax
    }

    /// Reads `len` bytes of the caller's memory at `addr` (`EFAULT`).
    pub fn read(&self, addr: u64, len: usize) -> Result<Vec<u8>, i64> {
        self.unix.read_memory(self.pid, addr, len)
    }

    /// Writes `bytes` to the caller's memory at `addr` (`EFAULT`).
    pub fn write(&self, addr: u64, bytes: &[u8]) -> Result<(), i64> {
        self.unix.write_memory(self.pid, addr, bytes)
    }

    /// Reads a `u64` at `addr`.
    pub fn read_u64(&self, addr: u64) -> Result<u64, i64> {
        let bytes = self.read(addr, 8)?;
        let array: [u8; 8] = bytes.as_slice().try_into().map_err(|_| EFAULT)?;
        Ok(u64::from_le_bytes(array))
    }

    /// Reads a `u32` at `addr`.
    pub fn read_u32(&self, addr: u64) -> Result<u32, i64> {
        let bytes = self.read(addr, 4)?;
        let array: [u8; 4] = bytes.as_slice().try_into().map_err(|_| EFAULT)?;
        Ok(u32::from_le_bytes(array))
    }

    /// Writes a `u64` at `addr`.
    pub fn write_u64(&self, addr: u64, value: u64) -> Result<(), i64> {
        self.write(addr, &value.to_le_bytes())
    }

    /// Writes a `u32` at `addr`.
    pub fn write_u32(&self, addr: u64, value: u32) -> Result<(), i64> {
        self.write(addr, &value.to_le_bytes())
    }

    /// Reads a NUL-terminated string of at most `max` bytes (without the
    /// NUL) at `addr`: `EFAULT`, or `ENAMETOOLONG` past `max`.
    pub fn read_cstr(&self, addr: u64, max: usize) -> Result<Vec<u8>, i64> {
        self.unix.read_cstr(self.pid, addr, max)
    }

    /// A path argument, as text (`EFAULT`, `ENAMETOOLONG`; bytes that are
    /// not UTF-8 are replaced).
    pub fn read_path(&self, addr: u64) -> Result<String, i64> {
        let bytes = self.read_cstr(addr, PATH_MAX)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Reads a NULL-terminated array of string pointers (`argv`, `envp`).
    pub fn read_strings(&self, addr: u64) -> Result<Vec<Vec<u8>>, i64> {
        let mut strings = Vec::new();
        if addr == 0 {
            return Ok(strings);
        }
        for i in 0..ARG_MAX_STRINGS {
            let pointer = self.read_u64(addr + i * 8)?;
            if pointer == 0 {
                return Ok(strings);
            }
            strings.push(self.read_cstr(pointer, ARG_MAX_BYTES)?);
        }
        Err(abide_linux::errno::E2BIG)
    }
}

/// The most strings `argv` or `envp` may hold, and the longest string.
const ARG_MAX_STRINGS: u64 = 32 * 1024;
const ARG_MAX_BYTES: usize = 128 * 1024;

impl Unix {
    /// Reads `len` bytes of process `pid`'s memory at `addr`.
    pub fn read_memory(&self, pid: Pid, addr: u64, len: usize) -> Result<Vec<u8>, i64> {
        let handle = self.handle(pid).ok_or(EFAULT)?;
        let mut buffer = vec![0u8; len];
        let mut done = 0;
        while done < len {
            let chunk = (len - done).min(abide_abi::trap::MAX_PROCESS_COPY as usize);
            let end = done + chunk;
            let slice = buffer.get_mut(done..end).ok_or(EFAULT)?;
            syscall::process_read(handle, addr.wrapping_add(done as u64), slice)
                .map_err(|_| EFAULT)?;
            done = end;
        }
        Ok(buffer)
    }

    /// Writes `bytes` to process `pid`'s memory at `addr`.
    pub fn write_memory(&self, pid: Pid, addr: u64, bytes: &[u8]) -> Result<(), i64> {
        write_process(self.handle(pid).ok_or(EFAULT)?, addr, bytes)
    }

    /// Reads a NUL-terminated string of at most `max` bytes at `addr`,
    /// page by page (the string may end just before an unmapped page).
    pub fn read_cstr(&self, pid: Pid, addr: u64, max: usize) -> Result<Vec<u8>, i64> {
        let handle = self.handle(pid).ok_or(EFAULT)?;
        let mut out = Vec::new();
        let mut at = addr;
        loop {
            let to_page_end = (abide_mm::PAGE_SIZE - at % abide_mm::PAGE_SIZE) as usize;
            let mut chunk = vec![0u8; to_page_end.min(256)];
            syscall::process_read(handle, at, &mut chunk).map_err(|_| EFAULT)?;
            if let Some(nul) = chunk.iter().position(|b| *b == 0) {
                out.extend_from_slice(chunk.get(..nul).unwrap_or(&[]));
                return if out.len() > max {
                    Err(ENAMETOOLONG)
                } else {
                    Ok(out)
                };
            }
            out.extend_from_slice(&chunk);
            if out.len() > max {
                return Err(ENAMETOOLONG);
            }
            at += chunk.len() as u64;
        }
    }
}

/// Writes `bytes` to the memory of the foreign process `handle` at `addr`,
/// in copies the kernel accepts (`EFAULT`).
pub fn write_process(
    handle: abide_abi::syscall::Handle,
    addr: u64,
    bytes: &[u8],
) -> Result<(), i64> {
    let max = abide_abi::trap::MAX_PROCESS_COPY as usize;
    for (i, chunk) in bytes.chunks(max).enumerate() {
        let at = addr.wrapping_add((i * max) as u64);
        syscall::process_write(handle, at, chunk).map_err(|_| EFAULT)?;
    }
    Ok(())
}
