//! CPU exceptions: recover where the kernel asked for it, report and stop
//! otherwise.
//!
//! Two kinds of exception are expected: a fault in a probe (see `probe`), and a
//! breakpoint while a caller waits for one (kernel tests and, later, a
//! debugger). Every other exception in the kernel is a kernel bug: it prints
//! the vector, error code, RIP, RSP, CR2, the registers and a backtrace with
//! symbol names, then ends the machine with a failure exit code.
//! (Exceptions in user mode will end the faulting process instead.)

use core::fmt::Write;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use super::context::USER_END;
use super::idt::TrapFrame;
use super::upcalls::{self, emergency_writer};
use super::{backtrace, cpu, power, probe};

/// What the kernel knows about one exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultReport {
    pub vector: u8,
    pub error_code: u64,
    pub rip: u64,
    pub rsp: u64,
    /// The faulting address for page faults (CR2), 0 otherwise.
    pub cr2: u64,
}

/// The report for the exception `frame` describes.
pub fn report_for(frame: &TrapFrame) -> FaultReport {
    FaultReport::from_frame(frame)
}

impl FaultReport {
    /// A write to a present user page that was not writable: maybe one a
    /// checkpoint protected while it writes the page out.
    pub fn is_write_to_protected_user_page(&self) -> bool {
        const PRESENT: u64 = 1;
        const WRITE: u64 = 2;
        self.vector == PAGE_FAULT
            && self.error_code & (PRESENT | WRITE) == PRESENT | WRITE
            && self.cr2 < USER_END
    }

    fn from_frame(frame: &TrapFrame) -> Self {
        let vector = frame.vector as u8;
        FaultReport {
            vector,
            error_code: frame.error_code,
            rip: frame.rip,
            rsp: frame.rsp,
            cr2: if vector == PAGE_FAULT { cpu::cr2() } else { 0 },
        }
    }
}

pub const BREAKPOINT: u8 = 3;
pub const PAGE_FAULT: u8 = 14;

/// Mnemonic and description of an exception vector.
pub fn describe(vector: u8) -> (&'static str, &'static str) {
    match vector {
        0 => ("#DE", "divide error"),
        1 => ("#DB", "debug"),
        2 => ("NMI", "non-maskable interrupt"),
        3 => ("#BP", "breakpoint"),
        4 => ("#OF", "overflow"),
        5 => ("#BR", "bound range exceeded"),
        6 => ("#UD", "invalid opcode"),
        7 => ("#NM", "device not available"),
        8 => ("#DF", "double fault"),
        9 => ("#MF9", "coprocessor segment overrun"),
        10 => ("#TS", "invalid TSS"),
        11 => ("#NP", "segment not present"),
        12 => ("#SS", "stack-segment fault"),
        13 => ("#GP", "general protection fault"),
        14 => ("#PF", "page fault"),
        16 => ("#MF", "x87 floating-point error"),
        17 => ("#AC", "alignment check"),
        18 => ("#MC", "machine check"),
        19 => ("#XM", "SIMD floating-point exception"),
        20 => ("#VE", "virtualization exception"),
        21 => ("#CP", "control protection exception"),
        28 => ("#HV", "hypervisor injection exception"),
        29 => ("#VC", "VMM communication exception"),
        30 => ("#SX", "security exception"),
        _ => ("#??", "reserved exception"),
    }
}

/// Set while a caller waits for a breakpoint; see [`expect_breakpoint`].
static BREAKPOINT_EXPECTED: AtomicBool = AtomicBool::new(false);
static mut LAST_BREAKPOINT: Option<FaultReport> = None;
/// RFLAGS as the breakpoint handler itself ran with (kernel tests check the
/// entry path cleared AC).
static BREAKPOINT_HANDLER_RFLAGS: AtomicU64 = AtomicU64::new(0);
/// Nesting depth of exception handling, to catch a fault inside the handler.
static DEPTH: AtomicU32 = AtomicU32::new(0);

