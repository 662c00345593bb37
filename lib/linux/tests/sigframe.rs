//! The signal frame: where it goes, what it holds and the registers a
//! handler starts with, and `rt_sigreturn` reading it back.

use abide_abi::record::Record;
use abide_abi::trap::TrapRegisters;
use abide_linux::sigframe::*;
use abide_linux::signal::*;

fn interrupted() -> TrapRegisters {
    TrapRegisters {
        rax: 0xa,
        rbx: 0xb,
        rcx: 0xc,
        rdx: 0xd,
        rsi: 0x51,
        rdi: 0xd1,
        rbp: 0xbb,
        rsp: 0x7fff_0000_1234,
        r8: 8,
        r9: 9,
        r10: 10,
        r11: 11,
        r12: 12,
        r13: 13,
        r14: 14,
        r15: 15,
        rip: 0x40_1000,
        rflags: 0x202 | FLAG_DF | FLAG_TF | FLAG_CF,
        fs_base: 0x7000,
        gs_base: 0,
    }
}

fn action() -> SigAction {
    SigAction {
        handler: 0x40_2000,
        flags: SA_RESTORER | SA_SIGINFO,
        restorer: 0x40_3000,
        mask: 0,
    }
}

fn deliver_to(
    regs: &TrapRegisters,
    action: &SigAction,
    alt: SigStack,
) -> Result<Frame, FrameError> {
    let info = SigInfo::sent(SIGINT, code::SI_USER, 5, 0);
    deliver(&Delivery {
        regs,
        signal: SIGINT,
        info: &info,
        old_mask: SigSet::of(SIGUSR1),
        action,
        fault: Fault::default(),
        alt_stack: alt,
    })
}

#[test]
fn the_frame_skips_the_red_zone_and_is_aligned_as_after_a_call() {
    let regs = interrupted();
    let frame = deliver_to(&regs, &action(), SigStack::DISABLED).unwrap();
    assert_eq!((frame.address + 8) % 16, 0);
    assert!(frame.address + 440 <= regs.rsp - 128);
    assert!(frame.address + 440 + 24 > regs.rsp - 128);
    assert_eq!(frame.bytes().len(), 440);
}

#[test]
fn the_handler_starts_with_linuxs_registers() {
    let regs = interrupted();
    let frame = deliver_to(&regs, &action(), SigStack::DISABLED).unwrap();
    let new = frame.regs;
    assert_eq!(new.rip, 0x40_2000);
    assert_eq!(new.rdi, u64::from(SIGINT));
    assert_eq!(new.rsi, frame.address + 312);
    assert_eq!(new.rdx, frame.address + 8);
    assert_eq!(new.rsp, frame.address);
    assert_eq!(new.rax, 0);
    assert_eq!(new.rflags, 0x202 | FLAG_CF);
    assert_eq!((new.rbx, new.r15, new.fs_base), (0xb, 15, 0x7000));
}

#[test]
fn the_frame_holds_the_restorer_the_context_and_the_info() {
    let regs = interrupted();
    let frame = deliver_to(&regs, &action(), SigStack::DISABLED).unwrap();
    let b = frame.bytes();
    let word = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    assert_eq!(word(0), 0x40_3000); // pretcode
    assert_eq!(word(8), UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS); // uc_flags
    assert_eq!(
        i32::from_le_bytes(b[24 + 8..24 + 12].try_into().unwrap()),
        SS_DISABLE
    ); // uc_stack.ss_flags
    let sc = 48;
    assert_eq!(word(sc + 104), 0xa); // rax
    assert_eq!(word(sc + 120), regs.rsp);
    assert_eq!(word(sc + 128), 0x40_1000); // rip
    assert_eq!(word(sc + 136), regs.rflags);
    assert_eq!(u16::from_le_bytes([b[sc + 144], b[sc + 145]]), USER_CS);
    assert_eq!(word(sc + 168), SigSet::of(SIGUSR1).0); // oldmask
    assert_eq!(word(sc + 184), 0); // fpstate: not saved
    assert_eq!(word(8 + 296), SigSet::of(SIGUSR1).0); // uc_sigmask
    assert_eq!(
        i32::from_le_bytes(b[312..316].try_into().unwrap()),
        SIGINT as i32
    );
    assert_eq!(
        i32::from_le_bytes(b[312 + 16..312 + 20].try_into().unwrap()),
        5
    ); // si_pid
}

