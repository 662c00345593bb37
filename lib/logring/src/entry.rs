//! Log entries: what a client appends ([`NewEntry`]), what a query returns
//! ([`Entry`]), and their byte layout in the ring, with the checksum that
//! tells a whole entry from stale or foreign bytes.

use core::fmt;

use abide_le::{u16_at, u32_at, u64_at, u8_at};

/// The longest component name, in bytes.
pub const MAX_COMPONENT_LEN: usize = 32;
/// The longest message text, in bytes.
pub const MAX_TEXT_LEN: usize = 512;
/// The fixed part of an entry in the ring, before the name and the text.
pub(crate) const ENTRY_HEADER_LEN: usize = 48;
/// The most bytes one entry takes in the ring.
pub const MAX_ENTRY_LEN: usize = ENTRY_HEADER_LEN + MAX_COMPONENT_LEN + MAX_TEXT_LEN;

// Field offsets in an entry; the checksum covers all but its own field.
const SEQ: usize = 0;
const POS: usize = 8;
const TIME: usize = 16;
const TOKEN: usize = 24;
const CLIENT: usize = 32;
const TEXT_LEN: usize = 36;
const LEVEL: usize = 38;
const COMPONENT_LEN: usize = 39;
const CHECK: usize = 40;

/// How severe a message is. Lower is more severe: `Error < Warn < Info <
/// Debug`, so "at least as severe as Warn" is `level <= Level::Warn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Level {
    /// Something failed.
    Error = 1,
    /// Something is wrong but goes on.
    Warn = 2,
    /// Normal operation worth recording.
    Info = 3,
    /// Detail for debugging.
    Debug = 4,
}

impl Level {
    /// The level stored as `value`, if it is one.
    pub fn from_u8(value: u8) -> Option<Self> {
        Some(match value {
            1 => Self::Error,
            2 => Self::Warn,
            3 => Self::Info,
            4 => Self::Debug,
            _ => return None,
        })
    }

    /// Its name in lower case, as the command line spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warn => "warn",
            Self::Info => "info",
            Self::Debug => "debug",
        }
    }

    /// The level of a line of the kernel's console: the one its logger
    /// printed after the timestamp (`[    1.000000] WARN  text`; `TRACE`
    /// counts as debug), or, for a line printed without one, `Error` when it
    /// speaks of a panic or an error and `Info` otherwise.
    pub fn of_kernel_line(text: &str) -> Self {
        let logged = text
            .strip_prefix('[')
            .and_then(|rest| rest.split_once(']'))
            .and_then(|(_, rest)| rest.split_whitespace().next());
        match logged {
            Some("ERROR") => Self::Error,
            Some("WARN") => Self::Warn,
            Some("INFO") => Self::Info,
            Some("DEBUG" | "TRACE") => Self::Debug,
            _ if text.contains("panic") || text.contains("error") => Self::Error,
            _ => Self::Info,
        }
    }
}

/// A message a client asks to append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewEntry<'a> {
    /// When it happened, in nanoseconds of the system clock.
    pub time_ns: u64,
    /// How severe it is.
    pub level: Level,
    /// The component that logs it, at most [`MAX_COMPONENT_LEN`] bytes.
    pub component: &'a str,
    /// The client the request came from.
    pub client: u32,
    /// The client's idempotency token for the request: a retried request
    /// carries the same token, a new one a larger token.
    pub token: u64,
    /// The message, at most [`MAX_TEXT_LEN`] bytes.
    pub text: &'a str,
}

/// A committed log entry.
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its sequence number: entries are numbered 0, 1, 2, … in append order.
    pub seq: u64,
    /// When it happened, in nanoseconds of the system clock.
    pub time_ns: u64,
    /// How severe it is.
    pub level: Level,
    /// The client that appended it.
    pub client: u32,
    /// The client's idempotency token for it.
    pub token: u64,
    component: [u8; MAX_COMPONENT_LEN],
    component_len: u8,
    text: [u8; MAX_TEXT_LEN],
    text_len: u16,
}

impl Entry {
    /// The component that logged it.
    pub fn component(&self) -> &str {
        utf8(&self.component[..usize::from(self.component_len)])
    }

    /// The message.
    pub fn text(&self) -> &str {
        utf8(&self.text[..usize::from(self.text_len)])
    }
}

