//! The Unix interface: what the `unix` component (the Unix personality,
//! `user/services/unix`) offers the shell: run a Linux command line on the
//! console and learn how it ended, list the Linux processes, and count the
//! calls served. With the records that cross it: [`Command`],
//! [`ExitStatus`], [`Stats`] and [`CallCount`].

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use abide_datatable::{Record, Value};
use serde::{Deserialize, Serialize};

use crate::Table;

/// The environment [`Command::new`] gives a command: what a login shell on
/// the console would have.
pub const DEFAULT_ENV: &[&str] = &[
    "PATH=/sbin:/usr/sbin:/bin:/usr/bin",
    "HOME=/root",
    "USER=root",
    "LOGNAME=root",
    "SHELL=/bin/sh",
    "TERM=vt100",
];

/// The working directory [`Command::new`] gives a command.
pub const DEFAULT_CWD: &str = "/root";

/// The columns of [`Unix::ps`]'s table, in order.
pub const PS_COLUMNS: &[&str] = &["pid", "ppid", "pgid", "sid", "state", "mem", "command"];

/// A command line to run: what `execve` gets, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    /// The arguments, the program first (`/bin/sh`, or a name looked up in
    /// `PATH` of `env`).
    pub argv: Vec<String>,
    /// The environment, `NAME=value` each.
    pub env: Vec<String>,
    /// The working directory it starts in.
    pub cwd: String,
}

impl Command {
    /// `argv` with [`DEFAULT_ENV`] in [`DEFAULT_CWD`].
    pub fn new<S: AsRef<str>>(argv: &[S]) -> Command {
        Command {
            argv: argv.iter().map(|arg| arg.as_ref().to_string()).collect(),
            env: DEFAULT_ENV.iter().map(|var| var.to_string()).collect(),
            cwd: DEFAULT_CWD.to_string(),
        }
    }
}

/// How a command ended, as `wait4` tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExitStatus {
    /// It called `exit` with this code (the low 8 bits, as on Linux).
    Exited(u8),
    /// This signal ended it (Linux's number: 9 is `SIGKILL`).
    Signaled(u8),
}

impl ExitStatus {
    /// Whether it exited with code 0.
    pub fn success(self) -> bool {
        self == ExitStatus::Exited(0)
    }

    /// The status a shell puts in `$?`: the code, or 128 + the signal.
    pub fn shell_code(self) -> u32 {
        match self {
            ExitStatus::Exited(code) => u32::from(code),
            ExitStatus::Signaled(signal) => 128 + u32::from(signal),
        }
    }

    /// The status from a Linux wait status word (what `wait4` stores):
    /// exited if its low 7 bits are 0, else ended by that signal. A stopped
    /// or continued status (low byte `0x7f`, or `0xffff`) is not an end and
    /// gives `None`.
    pub fn from_wait_status(status: u32) -> Option<ExitStatus> {
        let low = status & 0x7f;
        if status & 0xffff == 0xffff || low == 0x7f {
            None
        } else if low == 0 {
            Some(ExitStatus::Exited(((status >> 8) & 0xff) as u8))
        } else {
            Some(ExitStatus::Signaled(low as u8))
        }
    }
}

/// How many times one system call was asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallCount {
    /// The call's Linux name (`inotify_init1`), or `#<number>` for a
    /// number Linux does not name.
    pub name: String,
    /// How many times.
    pub count: u64,
}

/// What the `unix` component has done since it started.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Linux system calls served (every trap answered, `ENOSYS` included).
    pub calls: u64,
    /// Linux processes alive now.
    pub processes: u64,
    /// Linux processes started since boot (`fork`, `clone` of a process, `run`).
    pub started: u64,
    /// The calls answered `ENOSYS` because they are not implemented, most
    /// asked first.
    pub enosys: Vec<CallCount>,
}

impl Stats {
    /// The figures as a table the shell prints: `what`, `count`, one row
    /// each for `calls`, `processes`, `started`, then `ENOSYS <name>` per
    /// unimplemented call.
    pub fn table(&self) -> Table {
        let row = |what: &str, count: u64| {
            Record::new().with("what", Value::text(what)).with(
                "count",
                Value::Int(i64::try_from(count).unwrap_or(i64::MAX)),
            )
        };
        let mut rows = Vec::with_capacity(3 + self.enosys.len());
        rows.push(row("calls", self.calls));
        rows.push(row("processes", self.processes));
        rows.push(row("started", self.started));
        for call in &self.enosys {
            let mut what = String::from("ENOSYS ");
            what.push_str(&call.name);
            rows.push(row(&what, call.count));
        }
        // Every row has the same two columns, so this cannot fail; an
        // empty table is the harmless answer if it ever did.
        Table::from_records(rows).unwrap_or_default()
    }
}

abide_ipc::interface! {
    /// The Unix personality: Linux programs run on the console.
    pub interface Unix {
        /// Runs `command` as a new session leader in the foreground of the
        /// console's terminal (its stdin, stdout and stderr are the
        /// terminal) and replies when it ends, with how it ended. A command
        /// that cannot be started (no such program, not an executable) is
        /// an application error that says why, like `sh: foo: not found`.
        1 => fn run(command: Command) -> ExitStatus;
        /// One row per Linux process, by pid: see [`PS_COLUMNS`]. `state`
        /// is Linux's letter (`R`, `S`, `T`, `Z`), `mem` the bytes mapped,
        /// `command` its argv joined by spaces.
        2 => fn ps() -> Table;
        /// Calls served, unimplemented calls by name, processes.
        3 => fn stats() -> Stats;
    }
}
