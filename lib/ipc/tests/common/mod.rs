//! The interface and in-memory server the integration tests share.

#![allow(dead_code)]

use std::collections::BTreeMap;

use abide_ipc::RemoteError;

abide_ipc::interface! {
    /// A key-value store.
    pub interface KeyValue {
        1 => fn get(key: String) -> Option<Vec<u8>>;
        2 => fn set(key: String, value: Vec<u8>) -> ();
        3 => fn list() -> Vec<String>;
    }
}

/// An in-memory `KeyValue` server. Keys must be non-empty.
#[derive(Debug, Default)]
pub struct Store {
    pub entries: BTreeMap<String, Vec<u8>>,
    pub calls: usize,
}

impl KeyValue::Server for Store {
    fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, RemoteError> {
        self.calls += 1;
        Ok(self.entries.get(&key).cloned())
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), RemoteError> {
        self.calls += 1;
        if key.is_empty() {
            return Err(RemoteError::app("empty key"));
        }
        self.entries.insert(key, value);
        Ok(())
    }

    fn list(&mut self) -> Result<Vec<String>, RemoteError> {
        self.calls += 1;
        Ok(self.entries.keys().cloned().collect())
    }
}
