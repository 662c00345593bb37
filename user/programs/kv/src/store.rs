//! The store: values by key in a `BTreeMap`, within limits that keep every
//! reply inside one message (a `list` of the most keys of the longest
//! names fits in 64 KiB) and the service inside its memory quota.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use abide_interfaces::{Entry, KeyValue};
use abide_ipc::RemoteError;

/// The most keys the store holds.
pub const MAX_KEYS: usize = 256;
/// The longest key, in bytes.
pub const MAX_KEY_BYTES: usize = 128;
/// The longest value, in bytes.
pub const MAX_VALUE_BYTES: usize = 4096;

/// Values by key.
#[derive(Default)]
pub struct Store {
    entries: BTreeMap<String, Vec<u8>>,
}

impl KeyValue::Server for Store {
    fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, RemoteError> {
        Ok(self.entries.get(&key).cloned())
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), RemoteError> {
        if key.is_empty() {
            return Err(RemoteError::app("empty key"));
        }
        if key.len() > MAX_KEY_BYTES {
            return Err(RemoteError::app(format!(
                "key of {} bytes; the most is {MAX_KEY_BYTES}",
                key.len()
            )));
        }
        if value.len() > MAX_VALUE_BYTES {
            return Err(RemoteError::app(format!(
                "value of {} bytes; the most is {MAX_VALUE_BYTES}",
                value.len()
            )));
        }
        if self.entries.len() >= MAX_KEYS && !self.entries.contains_key(&key) {
            return Err(RemoteError::app(format!(
                "the store is full ({MAX_KEYS} keys); delete one first"
            )));
        }
        self.entries.insert(key, value);
        Ok(())
    }

    fn list(&mut self) -> Result<Vec<Entry>, RemoteError> {
        Ok(self
            .entries
            .iter()
            .map(|(key, value)| Entry {
                key: key.clone(),
                len: value.len() as u64,
            })
            .collect())
    }

    fn del(&mut self, key: String) -> Result<bool, RemoteError> {
        Ok(self.entries.remove(&key).is_some())
    }
}
