//! Helpers shared by the supervisor's tests: small trees built by hand and a
//! booted supervisor.
#![allow(dead_code)]

use abide_supervise::Action::Start;
use abide_supervise::{Component, Group, Intensity, RestartType, Supervisor, Tree};

pub type Name = &'static str;

pub fn comp(name: Name, restart: RestartType) -> Component<Name, u32> {
    Component::new(name, restart, 0)
}

pub fn group(
    name: Name,
    strategy: abide_supervise::Strategy,
    intensity: Intensity,
) -> Group<Name, u32> {
    Group::new(name, strategy, intensity)
}

/// An intensity no test reaches.
pub const LAX: Intensity = Intensity::new(1000, 1);

pub fn booted(root: Group<Name, u32>) -> Supervisor<Name, u32> {
    let mut sup = Supervisor::new(Tree::new(root).unwrap());
    let boot = sup.boot();
    assert!(boot.iter().all(|a| matches!(a, Start(_))), "{boot:?}");
    sup
}

pub fn running(sup: &Supervisor<Name, u32>) -> Vec<Name> {
    sup.running().copied().collect()
}
