//! What the tests of `tests/caps.rs` and `tests/caps_model.rs` need to see
//! inside [`Capabilities`] (feature `testing`): the tree's internal
//! consistency, its node counts, and counters set near their end.

use alloc::format;
use alloc::string::String;

use super::{Capabilities, Location, TableId};

impl<O: Clone> Capabilities<O> {
    /// Checks the tree's internal consistency: tables and nodes agree,
    /// parent and children links are symmetric, and parents are older than
    /// their children (so the tree has no cycles).
    pub fn check_invariants(&self) -> Result<(), String> {
        for (table_id, table) in &self.tables {
            for (handle, entry) in &table.entries {
                let node = self
                    .nodes
                    .get(&entry.node)
                    .ok_or("table entry without node")?;
                if node.location != Location::Table(*table_id, *handle) {
                    return Err(format!(
                        "node {} has location {:?}",
                        entry.node, node.location
                    ));
                }
                if handle.0 == 0 || u64::from(handle.0) >= table.next_handle {
                    return Err(format!("handle {handle:?} outside the issued range"));
                }
            }
            if table.entries.len() > table.quota {
                return Err(format!("table {table_id} over quota"));
            }
        }
        for (id, node) in &self.nodes {
            if let Location::Table(t, h) = node.location {
                let entry = self.tables.get(&t).and_then(|t| t.entries.get(&h));
                if entry.map(|e| e.node) != Some(*id) {
                    return Err(format!("node {id} not in its table"));
                }
            }
            if let Some(parent) = node.parent {
                let p = self.nodes.get(&parent).ok_or("dangling parent")?;
                if !p.children.contains(id) || parent >= *id {
                    return Err(format!("bad parent link {parent} -> {id}"));
                }
            }
            for child in &node.children {
                let c = self.nodes.get(child).ok_or("dangling child")?;
                if c.parent != Some(*id) {
                    return Err(format!("bad child link {id} -> {child}"));
                }
            }
        }
        Ok(())
    }

    /// Nodes of the derivation tree: one per handle in a table or in
    /// transit.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Nodes of handles in transit (taken from a table, not yet installed).
    pub fn transit_count(&self) -> usize {
        self.nodes
            .values()
            .filter(|n| n.location == Location::Transit)
            .count()
    }

    /// Sets the next handle value `table` issues, to test the end of the
    /// value space.
    pub fn set_next_handle(&mut self, table: TableId, next: u64) {
        if let Some(table) = self.tables.get_mut(&table) {
            table.next_handle = next;
        }
    }

    /// Sets the next node id, to test the end of the id space.
    pub fn set_next_node(&mut self, next: u64) {
        self.next_node = next;
    }
}
