//! Differential reconfiguration: what changes between two trees.

use alloc::vec::Vec;

use crate::supervisor::Action;
use crate::tree::Tree;

/// The difference between an old and a new [`Tree`], component by
/// component (components are matched by name).
///
/// Every old component is in exactly one of `stop`, `restart` and `keep`;
/// every new one in exactly one of `start`, `restart` and `keep`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan<N> {
    /// Only in the old tree: to stop. In reverse start order of the old tree.
    pub stop: Vec<N>,
    /// Only in the new tree: to start. In start order of the new tree.
    pub start: Vec<N>,
    /// In both, but its specification changed or it moved to another group:
    /// to stop, then start anew. In start order of the new tree.
    pub restart: Vec<N>,
    /// In both, same specification in the same group: left alone (a change of
    /// its restart type alone lands here too: it only changes the policy).
    /// In start order of the new tree.
    pub keep: Vec<N>,
    /// Groups in both trees whose strategy, intensity or restart type changed:
    /// their children keep running under the new policy. In start order of
    /// the new tree.
    pub policy: Vec<N>,
    /// `stop` and `restart` together, in reverse start order of the old tree.
    stop_order: Vec<N>,
    /// `restart` and `start` together, in start order of the new tree.
    start_order: Vec<N>,
}

impl<N: Clone> Plan<N> {
    /// Whether applying it changes nothing at all.
    pub fn is_empty(&self) -> bool {
        self.stop.is_empty()
            && self.start.is_empty()
            && self.restart.is_empty()
            && self.policy.is_empty()
    }

    /// The components to stop — removed and to restart — in reverse start
    /// order of the old tree.
    pub fn stop_order(&self) -> &[N] {
        &self.stop_order
    }

    /// The components to start — to restart and added — in start order of
    /// the new tree.
    pub fn start_order(&self) -> &[N] {
        &self.start_order
    }

    /// The plan as actions, for a caller that tracks no running state: every
    /// [`Action::Stop`] of [`Self::stop_order`], then every [`Action::Start`]
    /// of [`Self::start_order`]. ([`crate::Supervisor::reconfigure`] also
    /// leaves out the stops of components that were not running.)
    pub fn actions(&self) -> Vec<Action<N>> {
        self.stop_order
            .iter()
            .cloned()
            .map(Action::Stop)
            .chain(self.start_order.iter().cloned().map(Action::Start))
            .collect()
    }
}

/// The plan that turns `old` into `new`.
///
/// A component is the same component if it has the same name. It is kept if
/// its specification (`S`) is equal and it is in the same group (same group
/// name, or the root group in both — the root's own name does not matter);
/// otherwise it is restarted. A group is the same group if it has the same
/// name (the roots always match); where it sits does not matter, so moving a
/// whole group restarts none of its components, and changing its strategy,
/// intensity or restart type only lists it in [`Plan::policy`].
pub fn plan<N: Ord + Clone, S: PartialEq>(old: &Tree<N, S>, new: &Tree<N, S>) -> Plan<N> {
    let mut plan = Plan {
        stop: Vec::new(),
        start: Vec::new(),
        restart: Vec::new(),
        keep: Vec::new(),
        policy: Vec::new(),
        stop_order: Vec::new(),
        start_order: Vec::new(),
    };

    for (i, node) in old.nodes.iter().enumerate().rev() {
        if !old.is_component(i) {
            continue;
        }
        match new.components.get(&node.name) {
            None => {
                plan.stop.push(node.name.clone());
                plan.stop_order.push(node.name.clone());
            }
            Some(&j) if changed(old, i, new, j) => plan.stop_order.push(node.name.clone()),
            Some(_) => {}
        }
    }

    for (j, node) in new.nodes.iter().enumerate() {
        if new.is_component(j) {
            match old.components.get(&node.name) {
                None => {
                    plan.start.push(node.name.clone());
                    plan.start_order.push(node.name.clone());
                }
                Some(&i) if changed(old, i, new, j) => {
                    plan.restart.push(node.name.clone());
                    plan.start_order.push(node.name.clone());
                }
                Some(_) => plan.keep.push(node.name.clone()),
            }
        } else {
            let matching = if j == 0 {
                Some(0)
            } else {
                old.nested_group_index(&node.name)
            };
            if let Some(i) = matching {
                let (mut before, mut after) = (old.group_policy(i), new.group_policy(j));
                if j == 0 {
                    // The root's restart type means nothing.
                    before = before.map(|(s, i, _)| (s, i, Default::default()));
                    after = after.map(|(s, i, _)| (s, i, Default::default()));
                }
                if before != after {
                    plan.policy.push(node.name.clone());
                }
            }
        }
    }
    plan
}

/// Whether the component at `i` in `old` and at `j` in `new` (same name)
/// must be restarted.
fn changed<N: Ord, S: PartialEq>(old: &Tree<N, S>, i: usize, new: &Tree<N, S>, j: usize) -> bool {
    old.spec_at(i) != new.spec_at(j) || old.place(i) != new.place(j)
}
