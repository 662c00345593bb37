//! Checking handle tables read back from a checkpoint image.
//!
//! A restore decodes [`Capabilities`] straight from the store, and a store's
//! checksums prove only that the bytes are the ones written, not that a
//! kernel wrote them. [`Capabilities::validate`] re-establishes every
//! invariant the operations of this crate keep, so that the same
//! operations stay total and terminating on a restored value: a cycle in
//! the derivation tree would make `revoke` loop forever, a handle value at
//! the end of the value space would make the next one wrap, a child with
//! more rights than its parent would be an escalation.

use alloc::collections::{BTreeMap, BTreeSet};
use core::fmt;

use abide_abi::syscall::Rights;

use super::{Cap, Capabilities, InTransit, Location, NodeId, TableId};

/// Why handle tables read back from an image are refused; each names the
/// table, handle or node at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapsError {
    /// Table id 0, or one not below the next table id.
    TableId(TableId),
    /// A table's next handle value is 0 or past the 32-bit value space.
    NextHandle(TableId),
    /// Handle 0, or a handle value not below the table's next one.
    HandleValue(TableId, u32),
    /// A table holds more handles than its quota.
    OverQuota(TableId),
    /// Node id 0, or one not below the next node id.
    NodeId(NodeId),
    /// A handle names a node that is missing or placed elsewhere.
    Misplaced(NodeId),
    /// A node's parent or children do not name it back.
    Link(NodeId),
    /// A node is its own ancestor.
    Cycle(NodeId),
    /// Rights beyond [`Rights::ALL`], or beyond those of the parent.
    Rights(NodeId),
    /// A derived handle names another object or carries another badge
    /// than its parent.
    Derivation(NodeId),
    /// A node in transit is in no message, or in more than one.
    Transit(NodeId),
}

impl fmt::Display for CapsError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            CapsError::TableId(t) => write!(f, "handle table {t} has an impossible id"),
            CapsError::NextHandle(t) => write!(f, "handle table {t} has an impossible next handle"),
            CapsError::HandleValue(t, h) => write!(f, "handle {h} of table {t} was never issued"),
            CapsError::OverQuota(t) => write!(f, "handle table {t} is over its quota"),
            CapsError::NodeId(n) => write!(f, "derivation node {n} has an impossible id"),
            CapsError::Misplaced(n) => write!(f, "derivation node {n} is not where its handle is"),
            CapsError::Link(n) => write!(f, "derivation node {n} is not linked both ways"),
            CapsError::Cycle(n) => write!(f, "derivation node {n} is its own ancestor"),
            CapsError::Rights(n) => write!(f, "derivation node {n} has rights it cannot have"),
            CapsError::Derivation(n) => {
                write!(
                    f,
                    "derivation node {n} names another object or badge than its parent"
                )
            }
            CapsError::Transit(n) => {
                write!(
                    f,
                    "derivation node {n} in transit is not in exactly one message"
                )
            }
        }
    }
}

