//! The frame Linux x86_64 builds on a thread's stack to run a signal
//! handler, and its inverse for `rt_sigreturn` (from
//! `arch/x86/kernel/signal.c`, `asm/sigcontext.h`, `asm-generic/ucontext.h`).
//!
//! ```text
//! struct rt_sigframe {          offset
//!     pretcode                    0    the restorer: the handler's `ret` goes there
//!     struct ucontext uc          8    flags, link, stack_t, sigcontext, sigmask
//!     siginfo_t info            312
//! };                            440 bytes
//! ```
//!
//! [`deliver`] takes the interrupted thread's registers (as the handler of
//! a trap has them, with any system-call result or restart already in
//! them), the signal and its `siginfo_t`, the mask to restore and the
//! action, and gives the frame's bytes and address and the registers to
//! resume with. [`sigreturn`] reads the `ucontext` back. FPU state is not
//! saved: `fpstate` is null, so a handler that changes SSE registers
//! changes them for the interrupted code too (docs/unix.md, "Signals").

use crate::signal::{SigAction, SigInfo, SigSet, SigStack, SA_ONSTACK, SA_RESTORER};
use abide_abi::record::{Immutable, IntoBytes, KnownLayout, Record, TryFromBytes};
use abide_abi::trap::TrapRegisters;

/// x86_64 `struct sigcontext` (the kernel's, with `fpstate` a pointer).
/// 256 bytes.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, TryFromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct Sigcontext {
    pub r8: u64,
    pub r9: u64,
    pub r10: u64,
    pub r11: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rbp: u64,
    pub rbx: u64,
    pub rdx: u64,
    pub rax: u64,
    pub rcx: u64,
    pub rsp: u64,
    pub rip: u64,
    pub eflags: u64,
    pub cs: u16,
    pub gs: u16,
    pub fs: u16,
    pub ss: u16,
    pub err: u64,
    pub trapno: u64,
    /// The first word of the mask before the handler (as `uc_sigmask`).
    pub oldmask: u64,
    pub cr2: u64,
    /// The saved FPU/SSE state; 0 here: not saved.
    pub fpstate: u64,
    pub reserved1: [u64; 8],
}

impl Record for Sigcontext {}

/// The kernel's `struct ucontext` on x86_64. 304 bytes.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, TryFromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct Ucontext {
    /// `UC_*` bits.
    pub uc_flags: u64,
    pub uc_link: u64,
    pub uc_stack: SigStack,
    pub uc_mcontext: Sigcontext,
    /// The mask `rt_sigreturn` restores.
    pub uc_sigmask: u64,
}

impl Record for Ucontext {}

/// x86_64 `struct rt_sigframe` without the FPU state. 440 bytes.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, TryFromBytes, IntoBytes, KnownLayout, Immutable)]
pub struct RtSigframe {
    /// The restorer's address: where the handler's `ret` goes.
    pub pretcode: u64,
    pub uc: Ucontext,
    pub info: SigInfo,
}

impl Record for RtSigframe {}

/// `uc_flags`: the frame holds XSAVE state (never set here).
pub const UC_FP_XSTATE: u64 = 0x1;
/// `uc_flags`: `sigcontext.ss` is meaningful.
pub const UC_SIGCONTEXT_SS: u64 = 0x2;
/// `uc_flags`: `rt_sigreturn` restores `ss` strictly.
pub const UC_STRICT_RESTORE_SS: u64 = 0x4;

/// The user code segment selector a 64-bit Linux thread runs with.
pub const USER_CS: u16 = 0x33;
/// The user data/stack segment selector.
pub const USER_DS: u16 = 0x2b;

/// The bytes below the stack pointer a signal frame leaves alone (the
/// System V ABI's red zone).
pub const RED_ZONE: u64 = 128;
/// Where the `ucontext` is in the frame.
pub const UCONTEXT_OFFSET: u64 = 8;
/// Where the `siginfo_t` is in the frame.
pub const SIGINFO_OFFSET: u64 = 312;

