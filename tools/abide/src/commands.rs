//! What `abide run`, `abide build`, `abide iso` and `abide bench` do, and
//! the exit statuses (`abide conformance` is in [`crate::conformance::command`]).
//!
//! Exit statuses: 0 when the guest powered off, QEMU was quit, or the kernel
//! reported success; 1 when the kernel reported a failure, a build failed, or
//! the benchmark run failed or was incomplete; 2 when a required program is
//! not installed; QEMU's own status (1..=125) when QEMU failed.

use std::fs;
use std::process::ExitCode;
use std::time::Duration;

use abide_abi::host::{exit_status_meaning, GuestOutcome};
use clap::Parser;

use crate::bench::compare::{render_markdown, render_unix_markdown};
use crate::bench::{docs, persist, run_comparison, run_unix_comparison, BenchOptions};
use crate::cli::{
    BenchArgs, BenchPart, BuildArgs, Cli, Command, CrashtestArgs, FuzzArgs, IsoArgs, RunArgs,
};
use crate::image::Image;
use crate::qemu::{self, display_path, Console, Medium, OnParentDeath, QemuConfig};
use crate::rootfs::{self, RootTree};
use crate::{build, feed, fuzz, iso, prereqs, store, user};

/// Exit status when a required program is missing.
pub const EXIT_MISSING_TOOL: u8 = 2;

/// Parses the command line and runs the command.
pub fn main() -> ExitCode {
    match Cli::parse().into_command() {
        Command::Run(args) => run(&args),
        Command::Build(args) => build(&args),
        Command::Iso(args) => make_iso(&args),
        Command::Bench(args) => bench(&args),
        Command::Crashtest(args) => crashtest(&args),
        Command::Fuzz(args) => fuzz(&args),
        Command::Conformance(args) => crate::conformance::command::main(&args),
    }
}

/// `abide fuzz`: hostile calls at scale (`fuzz.rs`); 0 when the kernel
/// survived them without a panic, a hang, a failure or a leak.
pub fn fuzz(args: &FuzzArgs) -> ExitCode {
    if let Err(message) = prereqs::check(prereqs::RUN_TOOLS) {
        eprintln!("{message}");
        return ExitCode::from(EXIT_MISSING_TOOL);
    }
    let attacks: Vec<String> = match &args.attacks {
        Some(list) if !list.iter().any(|a| a == "all") => {
            list.iter().filter(|a| !a.is_empty()).cloned().collect()
        }
        _ => fuzz::ALL_ATTACKS.iter().map(|a| a.to_string()).collect(),
    };
    let options = fuzz::FuzzOptions {
        calls: args.calls,
        seed: args.seed,
        procs: args.procs,
        attacks,
        timeout: Duration::from_secs(args.timeout),
        memory_mib: args.memory,
        add: args.add.clone(),
    };
    eprintln!("abide: fuzz: booting with `{}`", options.cmdline());
    let report = fuzz::fuzz(&options);
    print!("{}", report.summary(&options));
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        if !report.output.is_empty() {
            eprintln!("abide: fuzz: the guest's output:\n{}", report.output);
        }
        ExitCode::from(1)
    }
}

/// `abide crashtest N`: the power-cut loop of `crashtest`, on a store of
/// its own (`target/abide/crashtest.img`).
pub fn crashtest(args: &CrashtestArgs) -> ExitCode {
    if let Err(message) = prereqs::check(prereqs::RUN_TOOLS) {
        eprintln!("{message}");
        return ExitCode::from(EXIT_MISSING_TOOL);
    }
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    let options = crate::crashtest::CrashtestOptions {
        runs: args.runs,
        seed,
        store: build::repo_root().join("target/abide/crashtest.img"),
        max_cut_delay_ms: args.max_delay,
        unix: args.unix,
        add: args.add.clone(),
    };
    let started = std::time::Instant::now();
    match crate::crashtest::run(&options) {
        Ok(report) => {
            let mut boots = report.boot_ms.clone();
            boots.sort_unstable();
            let median = boots.get(boots.len() / 2).copied().unwrap_or(0);
            let max = boots.last().copied().unwrap_or(0);
            println!(
                "crashtest: {} power cuts survived (seed {seed:#x}) in {} s: {} resumes, \
                 {} synced keys all present, counter never went back (reached {}); \
                 QEMU start to shell prompt: median {median} ms, max {max} ms",
                report.runs,
                started.elapsed().as_secs(),
                report.resumed,
                report.synced_keys,
                report.counter
            );
            if args.unix {
                println!(
                    "crashtest: the Linux loop kept its pid and /home/n never went back \
                     (reached {})",
                    report.unix_count
                );
            }
            ExitCode::SUCCESS
        }
        Err(error) => fail(&error),
    }
}

