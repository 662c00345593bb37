//! The Abide kernel.
//!
//! Boot order (see docs/boot.md): the assembly stub in `arch::x86_64::boot`
//! enters long mode and calls [`kernel_entry`], which brings the machine up one
//! layer at a time — console and exceptions first, so everything after can
//! report failures — and then either runs the kernel tests the command line
//! asks for or starts the system.
#![no_std]
#![no_main]
// Kernel discipline, enforced: nothing a user can influence may panic, and
// every unsafe block says why it is sound. A reasoned `allow` marks the few
// places where this cannot hold (kernel tests, the panic path itself).
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::undocumented_unsafe_blocks
)]

extern crate alloc;
// memcpy & co: the compiler calls them, no C library provides them.
use abide_intrinsics as _;

#[path = "arch/x86_64/mod.rs"]
pub mod arch;
mod boot_data;
mod bundle;
mod console;
mod disk;
mod ids;
mod ksyms;
mod ktest;
mod logger;
mod machine;
mod mm;
mod monitor;
mod object;
mod panic;
mod persist;
mod process;
mod sched;
mod serial;
mod sync;
mod syscall;
mod tick;
mod time;
mod trap;

use abide_boot::cmdline::{LogLevel, TestSelection};
use abide_boot::BootInfo;

use arch::cpu;
/// Reports a boot failure and ends the machine (kept at `crate::fail`
/// for the many places boot can fail).
pub use panic::fail;

/// First Rust code: called by the boot stub on the boot stack, interrupts off.
#[no_mangle]
extern "C" fn kernel_entry(boot_magic: u32, boot_info_phys: u32, entry_tsc: u64) -> ! {
    time::set_boot_tsc(entry_tsc);
    serial::init();
    trap::init();
    arch::gdt::init();
    arch::idt::init();
    arch::context::init_syscalls();

    let info = match machine::read_boot_info(boot_magic, boot_info_phys as u64) {
        Ok(info) => boot_data::keep(info),
        Err(error) => fail(format_args!("cannot read the boot information: {error:?}")),
    };
    let level = info
        .cmdline
        .get(abide_abi::host::cmdline::LOG)
        .map_or(LogLevel::Info, |value| {
            LogLevel::parse(value).unwrap_or(LogLevel::Info)
        });
    logger::init(level);
    log::debug!(
        "boot: {} command line {:?}",
        info.protocol.name(),
        info.cmdline.as_str()
    );

    let platform = match machine::read_acpi(info) {
        Ok(platform) => platform,
        Err(error) => fail(format_args!("cannot read the ACPI tables: {error}")),
    };
    if let Err(error) = mm::init(&info.memory, &info.cmdline) {
        fail(format_args!("cannot set up memory: {error}"));
    }
    // The checkpoint engine copies aside pages of an ending process it is
    // still writing out.
    mm::on_space_ending(persist::space_ending);
    let features = cpu::enable_protections();
    log::debug!("cpu: {features:?}");
    if let Err(error) = machine::start_interrupts(&platform) {
        fail(format_args!("cannot start interrupts: {error}"));
    }

    let ready_ns = time::now_ns();
    let (frames, _) = mm::stats();
    println!(
        "{}{} (x86_64, {}) ready: {}{}.{:02} ms (TSC entry to ready), {} MiB usable, {} symbols",
        abide_abi::host::BANNER_PREFIX,
        abide_abi::VERSION,
        info.protocol.name(),
        abide_abi::host::BANNER_BOOT_TIME,
        ready_ns / 1_000_000,
        (ready_ns % 1_000_000) / 10_000,
        frames.total_bytes >> 20,
        ksyms::count()
    );
    if let Some(value) = info.cmdline.get(abide_abi::host::cmdline::TEST) {
        ktest::run(TestSelection::parse(value));
    }
    warn_unknown_options(info);
    if let Some(programs) = info.cmdline.get(abide_abi::host::cmdline::INIT) {
        start_programs(programs, process::Limits::ROOT);
    }
    let wants_monitor = info.cmdline.has(abide_abi::host::cmdline::MONITOR);
    if !wants_monitor && matches!(object::with_kernel(persist::start), persist::Start::Resumed) {
        sched::start(object::with_kernel(sched::first));
    }
    if !wants_monitor
        && bundle::programs()
            .get(abide_abi::host::INIT_PROGRAM)
            .is_some()
    {
        start_programs(abide_abi::host::INIT_PROGRAM, process::Limits::INIT);
    }
    monitor::run()
}

/// Starts the named bundle programs with `limits` and hands the CPU to
/// them for good.
fn start_programs(names: &str, limits: process::Limits) -> ! {
    let bundle = bundle::programs();
    object::with_kernel(|kernel| {
        for name in names.split(',').filter(|name| !name.is_empty()) {
            let Some(image) = bundle.get(name) else {
                fail(format_args!(
                    "no program {name:?} in the bundle (it has {})",
                    bundle.len()
                ));
            };
            let startup = process::Startup::HardwareResource;
            match object::process::spawn(kernel, name, image, limits, startup) {
                Ok(id) => log::info!("started process {id} ({name})"),
                Err((error, _)) => fail(format_args!("cannot start {name}: {error}")),
            }
        }
    });
    sched::start(object::with_kernel(sched::first))
}

/// Names command-line options the kernel does not know, so typos are seen.
fn warn_unknown_options(info: &BootInfo) {
    use abide_abi::host::cmdline::{ARCHIVE, BENCH_PERSIST, CONFIG, INIT, LOG, MONITOR, TEST};
    for (key, _) in info.cmdline.options() {
        // Options for programs: the persistence benchmark's mode.
        let for_programs = [BENCH_PERSIST];
        if ![LOG, TEST, INIT, MONITOR, CONFIG, ARCHIVE].contains(&key)
            && !for_programs.contains(&key)
        {
            log::warn!("unknown kernel command-line option {key:?} ignored");
        }
    }
}

/// The precompiled `core` refers to these unwinding symbols even with
/// `panic = "abort"`; they are never called.
#[no_mangle]
extern "C" fn rust_eh_personality() {}

/// See [`rust_eh_personality`].
#[no_mangle]
extern "C" fn _Unwind_Resume() -> ! {
    cpu::halt_forever()
}
