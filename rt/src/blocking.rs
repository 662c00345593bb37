//! Blocking waits for programs that do one thing at a time (tests, simple
//! drivers, benchmarks): wait for a signal on one handle, receive one whole
//! message. Each [`Waiter`] owns a port; every wait has a deadline, so a
//! lost peer shows up as [`Error::TimedOut`], never as a hang.
//!
//! Programs that serve many things at once use the async executor instead.

use alloc::vec;
use alloc::vec::Vec;

use abide_abi::object::{Signals, MAX_MESSAGE_BYTES, MAX_MESSAGE_HANDLES};
use abide_abi::syscall::{Error, Handle};

use crate::syscall;

/// A whole message: its bytes, its handles (now in this process's table) and
/// the badge of the handle it was written through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub bytes: Vec<u8>,
    pub handles: Vec<Handle>,
    pub badge: u64,
}

/// A port to wait on, one thing at a time.
pub struct Waiter {
    port: Handle,
}

impl Waiter {
    /// A waiter with a fresh port.
    pub fn new() -> Result<Waiter, Error> {
        Ok(Waiter {
            port: syscall::port_create()?,
        })
    }

    /// Waits until `handle` asserts any of `signals` or the clock reaches
    /// `deadline_ns`; returns the signals it had.
    pub fn wait(
        &self,
        handle: Handle,
        signals: Signals,
        deadline_ns: u64,
    ) -> Result<Signals, Error> {
        syscall::port_bind(self.port, handle, 0, signals)?;
        Ok(syscall::port_wait(self.port, deadline_ns)?.signals)
    }

    /// Receives the next message of `channel`, waiting until `deadline_ns`.
    /// [`Error::PeerClosed`] once the peer is gone and nothing is left.
    pub fn recv(&self, channel: Handle, deadline_ns: u64) -> Result<Message, Error> {
        let mut bytes = vec![0u8; MAX_MESSAGE_BYTES];
        let mut handles = [Handle(0); MAX_MESSAGE_HANDLES];
        loop {
            match syscall::channel_read(channel, &mut bytes, &mut handles) {
                Ok(info) => {
                    bytes.truncate(info.bytes as usize);
                    return Ok(Message {
                        bytes,
                        handles: handles.get(..info.handles as usize).unwrap_or(&[]).to_vec(),
                        badge: info.badge,
                    });
                }
                Err((Error::ShouldWait, _)) => {
                    self.wait(
                        channel,
                        Signals::READABLE.union(Signals::PEER_CLOSED),
                        deadline_ns,
                    )?;
                }
                Err((error, _)) => return Err(error),
            }
        }
    }

    /// Writes a message to `channel`, waiting for room until `deadline_ns`.
    pub fn send(
        &self,
        channel: Handle,
        bytes: &[u8],
        handles: &[Handle],
        deadline_ns: u64,
    ) -> Result<(), Error> {
        loop {
            match syscall::channel_write(channel, bytes, handles) {
                Err(Error::ShouldWait) => {
                    self.wait(
                        channel,
                        Signals::WRITABLE.union(Signals::PEER_CLOSED),
                        deadline_ns,
                    )?;
                }
                result => return result,
            }
        }
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        let _ = syscall::handle_close(self.port);
    }
}

/// The deadline `ns` nanoseconds from now.
pub fn after_ns(ns: u64) -> u64 {
    syscall::clock_ns().saturating_add(ns)
}