/// Bytes a decoded entry was checked to hold as UTF-8.
fn utf8(bytes: &[u8]) -> &str {
    core::str::from_utf8(bytes).unwrap_or_default()
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("seq", &self.seq)
            .field("time_ns", &self.time_ns)
            .field("level", &self.level)
            .field("component", &self.component())
            .field("client", &self.client)
            .field("token", &self.token)
            .field("text", &self.text())
            .finish()
    }
}

/// The bytes `len` takes in the ring: entries start 8-aligned.
pub(crate) fn padded(len: usize) -> u64 {
    len.next_multiple_of(8) as u64
}

/// Writes `entry` as entry `seq` at ring position `pos` into `buf` and
/// returns its length (before padding). The caller checked the lengths.
pub(crate) fn encode(seq: u64, pos: u64, entry: &NewEntry, buf: &mut [u8; MAX_ENTRY_LEN]) -> usize {
    let component = entry.component.as_bytes();
    let text = entry.text.as_bytes();
    buf[SEQ..POS].copy_from_slice(&seq.to_le_bytes());
    buf[POS..TIME].copy_from_slice(&pos.to_le_bytes());
    buf[TIME..TOKEN].copy_from_slice(&entry.time_ns.to_le_bytes());
    buf[TOKEN..CLIENT].copy_from_slice(&entry.token.to_le_bytes());
    buf[CLIENT..TEXT_LEN].copy_from_slice(&entry.client.to_le_bytes());
    buf[TEXT_LEN..LEVEL].copy_from_slice(&(text.len() as u16).to_le_bytes());
    buf[LEVEL] = entry.level as u8;
    buf[COMPONENT_LEN] = component.len() as u8;
    let text_start = ENTRY_HEADER_LEN + component.len();
    let len = text_start + text.len();
    buf[ENTRY_HEADER_LEN..text_start].copy_from_slice(component);
    buf[text_start..len].copy_from_slice(text);
    let check = checksum(&buf[..len]);
    buf[CHECK..ENTRY_HEADER_LEN].copy_from_slice(&check.to_le_bytes());
    len
}

/// The sequence number stored in an entry's first 8 bytes.
pub(crate) fn stored_seq(bytes: &[u8]) -> Option<u64> {
    u64_at(bytes, SEQ)
}

/// The ring bytes an entry takes, from its header alone (for skipping
/// entries already known to be whole).
pub(crate) fn stored_size(bytes: &[u8]) -> Option<u64> {
    let component = usize::from(u8_at(bytes, COMPONENT_LEN)?);
    let text = usize::from(u16_at(bytes, TEXT_LEN)?);
    Some(padded(ENTRY_HEADER_LEN + component + text))
}

/// The entry in `bytes`, if they hold a whole one that was written at ring
/// position `pos`, with the ring bytes it takes.
pub(crate) fn decode(bytes: &[u8], pos: u64) -> Option<(Entry, u64)> {
    if u64_at(bytes, POS)? != pos {
        return None;
    }
    let component_len = usize::from(u8_at(bytes, COMPONENT_LEN)?);
    let text_len = usize::from(u16_at(bytes, TEXT_LEN)?);
    if component_len > MAX_COMPONENT_LEN || text_len > MAX_TEXT_LEN {
        return None;
    }
    let text_start = ENTRY_HEADER_LEN + component_len;
    let len = text_start + text_len;
    let bytes = bytes.get(..len)?;
    if u64_at(bytes, CHECK)? != checksum(bytes) {
        return None;
    }
    let component = core::str::from_utf8(&bytes[ENTRY_HEADER_LEN..text_start]).ok()?;
    let text = core::str::from_utf8(&bytes[text_start..]).ok()?;
    let mut entry = Entry {
        seq: u64_at(bytes, SEQ)?,
        time_ns: u64_at(bytes, TIME)?,
        level: Level::from_u8(u8_at(bytes, LEVEL)?)?,
        client: u32_at(bytes, CLIENT)?,
        token: u64_at(bytes, TOKEN)?,
        component: [0; MAX_COMPONENT_LEN],
        component_len: component_len as u8,
        text: [0; MAX_TEXT_LEN],
        text_len: text_len as u16,
    };
    entry.component[..component_len].copy_from_slice(component.as_bytes());
    entry.text[..text_len].copy_from_slice(text.as_bytes());
    Some((entry, padded(len)))
}

/// FNV-1a (64-bit) of an entry's bytes except its checksum field.
fn checksum(entry: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xCBF2_9CE4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01B3;
    let fields = entry[..CHECK].iter().chain(&entry[ENTRY_HEADER_LEN..]);
    fields.fold(OFFSET_BASIS, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}
