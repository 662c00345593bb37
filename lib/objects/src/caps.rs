//! Handle tables and the capability derivation tree.
//!
//! A process's authority is exactly its handle table: a handle names a kernel
//! object together with the rights the holder has over it and a badge (set
//! when the handle was minted, so a server can tell its clients apart). This
//! module keeps the tables of all processes in one [`Capabilities`] value so
//! that it can also keep the one thing a per-process table cannot: the
//! derivation tree. Every handle is a node in that tree; duplicating or
//! minting a handle adds a child, moving it through a channel keeps its node,
//! and revoking a handle removes its whole subtree from every table at once.
//!
//! The rules enforced here:
//! - handle values come from a per-table counter that never goes back, so a
//!   closed or revoked handle stays invalid forever, and 0 is never issued;
//! - derived handles keep or drop rights, never gain them, and deriving needs
//!   [`Rights::DUPLICATE`]; a badged handle cannot be re-minted with another
//!   badge (a client could otherwise impersonate another);
//! - closing a handle re-parents its children to its parent, so revoking an
//!   ancestor still reaches them;
//! - moving handles is all or nothing, and needs [`Rights::TRANSFER`];
//! - each table has a quota of handles.
//!
//! Every operation checks everything before it changes anything, so a failed
//! call leaves all tables exactly as they were.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

use abide_abi::syscall::{Error, Handle, Rights};
use core::mem::size_of;

use crate::heap_cost::btree_insert_bytes;

/// Names one handle table (one per process).
pub type TableId = u64;

/// Names a node of the derivation tree; never reused.
type NodeId = u64;

/// The value of [`Handle`] that is never issued: "no handle".
pub const INVALID_HANDLE: Handle = Handle(0);

/// What a handle grants: an object, rights over it and the badge it was
/// minted with (0 when never minted).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Cap<O> {
    /// The kernel object the handle refers to.
    pub object: O,
    /// What the holder may do with the object.
    pub rights: Rights,
    /// Set by [`Capabilities::mint`]; lets a server tell clients apart.
    pub badge: u64,
}

/// Handles in transit (taken from one table, not yet installed in another).
///
/// Produced by [`Capabilities::take_for_transfer`] and consumed by
/// [`Capabilities::install`] or [`Capabilities::discard`]; dropping it any
/// other way leaks its tree nodes. The handles keep their derivation nodes
/// while in transit, so revoking an ancestor reaches them here too: a revoked
/// handle is not installed (see [`Installed::revoked`]).
#[derive(Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[must_use = "handles in transit must be installed or discarded"]
pub struct InTransit<O> {
    /// Each handle's derivation node and capability, in message order.
    entries: Vec<(NodeId, Cap<O>)>,
}

impl<O> InTransit<O> {
    /// No handles (a message the kernel writes itself).
    pub fn none() -> Self {
        InTransit {
            entries: Vec::new(),
        }
    }

    /// Number of handles in transit.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no handle is in transit.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The objects of the handles, in message order.
    pub fn objects(&self) -> impl Iterator<Item = &O> + '_ {
        self.entries.iter().map(|(_, cap)| &cap.object)
    }

    /// Each handle's derivation node and capability, in message order (a
    /// restore checks them against the tree, see
    /// [`Capabilities::validate`]).
    pub fn entries(&self) -> impl Iterator<Item = (u64, &Cap<O>)> + '_ {
        self.entries.iter().map(|(node, cap)| (*node, cap))
    }
}

/// The result of [`Capabilities::install`].
#[derive(Debug, PartialEq, Eq)]
pub struct Installed<O> {
    /// The new handles, in message order. A handle that was revoked while in
    /// transit is not installed: its slot holds [`INVALID_HANDLE`].
    pub handles: Vec<Handle>,
    /// The objects of the handles revoked while in transit (the kernel drops
    /// its references to them).
    pub revoked: Vec<O>,
}

/// Where a node's handle currently is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
enum Location {
    /// In a table, under a handle value.
    Table(TableId, Handle),
    /// Inside an [`InTransit`] (a message in a channel).
    Transit,
}

