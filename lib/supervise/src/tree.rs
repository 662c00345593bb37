//! The supervision tree: what is supervised, by which policy.
//!
//! The caller describes the tree with nested [`Group`]s, [`Component`]s and
//! [`Child`]ren (usually mapped from the system configuration) and turns it
//! into a validated [`Tree`] with [`Tree::new`]. A [`Tree`] stores its nodes
//! flattened in *start order* — a depth-first walk in which a group's children
//! come in the order written — so every group's subtree is one contiguous run
//! of nodes: starting a subtree walks the run forwards, stopping it walks the
//! run backwards (which is reverse start order at every level).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::borrow::Borrow;
use core::ops::Range;

use crate::Ending;

/// When a child is restarted after it ended (OTP's `restart` of a child spec).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RestartType {
    /// Always restarted, however it ended. The default.
    #[default]
    Permanent,
    /// Restarted only if it ended abnormally ([`Ending::Abnormal`]: a fault,
    /// a kill, a nonzero exit status); an exit with status 0 leaves it ended.
    Transient,
    /// Never restarted: not after its own ending, and not when a sibling's
    /// ending makes the group restart its other children either.
    Temporary,
}

impl RestartType {
    /// Whether a child of this type that ended `ending` is restarted by its
    /// own ending (and so counts as a restart against its group's intensity).
    pub fn restarts_after(self, ending: Ending) -> bool {
        match self {
            RestartType::Permanent => true,
            RestartType::Transient => ending == Ending::Abnormal,
            RestartType::Temporary => false,
        }
    }
}

/// What a group does when a child ended and is to be restarted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Strategy {
    /// Restart only that child. The default.
    #[default]
    OneForOne,
    /// Stop every other child (reverse start order), then start them all
    /// again (start order) — except temporary ones, which stay stopped.
    OneForAll,
    /// Stop the children started after it (reverse start order), then start
    /// it and them again (start order) — except temporary ones.
    RestForOne,
}

/// A group's restart intensity: at most `restarts` restarts within any
/// `seconds`-long window; one more makes the group fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Intensity {
    /// R: how many restarts the window may hold.
    pub restarts: u32,
    /// T: the window's length in seconds.
    pub seconds: u32,
}

impl Intensity {
    /// At most `restarts` restarts in `seconds` seconds.
    pub const fn new(restarts: u32, seconds: u32) -> Intensity {
        Intensity { restarts, seconds }
    }

    /// The window in milliseconds.
    pub const fn window_ms(self) -> u64 {
        self.seconds as u64 * 1000
    }

    /// Whether a restart at `then_ms` still counts at `now_ms`: it does while
    /// it is at most T seconds old (a restart exactly T seconds old still
    /// counts, one T seconds and 1 ms old is forgotten).
    pub const fn counts(self, then_ms: u64, now_ms: u64) -> bool {
        now_ms.saturating_sub(then_ms) <= self.window_ms()
    }
}

impl Default for Intensity {
    /// OTP's default: 1 restart in 5 seconds.
    fn default() -> Intensity {
        Intensity::new(1, 5)
    }
}

/// A supervised program, as far as supervision is concerned.
///
/// `N` names it; `S` is the rest of its specification, opaque here and only
/// compared ([`PartialEq`]) by [`crate::plan`] to tell a changed component
/// from an unchanged one: put in it what a running instance depends on
/// (program, arguments, quotas, routes, ...), and leave the restart type out
/// (it is compared on its own, and changing only it restarts nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component<N, S> {
    /// Unique among the tree's components.
    pub name: N,
    /// When it is restarted.
    pub restart: RestartType,
    /// The rest of its specification.
    pub spec: S,
}

impl<N, S> Component<N, S> {
    /// A component.
    pub fn new(name: N, restart: RestartType, spec: S) -> Component<N, S> {
        Component {
            name,
            restart,
            spec,
        }
    }
}

