//! The persistence benchmark (`system/bench-persist.conf`, booted by
//! `cargo run -- bench`): one step of it per boot, named by
//! `bench-persist=<mode>` on the kernel command line
//! (`abide_benchfmt::persist::Mode`):
//!
//! - [`dirty`]: write a dirty set of N MiB and take checkpoints; report
//!   their pause and write-out, then wait for the host's power cut. After
//!   the restore the program comes back inside its last checkpoint call,
//!   says so and powers off.
//! - [`dirty::fill`]: write N MiB and wait, for QEMU's `savevm` of the same
//!   guest.
//! - [`workload`]: a workload that computes and sends messages, under
//!   checkpoint periods of 0 (none), 1 s and 100 ms.
//!
//! Every figure is a `bench: value` line; `bench: done` ends the report.
//! The component is `persistent` and `uses hardware from init`, which it
//! needs to set the checkpoint period and to power the machine off; the
//! whole resource carries `WRITE` too, so the same handle takes its
//! checkpoints (`uses checkpoint from init` would add nothing).
#![no_std]
#![no_main]

extern crate alloc;

mod dirty;
mod workload;

use alloc::vec::Vec;

use abide_abi::syscall::{Error, Handle};
use abide_benchfmt::persist::{Mode, CONFIG_PERIOD_MS, MODE_KEY};
use abide_benchfmt::{percentile, Record};
use abide_rt::component::Component;
use abide_rt::println;
use abide_rt::syscall::{self, port_create, port_wait, FOREVER};
use bench::protocol::{call, Failure};

abide_rt::entry!(main);

/// How long init may take to apply the configuration's checkpoint period.
const INIT_DEADLINE_NS: u64 = 30_000_000_000;

fn main() -> i32 {
    let Some(hardware) = Component::get()
        .ok()
        .and_then(|component| component.device("hardware"))
    else {
        println!("bench-persist: not started by init with `uses hardware from init`");
        return 1;
    };
    let mode = syscall::boot_arg(MODE_KEY).as_deref().and_then(Mode::parse);
    let result = match mode {
        Some(Mode::Dirty { mib, snapshots }) => dirty::dirty(hardware, mib, snapshots),
        Some(Mode::Fill { mib }) => dirty::fill(mib),
        Some(Mode::Overhead { window_ms, rounds }) => {
            workload::overhead(hardware, window_ms, rounds)
        }
        None => Err(Failure::Unexpected("no-mode-on-the-command-line")),
    };
    if let Err(failure) = result {
        let name = mode.map_or_else(
            || alloc::string::String::from(MODE_KEY),
            |m| alloc::format!("{MODE_KEY}-{m}"),
        );
        let reason = alloc::format!("{failure}");
        println!(
            "{}",
            Record::Failed {
                name: &name,
                reason: &reason
            }
        );
        println!("{}", Record::Done);
    }
    power_off(hardware)
}

/// Prints a `bench: value` line.
fn value(name: &str, value: u64) {
    println!("{}", Record::Value { name, value });
}

/// The nearest-rank median of `samples` (0 when there are none).
fn median(mut samples: Vec<u64>) -> u64 {
    samples.sort_unstable();
    percentile(&samples, 50).unwrap_or(0)
}

/// Waits until init has applied the configuration's checkpoint period, so
/// that it cannot undo a period this program sets; then there is a store.
fn wait_for_init() -> Result<(), Failure> {
    let port = port_create().map_err(call("port_create"))?;
    let deadline = syscall::clock_ns().saturating_add(INIT_DEADLINE_NS);
    loop {
        let status = syscall::persist_status().map_err(call("persist_status"))?;
        if status.enabled == 0 {
            return Err(Failure::Unexpected("no-store"));
        }
        if status.period_ms == CONFIG_PERIOD_MS {
            return Ok(());
        }
        if syscall::clock_ns() > deadline {
            return Err(Failure::Unexpected("init-did-not-set-the-period"));
        }
        sleep(port, 10_000_000)?;
    }
}

/// Sleeps `ns` nanoseconds on `port` (nothing is bound to it).
fn sleep(port: Handle, ns: u64) -> Result<(), Failure> {
    match port_wait(port, syscall::clock_ns().saturating_add(ns)) {
        Err(Error::TimedOut) => Ok(()),
        Err(error) => Err(Failure::Call("port_wait", error)),
        Ok(_) => Err(Failure::Unexpected("packet-on-an-unbound-port")),
    }
}

/// Waits for the host: nothing ever arrives on the port.
fn wait_forever() -> ! {
    let port = port_create().ok();
    loop {
        match port {
            Some(port) => {
                let _ = port_wait(port, FOREVER);
            }
            None => syscall::yield_now(),
        }
    }
}

/// Powers the machine off, the report being complete.
fn power_off(hardware: Handle) -> ! {
    let error = syscall::machine_power_off(hardware);
    println!("bench-persist: cannot power off: {error}");
    syscall::exit(1)
}
