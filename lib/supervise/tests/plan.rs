//! Differential reconfiguration: the plan from one tree to another stops
//! and starts exactly what changed, in order.

mod support;

use std::collections::BTreeSet;
use std::string::String;
use std::vec::Vec;

use proptest::prelude::*;

use abide_supervise::testing::random_tree;
use abide_supervise::Action::{Start, Stop};
use abide_supervise::RestartType::{Permanent, Temporary, Transient};
use abide_supervise::Strategy::{OneForAll, OneForOne, RestForOne};
use abide_supervise::{plan, Child, Component, Group, Intensity, Tree, TreeError};

type Name = &'static str;

fn comp(name: Name, spec: u32) -> Child<Name, u32> {
    Component::new(name, Permanent, spec).into()
}

fn tree(root: Group<Name, u32>) -> Tree<Name, u32> {
    Tree::new(root).unwrap()
}

fn root() -> Group<Name, u32> {
    Group::new("root", OneForOne, Intensity::default())
}

fn group(name: Name) -> Group<Name, u32> {
    Group::new(name, OneForOne, Intensity::default())
}

#[test]
fn identical_trees_change_nothing() {
    let t = tree(
        root()
            .with(comp("a", 0))
            .with(group("g").with(comp("b", 0))),
    );
    let p = plan(&t, &t);
    assert!(p.is_empty());
    assert_eq!(p.keep, ["a", "b"]);
    assert_eq!(p.actions(), []);
}

#[test]
fn added_removed_changed_unchanged() {
    let old = tree(
        root()
            .with(comp("unchanged", 0))
            .with(comp("removed1", 0))
            .with(comp("changed", 0))
            .with(comp("removed2", 0)),
    );
    let new = tree(
        root()
            .with(comp("added1", 0))
            .with(comp("unchanged", 0))
            .with(comp("changed", 1))
            .with(comp("added2", 0)),
    );
    let p = plan(&old, &new);
    assert_eq!(p.stop, ["removed2", "removed1"]);
    assert_eq!(p.start, ["added1", "added2"]);
    assert_eq!(p.restart, ["changed"]);
    assert_eq!(p.keep, ["unchanged"]);
    assert_eq!(p.policy, Vec::<Name>::new());
    assert_eq!(p.stop_order(), ["removed2", "changed", "removed1"]);
    assert_eq!(p.start_order(), ["added1", "changed", "added2"]);
    assert_eq!(
        p.actions(),
        [
            Stop("removed2"),
            Stop("changed"),
            Stop("removed1"),
            Start("added1"),
            Start("changed"),
            Start("added2"),
        ]
    );
    assert!(!p.is_empty());
}

#[test]
fn a_moved_component_is_restarted() {
    let old = tree(
        root()
            .with(comp("stays", 0))
            .with(comp("to_g", 0))
            .with(group("g").with(comp("to_root", 0)).with(comp("to_h", 0)))
            .with(group("h")),
    );
    let new = tree(
        root()
            .with(comp("stays", 0))
            .with(comp("to_root", 0))
            .with(group("g").with(comp("to_g", 0)))
            .with(group("h").with(comp("to_h", 0))),
    );
    let p = plan(&old, &new);
    assert_eq!(p.restart, ["to_root", "to_g", "to_h"]);
    assert_eq!(p.keep, ["stays"]);
    assert_eq!(p.stop_order(), ["to_h", "to_root", "to_g"]);
    assert!(p.stop.is_empty() && p.start.is_empty() && p.policy.is_empty());
}

#[test]
fn a_group_policy_change_restarts_nothing() {
    let old = tree(
        root().with(
            Group::new("g", OneForOne, Intensity::new(1, 5))
                .with(comp("a", 0))
                .with(comp("b", 0)),
        ),
    );
    for changed in [
        Group::new("g", OneForAll, Intensity::new(1, 5)),
        Group::new("g", OneForOne, Intensity::new(2, 5)),
        Group::new("g", OneForOne, Intensity::new(1, 6)),
        Group::new("g", OneForOne, Intensity::new(1, 5)).with_restart(Transient),
    ] {
        let new = tree(root().with(changed.clone().with(comp("a", 0)).with(comp("b", 0))));
        let p = plan(&old, &new);
        assert_eq!(p.policy, ["g"], "{changed:?}");
        assert_eq!(p.keep, ["a", "b"]);
        assert_eq!(p.actions(), []);
        assert!(!p.is_empty());
    }
}

#[test]
fn the_root_is_the_root_whatever_its_name() {
    let old = tree(root().with(comp("a", 0)));
    let new = tree(Group::new("system", RestForOne, Intensity::default()).with(comp("a", 0)));
    let p = plan(&old, &new);
    assert_eq!(p.keep, ["a"]);
    assert_eq!(p.policy, ["system"]);
    // The root's restart type means nothing.
    let new = tree(root().with_restart(Temporary).with(comp("a", 0)));
    assert!(plan(&old, &new).is_empty());
    // A nested group named like the old root is another group.
    let new = tree(
        Group::new("system", OneForOne, Intensity::default())
            .with(group("root").with(comp("a", 0))),
    );
    assert_eq!(plan(&old, &new).restart, ["a"]);
}

#[test]
fn moving_a_group_keeps_its_components() {
    let old = tree(
        root()
            .with(group("outer"))
            .with(group("g").with(comp("a", 0))),
    );
    let new = tree(root().with(group("outer").with(group("g").with(comp("a", 0)))));
    let p = plan(&old, &new);
    assert!(p.is_empty());
    assert_eq!(p.keep, ["a"]);
}

