//! Waiting for descriptors: `poll`, `ppoll`, `select`, `pselect6`.
//! Readiness comes from `lib/vfs` (pipes, files, devices) and
//! [`super::device`] (the terminal); with nothing ready, the call parks
//! on any descriptor change until its deadline.

use alloc::vec;
use alloc::vec::Vec;

use abide_linux::errno::{EFAULT, EINVAL};
use abide_linux::fs::poll::{
    POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDNORM, POLLWRNORM,
};
use abide_rt::syscall;
use abide_vfs::Error;

use super::device;
use super::fs::{with, ANY_IO};
use crate::call::{Call, Outcome, WaitOn};

/// The most descriptors one call watches (`RLIMIT_NOFILE`).
const MAX_WATCHED: u64 = abide_vfs::MAX_FDS as u64;
const NS_PER_MS: u64 = 1_000_000;

/// The `poll` events of each descriptor of `fds` (`POLLNVAL` if closed),
/// and whether it is a terminal without input.
fn readiness(c: &mut Call, fds: &[i32]) -> Result<(Vec<u16>, Vec<bool>), i64> {
    let answers = with(c, |vfs, files, _| {
        fds.iter()
            .map(|&fd| vfs.poll(files, fd))
            .collect::<Vec<_>>()
    })?;
    Ok(answers
        .into_iter()
        .map(|answer| match answer {
            Ok(events) => (events, false),
            Err(Error::Device(dev)) => {
                let events = device::poll(c.unix, dev);
                (events, events & POLLIN == 0)
            }
            Err(_) => (POLLNVAL, false),
        })
        .unzip())
}

/// Parks until a descriptor changes or `deadline` (monotonic ns; `None`:
/// forever); answers `timed_out` when the deadline has passed. A park
/// that waits for a terminal's input (`for_input`) has the console read.
fn wait(c: &mut Call, deadline: Option<u64>, timed_out: Outcome, for_input: bool) -> Outcome {
    if c.timed_out || deadline.is_some_and(|deadline| deadline <= syscall::clock_ns()) {
        return timed_out;
    }
    if for_input {
        crate::tty::wait_for_input(c.unix);
    }
    Outcome::Block(WaitOn::Io(ANY_IO), deadline)
}

/// `poll` and `ppoll` on the caller's `pollfd` array.
fn poll_at(c: &mut Call, fds_at: u64, count: u64, deadline: Option<u64>) -> Outcome {
    if count > MAX_WATCHED {
        return Outcome::err(EINVAL);
    }
    let Ok(raw) = c.read(fds_at, count as usize * 8) else {
        return Outcome::err(EFAULT);
    };
    let entries: Vec<(i32, u16)> = raw
        .chunks_exact(8)
        .map(|entry| {
            let fd = i32::from_le_bytes([entry[0], entry[1], entry[2], entry[3]]);
            (fd, u16::from_le_bytes([entry[4], entry[5]]))
        })
        .collect();
    let fds: Vec<i32> = entries.iter().map(|&(fd, _)| fd).collect();
    let (ready, no_input) = match readiness(c, &fds) {
        Ok(ready) => ready,
        Err(errno) => return Outcome::err(errno),
    };
    let for_input = entries
        .iter()
        .zip(&no_input)
        .any(|(&(fd, wanted), &none)| none && fd >= 0 && wanted & POLLIN != 0);
    let mut out = raw.clone();
    let mut count_ready = 0;
    for (index, (&(fd, wanted), &events)) in entries.iter().zip(&ready).enumerate() {
        let wanted = wanted
            | if wanted & POLLIN != 0 { POLLRDNORM } else { 0 }
            | if wanted & POLLOUT != 0 { POLLWRNORM } else { 0 };
        let events = events
            | if events & POLLIN != 0 { POLLRDNORM } else { 0 }
            | if events & POLLOUT != 0 { POLLWRNORM } else { 0 };
        let revents = if fd < 0 {
            0
        } else {
            events & (wanted | POLLERR | POLLHUP | POLLNVAL) & !(POLLPRI & !wanted)
        };
        if revents != 0 {
            count_ready += 1;
        }
        if let Some(slot) = out.get_mut(index * 8 + 6..index * 8 + 8) {
            slot.copy_from_slice(&revents.to_le_bytes());
        }
    }
    if count_ready == 0 {
        let outcome = wait(c, deadline, Outcome::Done(0), for_input);
        if outcome != Outcome::Done(0) {
            return outcome;
        }
    }
    match c.write(fds_at, &out) {
        Ok(()) => Outcome::Done(count_ready),
        Err(errno) => Outcome::err(errno),
    }
}

/// The deadline `timeout` nanoseconds from now (`None`: forever).
fn after(timeout: Option<u64>) -> Option<u64> {
    timeout.map(|ns| syscall::clock_ns().saturating_add(ns))
}

