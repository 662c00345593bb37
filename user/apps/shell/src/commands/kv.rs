//! `kv`: the key-value service (`uses kv from kv`), values as text.
//!
//! - `kv set KEY VALUE`: stores VALUE (one word; quote it for spaces:
//!   `kv set greeting "hello world"`).
//! - `kv get KEY`: the value.
//! - `kv del KEY`: removes the key.
//! - `kv list`: one row per key: `key`, `value` (at most
//!   [`SHOWN_CHARS`] characters of it), `size` (a table: `kv list | where
//!   size > 10B`).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use abide_datatable::{Table, Value};
use abide_interfaces::KeyValue;
use abide_rt::ipc::Client;

use super::{call, Output};
use crate::Shell;

const USAGE: &str = "kv set KEY VALUE | kv get KEY | kv del KEY | kv list";

/// The most characters of a value `kv list` shows.
pub const SHOWN_CHARS: usize = 48;

/// Runs `kv` with `words` (what follows the command's name).
pub(super) async fn command(shell: &Shell, words: &[&str]) -> Result<Output, String> {
    let kv = shell
        .kv
        .as_ref()
        .ok_or("no route to the key-value service (`uses kv from kv`)")?;
    match words {
        ["set", key, value] => {
            let (name, bytes) = (key.to_string(), value.as_bytes().to_vec());
            call(
                kv,
                |t| KeyValue::set::encode(t, name, bytes),
                KeyValue::set::decode_reply,
            )
            .await?;
            Ok(Output::Text(format!("set {key}")))
        }
        ["get", key] => match get(kv, key).await? {
            Some(value) => Ok(Output::Text(printable(&value))),
            None => Err(format!("no key `{key}`")),
        },
        ["del", key] => {
            let name = key.to_string();
            let was_there = call(
                kv,
                |t| KeyValue::del::encode(t, name),
                KeyValue::del::decode_reply,
            )
            .await?;
            Ok(Output::Text(if was_there {
                format!("deleted {key}")
            } else {
                format!("no key `{key}` (nothing deleted)")
            }))
        }
        ["list"] => list(kv).await.map(Output::Table),
        _ => Err(format!("usage: {USAGE}")),
    }
}

async fn get(kv: &Client, key: &str) -> Result<Option<Vec<u8>>, String> {
    let key = key.to_string();
    call(
        kv,
        |t| KeyValue::get::encode(t, key),
        KeyValue::get::decode_reply,
    )
    .await
}

/// Every key with (the start of) its value and its size. A key deleted
/// between the listing and the read of its value is left out.
async fn list(kv: &Client) -> Result<Table, String> {
    let entries = call(kv, KeyValue::list::encode, KeyValue::list::decode_reply).await?;
    let mut table = Table::new(&["key", "value", "size"]);
    for entry in entries {
        let Some(value) = get(kv, &entry.key).await? else {
            continue;
        };
        let row = alloc::vec![
            Value::Text(entry.key),
            Value::Text(shortened(&printable(&value))),
            Value::Bytes(value.len() as u64),
        ];
        table.push_row(row).map_err(|e| e.to_string())?;
    }
    Ok(table)
}

/// `bytes` as text for the console: invalid UTF-8 as U+FFFD, control
/// characters escaped (`\n`, `\u{1b}`), so no value can drive the terminal.
fn printable(bytes: &[u8]) -> String {
    let mut text = String::new();
    for c in String::from_utf8_lossy(bytes).chars() {
        if c.is_control() {
            text.extend(c.escape_debug());
        } else {
            text.push(c);
        }
    }
    text
}

/// `text` cut to [`SHOWN_CHARS`] characters, `…` marking a cut.
fn shortened(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}
