//! The key-value interface: a store of byte values under text keys, served
//! by `user/services/kv` (persistent) and `user/tests/kv-server` (in
//! memory), and the [`Entry`] rows its `list` returns.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

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
        /// Removes `key` and its value; whether it was there.
        4 => fn del(key: String) -> bool;
    }
}