/// RFLAGS bits.
pub const FLAG_CF: u64 = 1 << 0;
pub const FLAG_PF: u64 = 1 << 2;
pub const FLAG_AF: u64 = 1 << 4;
pub const FLAG_ZF: u64 = 1 << 6;
pub const FLAG_SF: u64 = 1 << 7;
pub const FLAG_TF: u64 = 1 << 8;
pub const FLAG_DF: u64 = 1 << 10;
pub const FLAG_OF: u64 = 1 << 11;
pub const FLAG_RF: u64 = 1 << 16;
pub const FLAG_AC: u64 = 1 << 18;
/// The RFLAGS bits `rt_sigreturn` takes from the frame (Linux's
/// `FIX_EFLAGS`); the others stay as they are.
pub const FIX_EFLAGS: u64 = FLAG_AC
    | FLAG_OF
    | FLAG_DF
    | FLAG_TF
    | FLAG_SF
    | FLAG_ZF
    | FLAG_AF
    | FLAG_PF
    | FLAG_CF
    | FLAG_RF;

/// The exception that caused a signal, for `sigcontext`'s `trapno`, `err`
/// and `cr2` (all 0 for a signal that is not a fault).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fault {
    /// The exception vector (14 for a page fault).
    pub trapno: u64,
    /// The exception's error code.
    pub err: u64,
    /// The faulting address of a page fault.
    pub cr2: u64,
}

/// Everything [`deliver`] needs to run a handler.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    /// The thread's registers where the handler interrupts it (what
    /// `rt_sigreturn` goes back to).
    pub regs: &'a TrapRegisters,
    pub signal: u32,
    pub info: &'a SigInfo,
    /// The mask to restore when the handler returns (the thread's mask
    /// before delivery).
    pub old_mask: SigSet,
    pub action: &'a SigAction,
    pub fault: Fault,
    /// The thread's alternate signal stack ([`SigStack::DISABLED`] when it
    /// has none).
    pub alt_stack: SigStack,
}

/// A frame ready to write: `bytes` at `address` on the thread's stack, then
/// resume it with `regs`.
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    pub address: u64,
    pub frame: RtSigframe,
    pub regs: TrapRegisters,
}

impl Frame {
    /// The bytes to write at [`Frame::address`].
    pub fn bytes(&self) -> &[u8] {
        self.frame.encode()
    }
}

/// Why a handler cannot run (Linux then forces `SIGSEGV`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// The action has no [`SA_RESTORER`]: x86_64 Linux has nowhere for the
    /// handler to return to.
    NoRestorer,
    /// The stack pointer is too low to hold the frame.
    StackOverflow,
}

/// Where the frame goes: below the red zone (or at the top of the
/// alternate stack), rounded so that `rsp + 8` is 16-byte aligned, as
/// after a `call` (Linux's `get_sigframe` and `align_sigframe`).
pub fn frame_address(
    regs: &TrapRegisters,
    action: &SigAction,
    alt_stack: &SigStack,
) -> Option<u64> {
    let mut sp = regs.rsp.checked_sub(RED_ZONE)?;
    if action.flags & SA_ONSTACK != 0 && alt_stack.flags_at(sp) == 0 {
        sp = alt_stack.ss_sp.checked_add(alt_stack.ss_size)?;
    }
    let sp = sp.checked_sub(RtSigframe::LEN as u64)?;
    (sp & !15).checked_sub(8)
}

