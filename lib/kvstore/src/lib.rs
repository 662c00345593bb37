//! The store behind Abide's `KeyValue` servers (the persistent demo `kv`
//! and the IPC tests' `kv-server`): values by key in a `BTreeMap`, within
//! limits that keep every reply inside one message (a `list` of the most
//! keys of the longest names fits in 64 KiB) and a server inside its
//! memory quota.
#![no_std]

extern crate alloc;

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

impl Store {
    /// How many keys it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when it holds no key.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
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

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use abide_interfaces::KeyValue::Server;
    use alloc::vec;

    #[test]
    fn set_get_list_and_del() {
        let mut store = Store::default();
        store.set("b".into(), vec![2, 2]).unwrap();
        store.set("a".into(), vec![1]).unwrap();
        store.set("a".into(), vec![9]).unwrap();
        assert_eq!(store.get("a".into()).unwrap(), Some(vec![9]));
        assert_eq!(store.get("z".into()).unwrap(), None);
        let keys: Vec<(String, u64)> = store
            .list()
            .unwrap()
            .into_iter()
            .map(|entry| (entry.key, entry.len))
            .collect();
        assert_eq!(keys, vec![("a".into(), 1), ("b".into(), 2)]);
        assert!(store.del("a".into()).unwrap());
        assert!(!store.del("a".into()).unwrap());
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn limits_are_refused_with_a_reason_and_change_nothing() {
        let mut store = Store::default();
        assert!(store.set(String::new(), vec![]).is_err());
        assert!(store.set("k".repeat(MAX_KEY_BYTES + 1), vec![]).is_err());
        assert!(store.set("k".into(), vec![0; MAX_VALUE_BYTES + 1]).is_err());
        assert!(store.is_empty());
        for i in 0..MAX_KEYS {
            store.set(alloc::format!("{i}"), vec![]).unwrap();
        }
        let full = store.set("one more".into(), vec![]).unwrap_err();
        assert!(alloc::format!("{full:?}").contains("full"));
        // Replacing a key that is there still works when full.
        store.set("0".into(), vec![1]).unwrap();
        assert_eq!(store.len(), MAX_KEYS);
    }
}
