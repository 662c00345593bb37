//! `abide conformance [--linux] [--diff] [APPLET...]`: runs a suite,
//! prints its report on stdout (progress on stderr) and exits 0 when it
//! ran to its end — the figure itself is judged by the system tests
//! against docs/unix.md, not here — and 1 when it could not run or, with
//! `--diff`, when a script differs between the systems.

use std::process::ExitCode;
use std::time::Duration;

use super::run::Machine;
use super::{diff, report, run_suite, SuiteOptions, System};
use crate::cli::ConformanceArgs;
use crate::commands::{fail, EXIT_MISSING_TOOL};
use crate::prereqs;

pub fn main(args: &ConformanceArgs) -> ExitCode {
    if let Err(message) = prereqs::check(prereqs::RUN_TOOLS) {
        eprintln!("{message}");
        return ExitCode::from(EXIT_MISSING_TOOL);
    }
    let machine = Machine {
        accel: args.accel,
        memory_mib: args.memory,
    };
    let timeout = Duration::from_secs(args.timeout);
    if args.diff {
        return differential(machine, timeout);
    }
    let system = if args.linux {
        System::Linux
    } else {
        System::Abide
    };
    let options = SuiteOptions {
        system,
        applets: args.applets.clone(),
        machine,
        timeout,
    };
    eprintln!(
        "abide: busybox's test suite on {} in QEMU ({}, {} MiB)",
        system.name(),
        machine.accel.name(),
        machine.memory_mib
    );
    let run = match run_suite(&options, &mut |line| eprintln!("  {line}")) {
        Ok(run) => run,
        Err(e) => return fail(&e),
    };
    print!(
        "{}",
        report::render(system.name(), &run.comparison, &run.results, run.partial)
    );
    println!(
        "{}: {} in {:.0} s",
        run.guest.system,
        run.comparison.figure(),
        run.guest.elapsed.as_secs_f64()
    );
    if run.partial {
        println!("(only the applets named ran: the other cases count as not passed)");
    }
    ExitCode::SUCCESS
}

/// `--diff`: both systems, then the comparison.
fn differential(machine: Machine, timeout: Duration) -> ExitCode {
    let names = match diff::script_names() {
        Ok(names) => names,
        Err(e) => return fail(&e),
    };
    let mut outcomes = Vec::new();
    for system in [System::Linux, System::Abide] {
        eprintln!("abide: the differential scripts on {}", system.name());
        let found = diff::run_scripts(system, machine, timeout, &mut |line| eprintln!("  {line}"));
        match found {
            Ok((guest, found)) => {
                eprintln!(
                    "abide: {} ran {} scripts in {:.0} s",
                    guest.system,
                    found.len(),
                    guest.elapsed.as_secs_f64()
                );
                outcomes.push(found);
            }
            Err(e) => {
                eprintln!("abide: {}: {e}", system.name());
                outcomes.push(Default::default());
            }
        }
    }
    let verdicts = diff::compare(&names, &outcomes[0], &outcomes[1]);
    let same = verdicts.iter().filter(|v| v.same()).count();
    for verdict in &verdicts {
        if verdict.same() {
            println!("SAME: {}", verdict.name);
        } else {
            println!("DIFFERS: {}: {}", verdict.name, verdict.explain());
        }
    }
    println!("{same} of {} scripts behave the same", verdicts.len());
    if same == verdicts.len() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
