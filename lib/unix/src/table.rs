//! The process table: Linux pids, parents and children, process groups and
//! sessions, threads, and the zombies `wait4` reaps.
//!
//! Pid 1 is the component's own notion of init: it is not a process here,
//! it is the parent of every process the component starts and of every
//! orphan, and it reaps them as soon as they end. Pids and thread ids come
//! from one counter (a process's first thread has its pid as tid), start
//! at 2, and are not reused while the counter has room.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use abide_linux::signal::SigSet;

use crate::signals::Actions;
use crate::status::Status;

/// A pid or thread id (Linux's `pid_t`, always positive here).
pub type Pid = u32;

/// The component's own init: parent of top-level processes and orphans.
pub const INIT_PID: Pid = 1;

/// The largest pid handed out (Linux's default `pid_max`), after which the
/// counter wraps to the lowest free one.
pub const PID_MAX: Pid = 32768;

/// Whether a process runs, is stopped, or has ended and waits to be reaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Running,
    Stopped(u32),
    Zombie(Status),
}

/// One Linux process.
#[derive(Debug, Clone)]
pub struct Process {
    pub pid: Pid,
    pub ppid: Pid,
    pub pgid: Pid,
    pub sid: Pid,
    pub state: State,
    /// Its live threads' ids, the main thread's (= pid) first while it runs.
    pub threads: Vec<Pid>,
    /// Signals sent to the process as a whole, not yet taken.
    pub pending: SigSet,
    pub actions: Actions,
    /// A state change a parent's `wait4(WUNTRACED/WCONTINUED)` has not
    /// seen yet.
    pub unreported: Option<Status>,
    /// `comm`: the program's name (16 bytes at most, as Linux keeps it).
    pub name: String,
    /// The command line, for `ps` and `/proc/<pid>/cmdline`.
    pub cmdline: Vec<String>,
    /// Whether it has called `execve` since its fork (`setpgid` on a child
    /// that has is refused).
    pub execed: bool,
}

/// One thread of a process.
#[derive(Debug, Clone, Default)]
pub struct Thread {
    pub pid: Pid,
    pub mask: SigSet,
    /// Signals sent to this thread (`tgkill`, faults).
    pub pending: SigSet,
    /// `set_tid_address`/`CLONE_CHILD_CLEARTID`: zeroed and futex-woken
    /// when the thread ends.
    pub clear_child_tid: u64,
}

/// Which children a `wait4` accepts (its `pid` argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitFor {
    /// `pid > 0`.
    Pid(Pid),
    /// `pid == -1`.
    Any,
    /// `pid == 0` (the caller's group) or `pid < -1`.
    Group(Pid),
}

impl WaitFor {
    /// From `wait4`'s `pid` argument, for a caller in group `own_pgid`.
    pub fn from_arg(pid: i32, own_pgid: Pid) -> WaitFor {
        match pid {
            -1 => WaitFor::Any,
            0 => WaitFor::Group(own_pgid),
            p if p < 0 => WaitFor::Group(p.unsigned_abs()),
            p => WaitFor::Pid(p.unsigned_abs()),
        }
    }

    fn accepts(self, process: &Process) -> bool {
        match self {
            WaitFor::Pid(pid) => process.pid == pid,
            WaitFor::Any => true,
            WaitFor::Group(pgid) => process.pgid == pgid,
        }
    }
}

/// `wait4` has no child to wait for (`ECHILD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoChild;

/// What `wait4` reports about a child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reaped {
    pub pid: Pid,
    pub status: Status,
}

/// Every process and thread.
#[derive(Debug, Clone, Default)]
pub struct Table {
    processes: BTreeMap<Pid, Process>,
    threads: BTreeMap<Pid, Thread>,
    last_id: Pid,
}

impl Table {
    /// A new id for a process or thread: the next free one after the last.
    fn allocate(&mut self) -> Option<Pid> {
        let mut id = self.last_id;
        for _ in 0..PID_MAX {
            id = if id >= PID_MAX { INIT_PID + 1 } else { id + 1 };
            if id > INIT_PID && !self.in_use(id) {
                self.last_id = id;
                return Some(id);
            }
        }
        None
    }

