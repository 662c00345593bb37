//! Kernel tests of the CPU side: exceptions and their reports, timer
//! interrupts and time, SSE state across interrupts, the symbol table, and the
//! deliberate crashes the system tests use to check crash reports.

use core::sync::atomic::Ordering;

use super::{KernelTest, TestResult};
use crate::arch::exceptions::{self, BREAKPOINT, PAGE_FAULT};
use crate::arch::{cpu, probe};
use crate::{ensure, ksyms, machine, println, time};

pub const TESTS: &[KernelTest] = &[
    KernelTest {
        name: "exceptions::breakpoint",
        run: breakpoint,
        explicit: false,
    },
    KernelTest {
        name: "exceptions::page_fault_report",
        run: page_fault_report,
        explicit: false,
    },
    KernelTest {
        name: "exceptions::general_protection",
        run: general_protection,
        explicit: false,
    },
    KernelTest {
        name: "protection::nx_smep_smap_enabled",
        run: nx_smep_smap_enabled,
        explicit: false,
    },
    KernelTest {
        name: "protection::interrupt_entry_clears_ac",
        run: interrupt_entry_clears_ac,
        explicit: false,
    },
    KernelTest {
        name: "protection::smap_stops_kernel_reads_of_user_pages",
        run: smap_stops_kernel_reads_of_user_pages,
        explicit: false,
    },
    KernelTest {
        name: "protection::restored_registers_stay_in_user_mode",
        run: restored_registers_stay_in_user_mode,
        explicit: false,
    },
    KernelTest {
        name: "protection::stack_guard_pages_unmapped",
        run: stack_guard_pages_unmapped,
        explicit: false,
    },
    KernelTest {
        name: "timer::ticks_advance",
        run: ticks_advance,
        explicit: false,
    },
    KernelTest {
        name: "time::monotonic",
        run: monotonic,
        explicit: false,
    },
    KernelTest {
        name: "fpu::sse_survives_interrupts",
        run: sse_survives_interrupts,
        explicit: false,
    },
    KernelTest {
        name: "ksyms::names_kernel_functions",
        run: names_kernel_functions,
        explicit: false,
    },
    KernelTest {
        name: "selftest::must_fail",
        run: must_fail,
        explicit: true,
    },
    KernelTest {
        name: "crash::page_fault",
        run: crash_page_fault,
        explicit: true,
    },
    KernelTest {
        name: "crash::syscall_stack_overflow",
        run: crash_syscall_stack_overflow,
        explicit: true,
    },
    KernelTest {
        name: "crash::panic",
        run: crash_panic,
        explicit: true,
    },
];

fn breakpoint() -> TestResult {
    let report = exceptions::expect_breakpoint(|| {
        // SAFETY: int3 traps to the handler, which returns right after it.
        unsafe { core::arch::asm!("int3") };
    })
    .ok_or("int3 was not reported")?;
    ensure!(
        report.vector == BREAKPOINT,
        "reported vector {}",
        report.vector
    );
    let here = breakpoint as *const () as u64;
    ensure!(
        report.rip > here && report.rip < here + 4096,
        "rip {:#x} is not in the test",
        report.rip
    );
    Ok(())
}

fn page_fault_report() -> TestResult {
    let addr = 0xffff_c8ff_dead_b000u64;
    let fault = probe::read_u64(addr)
        .err()
        .ok_or("reading an unmapped address did not fault")?;
    ensure!(fault.vector == PAGE_FAULT, "vector {}", fault.vector);
    ensure!(
        fault.cr2 == addr,
        "cr2 {:#x}, expected {addr:#x}",
        fault.cr2
    );
    ensure!(
        fault.error_code & 0b111 == 0,
        "error code {:#x}: expected a supervisor read of a non-present page",
        fault.error_code
    );
    ensure!(fault.rip != 0, "no rip");
    Ok(())
}

fn general_protection() -> TestResult {
    let fault = probe::read_u64(0x8000_0000_0000_0000)
        .err()
        .ok_or("a non-canonical read did not fault")?;
    ensure!(
        fault.vector == 13,
        "vector {}, expected #GP (13)",
        fault.vector
    );
    Ok(())
}

