//! The supervisor state machine: what to do when a component ends.

use alloc::vec::Vec;
use core::borrow::Borrow;
use core::ops::Range;

use crate::plan::{plan, Plan};
use crate::tree::{Kind, RestartType, Strategy, Tree};

/// How a component's process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ending {
    /// It exited with status 0.
    Normal,
    /// It faulted, was killed, exited with a nonzero status, or could not be
    /// started at all.
    Abnormal,
}

impl Ending {
    /// The ending of a process that called `exit(code)`.
    pub const fn from_exit_code(code: i32) -> Ending {
        if code == 0 {
            Ending::Normal
        } else {
            Ending::Abnormal
        }
    }
}

/// What the supervisor asks its caller to do, or tells it happened. The
/// caller carries the actions out in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action<N> {
    /// Stop the component's running instance (it does not restart by itself,
    /// and its ending must not be reported to [`Supervisor::child_ended`]).
    Stop(N),
    /// Start a new instance of the component. If it cannot be started, report
    /// that with [`Supervisor::child_ended`] as an [`Ending::Abnormal`].
    Start(N),
    /// The group exceeded its restart intensity: all its components have been
    /// stopped (the [`Action::Stop`]s before this one) and its parent now
    /// treats it as a child that ended abnormally. For logging.
    GroupFailed(N),
    /// The root group failed: every component has been stopped and the
    /// system is to shut down. Always the last action.
    Shutdown,
}

/// The outcome of [`Supervisor::reconfigure`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconfiguration<N> {
    /// The difference between the two trees.
    pub plan: Plan<N>,
    /// What to do to apply it: the [`Action::Stop`]s of the removed and
    /// changed components that were running (reverse start order of the old
    /// tree), then the [`Action::Start`]s of the changed and added ones
    /// (start order of the new tree).
    pub actions: Vec<Action<N>>,
}

/// The supervisor of a whole [`Tree`]: which components run, and the recent
/// restarts of every group. Pure: time comes in as an argument, decisions go
/// out as [`Action`]s, nothing else is touched.
#[derive(Debug, Clone)]
pub struct Supervisor<N, S> {
    tree: Tree<N, S>,
    state: State,
}

#[derive(Debug, Clone)]
struct State {
    /// Per node: whether the component runs (always false for groups).
    running: Vec<bool>,
    /// Per node: the times (ms) of a group's restarts since it was last
    /// started, pruned lazily of those outside its window (empty for
    /// components).
    restarts: Vec<Vec<u64>>,
}

impl State {
    fn new<N, S>(tree: &Tree<N, S>) -> State {
        State {
            running: alloc::vec![false; tree.nodes.len()],
            restarts: alloc::vec![Vec::new(); tree.nodes.len()],
        }
    }

    /// Starts every component in `nodes` (a union of whole subtrees) in
    /// start order and gives every group in it a fresh restart history.
    fn start<N: Clone, S>(
        &mut self,
        tree: &Tree<N, S>,
        nodes: Range<usize>,
        actions: &mut Vec<Action<N>>,
    ) {
        for i in nodes {
            if tree.is_component(i) {
                // Never start a running instance; by construction every
                // caller stopped the range first.
                debug_assert!(!self.running[i]);
                if !self.running[i] {
                    self.running[i] = true;
                    actions.push(Action::Start(tree.nodes[i].name.clone()));
                }
            } else {
                self.restarts[i].clear();
            }
        }
    }

    /// Stops every running component in `nodes` in reverse start order and
    /// forgets the restart history of every group in it.
    fn stop<N: Clone, S>(
        &mut self,
        tree: &Tree<N, S>,
        nodes: Range<usize>,
        actions: &mut Vec<Action<N>>,
    ) {
        for i in nodes.rev() {
            if self.running[i] {
                self.running[i] = false;
                actions.push(Action::Stop(tree.nodes[i].name.clone()));
            }
            self.restarts[i].clear();
        }
    }
}

