//! CPU features, control registers and the few privileged instructions the
//! rest of the kernel needs, behind safe functions.

use core::arch::asm;
use core::arch::x86_64::{__cpuid, __cpuid_count, _rdtsc};
use core::sync::atomic::{AtomicBool, Ordering};
use x86_64::registers::control::{Cr4, Cr4Flags};

/// Optional CPU features the kernel uses when present.
#[derive(Debug, Clone, Copy, Default)]
pub struct Features {
    pub smep: bool,
    pub smap: bool,
    pub nx: bool,
    pub invariant_tsc: bool,
}

/// Reads the feature bits the kernel cares about.
pub fn features() -> Features {
    // CPUID is available on every x86_64 CPU.
    let (leaf7, ext1, ext7) = {
        let max = __cpuid(0).eax;
        let max_ext = __cpuid(0x8000_0000).eax;
        let leaf7 = if max >= 7 { __cpuid_count(7, 0).ebx } else { 0 };
        let ext1 = if max_ext >= 0x8000_0001 {
            __cpuid(0x8000_0001).edx
        } else {
            0
        };
        let ext7 = if max_ext >= 0x8000_0007 {
            __cpuid(0x8000_0007).edx
        } else {
            0
        };
        (leaf7, ext1, ext7)
    };
    Features {
        smep: leaf7 & (1 << 7) != 0,
        smap: leaf7 & (1 << 20) != 0,
        nx: ext1 & (1 << 20) != 0,
        invariant_tsc: ext7 & (1 << 8) != 0,
    }
}

/// Turns on supervisor-mode execution and access prevention where the CPU has
/// them: the kernel then faults instead of running or touching user pages by
/// accident. Returns the features found.
pub fn enable_protections() -> Features {
    let features = features();
    let mut flags = Cr4Flags::empty();
    if features.smep {
        flags |= Cr4Flags::SUPERVISOR_MODE_EXECUTION_PROTECTION;
    }
    if features.smap {
        flags |= Cr4Flags::SUPERVISOR_MODE_ACCESS_PREVENTION;
    }
    // SAFETY: both bits only restrict what supervisor code may do with user
    // pages; the kernel touches user pages only through `probe`'s copies,
    // which open access with `stac` when SMAP is on.
    unsafe { Cr4::update(|cr4| *cr4 |= flags) };
    ABIDE_SMAP_ENABLED.store(features.smap, Ordering::Relaxed);
    if !features.smep {
        log::warn!("cpu: no SMEP: the kernel could be made to run code in user pages");
    }
    if !features.smap {
        log::warn!(
            "cpu: no SMAP: the kernel could be made to touch user pages outside its copy routines"
        );
    }
    features
}

/// True once SMAP is on. Read by the interrupt entry path (`idt`), which
/// executes `clac` only then (it is an invalid opcode without SMAP), and by
/// the user-copy routines, which open access with `stac`.
#[no_mangle]
static ABIDE_SMAP_ENABLED: AtomicBool = AtomicBool::new(false);

/// True once SMAP is on (user copies must then open access explicitly).
pub fn smap_enabled() -> bool {
    ABIDE_SMAP_ENABLED.load(Ordering::Relaxed)
}

/// Current value of the time-stamp counter.
#[inline]
pub fn rdtsc() -> u64 {
    // SAFETY: RDTSC has no side effects; CR4.TSD is never set.
    unsafe { _rdtsc() }
}

/// The time-stamp counter, ordered after all earlier instructions (for
/// measurements).
#[inline]
pub fn rdtsc_serialized() -> u64 {
    // SAFETY: LFENCE only orders instruction execution.
    unsafe { asm!("lfence", options(nomem, nostack, preserves_flags)) };
    rdtsc()
}

/// Waits for the next interrupt with interrupts enabled, then disables them
/// again. `sti; hlt` is atomic (STI's interrupt shadow), so an interrupt that
/// became pending just before cannot be missed.
#[inline]
pub fn wait_for_interrupt() {
    // SAFETY: enabling interrupts here is what the caller asks for; every
    // interrupt runs on an IST stack so it cannot clobber this stack.
    unsafe { asm!("sti; hlt; cli", options(nomem, nostack)) };
}

/// Stops this CPU for good.
pub fn halt_forever() -> ! {
    loop {
        // SAFETY: with interrupts off, HLT only resumes on NMI; we loop.
        unsafe { asm!("cli; hlt", options(nomem, nostack)) };
    }
}

/// Reads CR2, the address of the last page fault.
pub fn cr2() -> u64 {
    x86_64::registers::control::Cr2::read_raw()
}

/// Reads a byte from an I/O port.
pub fn inb(port: u16) -> u8 {
    // SAFETY: port reads in the kernel are confined to devices it drives.
    unsafe { x86_64::instructions::port::PortReadOnly::<u8>::new(port).read() }
}

/// Writes a byte to an I/O port.
pub fn outb(port: u16, value: u8) {
    // SAFETY: port writes in the kernel are confined to devices it drives.
    unsafe { x86_64::instructions::port::PortWriteOnly::<u8>::new(port).write(value) }
}

/// Writes a 16-bit value to an I/O port.
pub fn outw(port: u16, value: u16) {
    // SAFETY: as for `outb`.
    unsafe { x86_64::instructions::port::PortWriteOnly::<u16>::new(port).write(value) }
}

/// Writes a 32-bit value to an I/O port.
pub fn outl(port: u16, value: u32) {
    // SAFETY: as for `outb`.
    unsafe { x86_64::instructions::port::PortWriteOnly::<u32>::new(port).write(value) }
}

/// True while maskable interrupts are enabled.
pub fn interrupts_enabled() -> bool {
    x86_64::instructions::interrupts::are_enabled()
}

/// Enables maskable interrupts.
pub fn enable_interrupts() {
    x86_64::instructions::interrupts::enable();
}

/// Disables maskable interrupts.
pub fn disable_interrupts() {
    x86_64::instructions::interrupts::disable();
}

/// The address of this instruction (for backtraces).
#[inline(always)]
pub fn instruction_pointer() -> u64 {
    let rip: u64;
    // SAFETY: reads the instruction pointer.
    unsafe { asm!("lea {}, [rip]", out(reg) rip, options(nomem, nostack, preserves_flags)) };
    rip
}

/// The current frame pointer (for backtraces).
#[inline(always)]
pub fn frame_pointer() -> u64 {
    let rbp: u64;
    // SAFETY: reads a register.
    unsafe { asm!("mov {}, rbp", out(reg) rbp, options(nomem, nostack, preserves_flags)) };
    rbp
}