/// The page tables set NO_EXECUTE everywhere, so EFER.NXE must be on (or
/// every mapping would fault as reserved); SMEP and SMAP are on whenever the
/// CPU has them (QEMU's `-cpu max` under TCG does).
fn nx_smep_smap_enabled() -> TestResult {
    use x86_64::registers::control::{Cr4, Cr4Flags};
    use x86_64::registers::model_specific::{Efer, EferFlags};
    let features = cpu::features();
    ensure!(
        Efer::read().contains(EferFlags::NO_EXECUTE_ENABLE),
        "EFER.NXE is off, yet the page tables use the no-execute bit"
    );
    let cr4 = Cr4::read();
    ensure!(
        cr4.contains(Cr4Flags::SUPERVISOR_MODE_EXECUTION_PROTECTION) == features.smep,
        "CR4.SMEP does not match the CPU's SMEP support ({})",
        features.smep
    );
    ensure!(
        cr4.contains(Cr4Flags::SUPERVISOR_MODE_ACCESS_PREVENTION) == features.smap,
        "CR4.SMAP does not match the CPU's SMAP support ({})",
        features.smap
    );
    ensure!(
        cpu::smap_enabled() == features.smap,
        "the user-copy routines disagree about SMAP"
    );
    Ok(())
}

const RFLAGS_AC: u64 = 1 << 18;

/// An exception taken while AC is set (as a user program may leave it) must
/// not run its handler with AC set: with SMAP, AC lets supervisor code touch
/// user pages, so the entry path clears it (`clac`). Without SMAP, AC means
/// nothing in the kernel and there is nothing to check.
fn interrupt_entry_clears_ac() -> TestResult {
    if !cpu::smap_enabled() {
        return Ok(());
    }
    let report = exceptions::expect_breakpoint(|| {
        // SAFETY: sets AC, traps to the breakpoint handler (which returns
        // right after the int3, with the interrupted RFLAGS and so AC
        // restored), and clears AC again.
        unsafe { core::arch::asm!("stac", "int3", "clac") };
    })
    .ok_or("int3 was not reported")?;
    ensure!(
        report.vector == BREAKPOINT,
        "reported vector {}",
        report.vector
    );
    let rflags = exceptions::breakpoint_handler_rflags();
    ensure!(
        rflags & RFLAGS_AC == 0,
        "the handler ran with AC set (RFLAGS {rflags:#x}): SMAP was off for it"
    );
    ensure!(
        x86_64::registers::rflags::read_raw() & RFLAGS_AC == 0,
        "AC is still set after the test"
    );
    Ok(())
}

/// With SMAP, a kernel read of a user page faults unless it goes through the
/// user-copy routines (which open access with `stac`).
fn smap_stops_kernel_reads_of_user_pages() -> TestResult {
    if !cpu::smap_enabled() {
        return Ok(());
    }
    use crate::mm::{AddressSpace, PageFlags, USER_START};
    let mut space = AddressSpace::new().map_err(|e| alloc::format!("address space: {e}"))?;
    space
        .map_zeroed(USER_START, 1, PageFlags::WRITABLE | PageFlags::NO_EXECUTE)
        .map_err(|e| alloc::format!("map: {e}"))?;
    space
        .write(USER_START, &0x5eed_u64.to_le_bytes())
        .map_err(|e| alloc::format!("write: {e}"))?;
    space.activate();
    let plain = probe::read_u64(USER_START);
    let mut copied = [0u8; 8];
    let through_copy = probe::copy_from_user(&mut copied, USER_START);
    drop(space); // back on the kernel's own tables
    let fault = plain
        .err()
        .ok_or("a plain kernel read of a user page did not fault under SMAP")?;
    ensure!(
        fault.vector == PAGE_FAULT && fault.error_code & 1 == 1,
        "expected a protection page fault, got vector {} error {:#x}",
        fault.vector,
        fault.error_code
    );
    ensure!(
        through_copy.is_ok() && u64::from_le_bytes(copied) == 0x5eed,
        "copy_from_user failed under SMAP: {through_copy:?}"
    );
    Ok(())
}

