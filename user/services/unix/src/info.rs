//! Identity and information calls: pids and ids, process groups and
//! sessions, `uname`, `getrandom`, `sysinfo`, resource limits and usage,
//! `prctl`, `arch_prctl`, scheduling stubs. Every process runs as root
//! (uid and gid 0).

use abide_linux::errno::{EFAULT, EINVAL, ESRCH};
use abide_rt::syscall;

use crate::call::{Call, Outcome};
use crate::memory::STACK_RESERVE;

/// `getpid()`.
pub fn getpid(c: &mut Call) -> Outcome {
    Outcome::Done(i64::from(c.pid))
}

/// `gettid()`.
pub fn gettid(c: &mut Call) -> Outcome {
    Outcome::Done(i64::from(c.tid))
}

/// `getppid()`.
pub fn getppid(c: &mut Call) -> Outcome {
    Outcome::Done(c.unix.table.process(c.pid).map_or(0, |p| i64::from(p.ppid)))
}

/// `getuid`, `geteuid`, `getgid`, `getegid`: root.
pub fn root_id(_c: &mut Call) -> Outcome {
    Outcome::Done(0)
}

/// `setuid`, `setgid`, `setreuid`, `setresuid`, ... to anything: accepted
/// (there is only root).
pub fn set_id(_c: &mut Call) -> Outcome {
    Outcome::Done(0)
}

/// `getresuid(r, e, s)` / `getresgid`: all 0.
pub fn getresid(c: &mut Call) -> Outcome {
    for i in 0..3 {
        if c.arg(i) != 0 && c.write_u32(c.arg(i), 0).is_err() {
            return Outcome::err(EFAULT);
        }
    }
    Outcome::Done(0)
}

/// `getgroups(size, list)`: none.
pub fn getgroups(_c: &mut Call) -> Outcome {
    Outcome::Done(0)
}

/// `setpgid(pid, pgid)`.
pub fn setpgid(c: &mut Call) -> Outcome {
    let (pid, pgid) = (c.arg(0) as u32, c.arg(1) as u32);
    if (c.arg(0) as i32) < 0 || (c.arg(1) as i32) < 0 {
        return Outcome::err(EINVAL);
    }
    Outcome::from(c.unix.table.setpgid(c.pid, pid, pgid).map(|()| 0))
}

/// `getpgid(pid)`.
pub fn getpgid(c: &mut Call) -> Outcome {
    let pid = if c.arg(0) == 0 {
        c.pid
    } else {
        c.arg(0) as u32
    };
    match c.unix.table.process(pid) {
        Some(p) => Outcome::Done(i64::from(p.pgid)),
        None => Outcome::err(ESRCH),
    }
}

/// `getpgrp()`.
pub fn getpgrp(c: &mut Call) -> Outcome {
    Outcome::Done(c.unix.table.process(c.pid).map_or(0, |p| i64::from(p.pgid)))
}

/// `setsid()`.
pub fn setsid(c: &mut Call) -> Outcome {
    Outcome::from(c.unix.table.setsid(c.pid).map(u64::from))
}

/// `getsid(pid)`.
pub fn getsid(c: &mut Call) -> Outcome {
    let pid = if c.arg(0) == 0 {
        c.pid
    } else {
        c.arg(0) as u32
    };
    match c.unix.table.process(pid) {
        Some(p) => Outcome::Done(i64::from(p.sid)),
        None => Outcome::err(ESRCH),
    }
}

/// `uname(buf)`: six 65-byte fields.
pub fn uname(c: &mut Call) -> Outcome {
    let fields: [&[u8]; 6] = [
        b"Linux",
        b"abide",
        b"6.1.0-abide",
        b"#1 SMP Abide Unix personality",
        b"x86_64",
        b"(none)",
    ];
    let mut buf = [0u8; 65 * 6];
    for (i, field) in fields.iter().enumerate() {
        if let Some(slot) = buf.get_mut(i * 65..i * 65 + field.len()) {
            slot.copy_from_slice(field);
        }
    }
    Outcome::from(c.write(c.arg(0), &buf).map(|()| 0))
}

/// `getrandom(buf, len, flags)`.
pub fn getrandom(c: &mut Call) -> Outcome {
    let len = (c.arg(1) as usize).min(1 << 16);
    let mut bytes = alloc::vec::Vec::with_capacity(len + 8);
    while bytes.len() < len {
        bytes.extend_from_slice(&c.unix.next_random().to_le_bytes());
    }
    bytes.truncate(len);
    Outcome::from(c.write(c.arg(0), &bytes).map(|()| len as u64))
}

/// `sysinfo(info)`: uptime, memory from the kernel's figures, the number
/// of processes.
pub fn sysinfo(c: &mut Call) -> Outcome {
    let mut buf = [0u8; 112];
    let uptime = syscall::clock_ns() / 1_000_000_000;
    let (total, free) = syscall::memory_stats()
        .map(|s| (s.usable_bytes, s.free_bytes))
        .unwrap_or((0, 0));
    let procs = c.unix.table.processes().count() as u16;
    let mut put = |at: usize, bytes: &[u8]| {
        if let Some(slot) = buf.get_mut(at..at + bytes.len()) {
            slot.copy_from_slice(bytes);
        }
    };
    put(0, &uptime.to_le_bytes());
    put(32, &total.to_le_bytes());
    put(40, &free.to_le_bytes());
    put(80, &procs.to_le_bytes());
    put(104, &1u32.to_le_bytes()); // mem_unit
    Outcome::from(c.write(c.arg(0), &buf).map(|()| 0))
}

