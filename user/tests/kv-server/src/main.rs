//! A `KeyValue` server (`abide_interfaces::KeyValue`) in memory, on the async
//! runtime: its parent passes a listener channel as startup handle 0, and
//! every message on it brings client channels, which the server answers
//! concurrently in one thread. It runs until the listener and every client
//! are closed, or it is killed.
#![no_std]
#![no_main]

extern crate alloc;

use core::cell::RefCell;

use abide_interfaces::KeyValue;
use abide_kvstore::Store;
use abide_rt::ipc::{serve, Channel};
use abide_rt::println;

abide_rt::async_entry!(main);

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
        store.borrow().len()
    );
    0
}
