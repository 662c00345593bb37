//! The command line of `abide` (and so of `cargo run -- ...`).
//!
//! Kept apart from what the commands do so the parsing can be unit-tested and
//! `--help` stays the one reference for the options.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::qemu::Accel;
use crate::rootfs::AddSpec;

/// Builds the Abide kernel and boots it in QEMU; builds the bootable ISO.
#[derive(Debug, Parser)]
#[command(
    name = "abide",
    version,
    args_conflicts_with_subcommands = true,
    after_help = "With no command, `abide` runs: `cargo run` builds the kernel and boots it \
                  with the serial console on this terminal (Ctrl-A X quits QEMU, Ctrl-A H \
                  shows QEMU's keys). When standard input is not a terminal (a pipe, a file, \
                  closed), its lines go to the console one per prompt (`abide$ `, `abide> `), \
                  and at its end, once the last command has finished, the machine is powered \
                  off cleanly: `printf 'ps\\n' | cargo run` runs `ps` and returns. Outputs go \
                  to target/abide/."
)]
pub struct Cli {
    #[command(subcommand)]
    pub subcommand: Option<Command>,
    /// Options of `run`, the default command.
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Build the kernel and boot it in QEMU (the default command)
    Run(RunArgs),
    /// Build the kernel image only and print its path
    Build(BuildArgs),
    /// Build the kernel and a bootable GRUB ISO (target/abide/abide.iso) and print its path
    Iso(IsoArgs),
    /// Benchmark Abide against a Linux guest in the same QEMU and print the comparison table
    Bench(BenchArgs),
    /// Cut the power (SIGKILL QEMU) N times at random moments on one store
    /// and check after every boot that the system resumed intact
    Crashtest(CrashtestArgs),
    /// Run the hostile program for N calls in several processes at once and
    /// fail on a kernel panic, a hang or leaked memory
    Fuzz(FuzzArgs),
    /// Run busybox's test suite (../shared/conformance) on Abide's Unix
    /// personality, or on the Linux peer, and print "N of 469"; with --diff,
    /// the differential scripts of tests/unix on both
    Conformance(ConformanceArgs),
}

#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct ConformanceArgs {
    /// Run on the Linux peer of `abide bench` instead of Abide (every
    /// baseline case it runs must pass: the check of the harness itself)
    #[arg(long)]
    pub linux: bool,
    /// Run the differential suite (tests/unix/*.sh) on the Linux peer and
    /// on Abide and compare their outputs and exit statuses
    #[arg(long, conflicts_with_all = ["linux", "applets"])]
    pub diff: bool,
    /// How QEMU runs the guest: emulation, or KVM (only on request)
    #[arg(long, value_enum, default_value_t = Accel::Tcg)]
    pub accel: Accel,
    /// Guest memory in MiB
    #[arg(long, value_name = "MiB", default_value_t = 512,
          value_parser = clap::value_parser!(u32).range(64..=1_048_576))]
    pub memory: u32,
    /// Give up on a run after this many seconds (bc's two number-printing
    /// cases alone take the better part of an hour under TCG)
    #[arg(long, value_name = "SECONDS", default_value_t = 10800,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
    /// Only these applets' tests [default: the README's list]
    #[arg(value_name = "APPLET")]
    pub applets: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct FuzzArgs {
    /// System calls in all (split between the processes)
    #[arg(long, value_name = "N", default_value_t = 1_000_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub calls: u64,
    /// Seed of the calls (each process derives its own from it)
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// Hostile processes at once
    #[arg(long, value_name = "P", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub procs: u32,
    /// Attacks besides random calls, comma-separated: flag-df, flag-ac,
    /// flag-nt, edges, self-channel, observers, quota, or `all`
    /// [default: all]
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub attacks: Option<Vec<String>>,
    /// Seconds the run may take before it counts as a hang
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    pub timeout: u64,
    /// Guest memory in MiB
    #[arg(long, value_name = "MiB", default_value_t = 256)]
    pub memory: u32,
    /// Copy the host directory HOSTDIR into the Linux root tree at the
    /// absolute PATH for every boot (repeatable; see `run --add`)
    #[arg(long, value_name = "HOSTDIR:/PATH")]
    pub add: Vec<AddSpec>,
}

