//! `wait4`'s status word and options (from `bits/waitstatus.h` and
//! `linux/wait.h`): how a parent learns that a child exited, was killed,
//! stopped or continued.

/// `wait4` options.
pub const WNOHANG: u64 = 0x1;
/// Report stopped children too (`WSTOPPED` is the same bit).
pub const WUNTRACED: u64 = 0x2;
pub const WSTOPPED: u64 = 0x2;
pub const WEXITED: u64 = 0x4;
pub const WCONTINUED: u64 = 0x8;
pub const WNOWAIT: u64 = 0x0100_0000;
pub const WNOTHREAD: u64 = 0x2000_0000;
pub const WALL: u64 = 0x4000_0000;
pub const WCLONE: u64 = 0x8000_0000;

/// The status of a child that exited with `code` (`WIFEXITED`,
/// `WEXITSTATUS` = the low 8 bits of `code`).
pub const fn exited(code: i32) -> i32 {
    (code & 0xff) << 8
}

/// The status of a child killed by `signal` (`WIFSIGNALED`, `WTERMSIG`;
/// `WCOREDUMP` when `core`).
pub const fn signaled(signal: u32, core: bool) -> i32 {
    (signal & 0x7f) as i32 | if core { 0x80 } else { 0 }
}

/// The status of a child stopped by `signal` (`WIFSTOPPED`, `WSTOPSIG`).
pub const fn stopped(signal: u32) -> i32 {
    (((signal & 0xff) as i32) << 8) | 0x7f
}

/// The status of a stopped child that continued (`WIFCONTINUED`).
pub const CONTINUED: i32 = 0xffff;

/// The exit status a shell shows for a child killed by `signal`:
/// `128 + signal`.
pub const fn shell_status_of_signal(signal: u32) -> i32 {
    128 + signal as i32
}
