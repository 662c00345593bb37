//! How a child ended or changed state, as `wait4` reports it (the word's
//! encoding is `abide_linux::wait`'s).

use abide_linux::signal::code;
use abide_linux::wait;

/// How a process ended or changed state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// `exit(code)` or `exit_group(code)` (the low 8 bits count).
    Exited(u8),
    /// Killed by a signal; `core` when the default action dumps core.
    Signaled { signal: u32, core: bool },
    /// Stopped by a signal (seen with `WUNTRACED`).
    Stopped(u32),
    /// Continued by `SIGCONT` (seen with `WCONTINUED`).
    Continued,
}

impl Status {
    /// The status word `wait4` writes.
    pub fn word(self) -> i32 {
        match self {
            Status::Exited(c) => wait::exited(i32::from(c)),
            Status::Signaled { signal, core } => wait::signaled(signal, core),
            Status::Stopped(signal) => wait::stopped(signal),
            Status::Continued => wait::CONTINUED,
        }
    }

    /// `waitid`'s `si_code` and `si_status` for it.
    pub fn child_code(self) -> (i32, i32) {
        match self {
            Status::Exited(c) => (code::CLD_EXITED, i32::from(c)),
            Status::Signaled {
                signal,
                core: false,
            } => (code::CLD_KILLED, signal as i32),
            Status::Signaled { signal, core: true } => (code::CLD_DUMPED, signal as i32),
            Status::Stopped(signal) => (code::CLD_STOPPED, signal as i32),
            Status::Continued => (code::CLD_CONTINUED, abide_linux::signal::SIGCONT as i32),
        }
    }

    /// The exit status a shell shows: the code, or 128 + the signal.
    pub fn shell_code(self) -> i32 {
        match self {
            Status::Exited(c) => i32::from(c),
            Status::Signaled { signal, .. } | Status::Stopped(signal) => {
                wait::shell_status_of_signal(signal)
            }
            Status::Continued => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_match_linux() {
        assert_eq!(Status::Exited(6).word(), 0x600);
        assert_eq!(
            Status::Signaled {
                signal: 9,
                core: false
            }
            .word(),
            9
        );
        assert_eq!(
            Status::Signaled {
                signal: 11,
                core: true
            }
            .word(),
            0x8b
        );
        assert_eq!(Status::Stopped(19).word(), 0x137f);
        assert_eq!(Status::Continued.word(), 0xffff);
        assert_eq!(
            Status::Signaled {
                signal: 2,
                core: false
            }
            .shell_code(),
            130
        );
    }
}
