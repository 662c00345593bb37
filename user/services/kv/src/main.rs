//! `kv`, the persistent demo key-value service: it serves
//! [`abide_interfaces::KeyValue`] on every route `uses kv from kv`, from a
//! `BTreeMap` in ordinary memory (`abide_kvstore`).
//!
//! Like `counter`, it writes nothing anywhere: run `persistent` (as
//! `system/default.conf` does), its memory is part of every checkpoint, and
//! after a restore the keys are there again. A crash or a restart by its
//! supervisor starts it empty (it keeps nothing in its stash); the test
//! server `kv-server` is the same store behind a listener channel.
#![no_std]
#![no_main]

extern crate alloc;

use core::cell::RefCell;

use abide_interfaces::KeyValue;
use abide_rt::component::Component;
use abide_rt::ipc::serve;
use abide_rt::println;

use abide_kvstore::Store;

abide_rt::async_entry!(main);

async fn main() -> i32 {
    let component = match Component::get() {
        Ok(component) => component,
        Err(error) => {
            println!("kv: not started by init: {error}");
            return 1;
        }
    };
    let routes = component
        .serves("kv")
        .into_iter()
        .map(|(_, channel)| channel);
    let store = RefCell::new(Store::default());
    serve(&store, KeyValue::dispatch, None, routes).await;
    // Every route is gone (or there never was one): stay, so the
    // supervisor does not see an ending to restart.
    core::future::pending::<()>().await;
    0
}
