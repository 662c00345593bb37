//! The checkpoint engine, asked directly through the `persist` system call:
//!
//! - `snapshot`: take a checkpoint now (`generation N committed`);
//! - `sync`: wait until everything the shell did so far is committed
//!   (`synced generation N`);
//! - `persist`: the engine's status as a one-row table, the fields of
//!   [`PersistStatus`] (`enabled` is 0 without a store).
//!
//! `snapshot` and `sync` need the shell's `checkpoint` device, the hardware
//! resource with `WRITE` that `uses checkpoint from init` grants; without
//! that route they say so. `persist` needs nothing. Without a store, or on
//! a kernel without the engine, each says so instead of a bare error code.

use alloc::format;
use alloc::string::String;

use abide_abi::persist::PersistStatus;
use abide_abi::syscall::{Error, Handle};
use abide_datatable::{Record, Table, Value};
use abide_rt::syscall;

use super::Output;

/// Runs `snapshot` with the `checkpoint` device, if the shell has one.
pub(super) fn snapshot(checkpoint: Option<Handle>) -> Result<Output, String> {
    let checkpoint = checkpoint.ok_or_else(|| no_capability("snapshot"))?;
    let generation = syscall::persist_snapshot(checkpoint).map_err(|e| explain("snapshot", e))?;
    Ok(Output::Text(format!("generation {generation} committed")))
}

/// Runs `sync` with the `checkpoint` device, if the shell has one.
pub(super) fn sync(checkpoint: Option<Handle>) -> Result<Output, String> {
    let checkpoint = checkpoint.ok_or_else(|| no_capability("sync"))?;
    let generation = syscall::persist_sync(checkpoint).map_err(|e| explain("sync", e))?;
    Ok(Output::Text(format!("synced generation {generation}")))
}

/// What `command` says when the configuration gave the shell no
/// `checkpoint` device.
fn no_capability(command: &str) -> String {
    format!(
        "{command}: this component holds no checkpoint capability \
         (its configuration needs \"uses checkpoint from init\")"
    )
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
        Error::BadHandle | Error::AccessDenied | Error::WrongType => format!(
            "{command}: the kernel refused the checkpoint capability ({error}); \
             it must be the hardware resource with WRITE"
        ),
        other => format!("{command}: {other}"),
    }
}