/// One node of the derivation tree.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
struct Node {
    /// The handle this one was derived from, if it is still alive (or the
    /// nearest live ancestor, after closes).
    parent: Option<NodeId>,
    /// The live handles derived from this one.
    children: BTreeSet<NodeId>,
    /// Where the handle is.
    location: Location,
}

/// A handle in a table: its node and capability.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
struct Entry<O> {
    node: NodeId,
    cap: Cap<O>,
}

/// One process's handle table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
struct Table<O> {
    entries: BTreeMap<Handle, Entry<O>>,
    /// The next handle value to issue; only ever grows.
    next_handle: u64,
    /// The most handles the table may hold at once.
    quota: usize,
}

impl<O> Table<O> {
    fn new(quota: usize) -> Self {
        Table {
            entries: BTreeMap::new(),
            next_handle: 1,
            quota,
        }
    }

    /// Ok when `count` more handles fit the quota and the value space.
    fn check_room(&self, count: usize) -> Result<(), Error> {
        let total = self.entries.len().checked_add(count);
        if total.is_none_or(|total| total > self.quota) {
            return Err(Error::NoMemory);
        }
        let count = u64::try_from(count).map_err(|_| Error::NoMemory)?;
        let end = self.next_handle.checked_add(count);
        if end.is_none_or(|end| end > u64::from(u32::MAX) + 1) {
            return Err(Error::NoMemory);
        }
        Ok(())
    }

    /// Issues the next handle value (after [`Table::check_room`]).
    fn allocate_handle(&mut self) -> Result<Handle, Error> {
        let value = u32::try_from(self.next_handle).map_err(|_| Error::NoMemory)?;
        self.next_handle = self.next_handle.saturating_add(1);
        Ok(Handle(value))
    }

    fn entry(&self, handle: Handle) -> Result<&Entry<O>, Error> {
        self.entries.get(&handle).ok_or(Error::BadHandle)
    }
}

/// The handle tables of all processes and the derivation tree spanning them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Capabilities<O> {
    tables: BTreeMap<TableId, Table<O>>,
    nodes: BTreeMap<NodeId, Node>,
    next_table: TableId,
    next_node: NodeId,
}

impl<O: Clone> Default for Capabilities<O> {
    fn default() -> Self {
        Self::new()
    }
}

impl<O> Capabilities<O> {
    /// The most heap bytes one new handle can allocate: its entry in a
    /// table, its node in the derivation tree and its place among its
    /// parent's children ([`crate::heap_cost`]).
    pub const HANDLE_HEAP_BYTES: usize =
        btree_insert_bytes(size_of::<Handle>(), size_of::<Entry<O>>())
            + btree_insert_bytes(size_of::<NodeId>(), size_of::<Node>())
            + btree_insert_bytes(size_of::<NodeId>(), 0);

    /// The most heap bytes one new table can allocate.
    pub const TABLE_HEAP_BYTES: usize =
        btree_insert_bytes(size_of::<TableId>(), size_of::<Table<O>>());
}

impl<O: Clone> Capabilities<O> {
    /// No tables, no handles.
    pub fn new() -> Self {
        Capabilities {
            tables: BTreeMap::new(),
            nodes: BTreeMap::new(),
            next_table: 1,
            next_node: 1,
        }
    }

    /// A new, empty table holding at most `handle_quota` handles.
    pub fn create_table(&mut self, handle_quota: usize) -> TableId {
        // 2^64 tables cannot be created in any machine's lifetime; saturating
        // keeps this free of panics all the same.
        let id = self.next_table;
        self.next_table = self.next_table.saturating_add(1);
        self.tables.insert(id, Table::new(handle_quota));
        id
    }

    /// Removes every handle of the table and the table itself (process exit).
    /// Handles derived from them in other tables stay, re-parented. Returns
    /// the removed handles' objects (the kernel drops its references); an
    /// unknown table gives an empty list.
    pub fn destroy_table(&mut self, table: TableId) -> Vec<O> {
        let Some(removed) = self.tables.remove(&table) else {
            return Vec::new();
        };
        removed
            .entries
            .into_values()
            .map(|entry| {
                self.unlink_node(entry.node);
                entry.cap.object
            })
            .collect()
    }

