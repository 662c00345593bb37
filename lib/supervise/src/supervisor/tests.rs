use std::collections::BTreeSet;
use std::format;
use std::string::String;
use std::vec;
use std::vec::Vec;

use proptest::prelude::*;

use crate::Action::{GroupFailed, Shutdown, Start, Stop};
use crate::Ending::{Abnormal, Normal};
use crate::RestartType::{Permanent, Temporary, Transient};
use crate::Strategy::{OneForAll, OneForOne, RestForOne};
use crate::{Action, Component, Ending, Group, Intensity, RestartType, Supervisor, Tree};

type Name = &'static str;

fn comp(name: Name, restart: RestartType) -> Component<Name, u32> {
    Component::new(name, restart, 0)
}

fn group(name: Name, strategy: crate::Strategy, intensity: Intensity) -> Group<Name, u32> {
    Group::new(name, strategy, intensity)
}

/// An intensity no test reaches.
const LAX: Intensity = Intensity::new(1000, 1);

fn booted(root: Group<Name, u32>) -> Supervisor<Name, u32> {
    let mut sup = Supervisor::new(Tree::new(root).unwrap());
    let boot = sup.boot();
    assert!(boot.iter().all(|a| matches!(a, Start(_))), "{boot:?}");
    sup
}

fn running(sup: &Supervisor<Name, u32>) -> Vec<Name> {
    sup.running().copied().collect()
}

// ---- Strategies × restart types × endings -----------------------------------

