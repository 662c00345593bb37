//! The commands: each returns text or a table; a table goes through the
//! pipeline's stages and is rendered.

mod counter;
mod kv;
pub mod lspci;
mod persist;
mod unix;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use abide_datatable::{format_duration, parse_pipeline, split_words, Table};
use abide_interfaces::{level, Log, LogFilter, System};
use abide_ipc::CallError;
use abide_rt::ipc::{Client, ClientError};

use crate::{error, Shell};

/// What a command produced.
enum Output {
    Text(String),
    Table(Table),
}

/// Every command with its one-line help.
pub const COMMANDS: &[(&str, &str)] = &[
    ("help", "list the commands"),
    ("echo", "echo WORDS: print the words"),
    ("ps", "the components: id, name, state, memory, handles, restarts, CPU time"),
    ("tree", "the supervision tree with states"),
    ("caps", "caps ID: the handles of process ID"),
    ("kill", "kill ID: end process ID (its supervisor restarts it as configured)"),
    ("crash", "crash NAME: make component NAME fault (fault injection)"),
    ("restart", "restart NAME: stop and start component NAME"),
    ("log", "log [component NAME] [level LEVEL] [text T] [since TIME] [last N]: log entries (TIME since boot: 2s, 150ms)"),
    ("config", "config show | config apply NAME: the configuration in force, or switch to system/NAME.conf"),
    ("lspci", "lspci | lspci claim ADDRESS | lspci release ADDRESS: the PCI devices; claim one or give it back"),
    ("kv", "kv set KEY VALUE | kv get KEY | kv del KEY | kv list: the key-value service (persistent)"),
    ("counter", "the persistent counter's value (one more every 10 ms)"),
    ("snapshot", "checkpoint the whole system now"),
    ("sync", "wait until everything done so far is committed to the store"),
    ("persist", "the checkpoint engine: store, generation, period, last checkpoint's figures"),
    ("sh", "sh | sh -c 'SCRIPT' [&]: busybox ash on the console (Ctrl-D returns), or one script; prints its exit status when not 0"),
    ("bash", "bash | bash -c 'SCRIPT' | bash FILE [&]: as sh, with Debian's bash (/bin/bash)"),
    ("unix", "unix ps | unix stats: the Linux processes; the calls the Unix personality served"),
    ("mem", "memory in use"),
    ("uptime", "time since boot"),
    ("poweroff", "stop everything and power off"),
];

/// Runs one line.
pub async fn run(shell: &Shell, line: &str) -> String {
    if line.is_empty() {
        return String::new();
    }
    // A Unix command line: its `|` and quotes are /bin/sh's.
    if unix::is_sh(line) {
        return unix::sh(shell, line).await.unwrap_or_else(error);
    }
    let pipeline = match parse_pipeline(line) {
        Ok(pipeline) => pipeline,
        Err(e) => return error(e.to_string()),
    };
    let words = match split_words(&pipeline.command) {
        Ok(words) => words,
        Err(_) => return error("a quote is not closed"),
    };
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let output = match command(shell, &words).await {
        Ok(output) => output,
        Err(message) => return error(message),
    };
    match output {
        Output::Text(text) if pipeline.stages.is_empty() => text,
        Output::Text(_) => error(format!(
            "`{}` prints text; only tables can be filtered",
            words[0]
        )),
        Output::Table(table) => match pipeline.apply(table) {
            Ok(table) => table.render(),
            Err(e) => error(e.to_string()),
        },
    }
}

fn text(text: impl Into<String>) -> Result<Output, String> {
    Ok(Output::Text(text.into()))
}