    fn in_use(&self, id: Pid) -> bool {
        self.threads.contains_key(&id)
            || self.processes.contains_key(&id)
            || self.processes.values().any(|p| p.pgid == id || p.sid == id)
    }

    /// A new process with one thread (its tid is its pid): a child of
    /// `parent` in its group and session (fork), or, with `parent` =
    /// [`INIT_PID`], the leader of a new session and group. `None` when no
    /// pid is free.
    pub fn create(&mut self, parent: Pid, name: &str) -> Option<Pid> {
        let pid = self.allocate()?;
        let (pgid, sid, actions) = match self.processes.get(&parent) {
            Some(p) => (p.pgid, p.sid, p.actions.clone()),
            None => (pid, pid, Actions::default()),
        };
        let mask = self
            .processes
            .get(&parent)
            .and_then(|p| p.threads.first())
            .and_then(|t| self.threads.get(t))
            .map(|t| t.mask)
            .unwrap_or_default();
        self.processes.insert(
            pid,
            Process {
                pid,
                ppid: if self.processes.contains_key(&parent) {
                    parent
                } else {
                    INIT_PID
                },
                pgid,
                sid,
                state: State::Running,
                threads: alloc::vec![pid],
                pending: SigSet::EMPTY,
                actions,
                unreported: None,
                name: String::from(name),
                cmdline: Vec::new(),
                execed: false,
            },
        );
        self.threads.insert(
            pid,
            Thread {
                pid,
                mask,
                ..Thread::default()
            },
        );
        Some(pid)
    }

    /// A new thread in process `pid` with signal mask `mask`.
    pub fn add_thread(&mut self, pid: Pid, mask: SigSet) -> Option<Pid> {
        if !self.processes.contains_key(&pid) {
            return None;
        }
        let tid = self.allocate()?;
        self.threads.insert(
            tid,
            Thread {
                pid,
                mask,
                ..Thread::default()
            },
        );
        if let Some(p) = self.processes.get_mut(&pid) {
            p.threads.push(tid);
        }
        Some(tid)
    }

    pub fn process(&self, pid: Pid) -> Option<&Process> {
        self.processes.get(&pid)
    }
    pub fn process_mut(&mut self, pid: Pid) -> Option<&mut Process> {
        self.processes.get_mut(&pid)
    }
    pub fn thread(&self, tid: Pid) -> Option<&Thread> {
        self.threads.get(&tid)
    }
    pub fn thread_mut(&mut self, tid: Pid) -> Option<&mut Thread> {
        self.threads.get_mut(&tid)
    }
    /// Every process, by pid.
    pub fn processes(&self) -> impl Iterator<Item = &Process> {
        self.processes.values()
    }
    /// The live (not zombie) processes of group `pgid`.
    pub fn group(&self, pgid: Pid) -> Vec<Pid> {
        self.processes
            .values()
            .filter(|p| p.pgid == pgid && !matches!(p.state, State::Zombie(_)))
            .map(|p| p.pid)
            .collect()
    }
    /// The children of `parent`.
    pub fn children(&self, parent: Pid) -> Vec<Pid> {
        self.processes
            .values()
            .filter(|p| p.ppid == parent)
            .map(|p| p.pid)
            .collect()
    }

    /// Removes thread `tid`; true when it was its process's last one.
    pub fn remove_thread(&mut self, tid: Pid) -> bool {
        let Some(thread) = self.threads.remove(&tid) else {
            return false;
        };
        match self.processes.get_mut(&thread.pid) {
            Some(p) => {
                p.threads.retain(|t| *t != tid);
                p.threads.is_empty()
            }
            None => false,
        }
    }

    /// Process `pid` ended with `status`: its threads go, it becomes a
    /// zombie, and its children go to init (those already ended are reaped
    /// at once). Returns the threads it still had, and the parent to tell
    /// ([`INIT_PID`] when none; the zombie is then reaped at once).
    pub fn exit(&mut self, pid: Pid, status: Status) -> (Vec<Pid>, Pid) {
        let Some(process) = self.processes.get_mut(&pid) else {
            return (Vec::new(), INIT_PID);
        };
        process.state = State::Zombie(status);
        let threads = core::mem::take(&mut process.threads);
        let parent = process.ppid;
        for tid in &threads {
            self.threads.remove(tid);
        }
        let orphans = self.children(pid);
        for child in orphans {
            let zombie = match self.processes.get_mut(&child) {
                Some(c) => {
                    c.ppid = INIT_PID;
                    matches!(c.state, State::Zombie(_))
                }
                None => false,
            };
            if zombie {
                self.processes.remove(&child);
            }
        }
        if !self.processes.contains_key(&parent) {
            self.processes.remove(&pid);
        }
        (threads, parent)
    }

