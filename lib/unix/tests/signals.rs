//! Signal dispositions and which pending signal comes next.

use abide_linux::signal::{
    SigAction, SigSet, SIGCHLD, SIGINT, SIGKILL, SIGQUIT, SIGSEGV, SIGTERM, SIGTSTP, SIG_IGN,
};
use abide_unix::signals::{disposition, next_deliverable, taken_before_call, Actions, Disposition};

#[test]
fn kill_and_stop_cannot_be_blocked_or_caught() {
    let all = SigSet(u64::MAX);
    assert_eq!(next_deliverable(SigSet::of(SIGKILL), all), Some(SIGKILL));
    assert_eq!(next_deliverable(SigSet::of(SIGINT), all), None);
    let mut actions = Actions::default();
    let ignore = SigAction {
        handler: SIG_IGN,
        ..SigAction::default()
    };
    assert!(!actions.set(SIGKILL, ignore));
    assert!(actions.set(SIGINT, ignore));
    assert!(actions.ignores(SIGINT));
}

#[test]
fn the_lowest_unblocked_signal_comes_first() {
    let pending = SigSet::of(SIGTERM).with(SIGINT);
    assert_eq!(next_deliverable(pending, SigSet::EMPTY), Some(SIGINT));
    assert_eq!(next_deliverable(pending, SigSet::of(SIGINT)), Some(SIGTERM));
}

#[test]
fn defaults_follow_signal_7() {
    let none = SigAction::default();
    assert_eq!(disposition(SIGCHLD, &none), Disposition::Ignore);
    assert_eq!(
        disposition(SIGSEGV, &none),
        Disposition::Kill { core: true }
    );
    assert_eq!(
        disposition(SIGTERM, &none),
        Disposition::Kill { core: false }
    );
    assert_eq!(disposition(SIGTSTP, &none), Disposition::Stop);
}

#[test]
fn exec_keeps_ignored_signals_only() {
    let mut actions = Actions::default();
    let handled = SigAction {
        handler: 0x401000,
        ..SigAction::default()
    };
    actions.set(SIGINT, handled);
    actions.set(
        SIGQUIT,
        SigAction {
            handler: SIG_IGN,
            ..SigAction::default()
        },
    );
    actions.reset_for_exec();
    assert_eq!(actions.get(SIGINT), SigAction::default());
    assert!(actions.ignores(SIGQUIT));
}

#[test]
fn a_signal_sent_before_a_call_is_taken_before_it() {
    // `sleep 30 & kill -s INT $!`: the parent's SIGINT reaches the forked
    // child before it runs; its first call would ignore SIGINT (ash, for a
    // background job), but the signal is taken first, with the default
    // action the child inherited: it dies of it (`wait` gives 130).
    let inherited = Actions::default();
    let signal = taken_before_call(SigSet::of(SIGINT), SigSet::EMPTY);
    assert_eq!(signal, Some(SIGINT));
    assert_eq!(
        disposition(SIGINT, &inherited.get(SIGINT)),
        Disposition::Kill { core: false }
    );
    // Blocked, it waits for the call (and whatever the call changes).
    assert_eq!(
        taken_before_call(SigSet::of(SIGINT), SigSet::of(SIGINT)),
        None
    );
    assert_eq!(taken_before_call(SigSet::EMPTY, SigSet::EMPTY), None);
}