/// Runs `f`, which must execute `int3`, and returns the breakpoint's report.
pub fn expect_breakpoint(f: impl FnOnce()) -> Option<FaultReport> {
    BREAKPOINT_EXPECTED.store(true, Ordering::SeqCst);
    f();
    BREAKPOINT_EXPECTED.store(false, Ordering::SeqCst);
    // SAFETY: written only by the breakpoint handler on this CPU, which ran
    // (if at all) before the store above; interrupts cannot race a breakpoint
    // they did not cause.
    unsafe { core::ptr::addr_of_mut!(LAST_BREAKPOINT).replace(None) }
}

/// The RFLAGS the handler of the last expected breakpoint ran with.
pub fn breakpoint_handler_rflags() -> u64 {
    BREAKPOINT_HANDLER_RFLAGS.load(Ordering::SeqCst)
}

/// Entry from `idt::interrupt_dispatch` for vectors 0..32.
pub(super) fn handle(frame: &mut TrapFrame) {
    let report = FaultReport::from_frame(frame);
    // The kernel copying to user memory hit a page a checkpoint protects:
    // the page is copied aside and the copy is retried.
    if report.is_write_to_protected_user_page()
        && upcalls::get().is_some_and(|up| (up.write_fault)(report.cr2))
    {
        return;
    }
    if let Some(resume) = probe::fixup_for(frame.rip) {
        probe::record_fault(&report);
        frame.rip = resume;
        frame.rdx = 1;
        return;
    }
    if report.vector == BREAKPOINT && BREAKPOINT_EXPECTED.swap(false, Ordering::SeqCst) {
        let rflags = x86_64::registers::rflags::read_raw();
        BREAKPOINT_HANDLER_RFLAGS.store(rflags, Ordering::SeqCst);
        // SAFETY: see `expect_breakpoint`.
        unsafe { *core::ptr::addr_of_mut!(LAST_BREAKPOINT) = Some(report) };
        return;
    }
    fatal(frame, &report);
}

/// Reports an unexpected exception and ends the machine.
fn fatal(frame: &TrapFrame, report: &FaultReport) -> ! {
    let mut out = emergency_writer();
    if DEPTH.fetch_add(1, Ordering::SeqCst) > 0 {
        let _ = writeln!(
            out,
            "\r\n{} (nested, while reporting another): vector {} at rip={:#x}",
            abide_abi::host::EXCEPTION_REPORT_PREFIX,
            report.vector,
            report.rip
        );
        power::exit_failure();
    }
    let (mnemonic, description) = describe(report.vector);
    let _ = writeln!(
        out,
        "\r\n{}: {} {} (vector {}) error={:#x}",
        abide_abi::host::EXCEPTION_REPORT_PREFIX,
        mnemonic,
        description,
        report.vector,
        report.error_code
    );
    let _ = writeln!(
        out,
        "  RIP={:#018x} RSP={:#018x} CR2={:#018x}",
        report.rip, report.rsp, report.cr2
    );
    if report.vector == PAGE_FAULT {
        let _ = writeln!(out, "  page fault: {}", page_fault_cause(report.error_code));
    }
    let _ = writeln!(
        out,
        "  RAX={:#018x} RBX={:#018x} RCX={:#018x} RDX={:#018x}",
        frame.rax, frame.rbx, frame.rcx, frame.rdx
    );
    let _ = writeln!(
        out,
        "  RSI={:#018x} RDI={:#018x} RBP={:#018x} RFLAGS={:#x} CS={:#x}",
        frame.rsi, frame.rdi, frame.rbp, frame.rflags, frame.cs
    );
    backtrace::print(&mut out, frame.rip, frame.rbp);
    power::exit_failure();
}

/// Decodes a page-fault error code into words.
fn page_fault_cause(error: u64) -> &'static str {
    let present = error & 1 != 0;
    let write = error & 2 != 0;
    let user = error & 4 != 0;
    let fetch = error & 16 != 0;
    match (present, write, fetch, user) {
        (_, _, true, false) => "kernel instruction fetch",
        (_, _, true, true) => "user instruction fetch",
        (false, false, _, false) => "kernel read of an unmapped page",
        (false, true, _, false) => "kernel write to an unmapped page",
        (true, false, _, false) => "kernel read denied by page protection",
        (true, true, _, false) => "kernel write to a read-only page",
        (false, _, _, true) => "user access to an unmapped page",
        (true, _, _, true) => "user access denied by page protection",
    }
}
