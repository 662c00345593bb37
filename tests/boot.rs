//! System tests: Abide boots in QEMU through PVH (`-kernel`), prints its
//! banner with the boot time, takes commands on the kernel's own console
//! (`monitor` on the command line), and powers off cleanly; `cargo run`
//! boots the system to the user-space shell and works with piped input; the
//! shipped image (the system alone) refuses a test configuration by name.
//!
//! Drives: none with `monitor` (the kernel's own console); the default system
//! through `cargo run`: `user/init`, `user/drivers/{serial,vga,pci}`,
//! `user/services/{log,kv,counter}`, `user/apps/shell`. Configs:
//! `system/default.conf`.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};

use support::*;

/// Boots with `opts` and waits for the console prompt; returns the session.
fn boot_to_prompt(opts: BootOptions) -> Session {
    let mut session = step(Session::boot(opts));
    step(session.expect(host::KERNEL_CONSOLE_PROMPT, BOOT));
    session
}

/// The boot time the banner reports, in milliseconds.
fn banner_boot_ms(output: &str) -> f64 {
    let banner = output
        .lines()
        .find(|line| line.starts_with(host::BANNER_PREFIX))
        .unwrap_or_else(|| panic!("no banner line in:\n{output}"));
    let after = banner
        .split(host::BANNER_BOOT_TIME)
        .nth(1)
        .unwrap_or_else(|| panic!("no boot time in banner {banner:?}"));
    let number: String = after
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    number
        .parse()
        .unwrap_or_else(|_| panic!("boot time not a number in {banner:?}"))
}

#[test]
fn boots_to_the_console_and_powers_off() {
    let mut session = boot_to_prompt(BootOptions::with_cmdline("monitor"));
    let output = session.output();
    assert_contains(
        &output,
        &format!(
            "{}{} (x86_64, pvh) ready",
            host::BANNER_PREFIX,
            abide_abi::VERSION
        ),
    );
    let boot_ms = banner_boot_ms(&output);
    assert!(
        boot_ms > 0.0 && boot_ms < 60_000.0,
        "implausible boot time {boot_ms} ms"
    );

    let mut command = |line: &str, reply: &str| {
        step(session.send(&format!("{line}\n")));
        step(session.expect_next(reply, REPLY));
    };
    command("help", "poweroff");
    command("echo hello from the test", "hello from the test");
    command("uptime", "timer ticks at 100 Hz");
    command("mem", "kernel heap");
    command("version", &format!("Abide {}", abide_abi::VERSION));
    command(
        "frobnicate",
        "unknown command 'frobnicate'; type 'help' for the list",
    );
    command("poweroff", "powering off");
    let status = step(session.wait_exit(REPLY));
    assert_eq!(
        status,
        0,
        "ACPI power-off should end QEMU with 0; output:\n{}",
        session.output()
    );
}

#[test]
fn command_line_sets_the_log_level_and_names_unknown_options() {
    let mut session = boot_to_prompt(BootOptions::with_cmdline("monitor log=debug frobnicate=1"));
    let output = session.output();
    assert_contains(&output, "DEBUG clocks: TSC");
    assert_contains(
        &output,
        "unknown kernel command-line option \"frobnicate\" ignored",
    );
    step(session.send("poweroff\n"));
    assert_eq!(step(session.wait_exit(REPLY)), 0);
}

#[test]
fn memory_size_reaches_the_kernel() {
    let opts = BootOptions {
        memory_mib: 1024,
        ..BootOptions::with_cmdline("monitor")
    };
    let mut session = boot_to_prompt(opts);
    let output = session.output();
    let banner = output
        .lines()
        .find(|l| l.starts_with(host::BANNER_PREFIX))
        .unwrap_or_default();
    let usable: u64 = banner
        .split(" MiB usable")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no usable memory figure in {banner:?}"));
    assert!(
        (900..=1024).contains(&usable),
        "1024 MiB guest reports {usable} MiB usable"
    );
    step(session.send("poweroff\n"));
    assert_eq!(step(session.wait_exit(REPLY)), 0);
}

/// `cargo run`'s options for a new store of the test's own: tests run in
/// parallel, and QEMU locks a store image; a test's system must not resume
/// what another run left either.
fn own_fresh_store(name: &str) -> [String; 3] {
    let path = abide_tool::repo_root().join(format!("target/abide/test-stores/{name}.img"));
    [
        "--store".into(),
        path.display().to_string(),
        "--fresh".into(),
    ]
}

/// `printf 'ps\npoweroff\n' | cargo run`: input piped before the kernel is
/// up reaches the user-space shell through the serial driver, `ps` prints
/// the process table, and power-off returns 0 to the host's shell.
#[test]
fn cargo_run_with_piped_input() {
    let kernel = step(abide_tool::build::build_kernel(Image::System));
    assert!(kernel.exists());
    let mut child = Command::new(env!("CARGO_BIN_EXE_abide"))
        .arg("run")
        .args(own_fresh_store("piped-input"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the abide host tool");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(b"echo piped input arrived\nps\npoweroff\n")
        .expect("write to the host tool");
    let output = child.wait_with_output().expect("wait for the host tool");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_contains(&stdout, host::SHELL_PROMPT);
    assert_contains(&stdout, "piped input arrived");
    for column in ["id", "name", "state", "mem", "handles", "restarts", "cpu"] {
        assert_contains(&stdout, column);
    }
    assert_contains(&stdout, "running");
    assert_contains(&stdout, "powering off");
    assert!(
        output.status.success(),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
}

/// Ctrl-A X (QEMU's console escape) quits `cargo run` and returns status 0,
/// even while the guest is waiting for input.
#[test]
fn ctrl_a_x_quits_cargo_run() {
    use std::io::Read;
    use std::sync::mpsc;

    step(abide_tool::build::build_kernel(Image::System));
    let mut child = Command::new(env!("CARGO_BIN_EXE_abide"))
        .arg("run")
        .args(own_fresh_store("ctrl-a-x"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the abide host tool");
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 1024];
        while let Ok(n @ 1..) = stdout.read(&mut buf) {
            seen.extend_from_slice(&buf[..n]);
            let _ = tx.send(String::from_utf8_lossy(&seen).into_owned());
        }
    });
    let mut output = String::new();
    while !output.contains(host::SHELL_PROMPT) {
        output = rx
            .recv_timeout(BOOT)
            .unwrap_or_else(|_| panic!("no prompt; output:\n{output}"));
    }
    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin.write_all(b"\x01x").expect("send Ctrl-A X");
    let status = child.wait().expect("wait for the host tool");
    drop(stdin);
    let _ = reader.join();
    while let Ok(more) = rx.try_recv() {
        output = more;
    }
    assert_contains(&output, "QEMU: Terminated");
    assert!(status.success(), "exit {status:?}; output:\n{output}");
}

/// The shipped image carries no test configuration: booting it with one
/// ends at once with a message naming the configuration and where it is,
/// rather than a system that waits for programs that are not there.
#[test]
fn the_shipped_image_refuses_a_test_configuration_by_name() {
    let opts = BootOptions {
        image: Image::System,
        ..BootOptions::with_cmdline("config=faults")
    };
    let (output, _status) = step(run_to_exit(opts, RUN));
    assert_contains(
        &output,
        "init: the image has no configuration config-faults",
    );
    assert_contains(&output, "--with-tests");
    assert_contains(&output, host::ALL_PROCESSES_ENDED);
    assert_kernel_healthy(&output);
}
