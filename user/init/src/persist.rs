//! The checkpoint period: init tells the kernel's checkpoint engine the
//! configuration's `checkpoint_period_ms` (or the system's default) after
//! it applied a configuration, at boot and on `config apply`.
//!
//! Setting it needs `MANAGE` on the hardware resource, which init holds.
//! A machine without a store (`Unavailable`) and a kernel without the
//! checkpoint engine (`BadSyscall`) are normal: there is nothing to set,
//! and init says nothing.

use abide_abi::persist::DEFAULT_PERIOD_MS;
use abide_abi::syscall::{Error, Handle};
use abide_config::System;
use abide_rt::{println, syscall};

/// Sets the checkpoint period `system` asks for.
pub fn apply_period(hardware: Handle, system: &System) {
    let period_ms = system.checkpoint_period_ms.unwrap_or(DEFAULT_PERIOD_MS);
    match syscall::persist_set_period(hardware, period_ms) {
        Ok(()) | Err(Error::Unavailable | Error::BadSyscall) => {}
        Err(error) => {
            println!("init: cannot set the checkpoint period to {period_ms} ms: {error}");
        }
    }
}
