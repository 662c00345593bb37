//! `futex`: `WAIT`, `WAKE`, `WAIT_BITSET`, `WAKE_BITSET`, `REQUEUE`,
//! `CMP_REQUEUE` (private or not: every futex is keyed by process and
//! address, so one in a `MAP_SHARED` page, the only memory processes
//! share, wakes only waiters of the same process). A waiter parks on
//! [`WaitOn::Futex`]; a wake answers it 0 at once (not by running the wait
//! again, whose value check would now fail).

use abide_linux::errno::{EAGAIN, EFAULT, EINVAL, ENOSYS, ETIMEDOUT};
use abide_rt::syscall;
use abide_unix::table::Pid;

use crate::call::{Call, Outcome, WaitOn};
use crate::trap;
use crate::unix::Unix;

const FUTEX_WAIT: u64 = 0;
const FUTEX_WAKE: u64 = 1;
const FUTEX_REQUEUE: u64 = 3;
const FUTEX_CMP_REQUEUE: u64 = 4;
const FUTEX_WAIT_BITSET: u64 = 9;
const FUTEX_WAKE_BITSET: u64 = 10;
const FUTEX_CMD_MASK: u64 = 0x7f;
const FUTEX_CLOCK_REALTIME: u64 = 256;

/// `futex(uaddr, op, val, timeout, uaddr2, val3)`.
pub fn futex(c: &mut Call) -> Outcome {
    let (addr, op, val) = (c.arg(0), c.arg(1), c.arg(2) as u32);
    if !addr.is_multiple_of(4) {
        return Outcome::err(EINVAL);
    }
    match op & FUTEX_CMD_MASK {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            if c.timed_out {
                return Outcome::err(ETIMEDOUT);
            }
            match c.read_u32(addr) {
                Ok(current) if current != val => return Outcome::err(EAGAIN),
                Ok(_) => {}
                Err(_) => return Outcome::err(EFAULT),
            }
            let timeout = c.arg(3);
            let deadline = if timeout == 0 {
                None
            } else {
                let (Ok(secs), Ok(nanos)) = (c.read_u64(timeout), c.read_u64(timeout + 8)) else {
                    return Outcome::err(EFAULT);
                };
                let ns = secs.saturating_mul(1_000_000_000).saturating_add(nanos);
                let now = syscall::clock_ns();
                Some(if op & FUTEX_CMD_MASK == FUTEX_WAIT_BITSET {
                    // Absolute, on the monotonic clock (or the realtime one).
                    if op & FUTEX_CLOCK_REALTIME != 0 {
                        ns.saturating_sub(crate::time::EPOCH_AT_BOOT * 1_000_000_000)
                    } else {
                        ns
                    }
                } else {
                    now.saturating_add(ns)
                })
            };
            Outcome::Block(WaitOn::Futex(c.pid, addr), deadline)
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => Outcome::Done(i64::from(wake(c.unix, c.pid, addr, val))),
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            if op & FUTEX_CMD_MASK == FUTEX_CMP_REQUEUE {
                match c.read_u32(addr) {
                    Ok(current) if current != c.arg(5) as u32 => return Outcome::err(EAGAIN),
                    Ok(_) => {}
                    Err(_) => return Outcome::err(EFAULT),
                }
            }
            let woken = wake(c.unix, c.pid, addr, val);
            let moved = requeue(c.unix, c.pid, addr, c.arg(4), c.arg(3) as u32);
            Outcome::Done(i64::from(woken + moved))
        }
        _ => Outcome::err(ENOSYS),
    }
}

/// Wakes up to `count` threads of `pid` waiting on the futex at `addr`;
/// how many.
pub fn wake(unix: &mut Unix, pid: Pid, addr: u64, count: u32) -> u32 {
    let key = WaitOn::Futex(pid, addr);
    let mut woken = 0;
    for tid in unix.waits.threads_on(&key) {
        if woken >= count {
            break;
        }
        if let Some(parked) = unix.waits.take(tid) {
            let mut regs = parked.request.regs;
            regs.rax = 0;
            trap::resume(unix, tid as Pid, regs);
            woken += 1;
        }
    }
    woken
}

/// Moves up to `count` waiters from `addr` to `to`; how many.
fn requeue(unix: &mut Unix, pid: Pid, addr: u64, to: u64, count: u32) -> u32 {
    let key = WaitOn::Futex(pid, addr);
    let mut moved = 0;
    for tid in unix.waits.threads_on(&key) {
        if moved >= count {
            break;
        }
        if let Some(parked) = unix.waits.take(tid) {
            unix.waits
                .park(tid, WaitOn::Futex(pid, to), parked.deadline, parked.request);
            moved += 1;
        }
    }
    moved
}
