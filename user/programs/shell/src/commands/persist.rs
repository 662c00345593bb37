//! The checkpoint engine, asked directly through the `persist` system call
//! (no route: any process may):
//!
//! - `snapshot`: take a checkpoint now (`generation N committed`);
//! - `sync`: wait until everything the shell did so far is committed
//!   (`synced generation N`);
//! - `persist`: the engine's status as a one-row table, the fields of
//!   [`PersistStatus`] (`enabled` is 0 without a store).
//!
//! Without a store, or on a kernel without the engine, each says so
//! instead of a bare error code.

use alloc::format;
use alloc::string::String;

use abide_abi::persist::PersistStatus;
use abide_abi::syscall::Error;
use abide_records::{Record, Table, Value};
use abide_rt::syscall;

use super::Output;

/// Runs `snapshot`.
pub(super) fn snapshot() -> Result<Output, String> {
    let generation = syscall::persist_snapshot().map_err(|e| explain("snapshot", e))?;
    Ok(Output::Text(format!("generation {generation} committed")))
}

/// Runs `sync`.
pub(super) fn sync() -> Result<Output, String> {
    let generation = syscall::persist_sync().map_err(|e| explain("sync", e))?;
    Ok(Output::Text(format!("synced generation {generation}")))
}

/// Runs `persist`.
pub(super) fn status() -> Result<Output, String> {
    let status = syscall::persist_status().map_err(|e| explain("persist", e))?;
    Table::from_records(alloc::vec![record(&status)])
        .map(Output::Table)
        .map_err(|e| format!("persist: {e}"))
}

/// The status as a record, one column per field, named as in the ABI.
fn record(status: &PersistStatus) -> Record {
    let int = |value: u64| Value::Int(i64::try_from(value).unwrap_or(i64::MAX));
    Record::new()
        .with("enabled", int(status.enabled))
        .with("generation", int(status.generation))
        .with("resumed_from", int(status.resumed_from))
        .with("period_ms", int(status.period_ms))
        .with("checkpoints", int(status.checkpoints))
        .with("last_pause_ns", int(status.last_pause_ns))
        .with("last_write_ns", int(status.last_write_ns))
        .with("last_pages_written", int(status.last_pages_written))
        .with("store_blocks", int(status.store_blocks))
        .with("used_blocks", int(status.used_blocks))
}

/// What `error` from the `persist` system call means for `command`.
fn explain(command: &str, error: Error) -> String {
    match error {
        Error::Unavailable => {
            format!("{command}: no store attached (boot with a store; see cargo run -- --help)")
        }
        Error::BadSyscall => {
            format!("{command}: this kernel has no checkpoint engine (no persist system call)")
        }
        other => format!("{command}: {other}"),
    }
}
