//! The other side of `ipc-test`: it gets a control channel as its first
//! startup handle and answers text commands on it, some of which carry a
//! handle. Each answer says what happened, so `ipc-test` can check it.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;

use abide_abi::object::MAP_WRITE;
use abide_abi::syscall::{Error, Handle};
use abide_rt::blocking::{after_ns, Waiter};
use abide_rt::syscall::{channel_write, memory_map};

abide_rt::entry!(main);

/// How long the peer waits for its next command.
const PATIENCE_NS: u64 = 30_000_000_000;

fn main() -> i32 {
    let Some(control) = abide_rt::startup_handle(0) else {
        abide_rt::println!("ipc-peer: no control channel");
        return 1;
    };
    let Ok(waiter) = Waiter::new() else {
        return 1;
    };
    // A handle kept from an earlier command ("keep"), to be used again.
    let mut kept = Handle(0);
    loop {
        let message = match waiter.recv(control, after_ns(PATIENCE_NS)) {
            Ok(message) => message,
            Err(Error::PeerClosed) => return 0,
            Err(error) => {
                abide_rt::println!("ipc-peer: receive failed: {error}");
                return 1;
            }
        };
        let command = String::from_utf8_lossy(&message.bytes);
        let handle = message.handles.first().copied().unwrap_or(Handle(0));
        let reply = match command
            .split_once(' ')
            .map_or((&*command, ""), |(a, b)| (a, b))
        {
            ("ping", n) => format!("pong {n}"),
            ("take", _) => format!(
                "took: {:?}",
                channel_write(handle, b"through a passed handle", &[])
            ),
            ("keep", _) => {
                kept = handle;
                format!(
                    "kept: {:?}",
                    channel_write(kept, b"through a kept handle", &[])
                )
            }
            ("retry", _) => format!("retry: {:?}", channel_write(kept, b"again", &[])),
            ("badge", _) => format!("badge: {:?}", channel_write(handle, b"badged", &[])),
            ("memory", _) => match memory_map(handle, MAP_WRITE) {
                Ok(base) => {
                    // SAFETY: the kernel mapped 1 MiB writable at `base`; the
                    // parent does not touch it until the reply.
                    let bytes = unsafe { core::slice::from_raw_parts_mut(base, 1 << 20) };
                    let sum = bytes
                        .iter()
                        .fold(0u64, |sum, b| sum.wrapping_add(u64::from(*b)));
                    bytes[(1 << 20) - 1] = 0xab;
                    format!("sum {sum}")
                }
                Err(error) => format!("map failed: {error}"),
            },
            ("alloc", bytes) => {
                let bytes = bytes.parse().unwrap_or(0);
                format!(
                    "alloc: {:?}",
                    abide_rt::syscall::memory_create(bytes).map(|_| ())
                )
            }
            ("handles", _) => {
                let mut created = 0;
                let error = loop {
                    match abide_rt::syscall::channel_create() {
                        Ok(_) => created += 1,
                        Err(error) => break error,
                    }
                };
                format!("handles: {created} channels, then {error:?}")
            }
            ("exit", _) => return 0,
            _ => format!("unknown command {command:?}"),
        };
        if let Err(error) = waiter.send(control, reply.as_bytes(), &[], after_ns(PATIENCE_NS)) {
            abide_rt::println!("ipc-peer: reply failed: {error}");
            return 1;
        }
    }
}
