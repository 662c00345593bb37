//! The system configuration as a supervision tree: `abide_config`'s model
//! mapped onto `abide_supervise`'s, with each component's whole
//! configuration as its specification (so `config apply` restarts a
//! component exactly when something a running instance depends on changed).

use abide_config::{Child, Component, Group, RestartType, Strategy, System};
use abide_supervise as supervise;
use alloc::string::String;

/// The tree `init` supervises: components named by their names, specified
/// by their configuration.
pub type Tree = supervise::Tree<String, Component>;

/// The supervision tree of `system`. The configuration was validated, so
/// names are unique and the tree is well formed; an error here says which
/// rule the validation missed.
pub fn of(system: &System) -> Result<Tree, String> {
    supervise::Tree::new(group(&system.root))
        .map_err(|error| alloc::format!("the configuration is not a valid tree: {error:?}"))
}

fn group(group: &Group) -> supervise::Group<String, Component> {
    let mut out = supervise::Group::new(
        group.name.clone(),
        strategy(group.strategy),
        supervise::Intensity::new(group.intensity.restarts, group.intensity.seconds),
    );
    for child in &group.children {
        out = match child {
            Child::Component(c) => out.with(supervise::Component::new(
                c.name.clone(),
                restart(c.restart),
                c.clone(),
            )),
            Child::Group(g) => out.with(self::group(g)),
        };
    }
    out
}

fn strategy(strategy: Strategy) -> supervise::Strategy {
    match strategy {
        Strategy::OneForOne => supervise::Strategy::OneForOne,
        Strategy::OneForAll => supervise::Strategy::OneForAll,
        Strategy::RestForOne => supervise::Strategy::RestForOne,
    }
}

fn restart(restart: RestartType) -> supervise::RestartType {
    match restart {
        RestartType::Permanent => supervise::RestartType::Permanent,
        RestartType::Transient => supervise::RestartType::Transient,
        RestartType::Temporary => supervise::RestartType::Temporary,
    }
}