    /// A new root capability (an object just created for this table), with
    /// badge 0.
    pub fn insert(&mut self, table: TableId, object: O, rights: Rights) -> Result<Handle, Error> {
        let cap = Cap {
            object,
            rights,
            badge: 0,
        };
        self.add_handle(table, cap, None)
    }

    /// The capability `handle` names in `table`; [`Error::BadHandle`] if none.
    pub fn get(&self, table: TableId, handle: Handle) -> Result<&Cap<O>, Error> {
        self.entry(table, handle).map(|entry| &entry.cap)
    }

    /// Like [`Capabilities::get`], and [`Error::AccessDenied`] unless the
    /// handle has every right in `needed`.
    pub fn check(&self, table: TableId, handle: Handle, needed: Rights) -> Result<&Cap<O>, Error> {
        let cap = self.get(table, handle)?;
        if cap.rights.contains(needed) {
            Ok(cap)
        } else {
            Err(Error::AccessDenied)
        }
    }

    /// A new handle in the same table, derived from `handle`, with `rights`
    /// (which must be a subset of the source's) and the same badge. Needs
    /// [`Rights::DUPLICATE`].
    pub fn duplicate(
        &mut self,
        table: TableId,
        handle: Handle,
        rights: Rights,
    ) -> Result<Handle, Error> {
        let (node, cap) = self.derivable(table, handle, rights)?;
        let badge = cap.badge;
        let cap = Cap {
            object: cap.object.clone(),
            rights,
            badge,
        };
        self.add_handle(table, cap, Some(node))
    }

    /// Like [`Capabilities::duplicate`], but the new handle carries `badge`.
    /// Only an unbadged handle (badge 0) can be minted, so a client cannot
    /// re-badge the handle a server gave it ([`Error::AccessDenied`]).
    pub fn mint(
        &mut self,
        table: TableId,
        handle: Handle,
        rights: Rights,
        badge: u64,
    ) -> Result<Handle, Error> {
        let (node, cap) = self.derivable(table, handle, rights)?;
        if cap.badge != 0 {
            return Err(Error::AccessDenied);
        }
        let cap = Cap {
            object: cap.object.clone(),
            rights,
            badge,
        };
        self.add_handle(table, cap, Some(node))
    }

    /// Removes `handle` from `table` and returns its object. Handles derived
    /// from it stay, re-parented to its parent.
    pub fn close(&mut self, table: TableId, handle: Handle) -> Result<O, Error> {
        let entry = self
            .tables
            .get_mut(&table)
            .and_then(|t| t.entries.remove(&handle))
            .ok_or(Error::BadHandle)?;
        self.unlink_node(entry.node);
        Ok(entry.cap.object)
    }

    /// Invalidates `handle` and every handle derived from it, transitively,
    /// in every table; returns the removed handles' objects. Derived handles
    /// in transit are cut from the tree here and dropped when their message
    /// is installed or discarded.
    pub fn revoke(&mut self, table: TableId, handle: Handle) -> Result<Vec<O>, Error> {
        let root = self.entry(table, handle)?.node;
        let subtree = self.subtree(root);
        self.detach_from_parent(root);
        let mut objects = Vec::with_capacity(subtree.len());
        for id in subtree {
            let Some(node) = self.nodes.remove(&id) else {
                continue;
            };
            if let Location::Table(t, h) = node.location {
                if let Some(entry) = self.tables.get_mut(&t).and_then(|t| t.entries.remove(&h)) {
                    objects.push(entry.cap.object);
                }
            }
        }
        Ok(objects)
    }

