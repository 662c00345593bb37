//! The Linux guest's benchmark program: `/init` of the initramfs that
//! `cargo run -- bench` boots beside Abide in the same virtual machine
//! (`abide_tool::bench::linux` builds it statically and packs it).
//!
//! As PID 1 it does what Abide's `bench` program does, in the same report
//! format (`abide_benchfmt`): its first line says when it started
//! (`bench: start`, from the TSC read by the ELF entry point, [`entry`]),
//! then it mounts `/proc` and reports the memory in use after boot, the TSC
//! rate, one `bench: result` line per benchmark of
//! `abide_benchfmt::linux::NAMES` ([`suite`]) and `bench: done`, and
//! powers the machine off. The number of iterations is its first argument
//! (the kernel passes what follows `--` on its command line), by default
//! `abide_benchfmt::ITERATIONS`; further arguments name the benchmarks to
//! run, by default all (`abide bench` runs it on Abide too, from the shell,
//! and after a benchmark hung there, runs the rest again by name).
//!
//! Run by hand on a Linux host (not as PID 1) it skips the mount and the
//! power-off; the spawn benchmarks then fail unless `/bin/busybox` exists.

mod entry;
mod suite;
mod sys;

use abide_benchfmt::{linux, Record, ITERATIONS};

fn main() {
    // The entry point's TSC, or ours when another entry point was linked
    // (a plain `cargo build` on the host).
    let entry = entry::tsc().unwrap_or_else(sys::tsc);
    let now = sys::tsc();
    println!("{}", Record::Start { entry, now });
    let is_init = std::process::id() == 1;
    let mut failed = false;
    if is_init {
        if let Err(reason) = sys::mount_proc() {
            suite::print_failed("mount-proc", &reason);
            failed = true;
        }
    }
    match std::fs::read_to_string("/proc/meminfo")
        .map_err(|e| format!("read-meminfo:{}", e.raw_os_error().unwrap_or(0)))
        .and_then(|text| parse_meminfo(&text).ok_or_else(|| "parse-meminfo".to_string()))
    {
        Ok(memory) => {
            for (name, value) in [
                (linux::MEMORY_TOTAL_KIB, memory.total_kib),
                (linux::MEMORY_FREE_KIB, memory.free_kib),
                (linux::MEMORY_AVAILABLE_KIB, memory.available_kib),
            ] {
                println!("{}", Record::Value { name, value });
            }
        }
        Err(reason) => {
            suite::print_failed("memory", &reason);
            failed = true;
        }
    }
    let iterations = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(ITERATIONS);
    let only: Vec<String> = std::env::args().skip(2).collect();
    failed |= !suite::run(iterations, &only);
    if is_init {
        // PID 1 must not exit (the kernel would panic); power off instead.
        sys::power_off();
    }
    std::process::exit(i32::from(failed));
}

/// The lines of `/proc/meminfo` the report needs, in KiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Meminfo {
    total_kib: u64,
    free_kib: u64,
    available_kib: u64,
}

/// Reads `MemTotal`, `MemFree` and `MemAvailable` (`Key:   1234 kB` lines).
fn parse_meminfo(text: &str) -> Option<Meminfo> {
    let field = |key: &str| {
        text.lines().find_map(|line| {
            let rest = line.strip_prefix(key)?.strip_prefix(':')?;
            rest.trim().strip_suffix("kB")?.trim().parse().ok()
        })
    };
    Some(Meminfo {
        total_kib: field("MemTotal")?,
        free_kib: field("MemFree")?,
        available_kib: field("MemAvailable")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_fields_are_read() {
        let text = "MemTotal:         233012 kB\nMemFree:          212344 kB\n\
                    MemAvailable:     208800 kB\nBuffers:               0 kB\n";
        assert_eq!(
            parse_meminfo(text),
            Some(Meminfo {
                total_kib: 233_012,
                free_kib: 212_344,
                available_kib: 208_800
            })
        );
        assert_eq!(parse_meminfo("MemTotal: 1 kB\nMemFree: 1 kB\n"), None);
        // A key that only starts like another does not count.
        let text = "MemTotalX: 5 kB\nMemTotal: 1 kB\nMemFree: 2 kB\nMemAvailable: 3 kB\n";
        assert_eq!(parse_meminfo(text).map(|m| m.total_kib), Some(1));
    }
}
