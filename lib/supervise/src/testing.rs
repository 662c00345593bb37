//! Random supervision trees for property tests, shared by this crate's
//! unit tests and the tests in `tests/` (feature `testing`).

use alloc::format;
use alloc::string::String;
use alloc::vec;

use proptest::prelude::*;

use crate::RestartType::{Permanent, Temporary, Transient};
use crate::Strategy::{OneForAll, OneForOne, RestForOne};
use crate::{Component, Group, Intensity, RestartType, Tree};

/// One node of a random tree, after the root: a component or a group, whose
/// parent is one of the groups made before it.
#[derive(Debug, Clone)]
pub struct NodeGen {
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

/// A random tree of up to 14 nodes with names `g0` (the root), `gK` and `cK`.
pub fn random_tree() -> impl proptest::strategy::Strategy<Value = Tree<String, u32>> {
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

/// The tree of `root` and `nodes`, each under the group its `parent` picks.
fn build(root: Group<String, u32>, nodes: &[NodeGen]) -> Tree<String, u32> {
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
