//! Clocks and sleeping: `clock_gettime`, `clock_getres`, `gettimeofday`,
//! `time`, `nanosleep`, `clock_nanosleep`, `times`.
//!
//! `CLOCK_MONOTONIC` (and `BOOTTIME`, the CPU-time clocks) is Abide's
//! clock; `CLOCK_REALTIME` is it plus [`EPOCH_AT_BOOT`], since the machine
//! has no wall clock the kernel reads yet.

use abide_linux::errno::{EFAULT, EINVAL};
use abide_rt::syscall;

use crate::call::{Call, Outcome, WaitOn};

/// The wall-clock time (Unix seconds) taken for the moment of boot:
/// 2026-01-01T00:00:00Z.
pub const EPOCH_AT_BOOT: u64 = 1_767_225_600;

const NS: u64 = 1_000_000_000;

const CLOCK_REALTIME: u64 = 0;
const CLOCK_REALTIME_COARSE: u64 = 5;
const CLOCK_REALTIME_ALARM: u64 = 8;
const CLOCK_TAI: u64 = 11;
const TIMER_ABSTIME: u64 = 1;

/// Nanoseconds on clock `clock` now (`None`: no such clock).
fn now(clock: u64) -> Option<u64> {
    let mono = syscall::clock_ns();
    match clock {
        CLOCK_REALTIME | CLOCK_REALTIME_COARSE | CLOCK_REALTIME_ALARM | CLOCK_TAI => {
            Some(mono + EPOCH_AT_BOOT * NS)
        }
        1..=11 => Some(mono),
        _ => None,
    }
}

fn write_timespec(c: &Call, addr: u64, ns: u64) -> Result<(), i64> {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&(ns / NS).to_le_bytes());
    bytes[8..].copy_from_slice(&(ns % NS).to_le_bytes());
    c.write(addr, &bytes)
}

fn read_timespec(c: &Call, addr: u64) -> Result<u64, i64> {
    let (secs, nanos) = (c.read_u64(addr)?, c.read_u64(addr + 8)?);
    if secs > i64::MAX as u64 || nanos >= NS {
        return Err(EINVAL);
    }
    Ok(secs.saturating_mul(NS).saturating_add(nanos))
}

/// `clock_gettime(clock, tp)`.
pub fn clock_gettime(c: &mut Call) -> Outcome {
    let Some(ns) = now(c.arg(0)) else {
        return Outcome::err(EINVAL);
    };
    Outcome::from(write_timespec(c, c.arg(1), ns).map(|()| 0))
}

/// `clock_getres(clock, res)`: a nanosecond.
pub fn clock_getres(c: &mut Call) -> Outcome {
    if now(c.arg(0)).is_none() {
        return Outcome::err(EINVAL);
    }
    if c.arg(1) == 0 {
        return Outcome::Done(0);
    }
    Outcome::from(write_timespec(c, c.arg(1), 1).map(|()| 0))
}

/// `gettimeofday(tv, tz)`.
pub fn gettimeofday(c: &mut Call) -> Outcome {
    let ns = now(CLOCK_REALTIME).unwrap_or(0);
    if c.arg(0) != 0 {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&(ns / NS).to_le_bytes());
        bytes[8..].copy_from_slice(&((ns % NS) / 1000).to_le_bytes());
        if c.write(c.arg(0), &bytes).is_err() {
            return Outcome::err(EFAULT);
        }
    }
    if c.arg(1) != 0 && c.write(c.arg(1), &[0u8; 8]).is_err() {
        return Outcome::err(EFAULT);
    }
    Outcome::Done(0)
}

/// `time(t)`.
pub fn time(c: &mut Call) -> Outcome {
    let secs = now(CLOCK_REALTIME).unwrap_or(0) / NS;
    if c.arg(0) != 0 && c.write_u64(c.arg(0), secs).is_err() {
        return Outcome::err(EFAULT);
    }
    Outcome::Done(secs as i64)
}

/// `nanosleep(req, rem)`.
pub fn nanosleep(c: &mut Call) -> Outcome {
    if c.timed_out {
        return Outcome::Done(0);
    }
    match read_timespec(c, c.arg(0)) {
        Ok(0) => Outcome::Done(0),
        Ok(ns) => Outcome::Block(WaitOn::Sleep, Some(syscall::clock_ns().saturating_add(ns))),
        Err(errno) => Outcome::err(if errno == EINVAL { EINVAL } else { EFAULT }),
    }
}

/// `clock_nanosleep(clock, flags, req, rem)` (answers the error, not
/// `-1`/errno, like Linux's).
pub fn clock_nanosleep(c: &mut Call) -> Outcome {
    if c.timed_out {
        return Outcome::Done(0);
    }
    let (clock, flags) = (c.arg(0), c.arg(1));
    let Some(clock_now) = now(clock) else {
        return Outcome::err(EINVAL);
    };
    let ns = match read_timespec(c, c.arg(2)) {
        Ok(ns) => ns,
        Err(errno) => return Outcome::err(errno),
    };
    let mono = syscall::clock_ns();
    let deadline = if flags & TIMER_ABSTIME != 0 {
        mono.saturating_add(ns.saturating_sub(clock_now))
    } else {
        mono.saturating_add(ns)
    };
    if deadline <= mono {
        return Outcome::Done(0);
    }
    Outcome::Block(WaitOn::Sleep, Some(deadline))
}

/// `times(buf)`: CPU times are not measured per process: zeros, and the
/// clock in ticks (100 Hz).
pub fn times(c: &mut Call) -> Outcome {
    if c.arg(0) != 0 && c.write(c.arg(0), &[0u8; 32]).is_err() {
        return Outcome::err(EFAULT);
    }
    Outcome::Done((syscall::clock_ns() / 10_000_000) as i64)
}
