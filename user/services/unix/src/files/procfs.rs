//! `/proc`, generated from the process table: `<pid>/stat`, `cmdline`,
//! `status`, `comm`, `exe`; `meminfo`, `uptime`, `stat`, `loadavg`,
//! `mounts`, `version`, `filesystems`. `lib/vfs` does the paths (and
//! `self`); this answers what each name is and holds.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use abide_rt::syscall;
use abide_unix::table::{Pid, Process, State, Table};
use abide_vfs::{ProcEntry, ProcFs};

use crate::unix::Kernel;

/// The files of each `<pid>` directory.
const PID_FILES: [&str; 4] = ["stat", "cmdline", "status", "comm"];
/// The files of `/proc` itself.
const TOP_FILES: [&str; 7] = [
    "meminfo",
    "uptime",
    "stat",
    "loadavg",
    "mounts",
    "version",
    "filesystems",
];

/// What `/proc` shows: the process table and each process's kernel side.
pub struct ProcView<'a> {
    pub table: &'a Table,
    pub kernel: &'a BTreeMap<Pid, Kernel>,
    /// The caller (whose files are out of `kernel` during the call).
    pub vfs_pid: Pid,
}

impl ProcView<'_> {
    /// The process `<pid>` names, if it is one.
    fn process(&self, name: &[u8]) -> Option<&Process> {
        let pid: Pid = core::str::from_utf8(name).ok()?.parse().ok()?;
        self.table.process(pid)
    }

    fn exe(&self, pid: Pid) -> Vec<u8> {
        self.kernel
            .get(&pid)
            .map(|kernel| kernel.exe.as_bytes().to_vec())
            .unwrap_or_default()
    }
}

impl ProcFs for ProcView<'_> {
    fn lookup(&self, path: &[u8]) -> Option<ProcEntry> {
        let mut parts = path.splitn(2, |&byte| byte == b'/');
        let first = parts.next()?;
        let rest = parts.next();
        if first.is_empty() {
            return Some(ProcEntry::Dir);
        }
        if let Some(process) = self.process(first) {
            return match rest {
                None => Some(ProcEntry::Dir),
                Some(b"exe") => Some(ProcEntry::Symlink(self.exe(process.pid))),
                Some(name) if PID_FILES.iter().any(|file| file.as_bytes() == name) => {
                    Some(ProcEntry::File)
                }
                Some(_) => None,
            };
        }
        match rest {
            None if TOP_FILES.iter().any(|file| file.as_bytes() == first) => Some(ProcEntry::File),
            _ => None,
        }
    }

    fn list(&self, path: &[u8]) -> Vec<(Vec<u8>, ProcEntry)> {
        if path.is_empty() {
            let mut names: Vec<(Vec<u8>, ProcEntry)> = self
                .table
                .processes()
                .map(|process| (format!("{}", process.pid).into_bytes(), ProcEntry::Dir))
                .collect();
            names.extend(
                TOP_FILES
                    .iter()
                    .map(|file| (file.as_bytes().to_vec(), ProcEntry::File)),
            );
            return names;
        }
        let Some(process) = self.process(path) else {
            return Vec::new();
        };
        let mut names: Vec<(Vec<u8>, ProcEntry)> = PID_FILES
            .iter()
            .map(|file| (file.as_bytes().to_vec(), ProcEntry::File))
            .collect();
        names.push((b"exe".to_vec(), ProcEntry::Symlink(self.exe(process.pid))));
        names
    }

    fn read(&self, path: &[u8]) -> Option<Vec<u8>> {
        let mut parts = path.splitn(2, |&byte| byte == b'/');
        let first = parts.next()?;
        match parts.next() {
            Some(file) => {
                let process = self.process(first)?;
                Some(match file {
                    b"stat" => stat(process).into_bytes(),
                    b"cmdline" => cmdline(process),
                    b"status" => status(process).into_bytes(),
                    b"comm" => format!("{}\n", process.name).into_bytes(),
                    _ => return None,
                })
            }
            None => Some(
                match first {
                    b"meminfo" => meminfo(),
                    b"uptime" => uptime(),
                    b"stat" => system_stat(),
                    b"loadavg" => format!(
                        "0.00 0.00 0.00 1/{} {}\n",
                        self.table.processes().count(),
                        self.vfs_pid
                    ),
                    b"mounts" => String::from("rootfs / tmpfs rw 0 0\nproc /proc proc rw 0 0\n"),
                    b"version" => {
                        String::from("Linux version 6.1.0-abide (unix personality) #1 SMP\n")
                    }
                    b"filesystems" => String::from("nodev\ttmpfs\nnodev\tproc\n"),
                    _ => return None,
                }
                .into_bytes(),
            ),
        }
    }
}

/// The state letter `ps` shows.
fn state_letter(state: State) -> char {
    match state {
        State::Running => 'S',
        State::Stopped(_) => 'T',
        State::Zombie(_) => 'Z',
    }
}

/// `/proc/<pid>/stat`: Linux's 52 fields, those not kept here 0.
fn stat(process: &Process) -> String {
    let mut line = format!(
        "{} ({}) {} {} {} {} 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 {} 0 0 0 0",
        process.pid,
        process.name,
        state_letter(process.state),
        process.ppid,
        process.pgid,
        process.sid,
        process.threads.len().max(1),
    );
    for _ in 0..28 {
        line.push_str(" 0");
    }
    line.push('\n');
    line
}

/// `/proc/<pid>/cmdline`: the arguments, each ended by a NUL.
fn cmdline(process: &Process) -> Vec<u8> {
    let mut bytes = Vec::new();
    for arg in &process.cmdline {
        bytes.extend_from_slice(arg.as_bytes());
        bytes.push(0);
    }
    bytes
}

/// `/proc/<pid>/status`.
fn status(process: &Process) -> String {
    let state = match process.state {
        State::Running => "S (sleeping)",
        State::Stopped(_) => "T (stopped)",
        State::Zombie(_) => "Z (zombie)",
    };
    format!(
        "Name:\t{}\nState:\t{}\nTgid:\t{}\nPid:\t{}\nPPid:\t{}\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nThreads:\t{}\n",
        process.name,
        state,
        process.pid,
        process.pid,
        process.ppid,
        process.threads.len().max(1),
    )
}

/// `/proc/meminfo`: the figures `free` and `top` read.
fn meminfo() -> String {
    let total_kb = 256 * 1024;
    let free_kb = 128 * 1024;
    format!(
        "MemTotal:       {total_kb} kB\nMemFree:        {free_kb} kB\nMemAvailable:   {free_kb} kB\nBuffers:               0 kB\nCached:                0 kB\nSwapCached:            0 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\nShmem:                 0 kB\n"
    )
}

/// `/proc/uptime`: seconds since boot, and idle seconds.
fn uptime() -> String {
    let ns = syscall::clock_ns();
    let centis = ns / 10_000_000;
    format!(
        "{}.{:02} {}.{:02}\n",
        centis / 100,
        centis % 100,
        centis / 100,
        centis % 100
    )
}

/// `/proc/stat`: CPU times (none kept) and the boot time.
fn system_stat() -> String {
    format!(
        "cpu  0 0 0 0 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\nbtime {}\nprocesses 0\nprocs_running 1\nprocs_blocked 0\n",
        crate::time::EPOCH_AT_BOOT
    )
}