/// `abide run`: build, then boot with the console on this terminal.
pub fn run(args: &RunArgs) -> ExitCode {
    let mut missing: Vec<String> = prereqs::check(prereqs::RUN_TOOLS)
        .err()
        .into_iter()
        .collect();
    if args.iso {
        missing.extend(prereqs::check_iso_tools().err());
    }
    if !missing.is_empty() {
        eprintln!("{}", missing.join("\n"));
        return ExitCode::from(EXIT_MISSING_TOOL);
    }
    let store = match args.store() {
        Some((path, size_mib)) => match prepare_store(&path, size_mib, args) {
            Ok(()) => Some(path),
            Err(e) => return fail(&e),
        },
        None => None,
    };
    // The root tree and --add go beside the kernel (QEMU's loader); the
    // ISO carries none yet.
    let archives = if args.iso {
        if !args.add.is_empty() {
            return fail(
                "--add needs the -kernel boot: the ISO carries no archives yet (drop --iso)",
            );
        }
        Vec::new()
    } else {
        match rootfs::prepare(RootTree::IfAvailable, &args.add, args.memory) {
            Ok(archives) => archives,
            Err(e) => return fail(&e),
        }
    };
    let image = match image_for(args.with_tests, &args.append) {
        Ok(image) => image,
        Err(e) => return fail(&e),
    };
    let elf = match build::build_kernel(image) {
        Ok(elf) => elf,
        Err(e) => return fail(&e),
    };
    let medium = if args.iso {
        match iso::build_iso(image, &args.append) {
            Ok(iso) => Medium::Iso(iso),
            Err(e) => return fail(&e),
        }
    } else {
        Medium::Kernel {
            elf: elf.clone(),
            cmdline: args.append.clone(),
        }
    };
    // Piped input goes line by line at the guest's prompts, and its end
    // powers the machine off (`feed`); a terminal gets QEMU's own console.
    let piped = !qemu::stdin_is_terminal();
    let mut config = QemuConfig::new(medium, Console::Interactive);
    config.accel = args.accel;
    config.cpu = args.cpu.clone();
    config.memory_mib = args.memory;
    config.graphics = args.graphics;
    config.gdb = args.gdb;
    config.store = store;
    config.archives = archives;

    eprintln!("{}", config.describe());
    if args.gdb {
        eprintln!("{}", config.gdb_hint(&elf));
    }
    let command = if piped {
        // The same console (Ctrl-A X too), through the feeder's pipes.
        let mut command = config.command();
        command
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped());
        command
    } else {
        config.command()
    };
    let status =
        qemu::spawn_tied_to_process(command, OnParentDeath::Terminate).and_then(|mut child| {
            if piped {
                feed::feed(child, qemu::standard_input())
            } else {
                child.wait()
            }
        });
    let status = match status {
        Ok(status) => status,
        Err(e) => return fail(&format!("cannot run {}: {e}", prereqs::QEMU.program)),
    };
    let (code, message) = run_exit(status.code());
    if let Some(message) = message {
        eprintln!("{message}");
    }
    ExitCode::from(code)
}

