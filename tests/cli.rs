//! The `abide` command as a user meets it: its help, and what it says when a
//! program it needs is not installed, and an invalid system configuration.
//! Nothing here boots or builds the kernel.
//!
//! Drives: none: it runs the `abide` host tool without booting (one test builds
//! the image from a bad configuration file it writes). Configs: none of
//! `system/`.

use std::path::PathBuf;
use std::process::{Command, Output};

fn abide(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_abide"));
    command.args(args);
    command
}

/// Runs `abide` with `PATH` set to an empty directory: no tool can be found.
fn abide_without_tools(args: &[&str]) -> Output {
    let empty: PathBuf = [env!("CARGO_TARGET_TMPDIR"), "empty-path"].iter().collect();
    std::fs::create_dir_all(&empty).unwrap();
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);
    abide(args).env("PATH", &empty).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_lists_the_commands_and_options() {
    let output = abide(&["--help"]).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let help = text(&output.stdout);
    for word in [
        "run",
        "build",
        "iso",
        "bench",
        "crashtest",
        "--accel",
        "--gdb",
        "--memory",
        "--append",
        "--graphics",
        "--cpu",
        "--iso",
    ] {
        assert!(help.contains(word), "`abide --help` lacks {word}:\n{help}");
    }
}

#[test]
fn help_says_what_piped_input_does() {
    let output = abide(&["--help"]).output().unwrap();
    let help = text(&output.stdout);
    assert!(help.contains("not a terminal"), "{help}");
    assert!(help.contains("powered off"), "{help}");
}

#[test]
fn run_help_lists_its_options() {
    let output = abide(&["run", "--help"]).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let help = text(&output.stdout);
    for word in ["--accel", "--gdb", "--memory", "--append", "--graphics"] {
        assert!(
            help.contains(word),
            "`abide run --help` lacks {word}:\n{help}"
        );
    }
}

#[test]
fn bad_options_are_usage_errors() {
    let output = abide(&["--accel", "hvf"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(text(&output.stderr).contains("hvf"));
}

fn assert_names_qemu(output: &Output) {
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("qemu-system-x86_64"), "{stderr}");
    assert!(
        stderr.contains("apt-get install qemu-system-x86"),
        "{stderr}"
    );
}

#[test]
fn run_without_qemu_says_what_to_install() {
    assert_names_qemu(&abide_without_tools(&["run"]));
}

#[test]
fn the_default_command_without_qemu_says_what_to_install() {
    assert_names_qemu(&abide_without_tools(&[]));
}

#[test]
fn run_iso_without_tools_names_qemu_and_grub() {
    let output = abide_without_tools(&["run", "--iso"]);
    assert_names_qemu(&output);
    assert!(text(&output.stderr).contains("grub-mkrescue"));
}

#[test]
fn iso_without_grub_says_what_to_install() {
    let output = abide_without_tools(&["iso"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("grub-mkrescue"), "{stderr}");
    assert!(
        stderr.contains("apt-get install grub-common grub-pc-bin"),
        "{stderr}"
    );
    assert!(stderr.contains("apt-get install xorriso"), "{stderr}");
    assert!(stderr.contains("apt-get install mtools"), "{stderr}");
    assert!(
        !stderr.contains("qemu-system-x86_64"),
        "iso does not need QEMU: {stderr}"
    );
}

#[test]
fn an_invalid_system_configuration_fails_the_build_with_its_position() {
    let bad: PathBuf = [env!("CARGO_TARGET_TMPDIR"), "bad.conf"].iter().collect();
    std::fs::write(
        &bad,
        "group root {\n    component shell {\n        restart sometimes\n    }\n}\n",
    )
    .unwrap();
    let output = abide(&["build"])
        .env("ABIDE_CONFIG", &bad)
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert!(!output.status.success(), "the build went on: {stderr}");
    assert!(stderr.contains("bad.conf:3:17:"), "{stderr}");
    assert!(
        stderr.contains("unknown restart type `sometimes`"),
        "{stderr}"
    );
}