    /// Takes `handles` out of `table` to move them through a channel. All or
    /// nothing: every handle must be present ([`Error::BadHandle`]), have
    /// [`Rights::TRANSFER`] ([`Error::AccessDenied`]), be listed once and not
    /// be `exclude` (the channel written to; both [`Error::InvalidArgument`]).
    /// The first failing handle, in list order, decides the error; on any
    /// error nothing changes.
    pub fn take_for_transfer(
        &mut self,
        table: TableId,
        handles: &[Handle],
        exclude: Option<Handle>,
    ) -> Result<InTransit<O>, Error> {
        self.check_transferable(table, handles, exclude)?;
        let source = self.tables.get_mut(&table).ok_or(Error::BadHandle)?;
        let mut entries = Vec::with_capacity(handles.len());
        for handle in handles {
            if let Some(entry) = source.entries.remove(handle) {
                entries.push((entry.node, entry.cap));
            }
        }
        for (node, _) in &entries {
            self.set_location(*node, Location::Transit);
        }
        Ok(InTransit { entries })
    }

    /// Installs handles in transit into `table` under new handle values, in
    /// order, keeping their derivation nodes. All or nothing: on an unknown
    /// table ([`Error::BadHandle`]) or quota overflow ([`Error::NoMemory`])
    /// nothing is installed and the transit is given back.
    pub fn install(
        &mut self,
        table: TableId,
        transit: InTransit<O>,
    ) -> Result<Installed<O>, (Error, InTransit<O>)> {
        let live = transit
            .entries
            .iter()
            .filter(|(node, _)| self.nodes.contains_key(node))
            .count();
        let room = match self.tables.get(&table) {
            Some(target) => target.check_room(live),
            None => Err(Error::BadHandle),
        };
        if let Err(error) = room {
            return Err((error, transit));
        }
        let mut installed = Installed {
            handles: Vec::with_capacity(transit.entries.len()),
            revoked: Vec::new(),
        };
        for (node, cap) in transit.entries {
            if !self.nodes.contains_key(&node) {
                installed.handles.push(INVALID_HANDLE);
                installed.revoked.push(cap.object);
                continue;
            }
            // check_room succeeded, so placing cannot fail; a failure would
            // drop the handle, never hand out a wrong one.
            match self.place(table, node, cap) {
                Ok(handle) => installed.handles.push(handle),
                Err(cap) => {
                    self.unlink_node(node);
                    installed.handles.push(INVALID_HANDLE);
                    installed.revoked.push(cap.object);
                }
            }
        }
        Ok(installed)
    }

    /// Drops handles in transit (their message was discarded): their nodes
    /// leave the tree, children re-parented. Returns all their objects.
    pub fn discard(&mut self, transit: InTransit<O>) -> Vec<O> {
        transit
            .entries
            .into_iter()
            .map(|(node, cap)| {
                self.unlink_node(node);
                cap.object
            })
            .collect()
    }

    /// Ok when `count` more handles fit `table`'s quota (what
    /// [`Capabilities::install`] checks), so a caller can make sure before it
    /// takes a message off a queue.
    pub fn check_room(&self, table: TableId, count: usize) -> Result<(), Error> {
        self.tables
            .get(&table)
            .ok_or(Error::BadHandle)?
            .check_room(count)
    }

    /// Number of handles in `table` (0 for an unknown table).
    pub fn handle_count(&self, table: TableId) -> usize {
        self.tables.get(&table).map_or(0, |t| t.entries.len())
    }