/// Registers read back from a store image cannot give a thread IOPL, VM,
/// NT, RF or IF off, nor a RIP/RSP on the never-mapped top user page (where
/// `iretq` would fault in ring 0) or beyond.
fn restored_registers_stay_in_user_mode() -> TestResult {
    use crate::arch::context::{UserContext, SAVED_REGISTERS, USER_FLAGS};
    use crate::mm::USER_END;
    const RIP: usize = 15;
    const RFLAGS: usize = 16;
    const RSP: usize = 17;
    let fpu = [0u8; 512];
    let mut words = [0u64; SAVED_REGISTERS];
    words[RIP] = 0x40_0000;
    words[RSP] = 0x7fff_fffe_f000;
    let hostile = 0x3000 | (1 << 14) | (1 << 16) | (1 << 17) | (1 << 19) | (1 << 20);
    words[RFLAGS] = hostile | 0x1; // IOPL 3, NT, RF, VM, VIF, VIP; IF off; CF
    let context = UserContext::from_saved(&words, &fpu).ok_or("a valid context was refused")?;
    let rflags = context.regs.rflags;
    ensure!(
        rflags & hostile == 0,
        "restored RFLAGS {rflags:#x} keep IOPL, NT, RF, VM, VIF or VIP"
    );
    ensure!(
        rflags & (1 << 9) != 0 && rflags & 1 != 0,
        "restored RFLAGS {rflags:#x}: IF must be on and CF kept"
    );
    ensure!(rflags & !USER_FLAGS == 0x202, "RFLAGS {rflags:#x}");
    ensure!(
        context.regs.cs & 3 == 3,
        "not ring 3: cs {:#x}",
        context.regs.cs
    );
    for (register, value) in [(RIP, USER_END), (RIP, USER_END + 0xffe), (RSP, USER_END)] {
        let mut bad = words;
        bad[register] = value;
        ensure!(
            UserContext::from_saved(&bad, &fpu).is_none(),
            "a saved register {value:#x} at or past USER_END was accepted"
        );
    }
    Ok(())
}

/// The page below the syscall stack and below each interrupt stack is
/// unmapped, so an overflow faults at once instead of overwriting what lies
/// below.
fn stack_guard_pages_unmapped() -> TestResult {
    let syscall = crate::arch::context::syscall_stack_bottom();
    let ist = crate::arch::gdt::ist_stack_bottoms();
    for (name, bottom) in core::iter::once(("syscall", syscall))
        .chain(ist.iter().map(|&bottom| ("interrupt", bottom)))
    {
        ensure!(
            crate::mm::translate(bottom).is_some(),
            "the {name} stack at {bottom:#x} is not mapped"
        );
        let guard = bottom - 4096;
        ensure!(
            crate::mm::translate(guard).is_none(),
            "the page below the {name} stack ({guard:#x}) is mapped: no guard"
        );
        // What an overflow would do: write just below the stack.
        // SAFETY: the write faults (the page is unmapped, checked above) and
        // the probe reports it; nothing is written.
        let fault = unsafe { probe::write_u64(bottom - 8, 0) }
            .err()
            .ok_or("a write below the stack did not fault")?;
        ensure!(
            fault.vector == PAGE_FAULT && fault.cr2 == bottom - 8,
            "a write below the {name} stack gave vector {} at {:#x}",
            fault.vector,
            fault.cr2
        );
    }
    Ok(())
}

/// Waits until `done` holds, for at most `max_ns` of TSC time.
fn wait_until(max_ns: u64, done: impl Fn() -> bool) -> bool {
    let start = time::now_ns();
    while !done() {
        if time::now_ns() - start > max_ns {
            return false;
        }
        core::hint::spin_loop();
    }
    true
}

fn ticks_advance() -> TestResult {
    ensure!(cpu::interrupts_enabled(), "interrupts are disabled");
    let start_ticks = time::ticks();
    let start_ns = time::now_ns();
    ensure!(
        wait_until(5_000_000_000, || time::ticks() >= start_ticks + 10),
        "timer ticks did not advance in 5 s"
    );
    let elapsed_ms = (time::now_ns() - start_ns) / 1_000_000;
    // 10 ticks at 100 Hz are 100 ms; allow for emulation jitter.
    ensure!(
        (30..=1000).contains(&elapsed_ms),
        "10 ticks took {elapsed_ms} ms of TSC time"
    );
    Ok(())
}

fn monotonic() -> TestResult {
    ensure!(time::tsc_hz() > 0, "TSC not calibrated");
    let mut last = time::now_ns();
    for _ in 0..10_000 {
        let now = time::now_ns();
        ensure!(now >= last, "time went backwards: {now} < {last}");
        last = now;
    }
    Ok(())
}