/// `RLIMIT_*` numbers with limits worth telling.
const RLIMIT_STACK: u64 = 3;
const RLIMIT_NOFILE: u64 = 7;
const RLIM_INFINITY: u64 = u64::MAX;

fn limit(resource: u64) -> Option<(u64, u64)> {
    match resource {
        RLIMIT_STACK => Some((STACK_RESERVE, RLIM_INFINITY)),
        RLIMIT_NOFILE => Some((1024, 4096)),
        0..=15 => Some((RLIM_INFINITY, RLIM_INFINITY)),
        _ => None,
    }
}

/// `prlimit64(pid, resource, new, old)`: the limits are fixed; setting
/// them is accepted and changes nothing.
pub fn prlimit64(c: &mut Call) -> Outcome {
    let Some((soft, hard)) = limit(c.arg(1)) else {
        return Outcome::err(EINVAL);
    };
    if c.arg(3) != 0 {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&soft.to_le_bytes());
        bytes[8..].copy_from_slice(&hard.to_le_bytes());
        if c.write(c.arg(3), &bytes).is_err() {
            return Outcome::err(EFAULT);
        }
    }
    Outcome::Done(0)
}

/// `getrlimit(resource, rlim)`.
pub fn getrlimit(c: &mut Call) -> Outcome {
    c.regs.r10 = c.regs.rsi;
    c.regs.rsi = c.regs.rdi;
    c.regs.rdx = 0;
    prlimit64(c)
}

/// `setrlimit(resource, rlim)`: accepted.
pub fn setrlimit(c: &mut Call) -> Outcome {
    if limit(c.arg(0)).is_none() {
        return Outcome::err(EINVAL);
    }
    Outcome::Done(0)
}

/// `getrusage(who, usage)`: zeros (CPU time is not measured per process).
pub fn getrusage(c: &mut Call) -> Outcome {
    Outcome::from(c.write(c.arg(1), &[0u8; 144]).map(|()| 0))
}

/// `prctl(option, ...)`: `PR_SET_NAME`, `PR_GET_NAME`; others `EINVAL`.
pub fn prctl(c: &mut Call) -> Outcome {
    const PR_SET_NAME: u64 = 15;
    const PR_GET_NAME: u64 = 16;
    match c.arg(0) {
        PR_SET_NAME => {
            let Ok(mut name) = c.read(c.arg(1), 16) else {
                return Outcome::err(EFAULT);
            };
            let end = name.iter().position(|b| *b == 0).unwrap_or(15).min(15);
            name.truncate(end);
            if let Some(p) = c.unix.table.process_mut(c.pid) {
                p.name = alloc::string::String::from_utf8_lossy(&name).into_owned();
            }
            Outcome::Done(0)
        }
        PR_GET_NAME => {
            let mut buf = [0u8; 16];
            if let Some(p) = c.unix.table.process(c.pid) {
                let name = p.name.as_bytes();
                let n = name.len().min(15);
                buf[..n].copy_from_slice(&name[..n]);
            }
            Outcome::from(c.write(c.arg(1), &buf).map(|()| 0))
        }
        _ => Outcome::err(EINVAL),
    }
}

/// `arch_prctl(code, addr)`: the FS base (TLS); GS too.
pub fn arch_prctl(c: &mut Call) -> Outcome {
    const ARCH_SET_GS: u64 = 0x1001;
    const ARCH_SET_FS: u64 = 0x1002;
    const ARCH_GET_FS: u64 = 0x1003;
    const ARCH_GET_GS: u64 = 0x1004;
    let addr = c.arg(1);
    match c.arg(0) {
        ARCH_SET_FS if addr < crate::memory::STACK_TOP + 0x2000 => {
            c.regs.fs_base = addr;
            Outcome::Done(0)
        }
        ARCH_SET_GS if addr < crate::memory::STACK_TOP + 0x2000 => {
            c.regs.gs_base = addr;
            Outcome::Done(0)
        }
        ARCH_GET_FS => Outcome::from(c.write_u64(addr, c.regs.fs_base).map(|()| 0)),
        ARCH_GET_GS => Outcome::from(c.write_u64(addr, c.regs.gs_base).map(|()| 0)),
        ARCH_SET_FS | ARCH_SET_GS => Outcome::err(abide_linux::errno::EPERM),
        _ => Outcome::err(EINVAL),
    }
}

/// `sched_getaffinity(pid, size, mask)`: one CPU.
pub fn sched_getaffinity(c: &mut Call) -> Outcome {
    let size = c.arg(1);
    if size < 8 || !size.is_multiple_of(8) {
        return Outcome::err(EINVAL);
    }
    Outcome::from(c.write_u64(c.arg(2), 1).map(|()| 8))
}

/// `sched_yield`, `sched_setaffinity` and the like: nothing to do.
pub fn nothing(_c: &mut Call) -> Outcome {
    Outcome::Done(0)
}

/// `getpriority(which, who)`: nice 0, which the raw call answers as 20.
pub fn getpriority(_c: &mut Call) -> Outcome {
    Outcome::Done(20)
}

/// `getcpu(cpu, node)`: CPU 0 of node 0.
pub fn getcpu(c: &mut Call) -> Outcome {
    for i in 0..2 {
        if c.arg(i) != 0 && c.write_u32(c.arg(i), 0).is_err() {
            return Outcome::err(EFAULT);
        }
    }
    Outcome::Done(0)
}

/// `personality(persona)`: Linux's (0) only.
pub fn personality(c: &mut Call) -> Outcome {
    match c.arg(0) {
        0 | 0xffff_ffff => Outcome::Done(0),
        _ => Outcome::err(EINVAL),
    }
}
