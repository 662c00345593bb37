//! The log interface: entries written by every component and queried by
//! the shell, the [`level`]s they carry and the [`LogFilter`] a query takes.

use alloc::string::String;

use serde::{Deserialize, Serialize};

use crate::Table;

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
    /// Only entries numbered above this (to page through the log: a reply
    /// holds at most [`LOG_QUERY_MAX_ROWS`] entries).
    pub after_seq: Option<u64>,
}

/// The most entries one [`Log::query`] reply holds (the oldest that match,
/// or with `last` the newest); ask again with `after_seq` for more.
pub const LOG_QUERY_MAX_ROWS: usize = 256;

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