/// A group: children supervised together under one strategy and intensity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group<N, S> {
    /// Unique among the tree's groups (components have their own names).
    pub name: N,
    /// What it does when a child is to be restarted.
    pub strategy: Strategy,
    /// How many restarts it makes before it gives up and fails.
    pub intensity: Intensity,
    /// How its parent treats its failure; permanent by default. Ignored for
    /// the root group, whose failure shuts the system down.
    pub restart: RestartType,
    /// Its children, in start order.
    pub children: Vec<Child<N, S>>,
}

impl<N, S> Group<N, S> {
    /// A permanent group with no children yet.
    pub fn new(name: N, strategy: Strategy, intensity: Intensity) -> Group<N, S> {
        Group {
            name,
            strategy,
            intensity,
            restart: RestartType::Permanent,
            children: Vec::new(),
        }
    }

    /// The same group with restart type `restart` in its parent.
    pub fn with_restart(mut self, restart: RestartType) -> Group<N, S> {
        self.restart = restart;
        self
    }

    /// The same group with `child` appended (started after the others).
    pub fn with(mut self, child: impl Into<Child<N, S>>) -> Group<N, S> {
        self.children.push(child.into());
        self
    }
}

/// A group's child: a component or a nested group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Child<N, S> {
    /// A program.
    Component(Component<N, S>),
    /// A nested group.
    Group(Group<N, S>),
}

impl<N, S> From<Component<N, S>> for Child<N, S> {
    fn from(c: Component<N, S>) -> Child<N, S> {
        Child::Component(c)
    }
}

impl<N, S> From<Group<N, S>> for Child<N, S> {
    fn from(g: Group<N, S>) -> Child<N, S> {
        Child::Group(g)
    }
}

/// Why [`Tree::new`] refused a description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeError<N> {
    /// Two components have this name.
    DuplicateComponent(N),
    /// Two groups have this name.
    DuplicateGroup(N),
}

impl<N: core::fmt::Display> core::fmt::Display for TreeError<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TreeError::DuplicateComponent(n) => write!(f, "two components are named `{n}`"),
            TreeError::DuplicateGroup(n) => write!(f, "two groups are named `{n}`"),
        }
    }
}