impl<N: Ord + Clone, S> Supervisor<N, S> {
    /// A supervisor of `tree` with nothing running yet (see [`Self::boot`]).
    pub fn new(tree: Tree<N, S>) -> Supervisor<N, S> {
        let state = State::new(&tree);
        Supervisor { tree, state }
    }

    /// The tree it supervises.
    pub fn tree(&self) -> &Tree<N, S> {
        &self.tree
    }

    /// Starts the whole tree from scratch: stops whatever runs, then starts
    /// every component — temporary ones and ended ones included — in start
    /// order, with empty restart histories.
    pub fn boot(&mut self) -> Vec<Action<N>> {
        let mut actions = self.stop_all();
        self.state
            .start(&self.tree, 0..self.tree.nodes.len(), &mut actions);
        actions
    }

    /// Stops every running component in reverse start order (an orderly
    /// shutdown) and forgets all restart histories.
    pub fn stop_all(&mut self) -> Vec<Action<N>> {
        let mut actions = Vec::new();
        self.state
            .stop(&self.tree, 0..self.tree.nodes.len(), &mut actions);
        actions
    }

    /// Whether the component `name` is running.
    pub fn is_running<Q>(&self, name: &Q) -> bool
    where
        N: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.tree
            .component_index(name)
            .is_some_and(|i| self.state.running[i])
    }

    /// The running components, in start order.
    pub fn running(&self) -> impl Iterator<Item = &N> + '_ {
        self.tree
            .nodes
            .iter()
            .zip(&self.state.running)
            .filter(|(_, running)| **running)
            .map(|(node, _)| &node.name)
    }

    /// The times (ms) of the group's restarts that counted at its latest
    /// restart, oldest first. Entries that have since left the window are
    /// only dropped at the next restart: use [`Self::recent_restarts`] to
    /// count. `None` if there is no such group.
    pub fn restart_history<Q>(&self, group: &Q) -> Option<&[u64]>
    where
        N: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        Some(&self.state.restarts[self.tree.group_index(group)?])
    }

    /// How many restarts of the group still count against its intensity at
    /// `now_ms`. `None` if there is no such group.
    pub fn recent_restarts<Q>(&self, group: &Q, now_ms: u64) -> Option<usize>
    where
        N: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let g = self.tree.group_index(group)?;
        let (_, intensity, _) = self.tree.group_policy(g)?;
        Some(
            self.state.restarts[g]
                .iter()
                .filter(|&&t| intensity.counts(t, now_ms))
                .count(),
        )
    }

    /// A child that is not persistent was lost at a power cut (a restore
    /// ended it): it starts afresh, as at boot. This is no crash, so it
    /// counts against no restart intensity and applies no strategy.
    pub fn child_lost<Q>(&mut self, name: &Q) -> Vec<Action<N>>
    where
        N: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let mut actions = Vec::new();
        let Some(component) = self.tree.component_index(name) else {
            return actions;
        };
        if self.state.running[component] {
            self.state.running[component] = false;
            self.state
                .start(&self.tree, component..component + 1, &mut actions);
        }
        actions
    }

    /// The component `name`'s running instance ended `ending` at `now_ms`
    /// (a monotonic clock in milliseconds): decide what follows.
    ///
    /// Returns nothing if no such component runs (an unknown name, or the
    /// ending of an instance the supervisor already stopped or replaced).
    /// See the crate documentation for the rules.
    pub fn child_ended<Q>(&mut self, name: &Q, ending: Ending, now_ms: u64) -> Vec<Action<N>>
    where
        N: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let mut actions = Vec::new();
        let Some(component) = self.tree.component_index(name) else {
            return actions;
        };
        if !self.state.running[component] {
            return actions;
        }
        self.state.running[component] = false;

        // `ended` is a child of `group` that is no longer running: the
        // component, then each group that failed in turn.
        let mut ended = component;
        let mut ending = ending;
        let tree = &self.tree;
        let state = &mut self.state;
        loop {
            let Some(group) = tree.nodes[ended].parent else {
                // The root group failed.
                actions.push(Action::Shutdown);
                return actions;
            };
            if !tree.nodes[ended].restart.restarts_after(ending) {
                return actions;
            }
            let Kind::Group {
                strategy,
                intensity,
                children,
            } = &tree.nodes[group].kind
            else {
                return actions; // Cannot happen: only groups are parents.
            };

            let history = &mut state.restarts[group];
            history.retain(|&t| intensity.counts(t, now_ms));
            history.push(now_ms);
            if history.len() > intensity.restarts as usize {
                // Too many restarts: the group gives up, stops all its
                // children and fails; its parent decides.
                let inside = group + 1..tree.nodes[group].end;
                state.stop(tree, inside, &mut actions);
                state.restarts[group].clear();
                actions.push(Action::GroupFailed(tree.nodes[group].name.clone()));
                ended = group;
                ending = Ending::Abnormal;
                continue;
            }

            match strategy {
                Strategy::OneForOne => state.start(tree, tree.range(ended), &mut actions),
                Strategy::OneForAll | Strategy::RestForOne => {
                    // The siblings affected: all, or those after `ended`.
                    let first = match strategy {
                        Strategy::OneForAll => group + 1,
                        _ => tree.nodes[ended].end,
                    };
                    state.stop(tree, first..tree.nodes[group].end, &mut actions);
                    for &child in children {
                        let affected = child == ended
                            || (child >= first
                                && tree.nodes[child].restart != RestartType::Temporary);
                        if affected {
                            state.start(tree, tree.range(child), &mut actions);
                        }
                    }
                }
            }
            return actions;
        }
    }
}