    /// Forgets zombie `pid` (its parent reaped it or does not wait).
    pub fn reap(&mut self, pid: Pid) {
        if matches!(
            self.processes.get(&pid).map(|p| p.state),
            Some(State::Zombie(_))
        ) {
            self.processes.remove(&pid);
        }
    }

    /// The child of `parent` a `wait4(for, options)` reports now, if any:
    /// a zombie (reaped unless `keep`), or with `stopped`/`continued` a
    /// state change not yet reported. [`NoChild`] when `parent` has no child
    /// `for` accepts at all (`ECHILD`).
    pub fn wait(
        &mut self,
        parent: Pid,
        wait_for: WaitFor,
        stopped: bool,
        continued: bool,
        keep: bool,
    ) -> Result<Option<Reaped>, NoChild> {
        let candidates: Vec<Pid> = self
            .processes
            .values()
            .filter(|p| p.ppid == parent && wait_for.accepts(p))
            .map(|p| p.pid)
            .collect();
        if candidates.is_empty() {
            return Err(NoChild);
        }
        for pid in candidates {
            let Some(p) = self.processes.get_mut(&pid) else {
                continue;
            };
            if let State::Zombie(status) = p.state {
                if !keep {
                    self.processes.remove(&pid);
                }
                return Ok(Some(Reaped { pid, status }));
            }
            let wanted = match p.unreported {
                Some(Status::Stopped(_)) => stopped,
                Some(Status::Continued) => continued,
                _ => false,
            };
            if wanted {
                let status = p.unreported.unwrap_or(Status::Continued);
                if !keep {
                    p.unreported = None;
                }
                return Ok(Some(Reaped { pid, status }));
            }
        }
        Ok(None)
    }

    /// `setpgid(pid, pgid)` by `caller`, after Linux's rules: `pid` is the
    /// caller or a child of it in its session that has not exec'd; the
    /// group is `pid`'s own or an existing one of the same session; a
    /// session leader cannot move. Errors are errno values.
    pub fn setpgid(&mut self, caller: Pid, pid: Pid, pgid: Pid) -> Result<(), i64> {
        use abide_linux::errno::{EACCES, EINVAL, EPERM, ESRCH};
        let pid = if pid == 0 { caller } else { pid };
        let pgid = if pgid == 0 { pid } else { pgid };
        let caller_sid = self.processes.get(&caller).map(|p| p.sid).ok_or(ESRCH)?;
        let target = self.processes.get(&pid).ok_or(ESRCH)?;
        if pid != caller {
            if target.ppid != caller {
                return Err(ESRCH);
            }
            if target.execed {
                return Err(EACCES);
            }
        }
        if target.sid != caller_sid || target.sid == pid {
            return Err(EPERM);
        }
        if pgid > PID_MAX {
            return Err(EINVAL);
        }
        if pgid != pid
            && !self
                .processes
                .values()
                .any(|p| p.pgid == pgid && p.sid == caller_sid)
        {
            return Err(EPERM);
        }
        if let Some(p) = self.processes.get_mut(&pid) {
            p.pgid = pgid;
        }
        Ok(())
    }

    /// `setsid()` by `pid`: a new session and group led by it; `EPERM` when
    /// it leads a group already.
    pub fn setsid(&mut self, pid: Pid) -> Result<Pid, i64> {
        if self.processes.values().any(|p| p.pgid == pid) {
            return Err(abide_linux::errno::EPERM);
        }
        let p = self
            .processes
            .get_mut(&pid)
            .ok_or(abide_linux::errno::ESRCH)?;
        p.sid = pid;
        p.pgid = pid;
        Ok(pid)
    }
}