/// The image to boot with kernel command line `append`: the full one with
/// `--with-tests` or when `append` names what only it carries, said on
/// stderr; otherwise the system alone.
fn image_for(with_tests: bool, append: &str) -> Result<Image, String> {
    if with_tests {
        return Ok(Image::Full);
    }
    let image = Image::needed_by(&build::repo_root(), append)?;
    if image == Image::Full {
        eprintln!(
            "abide: `{append}` names a test or benchmark program: booting the full image ({})",
            display_path(&build::kernel_image_path(Image::Full))
        );
    }
    Ok(image)
}

/// Creates the store when it is missing (or `--fresh`), or checks it; says
/// what it did.
fn prepare_store(path: &std::path::Path, size_mib: u64, args: &RunArgs) -> Result<(), String> {
    match store::prepare(path, size_mib, args.fresh)? {
        store::Prepared::Created { size_mib } => {
            eprintln!(
                "abide: created store {} ({size_mib} MiB)",
                display_path(path)
            );
        }
        store::Prepared::Reused { size_bytes } => {
            if args.store_size.is_some_and(|mib| mib << 20 != size_bytes) {
                eprintln!(
                    "abide: the store {} stays {} MiB: --store-size applies when one is created (add --fresh)",
                    display_path(path),
                    size_bytes >> 20
                );
            }
        }
    }
    Ok(())
}

/// Maps QEMU's exit status (`None`: killed by a signal) to `run`'s exit
/// status and what to tell the user.
pub fn run_exit(status: Option<i32>) -> (u8, Option<String>) {
    let Some(status) = status else {
        return (1, Some("abide: QEMU was killed by a signal".into()));
    };
    match exit_status_meaning(status) {
        GuestOutcome::PoweredOff => (0, None),
        GuestOutcome::Success => (0, Some("abide: the kernel reported success".into())),
        GuestOutcome::Failure => (1, Some("abide: the kernel reported a failure".into())),
        GuestOutcome::QemuError(s) => {
            let code = u8::try_from(s).ok().filter(|c| (1..=125).contains(c));
            (
                code.unwrap_or(1),
                Some(format!("abide: QEMU failed (exit status {s})")),
            )
        }
    }
}