    /// The ids of every table, in increasing order.
    pub fn tables(&self) -> impl Iterator<Item = TableId> + '_ {
        self.tables.keys().copied()
    }

    /// The handles of `table` in increasing order (none for an unknown table).
    pub fn handles(&self, table: TableId) -> impl Iterator<Item = (Handle, &Cap<O>)> + '_ {
        self.tables.get(&table).into_iter().flat_map(|t| {
            t.entries
                .iter()
                .map(|(handle, entry)| (*handle, &entry.cap))
        })
    }

    fn entry(&self, table: TableId, handle: Handle) -> Result<&Entry<O>, Error> {
        self.tables
            .get(&table)
            .ok_or(Error::BadHandle)?
            .entry(handle)
    }

    /// The source of a duplicate or mint with `rights`: its node and cap.
    fn derivable(
        &self,
        table: TableId,
        handle: Handle,
        rights: Rights,
    ) -> Result<(NodeId, &Cap<O>), Error> {
        let entry = self.entry(table, handle)?;
        let has = entry.cap.rights;
        if !has.contains(Rights::DUPLICATE) || !has.contains(rights) {
            return Err(Error::AccessDenied);
        }
        Ok((entry.node, &entry.cap))
    }

    /// Adds a handle for `cap` to `table` with a new node under `parent`.
    fn add_handle(
        &mut self,
        table: TableId,
        cap: Cap<O>,
        parent: Option<NodeId>,
    ) -> Result<Handle, Error> {
        self.tables
            .get(&table)
            .ok_or(Error::BadHandle)?
            .check_room(1)?;
        let node = self.next_node;
        self.next_node = node.checked_add(1).ok_or(Error::NoMemory)?;
        let fresh = Node {
            parent,
            children: BTreeSet::new(),
            location: Location::Transit,
        };
        self.nodes.insert(node, fresh);
        if let Some(parent) = parent.and_then(|p| self.nodes.get_mut(&p)) {
            parent.children.insert(node);
        }
        self.place(table, node, cap).map_err(|_| {
            self.unlink_node(node);
            Error::NoMemory
        })
    }

    /// Puts an existing node's `cap` into `table` under a new handle value,
    /// or gives the cap back if the table is gone or full.
    fn place(&mut self, table: TableId, node: NodeId, cap: Cap<O>) -> Result<Handle, Cap<O>> {
        let Some(target) = self.tables.get_mut(&table) else {
            return Err(cap);
        };
        if target.check_room(1).is_err() {
            return Err(cap);
        }
        let Ok(handle) = target.allocate_handle() else {
            return Err(cap);
        };
        target.entries.insert(handle, Entry { node, cap });
        self.set_location(node, Location::Table(table, handle));
        Ok(handle)
    }

    /// Validates a transfer without changing anything.
    fn check_transferable(
        &self,
        table: TableId,
        handles: &[Handle],
        exclude: Option<Handle>,
    ) -> Result<(), Error> {
        let source = self.tables.get(&table).ok_or(Error::BadHandle)?;
        let mut seen = BTreeSet::new();
        for &handle in handles {
            if Some(handle) == exclude {
                return Err(Error::InvalidArgument);
            }
            if !source.entry(handle)?.cap.rights.contains(Rights::TRANSFER) {
                return Err(Error::AccessDenied);
            }
            if !seen.insert(handle) {
                return Err(Error::InvalidArgument);
            }
        }
        Ok(())
    }

    fn set_location(&mut self, node: NodeId, location: Location) {
        if let Some(node) = self.nodes.get_mut(&node) {
            node.location = location;
        }
    }

    /// `root` and all its descendants, found with an explicit stack (trees
    /// can be deep).
    fn subtree(&self, root: NodeId) -> Vec<NodeId> {
        let mut found = Vec::new();
        let mut stack = alloc::vec![root];
        while let Some(id) = stack.pop() {
            if let Some(node) = self.nodes.get(&id) {
                found.push(id);
                stack.extend(node.children.iter().copied());
            }
        }
        found
    }

    /// Removes `id` from its parent's children.
    fn detach_from_parent(&mut self, id: NodeId) {
        let parent = self.nodes.get(&id).and_then(|node| node.parent);
        if let Some(parent) = parent.and_then(|p| self.nodes.get_mut(&p)) {
            parent.children.remove(&id);
        }
    }

    /// Removes one node from the tree; its children move to its parent.
    fn unlink_node(&mut self, id: NodeId) {
        self.detach_from_parent(id);
        let Some(node) = self.nodes.remove(&id) else {
            return;
        };
        for child in &node.children {
            if let Some(child) = self.nodes.get_mut(child) {
                child.parent = node.parent;
            }
        }
        if let Some(parent) = node.parent.and_then(|p| self.nodes.get_mut(&p)) {
            parent.children.extend(node.children);
        }
    }
}

mod validate;
pub use validate::CapsError;

#[cfg(feature = "testing")]
mod testing;