fn sse_survives_interrupts() -> TestResult {
    let pattern: [u64; 32] =
        core::array::from_fn(|i| 0x0101_0101_0101_0101u64.wrapping_mul(i as u64 + 1));
    let mut saved = [0u64; 32];
    let target_ticks = time::ticks() + 5;
    machine::CLOBBER_SSE_IN_TIMER.store(true, Ordering::SeqCst);
    // SAFETY: loads all 16 XMM registers from `pattern`, spins (interrupts
    // enabled) until the timer fired five times, and stores them to `saved`;
    // both buffers are 256 bytes, and the clobbers are declared.
    unsafe {
        core::arch::asm!(
            "movdqu xmm0, [{p}]", "movdqu xmm1, [{p} + 16]", "movdqu xmm2, [{p} + 32]", "movdqu xmm3, [{p} + 48]",
            "movdqu xmm4, [{p} + 64]", "movdqu xmm5, [{p} + 80]", "movdqu xmm6, [{p} + 96]", "movdqu xmm7, [{p} + 112]",
            "movdqu xmm8, [{p} + 128]", "movdqu xmm9, [{p} + 144]", "movdqu xmm10, [{p} + 160]", "movdqu xmm11, [{p} + 176]",
            "movdqu xmm12, [{p} + 192]", "movdqu xmm13, [{p} + 208]", "movdqu xmm14, [{p} + 224]", "movdqu xmm15, [{p} + 240]",
            "2:",
            "pause",
            "cmp [{ticks}], {target}",
            "jb 2b",
            "movdqu [{s}], xmm0", "movdqu [{s} + 16], xmm1", "movdqu [{s} + 32], xmm2", "movdqu [{s} + 48], xmm3",
            "movdqu [{s} + 64], xmm4", "movdqu [{s} + 80], xmm5", "movdqu [{s} + 96], xmm6", "movdqu [{s} + 112], xmm7",
            "movdqu [{s} + 128], xmm8", "movdqu [{s} + 144], xmm9", "movdqu [{s} + 160], xmm10", "movdqu [{s} + 176], xmm11",
            "movdqu [{s} + 192], xmm12", "movdqu [{s} + 208], xmm13", "movdqu [{s} + 224], xmm14", "movdqu [{s} + 240], xmm15",
            p = in(reg) pattern.as_ptr(),
            s = in(reg) saved.as_mut_ptr(),
            ticks = in(reg) time::ticks_counter(),
            target = in(reg) target_ticks,
            out("xmm0") _, out("xmm1") _, out("xmm2") _, out("xmm3") _, out("xmm4") _, out("xmm5") _,
            out("xmm6") _, out("xmm7") _, out("xmm8") _, out("xmm9") _, out("xmm10") _, out("xmm11") _,
            out("xmm12") _, out("xmm13") _, out("xmm14") _, out("xmm15") _,
        );
    }
    machine::CLOBBER_SSE_IN_TIMER.store(false, Ordering::SeqCst);
    ensure!(
        saved == pattern,
        "SSE registers changed across timer interrupts: {saved:x?}"
    );
    Ok(())
}

fn names_kernel_functions() -> TestResult {
    ensure!(
        ksyms::count() > 0,
        "no symbol table is embedded in the image"
    );
    let here = names_kernel_functions as *const () as u64;
    let (name, offset) = ksyms::lookup(here + 4).ok_or("no symbol for this function")?;
    ensure!(
        name.ends_with("names_kernel_functions") && offset == 4,
        "looked up as {name}+{offset:#x}"
    );
    Ok(())
}

fn must_fail() -> TestResult {
    Err("this test fails on purpose (it checks that failures reach cargo test)".into())
}

/// Touches an unmapped address without a probe: the kernel must report the
/// exception with a backtrace naming this function and exit with failure.
#[inline(never)]
fn crash_page_fault() -> TestResult {
    let addr = 0xffff_c8ff_0bad_f000u64 as *const u64;
    // SAFETY: deliberately unsound: this read faults, and the fault ends the kernel.
    let value = unsafe { core::ptr::read_volatile(addr) };
    Err(alloc::format!(
        "read {value:#x} from an unmapped address without faulting"
    ))
}

/// Runs off the bottom of the syscall stack: the push into its guard page
/// must page-fault at once (reported from the exception stack) rather than
/// overwrite what lies below.
#[inline(never)]
fn crash_syscall_stack_overflow() -> TestResult {
    let bottom = crate::arch::context::syscall_stack_bottom();
    println!("crash: overflowing the syscall stack, bottom {bottom:#x}");
    // SAFETY: deliberately unsound: moves to the bottom of the syscall stack
    // (unused while kernel tests run) and pushes until the guard page stops
    // it; the page fault ends the kernel.
    unsafe {
        core::arch::asm!(
            "mov rsp, {start}",
            "2:",
            "push 0",
            "jmp 2b",
            start = in(reg) bottom + 64,
            options(noreturn)
        )
    }
}

#[inline(never)]
fn crash_panic() -> TestResult {
    panic!("deliberate panic from the crash::panic kernel test");
}
