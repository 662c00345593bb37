//! Reconfiguring a running supervisor: what it stops, starts and keeps.

mod support;

use abide_supervise::Action::{GroupFailed, Start, Stop};
use abide_supervise::Ending::{Abnormal, Normal};
use abide_supervise::RestartType::{Permanent, Temporary, Transient};
use abide_supervise::Strategy::{OneForAll, OneForOne};
use abide_supervise::{Component, Intensity, Tree};
use support::*;

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
