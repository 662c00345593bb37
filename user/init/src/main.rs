//! `init`, the root supervisor.
//!
//! The kernel starts it with the hardware resource (all IRQs, I/O ports and
//! device memory). It reads the system configuration the image carries
//! (`config-default`, or `config-<name>` for `config=<name>` on the kernel
//! command line), turns it into a supervision tree ([`tree`]), makes
//! the channels its routes need ([`routes`]), starts the components in
//! order and sets the checkpoint period the configuration asks for
//! ([`persist`]). Then it waits: when a component's process ends, the
//! supervisor (`abide_supervise`) decides what to restart; when the shell
//! asks through the `system` service ([`system`]), it answers.
//!
//! Each instance gets a bootstrap channel (startup handle 0) holding its
//! manifest, then exactly the handles its routes grant — nothing else.
#![no_std]
#![no_main]

extern crate alloc;

mod carried;
mod instances;
mod persist;
mod routes;
mod system;
mod tree;

use abide_abi::host::{cmdline, CONFIG_PREFIX, DEFAULT_CONFIG};
use abide_abi::object::Signals;
use abide_abi::syscall::{Error, Handle};
use abide_rt::{println, syscall};

use instances::Init;

abide_rt::entry!(main);

fn main() -> i32 {
    match run() {
        Ok(()) => 0,
        Err(message) => {
            println!("init: {message}");
            1
        }
    }
}

fn run() -> Result<(), alloc::string::String> {
    let hardware = abide_rt::startup_handle(0)
        .ok_or("no hardware resource: init must be started by the kernel")?;
    // Its SPAWN right starts the components.
    syscall::set_spawn_authority(hardware);
    // `config=<name>` on the kernel command line picks another
    // configuration the image carries.
    let file = match syscall::boot_arg(cmdline::CONFIG) {
        Some(name) => alloc::format!("{CONFIG_PREFIX}{name}"),
        None => DEFAULT_CONFIG.into(),
    };
    let text = syscall::bundle_read(&file).map_err(|e| {
        alloc::format!(
            "the image has no configuration {file}: {e} ({})",
            carried::FULL_IMAGE_HINT
        )
    })?;
    let text = core::str::from_utf8(&text).map_err(|_| "the configuration is not UTF-8")?;
    let system = abide_config::parse(text).map_err(|errors| {
        let mut report = alloc::format!("the configuration {file} is invalid:");
        for error in errors {
            report.push_str(&alloc::format!("\n  {error}"));
        }
        report
    })?;
    carried::check_programs(&system, &file)?;
    let port = syscall::port_create().map_err(|e| alloc::format!("port_create: {e}"))?;
    let mut init = Init::new(hardware, port, system)?;
    init.boot();
    persist::apply_period(hardware, &init.system);
    loop {
        let packet = match syscall::port_wait(port, u64::MAX) {
            Ok(packet) => packet,
            Err(error) => return Err(alloc::format!("port_wait: {error}")),
        };
        init.event(packet.key, Signals(packet.signals.0));
    }
}

/// Binds `handle` to the port under `key` for `signals`.
fn watch(port: Handle, handle: Handle, key: u64, signals: Signals) -> Result<(), Error> {
    syscall::port_bind(port, handle, key, signals)
}
