//! Power cuts: a child lost when the machine restores from a checkpoint
//! starts afresh without counting as a crash.

mod support;

use abide_supervise::Action::Start;
use abide_supervise::Intensity;
use abide_supervise::RestartType::{Permanent, Temporary};
use abide_supervise::Strategy::{OneForAll, OneForOne};
use support::*;

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