#[test]
fn added_and_removed_groups() {
    let old = tree(root().with(group("old").with(comp("a", 0)).with(comp("b", 0))));
    let new = tree(root().with(group("new").with(comp("c", 0)).with(comp("d", 0))));
    let p = plan(&old, &new);
    assert_eq!(p.actions(), [Stop("b"), Stop("a"), Start("c"), Start("d")]);
    assert!(p.policy.is_empty());
}

#[test]
fn a_restart_type_change_alone_is_a_policy_change() {
    let old = tree(root().with(comp("a", 0)));
    let new = tree(root().with(Component::new("a", Temporary, 0)));
    let p = plan(&old, &new);
    assert_eq!(p.keep, ["a"]);
    assert!(p.actions().is_empty());
}

#[test]
fn duplicate_names_are_refused() {
    assert_eq!(
        Tree::new(
            root()
                .with(comp("a", 0))
                .with(group("g").with(comp("a", 1)))
        ),
        Err(TreeError::DuplicateComponent("a"))
    );
    assert_eq!(
        Tree::new(root().with(group("g")).with(group("g"))),
        Err(TreeError::DuplicateGroup("g"))
    );
    assert_eq!(
        Tree::new(root().with(group("root"))),
        Err(TreeError::DuplicateGroup("root"))
    );
    assert_eq!(
        std::format!("{}", TreeError::DuplicateGroup("g")),
        "two groups are named `g`"
    );
    // Components and groups have their own names.
    assert!(Tree::new(root().with(group("a").with(comp("a", 0)))).is_ok());
}

#[test]
fn tree_queries() {
    let t = tree(root().with(comp("a", 7)).with(
        Group::new("g", RestForOne, Intensity::new(4, 2)).with(Component::new("b", Transient, 8)),
    ));
    assert_eq!(t.root(), &"root");
    assert_eq!(t.components().copied().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(t.groups().copied().collect::<Vec<_>>(), ["root", "g"]);
    assert_eq!(t.spec("b"), Some(&8));
    assert_eq!(t.spec("g"), None);
    assert_eq!(t.restart_type("b"), Some(Transient));
    assert_eq!(t.group_of("b"), Some(&"g"));
    assert_eq!(t.group_of("a"), Some(&"root"));
    assert_eq!(t.policy("g"), Some((RestForOne, Intensity::new(4, 2))));
    assert_eq!(t.policy("a"), None);
}

fn position(order: &[String], name: &String) -> usize {
    order.iter().position(|n| n == name).unwrap()
}

/// Where a component sits, as the plan compares it: under the root (whatever
/// the root's name), or in the group named.
fn place<'t>(tree: &'t Tree<String, u32>, name: &String) -> Option<&'t String> {
    let group = tree.group_of(name).unwrap();
    (group != tree.root()).then_some(group)
}

fn in_order(list: &[String], order: &[String]) -> bool {
    list.windows(2)
        .all(|w| position(order, &w[0]) < position(order, &w[1]))
}

proptest! {
    #[test]
    fn plans_partition_and_order(old in random_tree(), new in random_tree()) {
        let p = plan(&old, &new);
        let old_order: Vec<String> = old.components().cloned().collect();
        let new_order: Vec<String> = new.components().cloned().collect();
        let set = |v: &[String]| v.iter().cloned().collect::<BTreeSet<_>>();

        // Every old component is stopped, restarted or kept; every new one
        // started, restarted or kept; exactly once.
        let mut from_old: Vec<String> = p.stop.iter().chain(&p.restart).chain(&p.keep).cloned().collect();
        from_old.sort();
        let mut sorted_old = old_order.clone();
        sorted_old.sort();
        prop_assert_eq!(from_old, sorted_old);
        let mut from_new: Vec<String> = p.start.iter().chain(&p.restart).chain(&p.keep).cloned().collect();
        from_new.sort();
        let mut sorted_new = new_order.clone();
        sorted_new.sort();
        prop_assert_eq!(from_new, sorted_new);

        // Kept means the same specification in the same place.
        for name in &p.keep {
            prop_assert_eq!(old.spec(name), new.spec(name));
            prop_assert!(place(&old, name) == place(&new, name));
        }
        for name in &p.restart {
            prop_assert!(old.spec(name) != new.spec(name) || place(&old, name) != place(&new, name));
        }

        // Orders.
        let reversed: Vec<String> = old_order.iter().rev().cloned().collect();
        prop_assert!(in_order(&p.stop, &reversed));
        prop_assert!(in_order(p.stop_order(), &reversed));
        prop_assert!(in_order(&p.start, &new_order));
        prop_assert!(in_order(&p.restart, &new_order));
        prop_assert!(in_order(&p.keep, &new_order));
        prop_assert!(in_order(p.start_order(), &new_order));
        prop_assert_eq!(set(p.stop_order()), &set(&p.stop) | &set(&p.restart));
        prop_assert_eq!(set(p.start_order()), &set(&p.start) | &set(&p.restart));

        // Applying the actions to everything old running gives everything new.
        let mut running = set(&old_order);
        for action in p.actions() {
            match action {
                Stop(n) => prop_assert!(running.remove(&n)),
                Start(n) => prop_assert!(running.insert(n)),
                _ => prop_assert!(false),
            }
        }
        prop_assert_eq!(running, set(&new_order));

        // Nothing changes from a tree to itself.
        prop_assert!(plan(&new, &new).is_empty());
    }
}
