//! A supervisor in miniature: starts each faulting program as its child,
//! waits for it to end, and prints the report the kernel kept for it (kind,
//! address, instruction). Then starts `hello` to show the system goes on.
#![no_std]
#![no_main]

use abide_abi::object::{ProcessState, Signals};
use abide_abi::syscall::Error;
use abide_rt::blocking::{after_ns, Waiter};
use abide_rt::println;
use abide_rt::syscall::{process_spawn, process_status};

abide_rt::entry!(main);

const CHILDREN: &[&str] = &[
    "fault-page",
    "fault-ud",
    "fault-div",
    "fault-panic",
    "fault-kernel-read",
    "hello",
];

fn main() -> i32 {
    match run() {
        Ok(()) => {
            println!("faults: every child reported");
            0
        }
        Err(error) => {
            println!("faults: a system call failed: {error}");
            1
        }
    }
}

fn run() -> Result<(), Error> {
    // Started by the kernel: the hardware resource (startup handle 0)
    // carries the SPAWN right its children need.
    if let Some(hardware) = abide_rt::startup_handle(0) {
        abide_rt::syscall::set_spawn_authority(hardware);
    }
    let waiter = Waiter::new()?;
    for name in CHILDREN {
        let child = process_spawn(name, &[])?;
        waiter.wait(child, Signals::TERMINATED, after_ns(30_000_000_000))?;
        let status = process_status(child)?;
        match status.state {
            ProcessState::Faulted => println!(
                "faults: {name} faulted: vector {} at address {:#x}, rip {:#x}",
                status.vector, status.address, status.rip
            ),
            ProcessState::Exited => println!("faults: {name} exited with status {}", status.code),
            state => println!("faults: {name} ended: {state:?}"),
        }
        abide_rt::syscall::handle_close(child)?;
    }
    Ok(())
}