#[test]
fn every_strategy_restart_type_and_ending() {
    let all_restarted = &[Stop("c"), Stop("a"), Start("a"), Start("b"), Start("c")][..];
    let rest_restarted = &[Stop("c"), Start("b"), Start("c")][..];
    let only_b = &[Start("b")][..];
    let nothing = &[][..];
    #[rustfmt::skip]
    let table: &[(crate::Strategy, RestartType, Ending, &[Action<Name>])] = &[
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
    let table: &[(crate::Strategy, RestartType, bool, &[Action<Name>])] = &[
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

// ---- Escalation --------------------------------------------------------------

/// root > [top, mid (`mid_strategy`, `mid`) > [m1, leaf (one_for_one, R = 0) > [x, y], m2]].
fn three_levels(
    root: Intensity,
    mid_strategy: crate::Strategy,
    mid: Intensity,
    leaf_restart: RestartType,
) -> Supervisor<Name, u32> {
    booted(
        group("root", OneForOne, root)
            .with(comp("top", Permanent))
            .with(
                group("mid", mid_strategy, mid)
                    .with(comp("m1", Permanent))
                    .with(
                        group("leaf", OneForOne, Intensity::new(0, 1))
                            .with_restart(leaf_restart)
                            .with(comp("x", Permanent))
                            .with(comp("y", Permanent)),
                    )
                    .with(comp("m2", Permanent)),
            ),
    )
}

#[test]
fn escalation_through_three_levels() {
    let mut sup = three_levels(LAX, OneForOne, Intensity::new(0, 1), Permanent);
    assert_eq!(
        sup.child_ended("x", Abnormal, 0),
        [
            Stop("y"),
            GroupFailed("leaf"),
            Stop("m2"),
            Stop("m1"),
            GroupFailed("mid"),
            Start("m1"),
            Start("x"),
            Start("y"),
            Start("m2"),
        ]
    );
    assert_eq!(running(&sup), ["top", "m1", "x", "y", "m2"]);
    assert_eq!(sup.recent_restarts("root", 0), Some(1));
    // mid and leaf start over with fresh histories.
    assert_eq!(sup.recent_restarts("mid", 0), Some(0));
    assert_eq!(
        sup.child_ended("m1", Abnormal, 0),
        [
            Stop("m2"),
            Stop("y"),
            Stop("x"),
            GroupFailed("mid"),
            Start("m1"),
            Start("x"),
            Start("y"),
            Start("m2")
        ]
    );
}

#[test]
fn escalation_stops_at_the_first_group_that_copes() {
    let mut sup = three_levels(LAX, OneForAll, LAX, Permanent);
    assert_eq!(
        sup.child_ended("y", Normal, 0),
        [
            Stop("x"),
            GroupFailed("leaf"),
            Stop("m2"),
            Stop("m1"),
            Start("m1"),
            Start("x"),
            Start("y"),
            Start("m2"),
        ]
    );
    assert_eq!(sup.recent_restarts("mid", 0), Some(1));
    assert_eq!(sup.recent_restarts("root", 0), Some(0));
}

#[test]
fn root_failure_shuts_the_system_down() {
    let mut sup = three_levels(
        Intensity::new(0, 1),
        OneForOne,
        Intensity::new(0, 1),
        Permanent,
    );
    assert_eq!(
        sup.child_ended("x", Abnormal, 0),
        [
            Stop("y"),
            GroupFailed("leaf"),
            Stop("m2"),
            Stop("m1"),
            GroupFailed("mid"),
            Stop("top"),
            GroupFailed("root"),
            Shutdown,
        ]
    );
    assert_eq!(running(&sup), Vec::<Name>::new());
    assert_eq!(sup.child_ended("top", Abnormal, 1), []);
    // A new boot starts everything again.
    assert_eq!(sup.boot().len(), 5);
}

#[test]
fn root_failure_from_a_direct_child() {
    let mut sup = booted(
        group("root", RestForOne, Intensity::new(1, 1))
            .with(comp("a", Permanent))
            .with(comp("b", Permanent)),
    );
    assert_eq!(
        sup.child_ended("a", Abnormal, 0),
        [Stop("b"), Start("a"), Start("b")]
    );
    assert_eq!(
        sup.child_ended("b", Abnormal, 1000),
        [Stop("a"), GroupFailed("root"), Shutdown]
    );
}

#[test]
fn the_restart_type_of_a_failed_group_in_its_parent() {
    // Temporary: the failed group stays down and nothing is counted.
    let mut sup = three_levels(LAX, OneForOne, Intensity::new(0, 1), Temporary);
    assert_eq!(
        sup.child_ended("x", Abnormal, 0),
        [Stop("y"), GroupFailed("leaf")]
    );
    assert_eq!(running(&sup), ["top", "m1", "m2"]);
    assert_eq!(sup.recent_restarts("mid", 0), Some(0));

    // ... and is not restarted with its siblings either.
    let mut sup = three_levels(LAX, OneForAll, LAX, Temporary);
    assert_eq!(
        sup.child_ended("x", Abnormal, 0),
        [Stop("y"), GroupFailed("leaf")]
    );
    assert_eq!(
        sup.child_ended("m1", Abnormal, 1),
        [Stop("m2"), Start("m1"), Start("m2")]
    );
    assert_eq!(running(&sup), ["top", "m1", "m2"]);

    // Transient: a failure is abnormal, so it is restarted.
    let mut sup = three_levels(LAX, OneForOne, LAX, Transient);
    assert_eq!(
        sup.child_ended("x", Abnormal, 0),
        [Stop("y"), GroupFailed("leaf"), Start("x"), Start("y")]
    );
}

/// A group restarted by its parent starts afresh: its temporary and ended
/// transient components start too.
#[test]
fn a_restarted_group_starts_all_its_components() {
    let mut sup = booted(
        group("root", OneForAll, LAX)
            .with(comp("a", Permanent))
            .with(
                group("g", OneForOne, LAX)
                    .with(comp("temp", Temporary))
                    .with(comp("trans", Transient))
                    .with(comp("perm", Permanent)),
            ),
    );
    assert_eq!(sup.child_ended("temp", Normal, 0), []);
    assert_eq!(sup.child_ended("trans", Normal, 0), []);
    assert_eq!(sup.child_ended("perm", Abnormal, 0), [Start("perm")]);
    assert_eq!(sup.recent_restarts("g", 0), Some(1));
    assert_eq!(
        sup.child_ended("a", Abnormal, 1),
        [
            Stop("perm"),
            Start("a"),
            Start("temp"),
            Start("trans"),
            Start("perm")
        ]
    );
    assert_eq!(sup.recent_restarts("g", 1), Some(0));
}

#[test]
fn stop_all_and_boot() {
    let mut sup = three_levels(LAX, OneForOne, LAX, Permanent);
    assert_eq!(sup.child_ended("m2", Abnormal, 0), [Start("m2")]);
    assert_eq!(
        sup.boot(),
        ["m2", "y", "x", "m1", "top"]
            .map(Stop)
            .into_iter()
            .chain(["top", "m1", "x", "y", "m2"].map(Start))
            .collect::<Vec<_>>()
    );
    assert_eq!(sup.recent_restarts("mid", 0), Some(0));
    assert_eq!(sup.stop_all(), ["m2", "y", "x", "m1", "top"].map(Stop));
    assert_eq!(sup.stop_all(), []);
}

#[test]
fn lookups_by_borrowed_names() {
    let root = Group::new(String::from("root"), OneForOne, LAX).with(Component::new(
        String::from("a"),
        Permanent,
        (),
    ));
    let mut sup = Supervisor::new(Tree::new(root).unwrap());
    assert_eq!(sup.boot(), [Start(String::from("a"))]);
    assert!(sup.is_running("a"));
    assert_eq!(
        sup.child_ended("a", Abnormal, 0),
        [Start(String::from("a"))]
    );
    assert_eq!(sup.recent_restarts("root", 0), Some(1));
    assert_eq!(sup.tree().group_of("a").map(String::as_str), Some("root"));
}

/// The worked example of docs/supervision.md.
#[test]
fn the_worked_example() {
    let example = |system: Intensity| {
        booted(
            group("system", OneForOne, system)
                .with(comp("log", Permanent))
                .with(
                    group("net", RestForOne, Intensity::new(1, 5))
                        .with(comp("driver", Permanent))
                        .with(comp("stack", Permanent))
                        .with(comp("dhcp", Transient)),
                ),
        )
    };
    let mut sup = example(Intensity::new(3, 10));
    assert_eq!(sup.child_ended("dhcp", Normal, 1_000), []);
    assert_eq!(
        sup.child_ended("driver", Abnormal, 2_000),
        [
            Stop("stack"),
            Start("driver"),
            Start("stack"),
            Start("dhcp")
        ]
    );
    assert_eq!(
        sup.child_ended("stack", Abnormal, 6_500),
        [
            Stop("dhcp"),
            Stop("driver"),
            GroupFailed("net"),
            Start("driver"),
            Start("stack"),
            Start("dhcp"),
        ]
    );
    assert_eq!(
        sup.child_ended("stack", Abnormal, 7_000),
        [Stop("dhcp"), Start("stack"), Start("dhcp")]
    );

    let mut sup = example(Intensity::new(0, 10));
    assert_eq!(sup.child_ended("dhcp", Normal, 1_000), []);
    assert_eq!(sup.child_ended("driver", Abnormal, 2_000).len(), 4);
    assert_eq!(
        sup.child_ended("stack", Abnormal, 6_500),
        [
            Stop("dhcp"),
            Stop("driver"),
            GroupFailed("net"),
            Stop("log"),
            GroupFailed("system"),
            Shutdown,
        ]
    );
}

// ---- Reconfiguring a running supervisor --------------------------------------

#[test]
fn reconfigure_a_running_supervisor() {
    let old = group("root", OneForOne, LAX)
        .with(comp("kept", Permanent))
        .with(comp("ended", Transient))
        .with(comp("changed", Permanent))
        .with(comp("changed_ended", Temporary))
        .with(comp("removed", Permanent))
        .with(comp("removed_ended", Temporary))
        .with(group("g", OneForOne, Intensity::new(5, 10)).with(comp("in_g", Permanent)));
    let mut sup = booted(old);
    for name in ["ended", "changed_ended", "removed_ended"] {
        assert_eq!(sup.child_ended(name, Normal, 0), []);
    }
    assert_eq!(sup.child_ended("in_g", Abnormal, 0), [Start("in_g")]);

    let new = group("root", OneForAll, LAX)
        .with(comp("added", Permanent))
        .with(comp("kept", Permanent))
        .with(comp("ended", Transient))
        .with(Component::new("changed", Permanent, 1))
        .with(Component::new("changed_ended", Temporary, 1))
        .with(group("g", OneForAll, Intensity::new(1, 10)).with(comp("in_g", Transient)));
    let r = sup.reconfigure(Tree::new(new).unwrap());
    assert_eq!(r.plan.stop, ["removed_ended", "removed"]);
    assert_eq!(r.plan.restart, ["changed", "changed_ended"]);
    assert_eq!(r.plan.start, ["added"]);
    assert_eq!(r.plan.keep, ["kept", "ended", "in_g"]);
    assert_eq!(r.plan.policy, ["root", "g"]);
    assert_eq!(
        r.actions,
        [
            Stop("removed"),
            Stop("changed"),
            Start("added"),
            Start("changed"),
            Start("changed_ended")
        ]
    );
    assert_eq!(
        running(&sup),
        ["added", "kept", "changed", "changed_ended", "in_g"]
    );
    // g kept its history under its new policy: one more restart fails it.
    assert_eq!(sup.restart_history("g"), Some(&[0][..]));
    assert_eq!(
        sup.child_ended("in_g", Abnormal, 1),
        [
            GroupFailed("g"),
            Stop("changed_ended"),
            Stop("changed"),
            Stop("kept"),
            Stop("added"),
            Start("added"),
            Start("kept"),
            Start("ended"),
            Start("changed"),
            Start("in_g")
        ]
    );
}

// ---- Properties ----------------------------------------------------------------

/// One node of a random tree, after the root: a component or a group, whose
/// parent is one of the groups made before it.
#[derive(Debug, Clone)]
pub(crate) struct NodeGen {
    group: bool,
    parent: usize,
    restart: RestartType,
    strategy: crate::Strategy,
    intensity: Intensity,
    spec: u32,
}

fn restart_type() -> impl proptest::strategy::Strategy<Value = RestartType> {
    prop_oneof![Just(Permanent), Just(Transient), Just(Temporary)]
}

fn strategy() -> impl proptest::strategy::Strategy<Value = crate::Strategy> {
    prop_oneof![Just(OneForOne), Just(OneForAll), Just(RestForOne)]
}

fn node() -> impl proptest::strategy::Strategy<Value = NodeGen> {
    (
        prop::bool::weighted(0.3),
        any::<usize>(),
        restart_type(),
        strategy(),
        0u32..3,
        0u32..4,
        0u32..2,
    )
        .prop_map(|(group, parent, restart, strategy, r, t, spec)| NodeGen {
            group,
            parent,
            restart,
            strategy,
            intensity: Intensity::new(r, t),
            spec,
        })
}

/// A tree of up to 14 nodes with names `g0` (the root), `gK` and `cK`.
pub(crate) fn tree() -> impl proptest::strategy::Strategy<Value = Tree<String, u32>> {
    (
        strategy(),
        0u32..4,
        0u32..4,
        prop::collection::vec(node(), 0..14),
    )
        .prop_map(|(strategy, r, t, nodes)| {
            build(
                Group::new(String::from("g0"), strategy, Intensity::new(r, t)),
                &nodes,
            )
        })
}

pub(crate) fn build(root: Group<String, u32>, nodes: &[NodeGen]) -> Tree<String, u32> {
    // Which generated node each group is (0: the root), and each node's
    // parent among them.
    let mut groups = vec![0usize];
    let mut parent_of = vec![0usize; nodes.len() + 1];
    for (k, n) in nodes.iter().enumerate() {
        parent_of[k + 1] = groups[n.parent % groups.len()];
        if n.group {
            groups.push(k + 1);
        }
    }
    fn make(
        k: usize,
        g: Group<String, u32>,
        nodes: &[NodeGen],
        parent_of: &[usize],
    ) -> Group<String, u32> {
        let mut g = g;
        for (j, n) in nodes.iter().enumerate() {
            if parent_of[j + 1] != k {
                continue;
            }
            if n.group {
                let child = Group::new(format!("g{}", j + 1), n.strategy, n.intensity)
                    .with_restart(n.restart);
                g = g.with(make(j + 1, child, nodes, parent_of));
            } else {
                g = g.with(Component::new(format!("c{}", j + 1), n.restart, n.spec));
            }
        }
        g
    }
    Tree::new(make(0, root, nodes, &parent_of)).unwrap()
}

/// Reports the ending of component number `pick` (of all, running or not)
/// and checks every rule against what came out.
fn check_ending(
    sup: &mut Supervisor<String, u32>,
    model: &mut BTreeSet<String>,
    pick: usize,
    ending: Ending,
    now: u64,
) -> Result<(), TestCaseError> {
    let tree = sup.tree().clone();
    let names: Vec<&String> = tree.components().collect();
    if names.is_empty() {
        return Ok(());
    }
    let name = names[pick % names.len()].clone();
    let c = tree.components[&name];
    let before = sup.state.restarts.clone();
    let was_running = model.contains(&name);
    prop_assert_eq!(was_running, sup.is_running(&name));

    let actions = sup.child_ended(&name, ending, now);
    if !was_running {
        prop_assert!(actions.is_empty());
        return Ok(());
    }
    model.remove(&name);

    // Replay the actions on the model: never start what runs, never stop
    // what does not; groups fail in a chain upwards from the component.
    let mut top = c; // the node whose ending the last group handled
    let mut failed = Vec::new();
    for (k, action) in actions.iter().enumerate() {
        match action {
            Start(n) => {
                prop_assert!(tree.components.contains_key(n));
                prop_assert!(model.insert(n.clone()), "started {} while it runs", n);
            }
            Stop(n) => {
                prop_assert!(tree.components.contains_key(n));
                prop_assert!(model.remove(n), "stopped {} which does not run", n);
            }
            GroupFailed(g) => {
                let g = tree.groups[g];
                prop_assert_eq!(Some(g), tree.nodes[top].parent, "failures go up the chain");
                for i in tree.range(g) {
                    prop_assert!(
                        !model.contains(&tree.nodes[i].name),
                        "a failed group stopped everything"
                    );
                }
                failed.push(g);
                top = g;
            }
            Shutdown => {
                prop_assert_eq!(k, actions.len() - 1);
                prop_assert_eq!(top, 0);
                prop_assert!(model.is_empty());
            }
        }
    }
    prop_assert_eq!(top == 0, actions.last() == Some(&Shutdown));
    for n in tree.components() {
        prop_assert_eq!(model.contains(n), sup.is_running(n));
    }

    // Nothing outside the group that handled the ending is touched.
    let handler = tree.nodes[top].parent;
    let scope = handler.map_or(0..tree.nodes.len(), |h| tree.range(h));
    for action in &actions {
        if let Start(n) | Stop(n) = action {
            prop_assert!(
                scope.contains(&tree.components[n]),
                "{} is outside the group",
                n
            );
        }
    }

    // The intensity rule: each group that failed already held R restarts in
    // its window, and this one made R + 1.
    let mut escalating = (c, ending);
    for &g in &failed {
        let (_, intensity, _) = tree.group_policy(g).unwrap();
        prop_assert!(tree.nodes[escalating.0]
            .restart
            .restarts_after(escalating.1));
        let counted = before[g]
            .iter()
            .filter(|&&t| intensity.counts(t, now))
            .count();
        prop_assert_eq!(counted, intensity.restarts as usize);
        escalating = (g, Abnormal);
    }
    if let Some(h) = handler {
        let (_, intensity, _) = tree.group_policy(h).unwrap();
        let restarted = tree.nodes[top].restart.restarts_after(escalating.1);
        if restarted {
            let mut expected: Vec<u64> = before[h]
                .iter()
                .copied()
                .filter(|&t| intensity.counts(t, now))
                .collect();
            prop_assert!(expected.len() < intensity.restarts as usize);
            expected.push(now);
            prop_assert_eq!(&sup.state.restarts[h], &expected);
            for i in tree.range(top) {
                if tree.is_component(i) {
                    prop_assert!(
                        model.contains(&tree.nodes[i].name),
                        "the ended child's subtree restarts whole"
                    );
                }
            }
        } else {
            prop_assert_eq!(&sup.state.restarts[h], &before[h]);
            prop_assert!(!actions.iter().any(|a| matches!(a, Start(_))));
        }
    }
    // And no group ever holds more than R restarts.
    for (i, history) in sup.state.restarts.iter().enumerate() {
        if let Some((_, intensity, _)) = tree.group_policy(i) {
            prop_assert!(history.len() <= intensity.restarts as usize);
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn random_endings_follow_the_rules(
        tree in tree(),
        events in prop::collection::vec((any::<usize>(), any::<bool>(), 0u64..2_500), 0..80),
    ) {
        let mut sup = Supervisor::new(tree);
        let mut model: BTreeSet<String> = BTreeSet::new();
        for action in sup.boot() {
            let Start(n) = action else { panic!("boot only starts") };
            prop_assert!(model.insert(n));
        }
        let mut now = 0;
        for (pick, abnormal, dt) in events {
            now += dt;
            let ending = if abnormal { Abnormal } else { Normal };
            check_ending(&mut sup, &mut model, pick, ending, now)?;
        }
    }

    #[test]
    fn reconfiguring_never_starts_what_runs(
        old in tree(),
        new in tree(),
        events in prop::collection::vec((any::<usize>(), any::<bool>(), 0u64..2_500), 0..20),
    ) {
        let mut sup = Supervisor::new(old);
        let mut model: BTreeSet<String> = BTreeSet::new();
        model.extend(sup.boot().into_iter().map(|a| match a { Start(n) => n, _ => unreachable!() }));
        let mut now = 0;
        for (pick, abnormal, dt) in events {
            now += dt;
            check_ending(&mut sup, &mut model, pick, if abnormal { Abnormal } else { Normal }, now)?;
        }
        let was_running = model.clone();
        let r = sup.reconfigure(new.clone());
        let mut starting = false;
        for action in &r.actions {
            match action {
                Stop(n) => {
                    prop_assert!(!starting, "stops come first");
                    prop_assert!(model.remove(n));
                }
                Start(n) => {
                    starting = true;
                    prop_assert!(model.insert(n.clone()));
                }
                _ => prop_assert!(false, "only stops and starts"),
            }
        }
        // What runs now: what was kept and ran, and everything (re)started.
        let expected: BTreeSet<String> = new
            .components()
            .filter(|n| r.plan.start.contains(n) || r.plan.restart.contains(n) || (r.plan.keep.contains(n) && was_running.contains(*n)))
            .cloned()
            .collect();
        prop_assert_eq!(&model, &expected);
        let runs: BTreeSet<String> = sup.running().cloned().collect();
        prop_assert_eq!(&runs, &expected);
        // And the supervisor goes on following the rules.
        check_ending(&mut sup, &mut model, 0, Abnormal, now + 1)?;
    }
}

// ---- Power cuts ---------------------------------------------------------------

#[test]
fn a_child_lost_at_a_power_cut_starts_afresh_without_counting_as_a_crash() {
    // One restart in the whole period would fail the group; a restore that
    // ends every driver several times over must not.
    let strict = Intensity::new(1, 60_000);
    let mut sup = booted(
        group("root", OneForOne, LAX)
            .with(comp("a", Temporary))
            .with(group("drivers", OneForAll, strict).with(comp("b", Permanent))),
    );
    for _ in 0..5 {
        assert_eq!(sup.child_lost("b"), vec![Start("b")]);
        // Even a temporary component comes back: it would have at boot.
        assert_eq!(sup.child_lost("a"), vec![Start("a")]);
    }
    assert_eq!(sup.recent_restarts("drivers", 0), Some(0));
    assert_eq!(running(&sup), vec!["a", "b"]);
    // A component that is not running is left alone.
    let _ = sup.stop_all();
    assert_eq!(sup.child_lost("b"), vec![]);
    assert_eq!(sup.child_lost("nosuch"), vec![]);
}