/// A validated supervision tree, flattened in start order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree<N, S> {
    /// Node 0 is the root group; every subtree is a contiguous run.
    pub(crate) nodes: Vec<Node<N, S>>,
    pub(crate) components: BTreeMap<N, usize>,
    pub(crate) groups: BTreeMap<N, usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node<N, S> {
    pub(crate) name: N,
    /// `None` for the root group only.
    pub(crate) parent: Option<usize>,
    pub(crate) restart: RestartType,
    /// One past the last node of this node's subtree.
    pub(crate) end: usize,
    pub(crate) kind: Kind<S>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind<S> {
    Component(S),
    Group {
        strategy: Strategy,
        intensity: Intensity,
        /// Node indices of its children, in start order.
        children: Vec<usize>,
    },
}

/// Which group holds a component, as [`crate::plan`] compares it: the root
/// group is the root whatever its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place<'a, N> {
    Root,
    Group(&'a N),
}

impl<N: Ord + Clone, S> Tree<N, S> {
    /// Validates and flattens `root`. Names must be unique among components
    /// and unique among groups.
    pub fn new(root: Group<N, S>) -> Result<Tree<N, S>, TreeError<N>> {
        let mut tree = Tree {
            nodes: Vec::new(),
            components: BTreeMap::new(),
            groups: BTreeMap::new(),
        };
        tree.add_group(root, None)?;
        Ok(tree)
    }

    fn add_group(
        &mut self,
        group: Group<N, S>,
        parent: Option<usize>,
    ) -> Result<usize, TreeError<N>> {
        let index = self.nodes.len();
        if self.groups.insert(group.name.clone(), index).is_some() {
            return Err(TreeError::DuplicateGroup(group.name));
        }
        self.nodes.push(Node {
            name: group.name,
            parent,
            restart: group.restart,
            end: index + 1,
            kind: Kind::Group {
                strategy: group.strategy,
                intensity: group.intensity,
                children: Vec::with_capacity(group.children.len()),
            },
        });
        for child in group.children {
            let child_index = match child {
                Child::Component(c) => {
                    let i = self.nodes.len();
                    if self.components.insert(c.name.clone(), i).is_some() {
                        return Err(TreeError::DuplicateComponent(c.name));
                    }
                    self.nodes.push(Node {
                        name: c.name,
                        parent: Some(index),
                        restart: c.restart,
                        end: i + 1,
                        kind: Kind::Component(c.spec),
                    });
                    i
                }
                Child::Group(g) => self.add_group(g, Some(index))?,
            };
            if let Kind::Group { children, .. } = &mut self.nodes[index].kind {
                children.push(child_index);
            }
        }
        self.nodes[index].end = self.nodes.len();
        Ok(index)
    }
}

impl<N, S> Tree<N, S> {
    /// The root group's name.
    pub fn root(&self) -> &N {
        &self.nodes[0].name
    }

    /// Every component's name, in start order.
    pub fn components(&self) -> impl DoubleEndedIterator<Item = &N> + '_ {
        self.nodes
            .iter()
            .filter(|n| matches!(n.kind, Kind::Component(_)))
            .map(|n| &n.name)
    }

    /// Every group's name, in start order (the root first).
    pub fn groups(&self) -> impl DoubleEndedIterator<Item = &N> + '_ {
        self.nodes
            .iter()
            .filter(|n| matches!(n.kind, Kind::Group { .. }))
            .map(|n| &n.name)
    }

    pub(crate) fn range(&self, node: usize) -> Range<usize> {
        node..self.nodes[node].end
    }

    pub(crate) fn is_component(&self, node: usize) -> bool {
        matches!(self.nodes[node].kind, Kind::Component(_))
    }

    /// The place of the component or group at `node`.
    pub(crate) fn place(&self, node: usize) -> Place<'_, N> {
        match self.nodes[node].parent {
            None | Some(0) => Place::Root,
            Some(p) => Place::Group(&self.nodes[p].name),
        }
    }

    pub(crate) fn spec_at(&self, node: usize) -> Option<&S> {
        match &self.nodes[node].kind {
            Kind::Component(spec) => Some(spec),
            Kind::Group { .. } => None,
        }
    }

    pub(crate) fn group_policy(&self, node: usize) -> Option<(Strategy, Intensity, RestartType)> {
        match &self.nodes[node].kind {
            Kind::Group {
                strategy,
                intensity,
                ..
            } => Some((*strategy, *intensity, self.nodes[node].restart)),
            Kind::Component(_) => None,
        }
    }
}

impl<N: Ord, S> Tree<N, S> {
    pub(crate) fn component_index<Q>(&self, name: &Q) -> Option<usize>
    where
        N: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.components.get(name).copied()
    }

    /// The node index of the group named `name` other than the root.
    pub(crate) fn nested_group_index(&self, name: &N) -> Option<usize> {
        self.groups.get(name).copied().filter(|&i| i != 0)
    }

    pub(crate) fn group_index<Q>(&self, name: &Q) -> Option<usize>
    where
        N: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.groups.get(name).copied()
    }

    /// The specification of the component `name`.
    pub fn spec<Q>(&self, name: &Q) -> Option<&S>
    where
        N: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.spec_at(self.component_index(name)?)
    }

    /// The restart type of the component `name`.
    pub fn restart_type<Q>(&self, name: &Q) -> Option<RestartType>
    where
        N: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        Some(self.nodes[self.component_index(name)?].restart)
    }

    /// The name of the group that holds the component `name`.
    pub fn group_of<Q>(&self, name: &Q) -> Option<&N>
    where
        N: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let parent = self.nodes[self.component_index(name)?].parent?;
        Some(&self.nodes[parent].name)
    }

    /// The strategy and intensity of the group `name`.
    pub fn policy<Q>(&self, name: &Q) -> Option<(Strategy, Intensity)>
    where
        N: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.group_policy(self.group_index(name)?)
            .map(|(s, i, _)| (s, i))
    }
}
