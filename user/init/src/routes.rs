//! The capabilities routes grant, made once and kept by `init`.
//!
//! For every route `uses S from P` of a component C, `init` creates one
//! channel and keeps both ends for as long as the route exists. Each new
//! instance of C gets a duplicate of the client end, each new instance of P
//! a duplicate of the server end: while P restarts, C's requests wait in the
//! channel and the new instance finds them. Routes to `init` itself name
//! its `system` service (init serves the server end) or a device made from
//! the hardware resource for each new instance.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use abide_abi::syscall::{Error, Handle, Rights};
use abide_config::{System, INIT};
use abide_interfaces::component::Grant;
use abide_rt::syscall;

/// One route's channel: both ends, kept by init.
#[derive(Debug, Clone, Copy)]
pub struct RouteChannel {
    pub client_end: Handle,
    pub server_end: Handle,
}

/// Every route of the configuration in force, by (client, service).
#[derive(Debug, Default)]
pub struct Routes {
    pub channels: BTreeMap<(String, String), RouteChannel>,
}

/// The bytes of memory that outlive a server's restarts.
pub const STASH_BYTES: u64 = 256 * 1024;

/// Rights a duplicate passed to a component carries.
const PASSED: Rights =
    Rights(Rights::READ.0 | Rights::WRITE.0 | Rights::WAIT.0 | Rights::TRANSFER.0);

impl Routes {
    /// Creates the channels of `system`'s routes that do not exist yet and
    /// closes those of routes it no longer has.
    pub fn update(&mut self, system: &System) -> Result<(), Error> {
        let mut wanted = BTreeMap::new();
        for component in system.components() {
            for route in &component.uses {
                if route.from != INIT || route.service == "system" {
                    wanted.insert((component.name.clone(), route.service.clone()), ());
                }
            }
        }
        let stale: Vec<_> = self
            .channels
            .keys()
            .filter(|key| !wanted.contains_key(*key))
            .cloned()
            .collect();
        for key in stale {
            if let Some(channel) = self.channels.remove(&key) {
                let _ = syscall::handle_close(channel.client_end);
                let _ = syscall::handle_close(channel.server_end);
            }
        }
        for key in wanted.into_keys() {
            if let alloc::collections::btree_map::Entry::Vacant(slot) = self.channels.entry(key) {
                let (client_end, server_end) = syscall::channel_create()?;
                slot.insert(RouteChannel {
                    client_end,
                    server_end,
                });
            }
        }
        Ok(())
    }

    /// The server ends init serves itself (routes to `system`), with the
    /// client's name.
    pub fn system_channels(&self) -> impl Iterator<Item = (&str, Handle)> + '_ {
        self.channels
            .iter()
            .filter(|((_, service), _)| service == "system")
            .map(|((client, _), channel)| (client.as_str(), channel.server_end))
    }
}

/// A duplicate of `handle` to pass to a component.
pub fn pass(handle: Handle) -> Result<Handle, Error> {
    syscall::handle_duplicate(handle, PASSED)
}

/// Rights of the `checkpoint` device: the hardware resource's `WRITE`
/// (checkpoint the machine to its store on demand), and `TRANSFER` to pass
/// it at the spawn.
const CHECKPOINT: Rights = Rights(Rights::WRITE.0 | Rights::TRANSFER.0);

/// Rights of the `kernel-log` device: the hardware resource's `READ`
/// (`kernel_log_read`), and `TRANSFER` to pass it at the spawn.
const KERNEL_LOG: Rights = Rights(Rights::READ.0 | Rights::TRANSFER.0);
/// Rights of the `spawn` device: the hardware resource's `SPAWN` (start
/// processes) and `TRANSFER` to pass it at the spawn.
const SPAWN: Rights = Rights(Rights::SPAWN.0 | Rights::TRANSFER.0);

/// The grants and handles for one device route (`uses com1 from init`).
pub fn device(hardware: Handle, name: &str) -> Result<Vec<(Grant, Handle)>, Error> {
    let grant = |name: &str, handle| {
        (
            Grant::Device {
                name: String::from(name),
            },
            handle,
        )
    };
    Ok(match name {
        "hardware" => alloc::vec![grant("hardware", pass_all(hardware)?)],
        // The hardware resource with `WRITE` only: checkpoints on demand
        // (`persist` SNAPSHOT and SYNC), and nothing a device operation or
        // the checkpoint period needs (`MANAGE`); `TRANSFER` so that it can
        // move to the component at its start.
        "checkpoint" => alloc::vec![grant(
            "checkpoint",
            syscall::handle_duplicate(hardware, CHECKPOINT)?
        )],
        // The hardware resource with `READ` only: the kernel's log, which
        // holds every process's debug output (`kernel_log_read`).
        "kernel-log" => alloc::vec![grant(
            "kernel-log",
            syscall::handle_duplicate(hardware, KERNEL_LOG)?
        )],
        // The hardware resource with `SPAWN` only: start processes (bundle
        // programs or images), and nothing a device operation needs.
        "spawn" => alloc::vec![grant("spawn", syscall::handle_duplicate(hardware, SPAWN)?)],
        "com1" => alloc::vec![
            grant("com1-ports", syscall::ioports_create(hardware, 0x3f8, 8)?),
            grant("com1-irq", syscall::interrupt_create(hardware, 4)?),
        ],
        "ps2" => alloc::vec![
            grant("ps2-data", syscall::ioports_create(hardware, 0x60, 1)?),
            grant("ps2-status", syscall::ioports_create(hardware, 0x64, 1)?),
            grant("ps2-irq", syscall::interrupt_create(hardware, 1)?),
        ],
        "vga-text" => alloc::vec![
            grant(
                "vga-text-memory",
                syscall::mmio_create(hardware, 0xb8000, 4096)?
            ),
            grant(
                "vga-crt-ports",
                syscall::ioports_create(hardware, 0x3d4, 2)?
            ),
        ],
        "pci-config" => alloc::vec![grant(
            "pci-config-ports",
            syscall::ioports_create(hardware, 0xcf8, 8)?
        )],
        _ => return Err(Error::InvalidArgument),
    })
}

fn pass_all(handle: Handle) -> Result<Handle, Error> {
    syscall::handle_duplicate(handle, Rights::ALL)
}
