//! `counter`: the value of the persistent demo counter (`uses counter from
//! counter`), which adds one every 10 ms; after a restore it goes on from
//! the checkpoint's value.

use alloc::format;
use alloc::string::String;

use abide_interfaces::Counter;

use super::{call, Output};
use crate::Shell;

/// Runs `counter`: prints `counter N`.
pub(super) async fn command(shell: &Shell) -> Result<Output, String> {
    let counter = shell
        .counter
        .as_ref()
        .ok_or("no route to the counter (`uses counter from counter`)")?;
    let value = call(counter, Counter::get::encode, Counter::get::decode_reply).await?;
    Ok(Output::Text(format!("counter {value}")))
}
