//! `counter`, the persistent demo: a `u64` in ordinary memory, one more
//! every 10 ms, served as [`abide_interfaces::Counter`] on every route
//! `uses counter from counter`.
//!
//! It keeps nothing in a file, a stash or a store of its own: the count is
//! a static in the process's memory. Run `persistent` (as
//! `system/default.conf` does), the whole process is checkpointed with the
//! system, and after a restore the count goes on from the checkpoint's
//! value instead of starting at 0. The shell's `counter` shows it.
#![no_std]
#![no_main]

extern crate alloc;

mod tick;

use core::cell::RefCell;

use abide_interfaces::Counter;
use abide_ipc::RemoteError;
use abide_rt::component::Component;
use abide_rt::executor::spawn;
use abide_rt::ipc::serve;
use abide_rt::println;

abide_rt::async_entry!(main);

/// The `Counter` server: it reads the count the ticker keeps.
struct Count;

impl Counter::Server for Count {
    fn get(&mut self) -> Result<u64, RemoteError> {
        Ok(tick::count())
    }
}

async fn main() -> i32 {
    let component = match Component::get() {
        Ok(component) => component,
        Err(error) => {
            println!("counter: not started by init: {error}");
            return 1;
        }
    };
    let ticker = spawn(tick::run());
    let routes = component
        .serves("counter")
        .into_iter()
        .map(|(_, channel)| channel);
    serve(&RefCell::new(Count), Counter::dispatch, None, routes).await;
    // Every route is gone (or there never was one): keep counting, so the
    // supervisor does not see an ending to restart.
    ticker.await;
    0
}