/// `abide build`: the kernel image's path on stdout, the embedded user
/// programs and their sizes on stderr.
pub fn build(args: &BuildArgs) -> ExitCode {
    let image = if args.with_tests {
        Image::Full
    } else {
        Image::System
    };
    match build::build_kernel(image) {
        Ok(elf) => {
            let bundle = user::bundle_path(image);
            match fs::read(&bundle)
                .map_err(|e| e.to_string())
                .and_then(|b| user::describe_bundle(&b))
            {
                Ok(text) => eprint!("abide: {} holds {text}", display_path(&bundle)),
                Err(e) => eprintln!("abide: warning: {}: {e}", display_path(&bundle)),
            }
            println!("{}", display_path(&elf));
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

/// `abide iso`: the ISO's path on stdout.
pub fn make_iso(args: &IsoArgs) -> ExitCode {
    if let Err(message) = prereqs::check_iso_tools() {
        eprintln!("{message}");
        return ExitCode::from(EXIT_MISSING_TOOL);
    }
    let image = match image_for(args.with_tests, &args.append) {
        Ok(image) => image,
        Err(e) => return fail(&e),
    };
    match iso::build_iso(image, &args.append) {
        Ok(iso) => {
            println!("{}", display_path(&iso));
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

/// `abide bench`: the comparison on stdout (Markdown); progress on stderr;
/// the files in `target/abide/bench/` and, with `--update-docs`, in docs/.
pub fn bench(args: &BenchArgs) -> ExitCode {
    if let Err(message) = prereqs::check(prereqs::RUN_TOOLS) {
        eprintln!("{message}");
        return ExitCode::from(EXIT_MISSING_TOOL);
    }
    let options = bench_options(args);
    match args.only {
        Some(BenchPart::Persist) => return bench_persist(args, &options),
        Some(BenchPart::Unix) => return bench_unix(args, &options),
        None => {}
    }
    eprintln!(
        "abide: Abide and Linux in QEMU ({}, {} MiB): {} run(s) of each, alternating, {} iterations per benchmark",
        options.accel.name(),
        options.memory_mib,
        options.runs,
        options.iterations()
    );
    let outcome = match run_comparison(&options, |line| eprintln!("  {line}")) {
        Ok(outcome) => outcome,
        Err(e) => return fail(&e),
    };
    print!("{}", render_markdown(&outcome));
    print!("\n{}", persist::render_markdown(&outcome.persist));
    let command = bench_command(args);
    let mut outputs = vec![docs::write_outputs(&outcome, &command)];
    if args.update_docs {
        outputs.push(docs::update_docs(&outcome, &command));
    }
    for written in outputs {
        match written {
            Ok(w) => eprintln!(
                "abide: wrote {} and {}",
                display_path(&w.markdown),
                display_path(&w.chart)
            ),
            Err(e) => return fail(&e),
        }
    }
    report_missing(&outcome.comparison)
}

/// Names the rows that failed on Abide (recorded, not an error) and fails
/// if a figure is missing.
fn report_missing(comparison: &crate::bench::compare::Comparison) -> ExitCode {
    for failed in comparison.failed() {
        eprintln!("abide: failed on Abide (recorded in the table): {failed}");
    }
    let missing = comparison.missing();
    if missing.is_empty() {
        ExitCode::SUCCESS
    } else {
        fail(&format!("figures missing: {}", missing.join("; ")))
    }
}

/// `abide bench --only unix`: the Linux peer's program on both systems,
/// the Linux ABI rows, printed and written like the whole run's.
fn bench_unix(args: &BenchArgs, options: &BenchOptions) -> ExitCode {
    eprintln!(
        "abide: the Linux peer's program on Linux and on Abide's Unix personality, in QEMU ({}, {} MiB): {} run(s) of each, alternating, {} iterations per benchmark",
        options.accel.name(),
        options.memory_mib,
        options.runs,
        options.iterations()
    );
    let outcome = match run_unix_comparison(options, |line| eprintln!("  {line}")) {
        Ok(outcome) => outcome,
        Err(e) => return fail(&e),
    };
    let markdown = render_unix_markdown(
        &outcome.machine,
        &outcome.abide,
        &outcome.linux,
        &outcome.comparison,
    );
    print!("{markdown}");
    let command = bench_command(args);
    let mut outputs = vec![docs::write_unix_outputs(&markdown, &command)];
    if args.update_docs {
        outputs.push(docs::update_unix_docs(&markdown, &command));
    }
    if let Err(e) = name_written(outputs) {
        return fail(&e);
    }
    report_missing(&outcome.comparison)
}

/// Says which files were written; the first error if one was not.
fn name_written(outputs: Vec<Result<std::path::PathBuf, String>>) -> Result<(), String> {
    for written in outputs {
        eprintln!("abide: wrote {}", display_path(&written?));
    }
    Ok(())
}

/// `abide bench --only persist`: the persistence figures alone, printed and
/// written like the whole run's.
fn bench_persist(args: &BenchArgs, options: &BenchOptions) -> ExitCode {
    eprintln!(
        "abide: the persistence figures in QEMU ({}, {} MiB): {} run(s)",
        options.accel.name(),
        options.memory_mib,
        options.runs
    );
    let figures = match persist::run(options, |line| eprintln!("  {line}")) {
        Ok(figures) => figures,
        Err(e) => return fail(&e),
    };
    print!("{}", persist::render_markdown(&figures));
    let command = bench_command(args);
    let mut outputs = vec![docs::write_persist_outputs(&figures, &command)];
    if args.update_docs {
        outputs.push(docs::update_persist_docs(&figures, &command));
    }
    match name_written(outputs) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// The options `abide bench` runs with.
pub fn bench_options(args: &BenchArgs) -> BenchOptions {
    let defaults = if args.quick {
        BenchOptions::quick()
    } else {
        BenchOptions::default()
    };
    BenchOptions {
        accel: args.accel,
        memory_mib: args.memory,
        runs: args.runs.unwrap_or(defaults.runs),
        timeout: Duration::from_secs(args.timeout),
        ..defaults
    }
}

/// The command that reproduces a run, for the record: `cargo run -- bench`
/// and the options that change the figures.
pub fn bench_command(args: &BenchArgs) -> String {
    let mut command = String::from("cargo run -- bench");
    if args.quick {
        command.push_str(" --quick");
    }
    if let Some(runs) = args.runs {
        command.push_str(&format!(" --runs {runs}"));
    }
    if args.accel != qemu::Accel::Tcg {
        command.push_str(&format!(" --accel {}", args.accel.name()));
    }
    if args.memory != 256 {
        command.push_str(&format!(" --memory {}", args.memory));
    }
    match args.only {
        Some(BenchPart::Persist) => command.push_str(" --only persist"),
        Some(BenchPart::Unix) => command.push_str(" --only unix"),
        None => {}
    }
    command
}

/// Prints `message` as the tool's error and gives the failure status.
pub fn fail(message: &str) -> ExitCode {
    if message.starts_with("abide:") {
        eprintln!("{message}");
    } else {
        eprintln!("abide: {message}");
    }
    ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    use super::*;
    use abide_abi::host::{qemu_status_for, DEBUG_EXIT_FAILURE, DEBUG_EXIT_SUCCESS};

    #[test]
    fn guest_outcomes_map_to_exit_statuses() {
        assert_eq!(run_exit(Some(0)), (0, None));
        let (code, message) = run_exit(Some(qemu_status_for(DEBUG_EXIT_SUCCESS)));
        assert_eq!(code, 0);
        assert!(message.unwrap().contains("success"));
        assert_eq!(
            run_exit(Some(qemu_status_for(DEBUG_EXIT_FAILURE))),
            (1, Some("abide: the kernel reported a failure".into()))
        );
    }

    #[test]
    fn bench_options_and_the_recorded_command() {
        let mut args = BenchArgs {
            accel: qemu::Accel::Tcg,
            memory: 256,
            quick: false,
            runs: None,
            timeout: 60,
            update_docs: true,
            only: None,
        };
        let options = bench_options(&args);
        assert_eq!((options.runs, options.quick), (5, false));
        assert_eq!(options.timeout, Duration::from_secs(60));
        assert_eq!(bench_command(&args), "cargo run -- bench");
        args.quick = true;
        assert_eq!(bench_options(&args).runs, 1);
        args.runs = Some(3);
        args.accel = qemu::Accel::Kvm;
        args.memory = 512;
        let options = bench_options(&args);
        assert_eq!(
            (options.runs, options.quick, options.memory_mib),
            (3, true, 512)
        );
        assert_eq!(
            bench_command(&args),
            "cargo run -- bench --quick --runs 3 --accel kvm --memory 512"
        );
        args.only = Some(BenchPart::Persist);
        assert_eq!(
            bench_command(&args),
            "cargo run -- bench --quick --runs 3 --accel kvm --memory 512 --only persist"
        );
        args.only = Some(BenchPart::Unix);
        assert!(bench_command(&args).ends_with(" --only unix"));
    }

    #[test]
    fn qemu_errors_keep_their_status_when_it_fits() {
        assert_eq!(
            run_exit(Some(1)),
            (1, Some("abide: QEMU failed (exit status 1)".into()))
        );
        assert_eq!(run_exit(Some(3)).0, 3);
        assert_eq!(run_exit(Some(125)).0, 125);
        assert_eq!(run_exit(Some(126)).0, 1);
        assert_eq!(run_exit(Some(255)).0, 1);
        assert_eq!(run_exit(Some(-1)).0, 1);
        let (code, message) = run_exit(None);
        assert_eq!(code, 1);
        assert!(message.unwrap().contains("killed by a signal"));
    }
}