/// Builds the frame that runs `delivery`'s handler, and the registers to
/// resume the thread with: `rip` = handler, `rdi` = signal, `rsi` =
/// `&info`, `rdx` = `&uc`, `rsp` = the frame, `rax` = 0, and the direction,
/// trap and resume flags cleared. The other registers keep their values.
pub fn deliver(delivery: &Delivery<'_>) -> Result<Frame, FrameError> {
    let regs = delivery.regs;
    let action = delivery.action;
    if action.flags & SA_RESTORER == 0 {
        return Err(FrameError::NoRestorer);
    }
    let address =
        frame_address(regs, action, &delivery.alt_stack).ok_or(FrameError::StackOverflow)?;
    let mut uc_stack = delivery.alt_stack;
    uc_stack.ss_flags = delivery.alt_stack.flags_at(regs.rsp);
    let frame = RtSigframe {
        pretcode: action.restorer,
        uc: Ucontext {
            uc_flags: UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS,
            uc_link: 0,
            uc_stack,
            uc_mcontext: sigcontext_of(regs, delivery.old_mask, &delivery.fault),
            uc_sigmask: delivery.old_mask.0,
        },
        info: *delivery.info,
    };
    let mut new = *regs;
    new.rip = action.handler;
    new.rdi = u64::from(delivery.signal);
    new.rsi = address + SIGINFO_OFFSET;
    new.rdx = address + UCONTEXT_OFFSET;
    new.rsp = address;
    new.rax = 0;
    new.rflags &= !(FLAG_DF | FLAG_RF | FLAG_TF);
    Ok(Frame {
        address,
        frame,
        regs: new,
    })
}

fn sigcontext_of(regs: &TrapRegisters, old_mask: SigSet, fault: &Fault) -> Sigcontext {
    Sigcontext {
        r8: regs.r8,
        r9: regs.r9,
        r10: regs.r10,
        r11: regs.r11,
        r12: regs.r12,
        r13: regs.r13,
        r14: regs.r14,
        r15: regs.r15,
        rdi: regs.rdi,
        rsi: regs.rsi,
        rbp: regs.rbp,
        rbx: regs.rbx,
        rdx: regs.rdx,
        rax: regs.rax,
        rcx: regs.rcx,
        rsp: regs.rsp,
        rip: regs.rip,
        eflags: regs.rflags,
        cs: USER_CS,
        gs: 0,
        fs: 0,
        ss: USER_DS,
        err: fault.err,
        trapno: fault.trapno,
        oldmask: old_mask.0,
        cr2: fault.cr2,
        fpstate: 0,
        reserved1: [0; 8],
    }
}

/// Where `rt_sigreturn` finds the `ucontext`: at the stack pointer, since
/// the handler's `ret` popped `pretcode` (read [`Ucontext::LEN`] bytes
/// there).
pub const fn sigreturn_address(regs: &TrapRegisters) -> u64 {
    regs.rsp
}

/// What `rt_sigreturn` restores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restored {
    /// The registers to resume with; `rax` is also the call's result.
    pub regs: TrapRegisters,
    /// The thread's mask from now on (`SIGKILL` and `SIGSTOP` removed).
    pub mask: SigSet,
    /// The alternate stack the frame recorded (Linux's `restore_altstack`).
    pub stack: SigStack,
}

/// Reads back a frame for `rt_sigreturn`: `ucontext` is the
/// [`Ucontext::LEN`] bytes at [`sigreturn_address`], `current` the
/// registers the `rt_sigreturn` trap came with. Only the RFLAGS bits in
/// [`FIX_EFLAGS`] come from the frame; segments are not restored (a thread
/// runs with [`USER_CS`]/[`USER_DS`] only), nor the FS and GS bases.
/// `None` when `ucontext` is not a `ucontext`'s length.
pub fn sigreturn(ucontext: &[u8], current: &TrapRegisters) -> Option<Restored> {
    let uc = Ucontext::decode(ucontext)?;
    let sc = &uc.uc_mcontext;
    let regs = TrapRegisters {
        rax: sc.rax,
        rbx: sc.rbx,
        rcx: sc.rcx,
        rdx: sc.rdx,
        rsi: sc.rsi,
        rdi: sc.rdi,
        rbp: sc.rbp,
        rsp: sc.rsp,
        r8: sc.r8,
        r9: sc.r9,
        r10: sc.r10,
        r11: sc.r11,
        r12: sc.r12,
        r13: sc.r13,
        r14: sc.r14,
        r15: sc.r15,
        rip: sc.rip,
        rflags: (current.rflags & !FIX_EFLAGS) | (sc.eflags & FIX_EFLAGS),
        fs_base: current.fs_base,
        gs_base: current.gs_base,
    };
    Some(Restored {
        regs,
        mask: SigSet(uc.uc_sigmask).blockable(),
        stack: uc.uc_stack,
    })
}
