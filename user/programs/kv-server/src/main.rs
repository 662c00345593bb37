//! A `KeyValue` server (`abide_interfaces::KeyValue`) in memory, on the async
//! runtime: its parent passes a listener channel as startup handle 0, and
//! every message on it brings client channels, which the server answers
//! concurrently in one thread. It runs until the listener and every client
//! are closed, or it is killed.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use abide_interfaces::{Entry, KeyValue};
use abide_ipc::RemoteError;
use abide_rt::ipc::{serve, Channel};
use abide_rt::println;

abide_rt::async_entry!(main);

/// The store: values by key.
#[derive(Default)]
struct Store {
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

async fn main() -> i32 {
    let Some(listener) = abide_rt::startup_handle(0) else {
        println!("kv-server: no listener channel (startup handle 0)");
        return 2;
    };
    let listener = Channel::from_handle(listener);
    let store = RefCell::new(Store::default());
    println!("kv-server: serving");
    serve(&store, KeyValue::dispatch, Some(&listener), []).await;
    println!(
        "kv-server: listener and clients closed, {} keys",
        store.borrow().entries.len()
    );
    0
}
