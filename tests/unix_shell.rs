//! System tests: reaching the Unix personality from the Abide shell. `sh
//! -c` runs a busybox script (from piped input too, as a user pipes it to
//! `cargo run`) and reports a failing status; `sh` is an interactive ash on
//! the console that Ctrl-D ends, back to `abide$`; `unix ps` and `unix
//! stats` are tables; and a Linux process blocked reading the console is
//! not disturbed when the serial driver restarts under it.
//!
//! Drives: the default system (`user/init`, `user/drivers/{serial,vga,pci}`,
//! `user/services/{log,kv,counter,unix}`, `user/apps/shell`) with the
//! root tree's busybox. Configs: `system/default.conf`.

mod support;

use std::time::Duration;

use abide_tool::session::RootTree;
use support::piped::run_with_input;
use support::qemu_monitor::Qmp;
use support::*;

/// The default system with the root tree (busybox), which these tests
/// need: the system tests boot without it unless asked.
fn with_busybox() -> BootOptions {
    BootOptions {
        root_tree: RootTree::Required,
        ..BootOptions::default()
    }
}

#[test]
fn a_piped_sh_c_pipeline_prints_its_output() {
    // The README's example, exactly as a user types it.
    let run = run_with_input(b"sh -c \"echo hello | wc -c\"\npoweroff\n");
    run.assert_success("");
    assert!(
        run.stdout.lines().any(|line| line.trim() == "6"),
        "no 6 from `echo hello | wc -c`:\n{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("exit status"),
        "a successful script printed a status:\n{}",
        run.stdout
    );
}

#[test]
fn sh_c_reports_how_a_script_ended_and_unix_lists_processes() {
    let mut session = boot_to_shell(with_busybox());
    // Single quotes keep the script one word, its `|` and `;` included.
    command(
        &mut session,
        "sh -c 'echo one two | wc -w; echo \"q\"'",
        "2",
    );
    // A command starts in root's home, `Command::new`'s directory.
    command(&mut session, "sh -c pwd", "/root");
    command(&mut session, "sh -c 'exit 3'", "exit status 3");
    command(&mut session, "sh -c 'kill -9 $$'", "killed by signal 9");
    command(&mut session, "sh -c 'nosuchprogram'", "exit status 127");
    // A background command: the prompt comes back at once, and it is
    // listed while it sleeps.
    command(&mut session, "sh -c 'sleep 60' &", "&");
    let ps = command(&mut session, "unix ps", "sleep 60");
    // interfaces/src/unix.rs's PS_COLUMNS.
    for column in ["pid", "ppid", "pgid", "sid", "state", "mem", "command"] {
        assert_contains(&ps, column);
    }
    command(&mut session, "unix ps | sort-by pid desc | first 1", "pid");
    let stats = command(&mut session, "unix stats", "calls");
    assert_contains(&stats, "processes");
    // Six commands were run, and `echo one two | wc -w` forked at least
    // twice more: `started` counts forks as well as runs.
    let started: u64 = stats
        .lines()
        .find(|line| line.trim_start().starts_with("started"))
        .and_then(|line| line.split_whitespace().last())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no started row in:\n{stats}"));
    assert!(
        started >= 8,
        "started {started}, forks not counted:\n{stats}"
    );
    command(&mut session, "unix frob", "usage: unix ps | unix stats");
    command(&mut session, "help", "unix ps");
    power_off(&mut session);
}

#[test]
fn sh_is_an_interactive_ash_that_ctrl_d_ends() {
    let mut session = boot_to_shell(with_busybox());
    step(session.send("sh\n"));
    // ash greets and prompts; from then on the Abide shell does not read,
    // and every key goes to ash. (Keys typed ahead in the same read as
    // `sh` would have been taken by the Abide shell already.)
    step(session.expect_next("built-in shell (ash)", REPLY));
    step(session.expect_next("# ", REPLY));
    step(session.send("echo $((6 * 7))\n"));
    step(session.expect_next("42", REPLY));
    step(session.send("cd /tmp && pwd\n"));
    step(session.expect_next("/tmp", REPLY));
    // Ctrl-D on an empty line: ash ends, the Abide shell prompts again
    // and reads the console again.
    step(session.send("\x04"));
    step(session.expect_next(host::SHELL_PROMPT, REPLY));
    command(&mut session, "echo back in abide", "back in abide");
    power_off(&mut session);
}

#[test]
fn a_linux_read_on_the_console_outlives_a_serial_driver_restart() {
    let socket = Qmp::socket_path("unix-serial");
    let mut session = step(Session::boot(BootOptions {
        extra_qemu_args: Qmp::qemu_args(&socket),
        ..with_busybox()
    }));
    step(session.expect(host::SHELL_PROMPT, BOOT));
    let mut qmp = step(Qmp::connect(&socket, REPLY));
    step(session.send("sh -c 'read line; echo \"got $line\"'\n"));
    // Let the script block in read on the console.
    std::thread::sleep(Duration::from_secs(2));
    // The second shell, on the VGA keyboard, crashes the serial driver.
    for key in "crash serial".chars() {
        let key = if key == ' ' {
            "spc".into()
        } else {
            key.to_string()
        };
        step(qmp.press(&[&key]));
        std::thread::sleep(Duration::from_millis(50));
    }
    step(qmp.press(&["ret"]));
    // The new instance answers the read `Restarted`; unix asks again and
    // the script, still blocked, gets the line typed after the restart.
    // Input sent before the new instance runs is lost with the old one:
    // send until a line arrives.
    let deadline = std::time::Instant::now() + REPLY;
    loop {
        std::thread::sleep(Duration::from_secs(1));
        step(session.send("hello\n"));
        if session
            .expect_next("got hello", Duration::from_secs(3))
            .is_ok()
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the blocked read never got a line after the restart:\n{}",
            session.output()
        );
    }
    step(session.expect_next(host::SHELL_PROMPT, REPLY));
    assert!(
        !session.output().contains("got \n"),
        "the read was disturbed (it returned nothing):\n{}",
        session.output()
    );
    // The driver did restart under the read.
    let restarts = command(
        &mut session,
        "ps | where name == serial | select restarts",
        "restarts",
    );
    assert!(
        first_number(&restarts, "restarts") >= 1,
        "the serial driver never restarted:\n{}",
        session.output()
    );
    power_off(&mut session);
}

/// A crash of `unix` ends its Linux processes (the kernel ends every
/// process whose trap handler is gone) and the supervisor restarts it with
/// an empty process table; the rest of the system runs on and the new
/// instance serves the shell.
#[test]
fn a_crash_of_unix_ends_its_processes_and_it_comes_back_serving() {
    let mut session = boot_to_shell(with_busybox());
    command(&mut session, "sh -c 'sleep 60' &", "&");
    command(&mut session, "unix ps", "sleep 60");
    command(&mut session, "crash unix", "unix faulted");
    // The restarted instance answers with an empty process table.
    command(&mut session, "sh -c 'echo alive'", "alive");
    let ps = command(&mut session, "unix ps", "command");
    assert!(
        !ps.contains("sleep 60"),
        "the Linux process outlived unix:\n{ps}"
    );
    let restarts = command(
        &mut session,
        "ps | where name == unix | select restarts",
        "restarts",
    );
    assert_eq!(first_number(&restarts, "restarts"), 1, "{restarts}");
    power_off(&mut session);
}