impl<O: Clone + PartialEq> Capabilities<O> {
    /// Checks tables decoded from a checkpoint image, together with the
    /// handles in transit in its queued messages (`transit`), against every
    /// invariant this type's operations keep. Ok means every operation on
    /// the value behaves as on one built by those operations: ids and
    /// handle values only grow without wrapping, every handle is where its
    /// node says, the derivation tree is linked both ways and acyclic, a
    /// derived handle has the object, badge and at most the rights of its
    /// parent, and every node in transit is in exactly one message.
    pub fn validate<'a>(
        &'a self,
        transit: impl IntoIterator<Item = &'a InTransit<O>>,
    ) -> Result<(), CapsError>
    where
        O: 'a,
    {
        self.check_tables()?;
        let caps = self.check_transit(transit)?;
        self.check_nodes(&caps)?;
        self.check_acyclic()
    }

    fn check_tables(&self) -> Result<(), CapsError> {
        for (&id, table) in &self.tables {
            if id == 0 || id >= self.next_table {
                return Err(CapsError::TableId(id));
            }
            if table.next_handle == 0 || table.next_handle > u64::from(u32::MAX) + 1 {
                return Err(CapsError::NextHandle(id));
            }
            if table.entries.len() > table.quota {
                return Err(CapsError::OverQuota(id));
            }
            for (&handle, entry) in &table.entries {
                if handle.0 == 0 || u64::from(handle.0) >= table.next_handle {
                    return Err(CapsError::HandleValue(id, handle.0));
                }
                let placed = self.nodes.get(&entry.node).map(|node| node.location);
                if placed != Some(Location::Table(id, handle)) {
                    return Err(CapsError::Misplaced(entry.node));
                }
            }
        }
        Ok(())
    }

    /// Checks the handles in transit; returns the capability of every live
    /// node (in a table or in transit).
    fn check_transit<'a>(
        &'a self,
        transit: impl IntoIterator<Item = &'a InTransit<O>>,
    ) -> Result<BTreeMap<NodeId, &'a Cap<O>>, CapsError> {
        let mut caps = BTreeMap::new();
        let mut seen = BTreeSet::new();
        for message in transit {
            for (node, cap) in &message.entries {
                // A node revoked in transit is gone from the tree but its
                // id was issued: it must be below the next one, or a new
                // handle could take it.
                if *node == 0 || *node >= self.next_node || !seen.insert(*node) {
                    return Err(CapsError::Transit(*node));
                }
                if let Some(live) = self.nodes.get(node) {
                    if live.location != Location::Transit {
                        return Err(CapsError::Transit(*node));
                    }
                    caps.insert(*node, cap);
                }
            }
        }
        for table in self.tables.values() {
            for entry in table.entries.values() {
                caps.insert(entry.node, &entry.cap);
            }
        }
        Ok(caps)
    }

    fn check_nodes(&self, caps: &BTreeMap<NodeId, &Cap<O>>) -> Result<(), CapsError> {
        for (&id, node) in &self.nodes {
            if id == 0 || id >= self.next_node {
                return Err(CapsError::NodeId(id));
            }
            // Every table location was matched by check_tables; a node in
            // transit must be in a message.
            let Some(cap) = caps.get(&id) else {
                return Err(match node.location {
                    Location::Transit => CapsError::Transit(id),
                    Location::Table(..) => CapsError::Misplaced(id),
                });
            };
            if !Rights::ALL.contains(cap.rights) {
                return Err(CapsError::Rights(id));
            }
            for child in &node.children {
                let linked = self.nodes.get(child).is_some_and(|c| c.parent == Some(id));
                if *child == id || !linked {
                    return Err(CapsError::Link(id));
                }
            }
            if let Some(parent) = node.parent {
                let linked = self
                    .nodes
                    .get(&parent)
                    .is_some_and(|p| p.children.contains(&id));
                if parent == id || !linked {
                    return Err(CapsError::Link(id));
                }
                let Some(above) = caps.get(&parent) else {
                    return Err(CapsError::Link(id));
                };
                if !above.rights.contains(cap.rights) {
                    return Err(CapsError::Rights(id));
                }
                if above.object != cap.object || (above.badge != 0 && above.badge != cap.badge) {
                    return Err(CapsError::Derivation(id));
                }
            }
        }
        Ok(())
    }

    /// No node is its own ancestor: every parent chain reaches a root.
    /// Each node is walked once (chains already known to end are not
    /// walked again), so this takes time linear in the nodes.
    fn check_acyclic(&self) -> Result<(), CapsError> {
        let mut ends: BTreeSet<NodeId> = BTreeSet::new();
        for &start in self.nodes.keys() {
            let mut path = BTreeSet::new();
            let mut at = start;
            loop {
                if ends.contains(&at) {
                    break;
                }
                if !path.insert(at) {
                    return Err(CapsError::Cycle(at));
                }
                match self.nodes.get(&at).and_then(|node| node.parent) {
                    Some(parent) => at = parent,
                    None => break,
                }
            }
            ends.extend(path);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use abide_abi::syscall::Handle;

    /// Two tables, a derivation chain across them, a minted child and a
    /// handle in transit: everything the operations build.
    fn built() -> (Capabilities<u64>, InTransit<u64>) {
        let mut caps = Capabilities::new();
        let a = caps.create_table(16);
        let b = caps.create_table(16);
        let root = caps.insert(a, 7, Rights::ALL).unwrap();
        let dup = caps.duplicate(a, root, Rights::ALL).unwrap();
        caps.mint(a, dup, Rights::READ.union(Rights::TRANSFER), 5)
            .unwrap();
        let moving = caps.duplicate(a, root, Rights::ALL).unwrap();
        let transit = caps.take_for_transfer(a, &[moving], None).unwrap();
        let other = caps.insert(b, 8, Rights::ALL).unwrap();
        caps.close(b, other).unwrap();
        (caps, transit)
    }

    #[test]
    fn tables_built_by_the_operations_are_valid() {
        let (caps, transit) = built();
        assert_eq!(caps.validate([&transit]), Ok(()));
    }

    #[test]
    fn a_derivation_cycle_is_refused() {
        let (mut caps, transit) = built();
        // Make the root's parent its grandchild: 1 -> 2 -> 3 -> 1.
        let ids: Vec<NodeId> = caps.nodes.keys().copied().take(3).collect();
        let (root, child, grandchild) = (ids[0], ids[1], ids[2]);
        caps.nodes.get_mut(&root).unwrap().parent = Some(grandchild);
        caps.nodes
            .get_mut(&grandchild)
            .unwrap()
            .children
            .insert(root);
        assert_eq!(caps.nodes[&grandchild].parent, Some(child));
        assert!(matches!(
            caps.validate([&transit]),
            Err(CapsError::Cycle(_) | CapsError::Rights(_) | CapsError::Derivation(_))
        ));
        // Even with equal rights and badges, the cycle itself is refused.
        for node in caps.nodes.keys().copied().collect::<Vec<_>>() {
            for table in caps.tables.values_mut() {
                for entry in table.entries.values_mut() {
                    if entry.node == node {
                        entry.cap.rights = Rights::ALL;
                        entry.cap.badge = 0;
                    }
                }
            }
        }
        assert!(matches!(
            caps.validate([&transit]),
            Err(CapsError::Cycle(_))
        ));
    }

    #[test]
    fn a_self_parent_and_a_one_way_link_are_refused() {
        let (mut caps, transit) = built();
        let first = *caps.nodes.keys().next().unwrap();
        caps.nodes.get_mut(&first).unwrap().parent = Some(first);
        assert_eq!(caps.validate([&transit]), Err(CapsError::Link(first)));

        let (mut caps, transit) = built();
        let last = *caps.nodes.keys().last().unwrap();
        caps.nodes.get_mut(&last).unwrap().children.insert(first);
        assert_eq!(caps.validate([&transit]), Err(CapsError::Link(last)));
    }

    #[test]
    fn rights_beyond_the_parent_or_the_kind_are_refused() {
        let (mut caps, transit) = built();
        let table = caps.tables.get_mut(&1).unwrap();
        // The parent of the minted handle loses what the child kept.
        table.entries.get_mut(&Handle(2)).unwrap().cap.rights = Rights::READ;
        let node = table.entries[&Handle(3)].node;
        assert_eq!(caps.validate([&transit]), Err(CapsError::Rights(node)));

        let (mut caps, transit) = built();
        let root = caps
            .tables
            .get_mut(&1)
            .unwrap()
            .entries
            .get_mut(&Handle(1))
            .unwrap();
        // The first bit beyond every right there is.
        root.cap.rights = Rights(Rights::ALL.0 + 1);
        let node = root.node;
        assert_eq!(caps.validate([&transit]), Err(CapsError::Rights(node)));
    }

    #[test]
    fn ids_at_the_end_of_their_space_are_refused() {
        let (mut caps, transit) = built();
        caps.tables.get_mut(&1).unwrap().next_handle = u64::from(u32::MAX) + 2;
        assert_eq!(caps.validate([&transit]), Err(CapsError::NextHandle(1)));

        let (mut caps, transit) = built();
        caps.next_node = 2;
        assert!(matches!(
            caps.validate([&transit]),
            Err(CapsError::NodeId(_) | CapsError::Transit(_))
        ));

        let (mut caps, transit) = built();
        caps.next_table = 1;
        assert_eq!(caps.validate([&transit]), Err(CapsError::TableId(1)));

        let (mut caps, transit) = built();
        let table = caps.tables.get_mut(&1).unwrap();
        let entry = table.entries.remove(&Handle(1)).unwrap();
        table.entries.insert(Handle(u32::MAX), entry);
        assert_eq!(
            caps.validate([&transit]),
            Err(CapsError::HandleValue(1, u32::MAX))
        );
    }

    #[test]
    fn a_handle_in_transit_must_be_in_exactly_one_message() {
        let (caps, transit) = built();
        let moving = transit.entries[0].0;
        assert_eq!(caps.validate([]), Err(CapsError::Transit(moving)));
        assert_eq!(
            caps.validate([&transit, &transit]),
            Err(CapsError::Transit(moving))
        );
    }

    #[test]
    fn over_quota_is_refused() {
        let (mut caps, transit) = built();
        caps.tables.get_mut(&1).unwrap().quota = 1;
        assert_eq!(caps.validate([&transit]), Err(CapsError::OverQuota(1)));
    }

    #[test]
    fn revoke_ends_on_every_valid_table() {
        let (mut caps, transit) = built();
        caps.validate([&transit]).unwrap();
        let revoked = caps.revoke(1, Handle(1)).unwrap();
        assert_eq!(revoked.len(), 3);
        let _ = caps.discard(transit);
    }
}
