//! Abide's typed interfaces: each is declared once here with
//! [`abide_ipc::interface!`], which generates the client's request encoding
//! and reply decoding and the server's dispatch. A client and a server that
//! both depend on this crate agree on the messages by construction.
//!
//! Records that cross an interface (like [`Entry`]) are plain structs with
//! `serde` derives: data between programs is structured, never text to parse.
//!
//! The crate is `no_std` (it needs `alloc`) and unit-tested on the host; the
//! transport (channels, the async client and server loop) is in `abide-rt`.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

pub use abide_records::Table;

pub mod component;

/// One key of a [`KeyValue`] store, as `list` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The key.
    pub key: String,
    /// The length of its value in bytes.
    pub len: u64,
}

abide_ipc::interface! {
    /// A key-value store: byte values under non-empty text keys.
    pub interface KeyValue {
        /// The value stored under `key`, if any.
        1 => fn get(key: String) -> Option<Vec<u8>>;
        /// Stores `value` under `key`, replacing what was there.
        2 => fn set(key: String, value: Vec<u8>) -> ();
        /// Every key with the size of its value, in key order.
        3 => fn list() -> Vec<Entry>;
    }
}

abide_ipc::interface! {
    /// The smallest useful service, for tests and examples.
    pub interface Echo {
        /// Returns `text` unchanged.
        1 => fn echo(text: String) -> String;
        /// Returns `a + b`; an overflow is an error.
        2 => fn add(a: u64, b: u64) -> u64;
    }
}

abide_ipc::interface! {
    /// A text console: the serial driver serves it.
    pub interface Console {
        /// Writes `bytes` (the console turns `\n` into `\r\n`).
        1 => fn write(bytes: Vec<u8>) -> ();
        /// Up to `max` received bytes, waiting until there is at least one.
        2 => fn read(max: u32) -> Vec<u8>;
    }
}

/// Log levels, most severe first.
pub mod level {
    /// Something failed.
    pub const ERROR: u8 = 1;
    /// Something is wrong but went on.
    pub const WARN: u8 = 2;
    /// What happened.
    pub const INFO: u8 = 3;
    /// Details for whoever debugs.
    pub const DEBUG: u8 = 4;

    /// The level's name (`info`); `?` for an unknown one.
    pub fn name(level: u8) -> &'static str {
        match level {
            ERROR => "error",
            WARN => "warn",
            INFO => "info",
            DEBUG => "debug",
            _ => "?",
        }
    }

    /// The level called `name`.
    pub fn parse(name: &str) -> Option<u8> {
        [ERROR, WARN, INFO, DEBUG]
            .into_iter()
            .find(|level| self::name(*level) == name)
    }
}

/// Which log entries a [`Log::query`] returns; `None` fields match all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogFilter {
    /// Only entries from this component.
    pub component: Option<String>,
    /// Only entries at this level or more severe.
    pub level: Option<u8>,
    /// Only entries at or after this time (ns since boot).
    pub since_ns: Option<u64>,
    /// Only entries whose text contains this.
    pub text: Option<String>,
    /// At most this many, the newest.
    pub last: Option<u32>,
}

abide_ipc::interface! {
    /// The log service: a ring of entries, written by every component and
    /// queried by the shell. The writer's component name comes from the
    /// route the entry arrived on, not from the entry.
    pub interface Log {
        /// Appends an entry; returns its sequence number. Exactly once per
        /// request, also when retried after `Restarted`.
        1 => fn write(level: u8, text: String) -> u64;
        /// The entries `filter` selects, oldest first (columns `seq`,
        /// `time`, `component`, `level`, `text`).
        2 => fn query(filter: LogFilter) -> Table;
    }
}