async fn command(shell: &Shell, words: &[&str]) -> Result<Output, String> {
    match words {
        ["help"] => {
            let width = COMMANDS
                .iter()
                .map(|(name, _)| name.len())
                .max()
                .unwrap_or(0);
            let mut out = String::new();
            for (name, help) in COMMANDS {
                out.push_str(&format!("{name:width$}  {help}\n"));
            }
            out.push_str(
                "Tables can be filtered and sorted: ps | where restarts > 0 | sort-by mem",
            );
            text(out)
        }
        ["echo", rest @ ..] => text(rest.join(" ")),
        ["ps"] => system(shell, System::ps::encode, System::ps::decode_reply)
            .await
            .map(Output::Table),
        ["tree"] => system(shell, System::tree::encode, System::tree::decode_reply)
            .await
            .map(Output::Table),
        ["caps", id] => {
            let id = number(id)?;
            system(
                shell,
                |t| System::caps::encode(t, id),
                System::caps::decode_reply,
            )
            .await
            .map(Output::Table)
        }
        ["kill", id] => {
            let id = number(id)?;
            system(
                shell,
                |t| System::kill::encode(t, id),
                System::kill::decode_reply,
            )
            .await
            .map(Output::Text)
        }
        ["crash", name] => {
            let name = name.to_string();
            system(
                shell,
                |t| System::crash::encode(t, name),
                System::crash::decode_reply,
            )
            .await
            .map(Output::Text)
        }
        ["restart", name] => {
            let name = name.to_string();
            system(
                shell,
                |t| System::restart::encode(t, name),
                System::restart::decode_reply,
            )
            .await
            .map(Output::Text)
        }
        ["config", "show"] => system(
            shell,
            System::config_show::encode,
            System::config_show::decode_reply,
        )
        .await
        .map(Output::Text),
        ["config", "apply", name] => {
            let name = name.to_string();
            system(
                shell,
                |t| System::config_apply::encode(t, name),
                System::config_apply::decode_reply,
            )
            .await
            .map(Output::Table)
        }
        ["mem"] => system(shell, System::mem::encode, System::mem::decode_reply)
            .await
            .map(Output::Table),
        ["uptime"] => {
            let ns = system(shell, System::uptime::encode, System::uptime::decode_reply).await?;
            text(format!("up {}", format_duration(ns)))
        }
        ["poweroff"] => {
            shell.write("powering off\n").await;
            system(
                shell,
                System::poweroff::encode,
                System::poweroff::decode_reply,
            )
            .await
            .map(|()| Output::Text(String::new()))
        }
        ["lspci", rest @ ..] => lspci::command(shell, rest).await,
        ["kv", rest @ ..] => kv::command(shell, rest).await,
        ["unix", rest @ ..] => unix::command(shell, rest).await,
        ["counter"] => counter::command(shell).await,
        ["snapshot"] => persist::snapshot(shell.checkpoint),
        ["sync"] => persist::sync(shell.checkpoint),
        ["persist"] => persist::status(),
        ["log", rest @ ..] => {
            let filter = log_filter(rest)?;
            let client = shell.log.as_ref().ok_or("no route to the log service")?;
            call(
                client,
                |t| Log::query::encode(t, filter),
                Log::query::decode_reply,
            )
            .await
            .map(Output::Table)
        }
        [name, ..] => match COMMANDS.iter().find(|(known, _)| known == name) {
            Some((_, help)) => Err(format!("bad arguments for `{name}`; usage: {help}")),
            None => Err(format!(
                "unknown command `{name}`; type `help` for the commands"
            )),
        },
        [] => text(""),
    }
}

fn number(word: &str) -> Result<u64, String> {
    word.parse()
        .map_err(|_| format!("`{word}` is not a number"))
}

fn log_filter(words: &[&str]) -> Result<LogFilter, String> {
    let mut filter = LogFilter::default();
    let mut rest = words;
    while let [key, value, tail @ ..] = rest {
        match *key {
            "component" => filter.component = Some(value.to_string()),
            "level" => {
                filter.level =
                    Some(level::parse(value).ok_or_else(|| {
                        format!("unknown level `{value}` (error, warn, info, debug)")
                    })?)
            }
            "last" => filter.last = Some(number(value)? as u32),
            "text" => filter.text = Some(value.to_string()),
            "since" => match abide_datatable::convert(value, abide_datatable::Kind::Duration) {
                Some(abide_datatable::Value::Duration(ns)) => filter.since_ns = Some(ns),
                _ => {
                    return Err(format!(
                        "`{value}` is not {}",
                        abide_datatable::hint(abide_datatable::Kind::Duration)
                    ))
                }
            },
            _ => {
                return Err(format!(
                    "unknown log filter `{key}` (component, level, last, text, since)"
                ))
            }
        }
        rest = tail;
    }
    if let [dangling] = rest {
        return Err(format!("`{dangling}` needs a value"));
    }
    Ok(filter)
}

async fn system<T>(
    shell: &Shell,
    encode: impl FnOnce(u64) -> Result<Vec<u8>, abide_ipc::WireError>,
    decode: impl FnOnce(&[u8], Option<u64>) -> Result<T, CallError>,
) -> Result<T, String> {
    let client = shell
        .system
        .as_ref()
        .ok_or("no route to the system service")?;
    call(client, encode, decode).await
}

async fn call<T>(
    client: &Client,
    encode: impl FnOnce(u64) -> Result<Vec<u8>, abide_ipc::WireError>,
    decode: impl FnOnce(&[u8], Option<u64>) -> Result<T, CallError>,
) -> Result<T, String> {
    client.call(encode, decode).await.map_err(|e| match e {
        ClientError::Call(CallError::Remote(remote)) => remote.to_string(),
        other => other.to_string(),
    })
}