impl<N: Ord + Clone, S: PartialEq> Supervisor<N, S> {
    /// Replaces the tree by `new` (`config apply`) and returns the
    /// [`Plan`] with the actions that apply it.
    ///
    /// Components kept unchanged keep running — or stay ended, if they had
    /// ended (a temporary one, a transient one that exited normally). Changed
    /// and moved components are stopped if they ran, then started; added ones
    /// are started; removed ones are stopped if they ran. Groups present in
    /// both trees (by name; the roots match whatever their names) keep their
    /// restart history under their possibly new policy (cut to the newest R
    /// entries if R went down, which decides the next restart alike); the
    /// stops and starts of a reconfiguration are not counted as restarts.
    pub fn reconfigure(&mut self, new: Tree<N, S>) -> Reconfiguration<N> {
        let plan = plan(&self.tree, &new);
        let old = &self.tree;
        let mut actions = Vec::new();
        for name in plan.stop_order() {
            let i = old.components[name];
            if self.state.running[i] {
                actions.push(Action::Stop(name.clone()));
            }
        }

        let mut state = State::new(&new);
        for name in &plan.keep {
            state.running[new.components[name]] = self.state.running[old.components[name]];
        }
        for (i, node) in new.nodes.iter().enumerate() {
            if new.is_component(i) {
                continue;
            }
            let matching = if i == 0 {
                Some(0)
            } else {
                old.nested_group_index(&node.name)
            };
            if let Some(o) = matching {
                let mut history = core::mem::take(&mut self.state.restarts[o]);
                // Under a lower R, the newest R restarts decide alike: the
                // next restart fails the group iff R of them still count.
                if let Some((_, intensity, _)) = new.group_policy(i) {
                    let excess = history.len().saturating_sub(intensity.restarts as usize);
                    history.drain(..excess);
                }
                state.restarts[i] = history;
            }
        }
        for name in plan.start_order() {
            state.running[new.components[name]] = true;
            actions.push(Action::Start(name.clone()));
        }

        self.tree = new;
        self.state = state;
        Reconfiguration { plan, actions }
    }
}

/// Property tests: random trees and random endings follow every rule, and
/// reconfiguring never starts what already runs. They read the tree's nodes
/// and the supervisor's state.
#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::string::String;

    use proptest::prelude::*;

    use super::*;
    use crate::testing::random_tree;
    use crate::Action::{GroupFailed, Shutdown, Start, Stop};
    use crate::Ending::{Abnormal, Normal};

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
            tree in random_tree(),
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
            old in random_tree(),
            new in random_tree(),
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
}