abide_ipc::interface! {
    /// What `init` offers the shell: the system's state and its controls.
    /// Every listing is a [`Table`] the shell can filter and sort.
    pub interface System {
        /// One row per component: `id`, `name`, `state`, `mem`, `handles`,
        /// `restarts`, `cpu`.
        1 => fn ps() -> Table;
        /// The supervision tree: `node` (indented), `kind`, `state`,
        /// `strategy`, `restarts`.
        2 => fn tree() -> Table;
        /// The handles of process `id`: `handle`, `kind`, `rights`, `badge`,
        /// `object`.
        3 => fn caps(id: u64) -> Table;
        /// Ends process `id` (it is restarted as its policy says).
        4 => fn kill(id: u64) -> String;
        /// Makes component `name` fault (fault injection).
        5 => fn crash(name: String) -> String;
        /// Stops and starts component `name`.
        6 => fn restart(name: String) -> String;
        /// The configuration in force, as text.
        7 => fn config_show() -> String;
        /// Replaces the configuration with the image's `system/<name>.conf`;
        /// one row per change: `component`, `change`.
        8 => fn config_apply(name: String) -> Table;
        /// Memory: `what`, `used`, `total`.
        9 => fn mem() -> Table;
        /// Time since boot, in nanoseconds.
        10 => fn uptime() -> u64;
        /// Stops every component and powers the machine off.
        11 => fn poweroff() -> ();
        /// The component names (for completion).
        12 => fn names() -> Vec<String>;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use abide_ipc::wire::{self, Header, Kind};
    use abide_ipc::{CallError, RemoteError};
    use std::collections::BTreeMap;

    /// An in-memory `KeyValue` server.
    #[derive(Default)]
    struct Store(BTreeMap<String, Vec<u8>>);

    impl KeyValue::Server for Store {
        fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, RemoteError> {
            Ok(self.0.get(&key).cloned())
        }

        fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), RemoteError> {
            if key.is_empty() {
                return Err(RemoteError::app("empty key"));
            }
            self.0.insert(key, value);
            Ok(())
        }

        fn list(&mut self) -> Result<Vec<Entry>, RemoteError> {
            Ok(self
                .0
                .iter()
                .map(|(key, value)| Entry {
                    key: key.clone(),
                    len: value.len() as u64,
                })
                .collect())
        }
    }

    struct Echoer;

    impl Echo::Server for Echoer {
        fn echo(&mut self, text: String) -> Result<String, RemoteError> {
            Ok(text)
        }

        fn add(&mut self, a: u64, b: u64) -> Result<u64, RemoteError> {
            a.checked_add(b).ok_or_else(|| RemoteError::app("overflow"))
        }
    }

    #[test]
    fn names_and_ordinals_are_stable() {
        assert_eq!(KeyValue::NAME, "KeyValue");
        assert_eq!(KeyValue::ORDINALS, &[1, 2, 3]);
        assert_eq!(Echo::NAME, "Echo");
        assert_eq!(Echo::ORDINALS, &[1, 2]);
    }

    #[test]
    fn key_value_round_trips_through_dispatch() {
        let mut store = Store::default();
        let reply = KeyValue::dispatch(&mut store, &KeyValue::get::encode(1, "a".into()).unwrap());
        assert_eq!(KeyValue::get::decode_reply(&reply, Some(1)), Ok(None));

        let request = KeyValue::set::encode(2, "b".into(), vec![1, 2, 3]).unwrap();
        let reply = KeyValue::dispatch(&mut store, &request);
        assert_eq!(KeyValue::set::decode_reply(&reply, Some(2)), Ok(()));
        let request = KeyValue::set::encode(3, "a".into(), vec![]).unwrap();
        KeyValue::dispatch(&mut store, &request);

        let reply = KeyValue::dispatch(&mut store, &KeyValue::get::encode(4, "b".into()).unwrap());
        assert_eq!(
            KeyValue::get::decode_reply(&reply, Some(4)),
            Ok(Some(vec![1, 2, 3]))
        );
        let reply = KeyValue::dispatch(&mut store, &KeyValue::list::encode(5).unwrap());
        assert_eq!(
            KeyValue::list::decode_reply(&reply, Some(5)),
            Ok(vec![
                Entry {
                    key: "a".into(),
                    len: 0
                },
                Entry {
                    key: "b".into(),
                    len: 3
                },
            ])
        );
    }

    #[test]
    fn key_value_errors_reach_the_client() {
        let mut store = Store::default();
        let request = KeyValue::set::encode(7, String::new(), vec![1]).unwrap();
        let reply = KeyValue::dispatch(&mut store, &request);
        assert_eq!(
            KeyValue::set::decode_reply(&reply, Some(7)),
            Err(CallError::Remote(RemoteError::app("empty key")))
        );
    }

    #[test]
    fn echo_round_trips_through_dispatch() {
        let mut echo = Echoer;
        let reply = Echo::dispatch(&mut echo, &Echo::echo::encode(1, "hi".into()).unwrap());
        assert_eq!(Echo::echo::decode_reply(&reply, Some(1)), Ok("hi".into()));
        let reply = Echo::dispatch(&mut echo, &Echo::add::encode(2, 40, 2).unwrap());
        assert_eq!(Echo::add::decode_reply(&reply, Some(2)), Ok(42));
        let reply = Echo::dispatch(&mut echo, &Echo::add::encode(3, u64::MAX, 1).unwrap());
        assert_eq!(
            Echo::add::decode_reply(&reply, Some(3)),
            Err(CallError::Remote(RemoteError::app("overflow")))
        );
    }

    #[test]
    fn garbage_gets_a_malformed_reply_with_txid_zero() {
        let mut store = Store::default();
        // Not starting with the magic: the header is unreadable.
        for garbage in [&b""[..], b"\x00", &[0x5a; 64]] {
            let reply = KeyValue::dispatch(&mut store, garbage);
            let (header, _) = Header::decode(&reply).unwrap();
            assert_eq!((header.kind, header.txid), (Kind::ReplyError, 0));
            assert_eq!(
                KeyValue::get::decode_reply(&reply, Some(0)),
                Err(CallError::Remote(RemoteError::Malformed))
            );
        }
        assert!(store.0.is_empty());
    }

    #[test]
    fn a_request_for_one_interface_is_refused_by_another() {
        // `Echo::add(40, 2)` (ordinal 2) sent to a `KeyValue` server, whose
        // ordinal 2 is `set`: the payload [40, 2] reads as a 40-byte key
        // with one byte behind it, which does not decode.
        let mut store = Store::default();
        let reply = KeyValue::dispatch(&mut store, &Echo::add::encode(9, 40, 2).unwrap());
        assert_eq!(
            KeyValue::set::decode_reply(&reply, Some(9)),
            Err(CallError::Remote(RemoteError::Malformed))
        );
        // An ordinal `KeyValue` does not have.
        let request = wire::encode_message(&Header::request(4, 10), &()).unwrap();
        let reply = KeyValue::dispatch(&mut store, &request);
        assert_eq!(
            KeyValue::list::decode_reply(&reply, Some(10)),
            Err(CallError::Remote(RemoteError::UnknownMethod(4)))
        );
    }
}
