//! Escalation: a group that exceeds its intensity fails into its parent,
//! up to the first group that copes or to the root, which shuts the system
//! down; a restarted group starts afresh. Also stopping and booting, lookups
//! by borrowed names, and the worked example of docs/supervision.md.

mod support;

use abide_supervise::Action::{GroupFailed, Shutdown, Start, Stop};
use abide_supervise::Ending::{Abnormal, Normal};
use abide_supervise::RestartType::{Permanent, Temporary, Transient};
use abide_supervise::Strategy::{OneForAll, OneForOne, RestForOne};
use abide_supervise::{Component, Group, Intensity, RestartType, Supervisor, Tree};
use support::*;

// ---- Escalation --------------------------------------------------------------

/// root > [top, mid (`mid_strategy`, `mid`) > [m1, leaf (one_for_one, R = 0) > [x, y], m2]].
fn three_levels(
    root: Intensity,
    mid_strategy: abide_supervise::Strategy,
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
