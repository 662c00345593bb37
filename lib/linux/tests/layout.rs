//! The structures' sizes and field offsets, byte for byte against Linux's
//! x86_64 headers (the `offsetof` values of `struct termios`, `winsize`,
//! `sigaction`, `stack_t`, `siginfo_t`, `sigcontext`, `ucontext` and
//! `rt_sigframe`).

use abide_abi::record::Record;
use abide_linux::sigframe::{RtSigframe, Sigcontext, Ucontext, SIGINFO_OFFSET, UCONTEXT_OFFSET};
use abide_linux::signal::{SigAction, SigInfo, SigStack};
use abide_linux::termios::{Termios, Winsize, NCCS};
use core::mem::offset_of;

#[test]
fn termios_is_the_kernels_36_bytes() {
    assert_eq!(Termios::LEN, 36);
    assert_eq!(NCCS, 19);
    assert_eq!(offset_of!(Termios, c_iflag), 0);
    assert_eq!(offset_of!(Termios, c_oflag), 4);
    assert_eq!(offset_of!(Termios, c_cflag), 8);
    assert_eq!(offset_of!(Termios, c_lflag), 12);
    assert_eq!(offset_of!(Termios, c_line), 16);
    assert_eq!(offset_of!(Termios, c_cc), 17);
}

#[test]
fn default_termios_bytes_are_linuxs() {
    // What TCGETS gives on a fresh Linux tty (tty_std_termios): iflag
    // 0x500, oflag 0x5, cflag 0x4bf, lflag 0x8a3b, line 0, INIT_C_CC.
    let bytes = Termios::linux_default().encode().to_vec();
    let mut want = Vec::new();
    want.extend_from_slice(&0x500u32.to_le_bytes());
    want.extend_from_slice(&0x5u32.to_le_bytes());
    want.extend_from_slice(&0x4bfu32.to_le_bytes());
    want.extend_from_slice(&0x8a3bu32.to_le_bytes());
    want.push(0);
    want.extend_from_slice(&[
        3, 0x1c, 0x7f, 0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1a, 0, 0x12, 0x0f, 0x17, 0x16, 0, 0, 0,
    ]);
    assert_eq!(bytes, want);
    assert_eq!(Termios::decode(&want), Some(Termios::linux_default()));
}

#[test]
fn winsize_is_four_shorts() {
    assert_eq!(Winsize::LEN, 8);
    assert_eq!(offset_of!(Winsize, ws_col), 2);
    assert_eq!(offset_of!(Winsize, ws_ypixel), 6);
}

#[test]
fn sigaction_is_the_kernels() {
    assert_eq!(SigAction::LEN, 32);
    assert_eq!(offset_of!(SigAction, handler), 0);
    assert_eq!(offset_of!(SigAction, flags), 8);
    assert_eq!(offset_of!(SigAction, restorer), 16);
    assert_eq!(offset_of!(SigAction, mask), 24);
}

#[test]
fn stack_t_has_its_padding() {
    assert_eq!(SigStack::LEN, 24);
    assert_eq!(offset_of!(SigStack, ss_flags), 8);
    assert_eq!(offset_of!(SigStack, ss_size), 16);
}

#[test]
fn siginfo_is_128_bytes_with_the_union_at_16() {
    assert_eq!(SigInfo::LEN, 128);
    assert_eq!(offset_of!(SigInfo, si_code), 8);
    assert_eq!(offset_of!(SigInfo, fields), 16);
    let info = SigInfo::child(5, 42, 7, 9, 11, 13);
    let b = info.encode();
    assert_eq!(&b[0..4], &17i32.to_le_bytes());
    assert_eq!(&b[8..12], &5i32.to_le_bytes());
    assert_eq!(&b[16..20], &42i32.to_le_bytes()); // si_pid
    assert_eq!(&b[20..24], &7u32.to_le_bytes()); // si_uid
    assert_eq!(&b[24..28], &9i32.to_le_bytes()); // si_status
    assert_eq!(&b[32..40], &11i64.to_le_bytes()); // si_utime
    assert_eq!(&b[40..48], &13i64.to_le_bytes()); // si_stime
    let fault = SigInfo::fault(11, 1, 0xdead_beef_0000);
    assert_eq!(&fault.encode()[16..24], &0xdead_beef_0000u64.to_le_bytes()); // si_addr
    assert_eq!(fault.address(), 0xdead_beef_0000);
    assert_eq!(info.pid(), 42);
    assert_eq!(info.status(), 9);
}

#[test]
fn sigcontext_offsets_are_linuxs() {
    assert_eq!(Sigcontext::LEN, 256);
    assert_eq!(offset_of!(Sigcontext, r8), 0);
    assert_eq!(offset_of!(Sigcontext, r15), 56);
    assert_eq!(offset_of!(Sigcontext, rdi), 64);
    assert_eq!(offset_of!(Sigcontext, rsi), 72);
    assert_eq!(offset_of!(Sigcontext, rbp), 80);
    assert_eq!(offset_of!(Sigcontext, rbx), 88);
    assert_eq!(offset_of!(Sigcontext, rdx), 96);
    assert_eq!(offset_of!(Sigcontext, rax), 104);
    assert_eq!(offset_of!(Sigcontext, rcx), 112);
    assert_eq!(offset_of!(Sigcontext, rsp), 120);
    assert_eq!(offset_of!(Sigcontext, rip), 128);
    assert_eq!(offset_of!(Sigcontext, eflags), 136);
    assert_eq!(offset_of!(Sigcontext, cs), 144);
    assert_eq!(offset_of!(Sigcontext, ss), 150);
    assert_eq!(offset_of!(Sigcontext, err), 152);
    assert_eq!(offset_of!(Sigcontext, trapno), 160);
    assert_eq!(offset_of!(Sigcontext, oldmask), 168);
    assert_eq!(offset_of!(Sigcontext, cr2), 176);
    assert_eq!(offset_of!(Sigcontext, fpstate), 184);
    assert_eq!(offset_of!(Sigcontext, reserved1), 192);
}

#[test]
fn ucontext_and_frame_offsets_are_linuxs() {
    assert_eq!(Ucontext::LEN, 304);
    assert_eq!(offset_of!(Ucontext, uc_link), 8);
    assert_eq!(offset_of!(Ucontext, uc_stack), 16);
    assert_eq!(offset_of!(Ucontext, uc_mcontext), 40);
    assert_eq!(offset_of!(Ucontext, uc_sigmask), 296);
    assert_eq!(RtSigframe::LEN, 440);
    assert_eq!(offset_of!(RtSigframe, uc) as u64, UCONTEXT_OFFSET);
    assert_eq!(offset_of!(RtSigframe, info) as u64, SIGINFO_OFFSET);
}
