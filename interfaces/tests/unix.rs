//! The `Unix` interface: its records and its generated dispatch.

use abide_interfaces::unix::{CallCount, Command, ExitStatus, Stats, DEFAULT_CWD, PS_COLUMNS};
use abide_interfaces::{Table, Unix};
use abide_ipc::RemoteError;

/// A server that "runs" a command by its first argument: `true`, `false`,
/// `kill` (ends by SIGKILL); anything else is not found.
struct Fake;

impl Unix::Server for Fake {
    fn run(&mut self, command: Command) -> Result<ExitStatus, RemoteError> {
        match command.argv.first().map(String::as_str) {
            Some("true") => Ok(ExitStatus::Exited(0)),
            Some("false") => Ok(ExitStatus::Exited(1)),
            Some("kill") => Ok(ExitStatus::Signaled(9)),
            Some(other) => Err(RemoteError::app(format!("sh: {other}: not found"))),
            None => Err(RemoteError::app("empty command")),
        }
    }

    fn ps(&mut self) -> Result<Table, RemoteError> {
        Ok(Table::new(PS_COLUMNS))
    }

    fn stats(&mut self) -> Result<Stats, RemoteError> {
        Ok(Stats {
            calls: 7,
            processes: 1,
            started: 2,
            enosys: vec![CallCount {
                name: "inotify_init1".into(),
                count: 3,
            }],
        })
    }
}

#[test]
fn run_replies_with_how_the_command_ended() {
    let mut unix = Fake;
    for (program, status) in [
        ("true", ExitStatus::Exited(0)),
        ("false", ExitStatus::Exited(1)),
        ("kill", ExitStatus::Signaled(9)),
    ] {
        let request = Unix::run::encode(1, Command::new(&[program])).unwrap();
        let reply = Unix::dispatch(&mut unix, &request);
        assert_eq!(Unix::run::decode_reply(&reply, Some(1)), Ok(status));
    }
    let request = Unix::run::encode(2, Command::new(&["nope"])).unwrap();
    let reply = Unix::dispatch(&mut unix, &request);
    assert!(Unix::run::decode_reply(&reply, Some(2)).is_err());
}

#[test]
fn a_new_command_has_the_default_environment() {
    let command = Command::new(&["/bin/sh", "-c", "echo hello | wc -c"]);
    assert_eq!(command.argv, ["/bin/sh", "-c", "echo hello | wc -c"]);
    assert!(command.env.iter().any(|var| var.starts_with("PATH=")));
    assert_eq!(command.cwd, DEFAULT_CWD);
}

#[test]
fn exit_status_reads_linux_wait_status_words() {
    assert_eq!(ExitStatus::from_wait_status(0), Some(ExitStatus::Exited(0)));
    assert_eq!(
        ExitStatus::from_wait_status(3 << 8),
        Some(ExitStatus::Exited(3))
    );
    assert_eq!(
        ExitStatus::from_wait_status(9),
        Some(ExitStatus::Signaled(9))
    );
    // SIGSEGV with a core dump (bit 7) is still SIGSEGV.
    assert_eq!(
        ExitStatus::from_wait_status(0x80 | 11),
        Some(ExitStatus::Signaled(11))
    );
    // Stopped by SIGTSTP, and continued: not an end.
    assert_eq!(ExitStatus::from_wait_status((20 << 8) | 0x7f), None);
    assert_eq!(ExitStatus::from_wait_status(0xffff), None);
    assert_eq!(ExitStatus::Exited(2).shell_code(), 2);
    assert_eq!(ExitStatus::Signaled(2).shell_code(), 130);
    assert!(ExitStatus::Exited(0).success());
    assert!(!ExitStatus::Signaled(15).success());
}

#[test]
fn stats_round_trip_and_read_as_a_table() {
    let mut unix = Fake;
    let reply = Unix::dispatch(&mut unix, &Unix::stats::encode(3).unwrap());
    let stats = Unix::stats::decode_reply(&reply, Some(3)).unwrap();
    assert_eq!(stats.calls, 7);
    let table = stats.table();
    assert_eq!(table.len(), 4);
    assert_eq!(
        table.get(3, "what"),
        Some(&abide_datatable::Value::text("ENOSYS inotify_init1"))
    );
    assert_eq!(table.get(3, "count"), Some(&abide_datatable::Value::Int(3)));
}

#[test]
fn ps_has_the_documented_columns() {
    let mut unix = Fake;
    let reply = Unix::dispatch(&mut unix, &Unix::ps::encode(4).unwrap());
    let table = Unix::ps::decode_reply(&reply, Some(4)).unwrap();
    assert!(table.is_empty());
    assert_eq!(Unix::NAME, "Unix");
    assert_eq!(Unix::ORDINALS, &[1, 2, 3]);
}
