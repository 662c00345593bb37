//! Restarts: every strategy, restart type and ending, how siblings fare,
//! and the intensity window that makes a group fail.

mod support;

use abide_supervise::Action::{GroupFailed, Start, Stop};
use abide_supervise::Ending::{Abnormal, Normal};
use abide_supervise::RestartType::{Permanent, Temporary, Transient};
use abide_supervise::Strategy::{OneForAll, OneForOne, RestForOne};
use abide_supervise::{Action, Ending, Intensity, RestartType};
use support::*;

// ---- Strategies × restart types × endings -----------------------------------

#[test]
fn every_strategy_restart_type_and_ending() {
    let all_restarted = &[Stop("c"), Stop("a"), Start("a"), Start("b"), Start("c")][..];
    let rest_restarted = &[Stop("c"), Start("b"), Start("c")][..];
    let only_b = &[Start("b")][..];
    let nothing = &[][..];
    #[rustfmt::skip]
    let table: &[(abide_supervise::Strategy, RestartType, Ending, &[Action<Name>])] = &[
        (OneForOne,  Permanent, Normal,   only_b),
        (OneForOne,  Permanent, Abnormal, only_b),
        (OneForOne,  Transient, Normal,   nothing),
        (OneForOne,  Transient, Abnormal, only_b),
        (OneForOne,  Temporary, Normal,   nothing),
        (OneForOne,  Temporary, Abnormal, nothing),
        (OneForAll,  Permanent, Normal,   all_restarted),
        (OneForAll,  Permanent, Abnormal, all_restarted),
        (OneForAll,  Transient, Normal,   nothing),
        (OneForAll,  Transient, Abnormal, all_restarted),
        (OneForAll,  Temporary, Normal,   nothing),
        (OneForAll,  Temporary, Abnormal, nothing),
        (RestForOne, Permanent, Normal,   rest_restarted),
        (RestForOne, Permanent, Abnormal, rest_restarted),
        (RestForOne, Transient, Normal,   nothing),
        (RestForOne, Transient, Abnormal, rest_restarted),
        (RestForOne, Temporary, Normal,   nothing),
        (RestForOne, Temporary, Abnormal, nothing),
    ];
    for &(strategy, restart, ending, expected) in table {
        let mut sup = booted(
            group("root", OneForOne, LAX).with(
                group("g", strategy, LAX)
                    .with(comp("a", Permanent))
                    .with(comp("b", restart))
                    .with(comp("c", Permanent)),
            ),
        );
        let actions = sup.child_ended("b", ending, 0);
        let case = format!("{strategy:?} {restart:?} {ending:?}");
        assert_eq!(actions, expected, "{case}");
        let b_runs = !expected.is_empty();
        assert_eq!(sup.is_running("b"), b_runs, "{case}");
        assert!(sup.is_running("a") && sup.is_running("c"), "{case}");
        // Nothing was counted when nothing was restarted.
        assert_eq!(
            sup.recent_restarts("g", 0),
            Some(usize::from(b_runs)),
            "{case}"
        );
    }
}

/// How siblings fare when the group restarts several children: temporary
/// ones are stopped and never started again; transient ones that had exited
/// normally are started again (OTP keeps them in the child list).
#[test]
fn siblings_under_each_strategy() {
    #[rustfmt::skip]
    let table: &[(abide_supervise::Strategy, RestartType, bool, &[Action<Name>])] = &[
        // strategy, siblings' type, siblings ended normally before, actions
        (OneForOne,  Permanent, false, &[Start("b")]),
        (OneForOne,  Transient, false, &[Start("b")]),
        (OneForOne,  Transient, true,  &[Start("b")]),
        (OneForOne,  Temporary, false, &[Start("b")]),
        (OneForOne,  Temporary, true,  &[Start("b")]),
        (OneForAll,  Permanent, false, &[Stop("c"), Stop("a"), Start("a"), Start("b"), Start("c")]),
        (OneForAll,  Transient, false, &[Stop("c"), Stop("a"), Start("a"), Start("b"), Start("c")]),
        (OneForAll,  Transient, true,  &[Start("a"), Start("b"), Start("c")]),
        (OneForAll,  Temporary, false, &[Stop("c"), Stop("a"), Start("b")]),
        (OneForAll,  Temporary, true,  &[Start("b")]),
        (RestForOne, Permanent, false, &[Stop("c"), Start("b"), Start("c")]),
        (RestForOne, Transient, false, &[Stop("c"), Start("b"), Start("c")]),
        (RestForOne, Transient, true,  &[Start("b"), Start("c")]),
        (RestForOne, Temporary, false, &[Stop("c"), Start("b")]),
        (RestForOne, Temporary, true,  &[Start("b")]),
    ];
    for &(strategy, siblings, ended_before, expected) in table {
        let case = format!("{strategy:?} {siblings:?} ended before: {ended_before}");
        let mut sup = booted(
            group("root", OneForOne, LAX).with(
                group("g", strategy, LAX)
                    .with(comp("a", siblings))
                    .with(comp("b", Permanent))
                    .with(comp("c", siblings)),
            ),
        );
        if ended_before {
            assert_eq!(sup.child_ended("a", Normal, 0), [], "{case}");
            assert_eq!(sup.child_ended("c", Normal, 0), [], "{case}");
        }
        assert_eq!(sup.child_ended("b", Abnormal, 1), expected, "{case}");
        let mut expect_running: Vec<Name> = vec!["a", "b", "c"];
        expect_running.retain(|n| {
            *n == "b"
                || expected.contains(&Start(n))
                || (!ended_before && !expected.contains(&Stop(n)))
        });
        assert_eq!(running(&sup), expect_running, "{case}");
    }
}

