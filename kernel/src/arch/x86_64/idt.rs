//! Interrupt entry: the IDT, the 256 assembly entry stubs and the common path
//! that saves every register and the FPU/SSE state before calling Rust.
//!
//! Every vector runs on an IST stack (see `gdt`), so an interrupt never lands
//! on a stack where Rust code may be using the red zone. Nested use of the
//! same IST stack is prevented by interrupt gates (IF is cleared on entry); an
//! exception inside an exception handler is detected in `exceptions` and is
//! fatal.
//!
//! The common path first clears DF and AC (with SMAP, AC set would let the
//! kernel touch user pages unchecked); the gate already cleared IF, TF and NT
//! (see `context` for the flags a user can set).
//!
//! The interrupted code's FPU/SSE state is saved with FXSAVE and restored with
//! FXRSTOR around the Rust handler, because handlers are ordinary Rust code
//! that may use SSE registers (the precompiled `core` does).

use core::arch::global_asm;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::context::{FpuState, SYSCALL_VECTOR};
use super::gdt::{self, ist};
use super::upcalls;
use x86_64::instructions::tables::lidt;
use x86_64::structures::DescriptorTablePointer;
use x86_64::VirtAddr;

/// First vector used for hardware interrupts; 0..32 are CPU exceptions.
pub const FIRST_IRQ_VECTOR: u8 = 32;
/// The local APIC timer.
pub const TIMER_VECTOR: u8 = 0x20;
/// ISA IRQ `n` routed through the I/O APIC arrives at `ISA_IRQ_BASE + n`.
pub const ISA_IRQ_BASE: u8 = 0x30;
/// Where the (masked) legacy PICs would deliver, so a spurious one is harmless.
pub const LEGACY_PIC_BASE: u8 = 0xf0;
/// The local APIC's spurious-interrupt vector.
pub const SPURIOUS_VECTOR: u8 = 0xff;

/// The registers of the interrupted code, as the entry stubs push them.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error_code: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

// Stubs are exactly 16 bytes apart: stub n is at `interrupt_stubs + 16 * n`.
// Vectors for which the CPU pushes an error code skip the dummy push.
global_asm!(
    r#"
    .section .text.interrupts, "ax"
    .balign 16
    .global interrupt_stubs
interrupt_stubs:
    .set vector, 0
    .rept 256
    .balign 16
    .if (vector == 8) || (vector == 10) || (vector == 11) || (vector == 12) || (vector == 13) || (vector == 14) || (vector == 17) || (vector == 21) || (vector == 29) || (vector == 30)
    .else
    pushq $0
    .endif
    pushq $vector
    jmp interrupt_common
    .set vector, vector + 1
    .endr
    .balign 16
    .global interrupt_stubs_end
interrupt_stubs_end:

interrupt_common:
    /* The interrupted code's DF and AC are its own (saved in the frame):
       the kernel runs with both clear. AC set would let supervisor code
       touch user pages despite SMAP; clac exists only with SMAP. */
    cld
    testb $1, ABIDE_SMAP_ENABLED(%rip)
    jz 1f
    clac
1:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi                /* &mut TrapFrame */
    mov %rsp, %r12                /* callee-saved: where the frame is */
    sub $512, %rsp
    and $-64, %rsp
    fxsave64 (%rsp)
    mov %rsp, %rsi                /* &mut FpuState */
    call interrupt_dispatch
    fxrstor64 (%rsp)
    mov %r12, %rsp
    /* Resume the frame at rsp (also entered from context::enter). */
    .global interrupt_return
interrupt_return:
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp                 /* vector and error code */
    iretq
"#,
    options(att_syntax)
);

extern "C" {
    static interrupt_stubs: u8;
    static interrupt_stubs_end: u8;
}

/// Bytes between consecutive entry stubs.
const STUB_STRIDE: u64 = 16;

#[repr(C)]
#[derive(Clone, Copy)]
struct Gate {
    offset_low: u16,
    selector: u16,
    ist: u8,
    type_attr: u8,
    offset_mid: u16,
    offset_high: u32,
    reserved: u32,
}

impl Gate {
    const MISSING: Gate = Gate {
        offset_low: 0,
        selector: 0,
        ist: 0,
        type_attr: 0,
        offset_mid: 0,
        offset_high: 0,
        reserved: 0,
    };

    /// A present 64-bit interrupt gate (IF cleared on entry) at privilege 0.
    fn interrupt(handler: u64, selector: u16, ist: u8) -> Gate {
        Gate {
            offset_low: handler as u16,
            selector,
            ist,
            type_attr: 0x8e,
            offset_mid: (handler >> 16) as u16,
            offset_high: (handler >> 32) as u32,
            reserved: 0,
        }
    }
}