#[test]
fn without_a_restorer_there_is_no_frame() {
    let regs = interrupted();
    let bare = SigAction {
        flags: SA_SIGINFO,
        ..action()
    };
    assert_eq!(
        deliver_to(&regs, &bare, SigStack::DISABLED).unwrap_err(),
        FrameError::NoRestorer
    );
    let low = TrapRegisters { rsp: 100, ..regs };
    assert_eq!(
        deliver_to(&low, &action(), SigStack::DISABLED).unwrap_err(),
        FrameError::StackOverflow
    );
}

#[test]
fn sa_onstack_moves_to_the_alternate_stack_once() {
    let regs = interrupted();
    let alt = SigStack {
        ss_sp: 0x10_0000,
        ss_flags: 0,
        _pad: 0,
        ss_size: 0x4000,
    };
    let onstack = SigAction {
        flags: action().flags | SA_ONSTACK,
        ..action()
    };
    let frame = deliver_to(&regs, &onstack, alt).unwrap();
    assert!(frame.address < 0x10_4000 && frame.address > 0x10_0000);
    assert_eq!((frame.address + 8) % 16, 0);
    assert_eq!(frame.frame.uc.uc_stack.ss_flags, 0);
    // Already on it: the frame goes below the current stack pointer.
    let nested = TrapRegisters {
        rsp: 0x10_3000,
        ..regs
    };
    let frame = deliver_to(&nested, &onstack, alt).unwrap();
    assert!(frame.address < 0x10_3000 - 128);
    assert_eq!(frame.frame.uc.uc_stack.ss_flags, SS_ONSTACK);
    // Without SA_ONSTACK the alternate stack is not used.
    let frame = deliver_to(&regs, &action(), alt).unwrap();
    assert!(frame.address > 0x7fff_0000_0000);
}

#[test]
fn sigreturn_restores_the_interrupted_registers_and_mask() {
    let regs = interrupted();
    let frame = deliver_to(&regs, &action(), SigStack::DISABLED).unwrap();
    // The handler returns through the restorer: `ret` pops pretcode.
    let mut at_sigreturn = frame.regs;
    at_sigreturn.rsp = frame.address + 8;
    at_sigreturn.rax = 15;
    at_sigreturn.rbx = 0x999;
    assert_eq!(
        sigreturn_address(&at_sigreturn),
        frame.address + UCONTEXT_OFFSET
    );
    let uc = &frame.bytes()[8..8 + Ucontext::LEN];
    let restored = sigreturn(uc, &at_sigreturn).unwrap();
    assert_eq!(restored.regs.rflags, regs.rflags);
    assert_eq!(restored.regs, regs);
    assert_eq!(restored.mask, SigSet::of(SIGUSR1));
    assert_eq!(restored.stack, SigStack::DISABLED);
    assert_eq!(sigreturn(&uc[1..], &at_sigreturn), None);
}

#[test]
fn sigreturn_sanitises_flags_and_mask() {
    let regs = interrupted();
    let frame = deliver_to(&regs, &action(), SigStack::DISABLED).unwrap();
    let mut uc = frame.frame.uc;
    uc.uc_mcontext.eflags = u64::MAX; // IOPL, IF, VM, ... must not come through
    uc.uc_sigmask = u64::MAX;
    uc.uc_mcontext.cs = 0x8; // kernel code: ignored
    let current = TrapRegisters {
        rflags: 0x202,
        rsp: frame.address + 8,
        ..regs
    };
    let restored = sigreturn(uc.encode(), &current).unwrap();
    assert_eq!(restored.regs.rflags, 0x202 | FIX_EFLAGS);
    assert!(!restored.mask.contains(SIGKILL) && !restored.mask.contains(SIGSTOP));
    assert!(restored.mask.contains(SIGINT));
}