#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct CrashtestArgs {
    /// How many power cuts
    #[arg(value_name = "N", default_value_t = 200,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub runs: u32,
    /// Seed for the moments of the cuts (default: from the clock; printed)
    #[arg(long)]
    pub seed: Option<u64>,
    /// The longest wait after the last sync before a cut, in milliseconds
    #[arg(long, value_name = "MS", default_value_t = 1500)]
    pub max_delay: u64,
    /// Also run a busybox shell loop in the Unix personality and check it
    /// survives every cut (same pid, its count never going back)
    #[arg(long)]
    pub unix: bool,
    /// Copy the host directory HOSTDIR into the Linux root tree at the
    /// absolute PATH for every boot (repeatable; see `run --add`)
    #[arg(long, value_name = "HOSTDIR:/PATH")]
    pub add: Vec<AddSpec>,
}

#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct RunArgs {
    /// How QEMU runs the guest: emulation, or KVM (only on request)
    #[arg(long, value_enum, default_value_t = Accel::Tcg)]
    pub accel: Accel,
    /// Start QEMU's GDB stub on :1234 and wait for the debugger (QEMU -s -S)
    #[arg(long)]
    pub gdb: bool,
    /// Guest memory in MiB
    #[arg(long, value_name = "MiB", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(16..=1_048_576))]
    pub memory: u32,
    /// Kernel command line, e.g. "log=debug test=all"
    #[arg(
        long,
        value_name = "CMDLINE",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub append: String,
    /// Open a QEMU window (the default is headless: -display none)
    #[arg(long)]
    pub graphics: bool,
    /// QEMU CPU model [default: max with tcg, host with kvm]
    #[arg(long, value_name = "MODEL")]
    pub cpu: Option<String>,
    /// Boot the GRUB ISO (-cdrom, Multiboot2) instead of the kernel (-kernel, PVH)
    #[arg(long)]
    pub iso: bool,
    /// The store image the system persists to, created on first use
    /// [default: target/abide/store.img]
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,
    /// Size of a store created now, in MiB (16 or more; the file is sparse)
    /// [default: 256]
    #[arg(long, value_name = "MIB", value_parser = parse_store_size)]
    pub store_size: Option<u64>,
    /// Delete the store and create it anew before booting
    #[arg(long)]
    pub fresh: bool,
    /// Boot without a store: the system runs without persistence
    #[arg(long, conflicts_with_all = ["store", "store_size", "fresh"])]
    pub no_store: bool,
    /// Boot the full image, which also carries the test and benchmark
    /// programs (user/tests, user/bench) and their configurations
    /// [default: only when --append names one, e.g. init=hello or config=faults]
    #[arg(long)]
    pub with_tests: bool,
    /// Copy the host directory HOSTDIR into the Linux root tree at the
    /// absolute PATH for this boot (repeatable; the unix component puts it
    /// in its writable RAM file system)
    #[arg(long, value_name = "HOSTDIR:/PATH")]
    pub add: Vec<AddSpec>,
}

/// `--store-size`: a whole number of MiB within the store's limits.
fn parse_store_size(value: &str) -> Result<u64, String> {
    let mib: u64 = value
        .parse()
        .map_err(|_| format!("`{value}` is not a whole number of MiB"))?;
    crate::store::check_size(mib)?;
    Ok(mib)
}