#[repr(C, align(16))]
struct Idt([Gate; 256]);

static mut IDT: Idt = Idt([Gate::MISSING; 256]);

/// Which interrupt stack a vector uses.
fn ist_for(vector: usize) -> u8 {
    match vector {
        2 => ist::NMI,
        8 => ist::DOUBLE_FAULT,
        18 => ist::MACHINE_CHECK,
        0..=31 => ist::EXCEPTION,
        _ => ist::IRQ,
    }
}

/// Fills the IDT with the entry stubs and loads it on this CPU.
pub fn init() {
    let selector = gdt::selectors().map_or(0x08, |s| s.kernel_code.0);
    let stubs = core::ptr::addr_of!(interrupt_stubs) as u64;
    let stubs_end = core::ptr::addr_of!(interrupt_stubs_end) as u64;
    // The assembler cannot check this (jump sizes are chosen late), so check
    // it here, before any interrupt can go to the wrong stub.
    if stubs_end - stubs != 256 * STUB_STRIDE {
        upcalls::fail(format_args!(
            "interrupt entry stubs are not {STUB_STRIDE} bytes apart"
        ));
    }
    // SAFETY: runs once per CPU during boot before interrupts are enabled;
    // nothing else accesses the IDT while it is written, and it is a static,
    // so the pointer given to LIDT stays valid.
    unsafe {
        let idt = &mut *core::ptr::addr_of_mut!(IDT);
        for (vector, gate) in idt.0.iter_mut().enumerate() {
            *gate = Gate::interrupt(
                stubs + STUB_STRIDE * vector as u64,
                selector,
                ist_for(vector),
            );
        }
        lidt(&DescriptorTablePointer {
            limit: (core::mem::size_of::<Idt>() - 1) as u16,
            base: VirtAddr::new(idt as *const Idt as u64),
        });
    }
}

/// An interrupt handler for a hardware vector. Runs with interrupts disabled on
/// an IST stack; it must not allocate or block.
pub type IrqHandler = fn(&mut TrapFrame);

static IRQ_HANDLERS: [AtomicUsize; 256] = [const { AtomicUsize::new(0) }; 256];

/// Installs `handler` for hardware interrupt `vector`.
pub fn set_irq_handler(vector: u8, handler: IrqHandler) {
    if let Some(slot) = IRQ_HANDLERS.get(usize::from(vector)) {
        slot.store(handler as usize, Ordering::Release);
    }
}

fn irq_handler(vector: usize) -> Option<IrqHandler> {
    let raw = IRQ_HANDLERS.get(vector)?.load(Ordering::Acquire);
    if raw == 0 {
        return None;
    }
    // SAFETY: the only nonzero values ever stored are `IrqHandler` pointers
    // (see `set_irq_handler`).
    Some(unsafe { core::mem::transmute::<usize, IrqHandler>(raw) })
}

/// Called by `interrupt_common` for every interrupt, exception and system
/// call, with the interrupted context: its registers in `frame` and its
/// FPU/SSE state in `fpu`. Whatever both hold on return is resumed, which is
/// how the scheduler switches threads.
#[no_mangle]
extern "C" fn interrupt_dispatch(frame: &mut TrapFrame, fpu: &mut FpuState) {
    let vector = frame.vector as usize;
    let trap = upcalls::get();
    if frame.vector == SYSCALL_VECTOR {
        if let Some(trap) = trap {
            (trap.syscall)(frame, fpu);
        }
        return;
    }
    if vector < FIRST_IRQ_VECTOR as usize {
        // NMI, double fault and machine check are the machine's, never the
        // running process's fault.
        let machine_level = matches!(vector, 2 | 8 | 18);
        match trap {
            Some(trap) if frame.cs & 3 == 3 && !machine_level => (trap.user_fault)(frame, fpu),
            _ => super::exceptions::handle(frame),
        }
        return;
    }
    if vector == SPURIOUS_VECTOR as usize || vector >= LEGACY_PIC_BASE as usize {
        // Spurious: no EOI. The legacy PICs are masked; anything from them is
        // spurious too.
        return;
    }
    match irq_handler(vector) {
        Some(handler) => handler(frame),
        None => log::warn!("interrupt on vector {vector:#x} with no handler"),
    }
    super::apic::end_of_interrupt();
    if let Some(trap) = trap {
        (trap.interrupt_end)(frame, fpu);
    }
}
