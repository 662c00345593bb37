//! `unix`, the Unix personality: unmodified static Linux x86_64 programs
//! run as foreign-ABI processes whose system calls and faults stop them
//! and come here as traps (abi/src/trap.rs); this component answers them
//! with Linux's semantics. docs/unix.md has the design.
//!
//! Layout: [`trap`] (the loop), [`dispatch`] (number to module), [`call`]
//! (a call in progress, the blocking API), [`unix`] (the shared state);
//! one module per family of calls: [`process`] and [`exec`], [`memory`],
//! [`signal`], [`futex`], [`files`], [`tty`], [`time`], [`info`]; and
//! [`session`] (the console and the `Unix` interface). The logic that
//! needs no kernel is `abide_unix` (lib/unix), host-tested.
//!
//! Run `persistent`, everything here survives a power cut with the Linux
//! processes; a crash of this component ends them (the kernel ends a
//! foreign process whose handler's end closed), and the next instance
//! starts with an empty process table.
#![no_std]
#![no_main]

extern crate alloc;

mod call;
mod dispatch;
mod exec;
mod files;
mod futex;
mod info;
mod memory;
mod process;
mod session;
mod signal;
mod time;
mod trap;
mod tty;
mod unix;

use core::cell::RefCell;

use abide_abi::object::{SpawnOptions, SPAWN_PERSISTENT};
use abide_rt::component::Component;
use abide_rt::executor::FutureSet;
use abide_rt::ipc::{Channel, Client};
use abide_rt::println;
use abide_rt::syscall;

use crate::unix::Unix;

abide_rt::async_entry!(main);

/// The most pages one Linux process may use (its budget comes out of the
/// component's own quota).
const PROCESS_PAGES: u64 = 8192;
/// The most handles one Linux process may hold (it holds none itself).
const PROCESS_HANDLES: u32 = 16;

async fn main() -> i32 {
    let component = match Component::get() {
        Ok(component) => component,
        Err(error) => {
            println!("unix: not started by init: {error}");
            return 1;
        }
    };
    let Some(spawn) = component.device("spawn") else {
        println!("unix: no `uses spawn from init` route: cannot start Linux processes");
        return 1;
    };
    syscall::set_spawn_authority(spawn);
    let (handler, queue) = match syscall::channel_create() {
        Ok(pair) => pair,
        Err(error) => {
            println!("unix: cannot create the trap channel: {error:?}");
            return 1;
        }
    };
    // A fresh instance: whatever Linux processes a previous one ran ended
    // with its trap channel.
    println!("unix: started with an empty process table");
    let options = SpawnOptions {
        flags: SPAWN_PERSISTENT,
        memory_pages: PROCESS_PAGES,
        handle_quota: PROCESS_HANDLES,
        ..SpawnOptions::default()
    };
    let unix = RefCell::new(Unix::new(handler, queue, options, syscall::clock_ns()));
    unix.borrow_mut().checkpoint = component.device("checkpoint");
    // The shells' routes (`provides unix`), and the `run`s a crashed
    // predecessor left unanswered on them.
    let routes = component.serves("unix");
    session::recover(&mut unix.borrow_mut(), component.map_stash(), &routes);
    // The console (`uses console from serial`): without it, the Linux
    // processes' terminal has no keys and shows nothing.
    let console = component.uses("console").map(Client::new);
    match console {
        Some(_) => unix.borrow_mut().session.console.attached = true,
        None => println!("unix: no `uses console` route: output goes to the debug console"),
    }
    session::start_args(&unix, component.args());
    let mut tasks = FutureSet::new();
    tasks.push(trap::serve(&unix, Channel::from_handle(handler)));
    if let Some(console) = &console {
        tasks.push(session::console_reader(&unix, console));
        tasks.push(session::console_writer(&unix, console));
    }
    for (name, channel) in routes {
        tasks.push(session::serve(&unix, name, channel));
    }
    while tasks.next().await.is_some() {}
    // The trap channel failed: stay, so the supervisor sees no ending.
    core::future::pending::<()>().await;
    0
}