impl RunArgs {
    /// The store to boot with: `None` with `--no-store`, otherwise the
    /// path (given or the default) and the size for creating it.
    pub fn store(&self) -> Option<(PathBuf, u64)> {
        if self.no_store {
            return None;
        }
        Some((
            self.store
                .clone()
                .unwrap_or_else(crate::store::default_path),
            self.store_size.unwrap_or(crate::store::DEFAULT_SIZE_MIB),
        ))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct IsoArgs {
    /// Kernel command line written into the ISO's grub.cfg
    #[arg(
        long,
        value_name = "CMDLINE",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub append: String,
    /// Put the test and benchmark programs (user/tests, user/bench) into the
    /// image too [default: only when --append names one]
    #[arg(long)]
    pub with_tests: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct BuildArgs {
    /// Build the full image (target/abide/abide-full.elf), which also carries
    /// the test and benchmark programs (user/tests, user/bench)
    #[arg(long)]
    pub with_tests: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct BenchArgs {
    /// How QEMU runs the guests: emulation, or KVM (only on request)
    #[arg(long, value_enum, default_value_t = Accel::Tcg)]
    pub accel: Accel,
    /// Guest memory in MiB
    #[arg(long, value_name = "MiB", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(16..=1_048_576))]
    pub memory: u32,
    /// A short run: one run of each system, 200 iterations per benchmark
    #[arg(long)]
    pub quick: bool,
    /// Runs of each system, in alternation [default: 5, 1 with --quick]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
    pub runs: Option<u32>,
    /// Give up on a boot after this many seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 1800,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
    /// Also write the results into docs/perf.md and the chart docs/perf-linux.svg
    #[arg(long)]
    pub update_docs: bool,
    /// Run only this part (`persist`: the persistence figures; `unix`: the
    /// Linux peer's program on both systems, the Linux ABI rows)
    #[arg(long, value_enum, value_name = "PART")]
    pub only: Option<BenchPart>,
}

/// A part of `abide bench` that runs alone with `--only`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchPart {
    /// Checkpoints, restores after a power cut, QEMU's savevm, the overhead
    /// of periodic checkpoints
    Persist,
    /// The Linux peer's benchmark program on Linux and on Abide's Unix
    /// personality: the Linux ABI rows
    Unix,
}

impl Cli {
    /// The command to carry out: `run` when none was named.
    pub fn into_command(self) -> Command {
        self.subcommand.unwrap_or(Command::Run(self.run))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Command {
        Cli::try_parse_from(std::iter::once("abide").chain(args.iter().copied()))
            .unwrap()
            .into_command()
    }

    fn run_defaults() -> RunArgs {
        RunArgs {
            accel: Accel::Tcg,
            gdb: false,
            memory: 256,
            append: String::new(),
            graphics: false,
            cpu: None,
            iso: false,
            store: None,
            store_size: None,
            fresh: false,
            no_store: false,
            with_tests: false,
            add: Vec::new(),
        }
    }

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn run_is_the_default() {
        assert_eq!(parse(&[]), Command::Run(run_defaults()));
        assert_eq!(parse(&["run"]), Command::Run(run_defaults()));
    }

    #[test]
    fn run_options() {
        let expected = RunArgs {
            accel: Accel::Kvm,
            gdb: true,
            memory: 512,
            append: "log=debug test=all".into(),
            graphics: true,
            cpu: Some("Skylake-Client".into()),
            iso: true,
            store: Some(PathBuf::from("/tmp/s.img")),
            store_size: Some(64),
            fresh: true,
            no_store: false,
            with_tests: true,
            add: vec!["./a:/opt/a".parse().unwrap(), "/b:/".parse().unwrap()],
        };
        let args = [
            "--accel",
            "kvm",
            "--gdb",
            "--memory",
            "512",
            "--append",
            "log=debug test=all",
            "--graphics",
            "--cpu",
            "Skylake-Client",
            "--iso",
            "--store",
            "/tmp/s.img",
            "--store-size",
            "64",
            "--fresh",
            "--with-tests",
            "--add",
            "./a:/opt/a",
            "--add=/b:/",
        ];
        assert_eq!(parse(&args), Command::Run(expected.clone()));
        let mut with_run = vec!["run"];
        with_run.extend(args);
        assert_eq!(parse(&with_run), Command::Run(expected));
    }

    #[test]
    fn store_options() {
        let Command::Run(args) = parse(&[]) else {
            panic!("not run")
        };
        assert_eq!(
            args.store(),
            Some((crate::store::default_path(), crate::store::DEFAULT_SIZE_MIB))
        );
        let Command::Run(args) = parse(&["--no-store"]) else {
            panic!("not run")
        };
        assert!(args.no_store);
        assert_eq!(args.store(), None);
        let Command::Run(args) = parse(&["run", "--store", "x.img", "--store-size", "16"]) else {
            panic!("not run")
        };
        assert_eq!(args.store(), Some((PathBuf::from("x.img"), 16)));
    }

    #[test]
    fn crashtest_options() {
        assert_eq!(
            parse(&["crashtest"]),
            Command::Crashtest(CrashtestArgs {
                runs: 200,
                seed: None,
                max_delay: 1500,
                unix: false,
                add: Vec::new(),
            })
        );
        assert_eq!(
            parse(&[
                "crashtest",
                "20",
                "--seed",
                "7",
                "--max-delay",
                "100",
                "--unix",
                "--add",
                "d:/x"
            ]),
            Command::Crashtest(CrashtestArgs {
                runs: 20,
                seed: Some(7),
                max_delay: 100,
                unix: true,
                add: vec!["d:/x".parse().unwrap()],
            })
        );
        assert!(Cli::try_parse_from(["abide", "crashtest", "0"]).is_err());
    }

    #[test]
    fn build_and_iso() {
        assert_eq!(
            parse(&["build"]),
            Command::Build(BuildArgs { with_tests: false })
        );
        assert_eq!(
            parse(&["build", "--with-tests"]),
            Command::Build(BuildArgs { with_tests: true })
        );
        assert_eq!(
            parse(&["iso", "--append", "test=all"]),
            Command::Iso(IsoArgs {
                append: "test=all".into(),
                with_tests: false
            })
        );
        assert_eq!(
            parse(&["iso", "--with-tests"]),
            Command::Iso(IsoArgs {
                append: String::new(),
                with_tests: true
            })
        );
    }

    #[test]
    fn bench_options() {
        assert_eq!(
            parse(&["bench"]),
            Command::Bench(BenchArgs {
                accel: Accel::Tcg,
                memory: 256,
                quick: false,
                runs: None,
                timeout: 1800,
                update_docs: false,
                only: None,
            })
        );
        assert_eq!(
            parse(&[
                "bench",
                "--accel",
                "kvm",
                "--memory",
                "512",
                "--quick",
                "--runs",
                "3",
                "--timeout",
                "60",
                "--update-docs",
                "--only",
                "persist",
            ]),
            Command::Bench(BenchArgs {
                accel: Accel::Kvm,
                memory: 512,
                quick: true,
                runs: Some(3),
                timeout: 60,
                update_docs: true,
                only: Some(BenchPart::Persist),
            })
        );
    }

    #[test]
    fn bad_input_is_rejected() {
        let fails = |args: &[&str]| {
            Cli::try_parse_from(std::iter::once("abide").chain(args.iter().copied())).is_err()
        };
        assert!(fails(&["--accel", "hvf"]));
        assert!(fails(&["--memory", "lots"]));
        assert!(fails(&["--memory", "1"]));
        assert!(fails(&["build", "--gdb"]));
        assert!(fails(&["--gdb", "build"]));
        assert!(fails(&["frobnicate"]));
        assert!(fails(&["bench", "--timeout", "0"]));
        assert!(fails(&["bench", "--runs", "0"]));
        assert!(fails(&["bench", "--smoke"]));
        assert!(fails(&["bench", "--only", "linux"]));
        assert!(matches!(
            parse(&["bench", "--only", "unix"]),
            Command::Bench(BenchArgs {
                only: Some(BenchPart::Unix),
                ..
            })
        ));
        assert!(fails(&["bench", "--gdb"]));
        assert!(fails(&["--store-size", "15"]));
        assert!(fails(&["--store-size", "0"]));
        assert!(fails(&["--store-size", "lots"]));
        assert!(fails(&["--no-store", "--store", "x.img"]));
        assert!(fails(&["--no-store", "--fresh"]));
        assert!(fails(&["--no-store", "--store-size", "64"]));
        assert!(fails(&["build", "--store", "x.img"]));
        assert!(fails(&["--add", "dir"]));
        assert!(fails(&["--add", "dir:opt"]));
        assert!(fails(&["--add", "dir:/a/../b"]));
        assert!(fails(&["build", "--add", "d:/x"]));
    }
}