/// Reads a `struct timespec` as nanoseconds (`EINVAL` when malformed).
fn timespec_ns(c: &Call, at: u64) -> Result<u64, i64> {
    let (sec, nsec) = (c.read_u64(at)? as i64, c.read_u64(at + 8)? as i64);
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return Err(EINVAL);
    }
    Ok((sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(nsec as u64))
}

/// `poll(fds, nfds, timeout_ms)`.
pub fn poll(c: &mut Call) -> Outcome {
    let timeout = c.arg(2) as i32;
    let timeout = (timeout >= 0).then(|| timeout as u64 * NS_PER_MS);
    poll_at(c, c.arg(0), c.arg(1), after(timeout))
}

/// `ppoll(fds, nfds, timeout, sigmask, size)` (the mask is not swapped).
pub fn ppoll(c: &mut Call) -> Outcome {
    let timeout = if c.arg(2) == 0 {
        None
    } else {
        match timespec_ns(c, c.arg(2)) {
            Ok(ns) => Some(ns),
            Err(errno) => return Outcome::err(errno),
        }
    };
    poll_at(c, c.arg(0), c.arg(1), after(timeout))
}

/// `select` and `pselect6` on the caller's three `fd_set`s.
fn select_at(c: &mut Call, nfds: u64, sets: [u64; 3], deadline: Option<u64>) -> Outcome {
    if nfds > MAX_WATCHED {
        return Outcome::err(EINVAL);
    }
    let bytes = (nfds as usize).div_ceil(64) * 8;
    let mut wanted = [vec![0u8; bytes], vec![0u8; bytes], vec![0u8; bytes]];
    for (set, at) in wanted.iter_mut().zip(sets) {
        if at != 0 {
            match c.read(at, bytes) {
                Ok(read) => *set = read,
                Err(errno) => return Outcome::err(errno),
            }
        }
    }
    let is_set = |set: &[u8], fd: usize| {
        set.get(fd / 8)
            .is_some_and(|byte| byte & (1 << (fd % 8)) != 0)
    };
    let fds: Vec<i32> = (0..nfds as usize)
        .filter(|&fd| wanted.iter().any(|set| is_set(set, fd)))
        .map(|fd| fd as i32)
        .collect();
    let (ready, no_input) = match readiness(c, &fds) {
        Ok(ready) => ready,
        Err(errno) => return Outcome::err(errno),
    };
    let for_input = fds
        .iter()
        .zip(&no_input)
        .any(|(&fd, &none)| none && is_set(&wanted[0], fd as usize));
    let mut out = [vec![0u8; bytes], vec![0u8; bytes], vec![0u8; bytes]];
    let mut count = 0;
    for (&fd, &events) in fds.iter().zip(&ready) {
        if events & POLLNVAL != 0 {
            return Outcome::err(abide_linux::errno::EBADF);
        }
        let fd = fd as usize;
        let hits = [
            events & (POLLIN | POLLHUP | POLLERR) != 0,
            events & (POLLOUT | POLLERR) != 0,
            events & POLLPRI != 0,
        ];
        for ((hit, set), result) in hits.iter().zip(&wanted).zip(out.iter_mut()) {
            if *hit && is_set(set, fd) {
                if let Some(byte) = result.get_mut(fd / 8) {
                    *byte |= 1 << (fd % 8);
                }
                count += 1;
            }
        }
    }
    if count == 0 {
        let outcome = wait(c, deadline, Outcome::Done(0), for_input);
        if outcome != Outcome::Done(0) {
            return outcome;
        }
    }
    for (set, at) in out.iter().zip(sets) {
        if at != 0 && c.write(at, set).is_err() {
            return Outcome::err(EFAULT);
        }
    }
    Outcome::Done(count)
}

/// `select(nfds, readfds, writefds, exceptfds, timeout)` (a `timeval`).
pub fn select(c: &mut Call) -> Outcome {
    let timeout = if c.arg(4) == 0 {
        None
    } else {
        match (c.read_u64(c.arg(4)), c.read_u64(c.arg(4) + 8)) {
            (Ok(sec), Ok(usec)) if (sec as i64) >= 0 && usec < 1_000_000 => Some(
                sec.saturating_mul(1_000_000_000)
                    .saturating_add(usec * 1000),
            ),
            (Ok(_), Ok(_)) => return Outcome::err(EINVAL),
            _ => return Outcome::err(EFAULT),
        }
    };
    select_at(c, c.arg(0), [c.arg(1), c.arg(2), c.arg(3)], after(timeout))
}

/// `pselect6(nfds, readfds, writefds, exceptfds, timeout, sigmask)`.
pub fn pselect6(c: &mut Call) -> Outcome {
    let timeout = if c.arg(4) == 0 {
        None
    } else {
        match timespec_ns(c, c.arg(4)) {
            Ok(ns) => Some(ns),
            Err(errno) => return Outcome::err(errno),
        }
    };
    select_at(c, c.arg(0), [c.arg(1), c.arg(2), c.arg(3)], after(timeout))
}
