//! Signal numbers, default actions, masks and the `wait4` status encoding.

use abide_linux::signal::*;
use abide_linux::wait;

#[test]
fn numbers_are_linuxs() {
    assert_eq!(
        (SIGINT, SIGKILL, SIGSEGV, SIGPIPE, SIGCHLD),
        (2, 9, 11, 13, 17)
    );
    assert_eq!(
        (SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU),
        (18, 19, 20, 21, 22)
    );
    assert_eq!((SIGWINCH, SIGSYS, NSIG), (28, 31, 64));
}

#[test]
fn default_actions_follow_signal_7() {
    assert_eq!(default_action(SIGINT), DefaultAction::Terminate);
    assert_eq!(default_action(SIGPIPE), DefaultAction::Terminate);
    assert_eq!(default_action(SIGQUIT), DefaultAction::CoreDump);
    assert_eq!(default_action(SIGSEGV), DefaultAction::CoreDump);
    assert_eq!(default_action(SIGCHLD), DefaultAction::Ignore);
    assert_eq!(default_action(SIGWINCH), DefaultAction::Ignore);
    assert_eq!(default_action(SIGTSTP), DefaultAction::Stop);
    assert_eq!(default_action(SIGCONT), DefaultAction::Continue);
    assert_eq!(default_action(SIGRTMIN + 3), DefaultAction::Terminate);
}

#[test]
fn sets_use_bit_sig_minus_one() {
    let set = SigSet::EMPTY.with(SIGINT).with(SIGCHLD);
    assert_eq!(set.0, 1 << 1 | 1 << 16);
    assert!(set.contains(SIGINT) && !set.contains(SIGTERM));
    assert_eq!(set.first(), Some(SIGINT));
    assert!(!SigSet(u64::MAX).blockable().contains(SIGKILL));
    assert_eq!(SigSet::of(0), SigSet::EMPTY);
    assert_eq!(SigSet::of(65), SigSet::EMPTY);
    assert_eq!(SigSet::of(64).0, 1 << 63);
}

#[test]
fn a_handler_blocks_its_own_signal_unless_nodefer() {
    let action = SigAction {
        handler: 0x1000,
        flags: SA_RESTORER,
        restorer: 0x2000,
        mask: SigSet::of(SIGUSR1).0,
    };
    let mask = action.handler_mask(SIGINT, SigSet::of(SIGTERM));
    assert_eq!(mask, SigSet::EMPTY.with(SIGTERM).with(SIGUSR1).with(SIGINT));
    let nodefer = SigAction {
        flags: SA_NODEFER,
        ..action
    };
    assert!(!nodefer.handler_mask(SIGINT, SigSet::EMPTY).contains(SIGINT));
    assert!(action.is_handler());
    assert!(!SigAction::default().is_handler());
}

#[test]
fn wait_status_matches_the_macros() {
    assert_eq!(wait::exited(0), 0);
    assert_eq!(wait::exited(3), 0x300);
    assert_eq!(wait::exited(256 + 1), 0x100);
    assert_eq!(wait::signaled(SIGINT, false), 2);
    assert_eq!(wait::signaled(SIGSEGV, true), 0x8b);
    assert_eq!(wait::stopped(SIGTSTP), 0x147f);
    assert_eq!(wait::CONTINUED, 0xffff);
}