#[test]
fn endings_of_what_does_not_run_are_ignored() {
    let mut sup = booted(group("root", OneForOne, LAX).with(comp("a", Transient)));
    assert_eq!(sup.child_ended("nobody", Abnormal, 0), []);
    assert_eq!(sup.child_ended("a", Normal, 0), []);
    assert!(!sup.is_running("a"));
    // A late report of the same instance, or of one already stopped.
    assert_eq!(sup.child_ended("a", Abnormal, 1), []);
    assert_eq!(sup.recent_restarts("root", 1), Some(0));
}

#[test]
fn exit_codes() {
    assert_eq!(Ending::from_exit_code(0), Normal);
    assert_eq!(Ending::from_exit_code(1), Abnormal);
    assert_eq!(Ending::from_exit_code(-1), Abnormal);
}

// ---- Intensity windows -------------------------------------------------------

/// `g` (one_for_one, `intensity`) holds `w` and `x`; `w` fails at each time
/// of `times`; the group must fail at the ending numbered `fails_at` (and is
/// then restarted afresh by the lax root) and never before.
#[test]
fn intensity_windows() {
    #[rustfmt::skip]
    let table: &[(u32, u32, &[u64], Option<usize>)] = &[
        // R, T (s), times of the endings (ms), the ending that fails the group
        (3, 10, &[0, 1_000, 2_000],                None),
        (3, 10, &[0, 1_000, 2_000, 10_000],        Some(3)), // the first is exactly T old: counts
        (3, 10, &[0, 1_000, 2_000, 10_001],        None),    // ... 1 ms more: forgotten
        (3, 10, &[0, 1_000, 2_000, 10_001, 10_002], Some(4)),
        (3, 10, &[0, 1_000, 2_000, 10_001, 11_001], None),
        (3, 10, &[0, 1_000, 2_000, 10_001, 11_000], Some(4)),
        (0, 5,  &[0],                              Some(0)), // R = 0: no restart allowed
        (0, 5,  &[7_000_000],                      Some(0)),
        (1, 5,  &[0, 5_000],                       Some(1)),
        (1, 5,  &[0, 5_001],                       None),
        (1, 5,  &[0, 5_001, 5_002],                Some(2)),
        (2, 1,  &[0, 500, 1_000],                  Some(2)),
        (2, 1,  &[0, 500, 1_001, 1_502, 2_003],    None),    // a sliding window
        (1, 0,  &[0, 0],                           Some(1)), // T = 0: the same millisecond only
        (1, 0,  &[0, 1, 2, 3],                     None),
        (5, 60, &[0, 1, 2, 3, 4, 5],               Some(5)),
        (5, 60, &[0, 1, 2, 3, 4, 60_001],          None),
    ];
    for &(r, t, times, fails_at) in table {
        let case = format!("R={r} T={t} times={times:?}");
        let mut sup = booted(
            group("root", OneForOne, LAX).with(
                group("g", OneForOne, Intensity::new(r, t))
                    .with(comp("w", Permanent))
                    .with(comp("x", Permanent)),
            ),
        );
        for (k, &now) in times.iter().enumerate() {
            let actions = sup.child_ended("w", Abnormal, now);
            if Some(k) == fails_at {
                assert_eq!(
                    actions,
                    [Stop("x"), GroupFailed("g"), Start("w"), Start("x")],
                    "{case} ending {k}"
                );
                // Restarted afresh, with an empty history.
                assert_eq!(sup.restart_history("g"), Some(&[][..]), "{case}");
                assert_eq!(sup.recent_restarts("root", now), Some(1), "{case}");
                break;
            }
            assert_eq!(actions, [Start("w")], "{case} ending {k}");
            assert!(
                sup.recent_restarts("g", now).unwrap() <= r as usize,
                "{case}"
            );
        }
        if fails_at.is_none() {
            assert_eq!(sup.recent_restarts("root", u64::MAX), Some(0), "{case}");
        }
    }
}

#[test]
fn only_restarts_count_against_the_intensity() {
    let mut sup = booted(
        group("root", OneForOne, LAX).with(
            group("g", OneForOne, Intensity::new(1, 10))
                .with(comp("temp", Temporary))
                .with(comp("trans", Transient))
                .with(comp("perm", Permanent)),
        ),
    );
    assert_eq!(sup.child_ended("temp", Abnormal, 0), []);
    assert_eq!(sup.child_ended("trans", Normal, 1), []);
    assert_eq!(sup.child_ended("perm", Abnormal, 2), [Start("perm")]);
    assert_eq!(sup.restart_history("g"), Some(&[2][..]));
    // The second restart within 10 s is one too many.
    assert_eq!(
        sup.child_ended("perm", Normal, 3),
        [
            GroupFailed("g"),
            Start("temp"),
            Start("trans"),
            Start("perm")
        ]
    );
}

/// One ending that makes a one_for_all group restart all its children counts
/// once, not once per child.
#[test]
fn a_restart_counts_once_whatever_the_strategy_restarts() {
    let mut sup = booted(
        group("root", OneForOne, LAX).with(
            group("g", OneForAll, Intensity::new(2, 10))
                .with(comp("a", Permanent))
                .with(comp("b", Permanent))
                .with(comp("c", Permanent)),
        ),
    );
    assert_eq!(sup.child_ended("a", Abnormal, 0).len(), 5);
    assert_eq!(sup.child_ended("c", Abnormal, 1).len(), 5);
    assert_eq!(sup.recent_restarts("g", 1), Some(2));
    assert_eq!(
        sup.child_ended("b", Abnormal, 2),
        [
            Stop("c"),
            Stop("a"),
            GroupFailed("g"),
            Start("a"),
            Start("b"),
            Start("c")
        ]
    );
}
