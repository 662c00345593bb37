//! What `bench` and `bench-peer` say to each other, and the waiting both do.
//!
//! `bench` spawns a fresh `bench-peer` for each benchmark that needs a second
//! process, with startup handle 0 its end of a channel and, for
//! [`Mode::Yield`] and [`Mode::Sum`], startup handle 1 a memory object. The
//! first message on the channel is one byte, the [`Mode`]. The peer ends (exit
//! 0) when `bench` closes its end of the channel, or in [`Mode::Yield`] when
//! `bench` sets [`YIELD_STOP`].

use core::fmt;

use abide_abi::object::{MessageInfo, Packet, ProcessState, Signals};
use abide_abi::syscall::{Error, Handle};
use abide_rt::syscall::{channel_read, port_bind, port_wait, FOREVER};

/// The partner program.
pub const PEER: &str = "bench-peer";
/// The program the spawn benchmark starts: it exits 0 at once.
pub const NOP: &str = "nop";

/// Port key for "this channel has a message (or its peer closed)".
pub const KEY_CHANNEL: u64 = 1;
/// Port key for "this process has ended".
pub const KEY_PROCESS: u64 = 2;

/// Size of the memory object of [`Mode::Sum`].
pub const SHARED_BYTES: usize = 1 << 20;
/// Size of the memory object of [`Mode::Yield`]: one page holding two
/// `AtomicU64`s, [`YIELD_STOP`] and [`YIELD_TURNS`].
pub const YIELD_PAGE_BYTES: usize = 4096;
/// Index of the word `bench` sets to non-zero to end a [`Mode::Yield`] peer.
pub const YIELD_STOP: usize = 0;
/// Index of the word the [`Mode::Yield`] peer increments each time it runs.
pub const YIELD_TURNS: usize = 1;

/// What the peer does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    /// Answer every message with the same bytes.
    Echo = b'e',
    /// Count a turn in the shared page and yield, until told to stop.
    Yield = b'y',
    /// For every message, read the whole shared 1 MiB as `u64`s and answer
    /// with their wrapping sum (8 bytes, little endian).
    Sum = b's',
}

impl Mode {
    /// The mode a first message names.
    pub fn from_message(bytes: &[u8]) -> Option<Mode> {
        match bytes {
            [b'e'] => Some(Mode::Echo),
            [b'y'] => Some(Mode::Yield),
            [b's'] => Some(Mode::Sum),
            _ => None,
        }
    }
}

/// Why a benchmark (or the peer) stopped. Displays as one word, the
/// `reason=` of a `bench: failed` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// A system call failed: `<call>:<error>`.
    Call(&'static str, Error),
    /// Something the protocol does not allow came back.
    Unexpected(&'static str),
    /// A child process ended other than with status 0:
    /// `<program>-ended:<state>:<code>`.
    ChildEnded(&'static str, ProcessState, i32),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Failure::Call(call, error) => write!(f, "{call}:{error:?}"),
            Failure::Unexpected(what) => f.write_str(what),
            Failure::ChildEnded(program, state, code) => {
                write!(f, "{program}-ended:{state:?}:{code}")
            }
        }
    }
}

/// For `map_err`: names the call that failed.
pub fn call(name: &'static str) -> impl FnOnce(Error) -> Failure {
    move |error| Failure::Call(name, error)
}

/// Waits on `port` until `object` asserts one of `signals`.
pub fn wait_for(
    port: Handle,
    object: Handle,
    key: u64,
    signals: Signals,
) -> Result<Packet, Failure> {
    port_bind(port, object, key, signals).map_err(call("port_bind"))?;
    let packet = port_wait(port, FOREVER).map_err(call("port_wait"))?;
    if packet.key != key {
        return Err(Failure::Unexpected("packet-with-another-key"));
    }
    Ok(packet)
}

/// Reads the next message of `channel` into `bytes` (it carries no
/// handles), waiting on `port` while there is none. `Ok(None)` once the other
/// end is closed and every message has been read.
pub fn receive(
    channel: Handle,
    port: Handle,
    bytes: &mut [u8],
) -> Result<Option<MessageInfo>, Failure> {
    loop {
        match channel_read(channel, bytes, &mut []) {
            Ok(info) => return Ok(Some(info)),
            Err((Error::PeerClosed, _)) => return Ok(None),
            Err((Error::ShouldWait, _)) => {
                let signals = Signals::READABLE.union(Signals::PEER_CLOSED);
                wait_for(port, channel, KEY_CHANNEL, signals)?;
            }
            Err((error, _)) => return Err(Failure::Call("channel_read", error)),
        }
    }
}

/// The first `info.bytes` bytes of `buffer`: the message [`receive`] read.
pub fn message<'a>(buffer: &'a [u8], info: &MessageInfo) -> Result<&'a [u8], Failure> {
    usize::try_from(info.bytes)
        .ok()
        .and_then(|len| buffer.get(..len))
        .ok_or(Failure::Unexpected("message-longer-than-buffer"))
}
