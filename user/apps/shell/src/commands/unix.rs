//! `sh` and `unix`: the Unix personality (`uses unix from unix`).
//!
//! - `sh`: busybox's interactive `ash` on the console (`/bin/sh -i`) until
//!   it ends (Ctrl-D or `exit`); the shell does not read the console
//!   meanwhile, so every key goes to the Linux side.
//! - `sh -c 'SCRIPT' [ARGS...]` (or any `sh ARGS`): runs `/bin/sh` with the
//!   arguments; its output goes straight to the console. When it ends with
//!   anything but exit code 0 the shell prints `exit status N` or `killed
//!   by signal N`.
//! - `bash` and `bash ARGS` [`&`]: the same with `/bin/bash` (Debian's
//!   static bash) in place of `/bin/sh`.
//! - `sh ... &`: the same, detached: started in the background of a
//!   `/bin/sh -c` that ends at once ([`DETACH`]), ignoring `SIGHUP` (which
//!   the end of that session sends its process group) and with its input
//!   from `/dev/null`: the command goes on, listed by `unix ps`, and the
//!   prompt comes back.
//! - `unix ps`: the Linux processes as a table (`pid`, `ppid`, `pgid`,
//!   `sid`, `state`, `mem`, `command`); `unix stats`: calls served, the
//!   unimplemented calls asked for, processes.
//!
//! An `sh` line is not split at `|` into the shell's own pipeline stages:
//! its words are [`split_sh_words`]'s, quoted as a Unix shell quotes them,
//! so a script with pipes and quotes reaches `/bin/sh` as one argument.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use abide_datatable::split_sh_words;
use abide_interfaces::unix::{Command, ExitStatus};
use abide_interfaces::Unix;
use abide_rt::ipc::Client;

use super::{call, Output};
use crate::Shell;

const USAGE: &str = "unix ps | unix stats";

/// The program `sh` runs.
const SH: &str = "/bin/sh";

/// The script that starts `sh ... &`'s command (its arguments) detached,
/// like `nohup CMD &`: a signal ignored at `exec` stays ignored.
pub const DETACH: &str = "trap '' HUP; \"$@\" &";

/// The shells a line may start, by first word, and their programs.
const SHELLS: [(&str, &str); 2] = [("sh", SH), ("bash", "/bin/bash")];

/// Whether `line` is an `sh` or `bash` command (by its first word).
pub(super) fn is_sh(line: &str) -> bool {
    program(line).is_some()
}

/// The program of an `sh` or `bash` line.
fn program(line: &str) -> Option<&'static str> {
    let first = line.split_whitespace().next()?;
    SHELLS
        .iter()
        .find(|(name, _)| *name == first)
        .map(|(_, program)| *program)
}

/// Runs an `sh` or `bash` line: `line` starts with one of them.
pub(super) async fn sh(shell: &Shell, line: &str) -> Result<String, String> {
    let program = program(line).unwrap_or(SH);
    let unix = route(shell)?;
    let mut words = split_sh_words(line).map_err(|_| String::from("a quote is not closed"))?;
    let background = words.last().is_some_and(|word| word.unquoted_amp);
    if background {
        words.pop();
    }
    // The first word is the shell's name itself.
    let mut argv: Vec<String> = [String::from(program)].into();
    argv.extend(words.into_iter().skip(1).map(|word| word.text));
    if argv.len() == 1 {
        argv.push("-i".into());
    }
    if background {
        let mut wrapped: Vec<String> = [SH, "-c", DETACH, "sh"].map(String::from).into();
        wrapped.extend(argv);
        argv = wrapped;
    }
    let command = Command::new(&argv);
    let status = call(
        unix,
        |t| Unix::run::encode(t, command),
        Unix::run::decode_reply,
    )
    .await?;
    Ok(status_line(status))
}

/// What the shell prints when a command ended: nothing for exit code 0,
/// else `exit status N` or `killed by signal N`.
pub fn status_line(status: ExitStatus) -> String {
    match status {
        ExitStatus::Exited(0) => String::new(),
        ExitStatus::Exited(code) => format!("exit status {code}"),
        ExitStatus::Signaled(signal) => format!("killed by signal {signal}"),
    }
}

/// Runs `unix` with `words` (what follows the command's name).
pub(super) async fn command(shell: &Shell, words: &[&str]) -> Result<Output, String> {
    let unix = route(shell)?;
    match words {
        ["ps"] => call(unix, Unix::ps::encode, Unix::ps::decode_reply)
            .await
            .map(Output::Table),
        ["stats"] => call(unix, Unix::stats::encode, Unix::stats::decode_reply)
            .await
            .map(|stats| Output::Table(stats.table())),
        _ => Err(format!("usage: {USAGE}")),
    }
}

fn route(shell: &Shell) -> Result<&Client, String> {
    shell
        .unix
        .as_ref()
        .ok_or_else(|| String::from("no route to the Unix personality (`uses unix from unix`)"))
}
