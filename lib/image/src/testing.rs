//! For tests only (feature `testing`): the handle tables of an image with
//! their private fields open, so a test can build what no operation would
//! — a derivation cycle, a one-way link — and check that a restore refuses
//! it. [`OpenCaps`] has the serialized layout of `Capabilities<ObjectId>`.

use alloc::collections::{BTreeMap, BTreeSet};

use abide_abi::syscall::{Handle, Rights};
use abide_objects::caps::Cap;
use serde::{Deserialize, Serialize};

use crate::{Image, ObjectId};

/// Where a node's handle is (`caps::Location`).
#[allow(missing_docs)]
#[derive(Debug, Serialize, Deserialize)]
pub enum OpenLocation {
    Table(u64, Handle),
    Transit,
}

/// A derivation node (`caps::Node`).
#[allow(missing_docs)]
#[derive(Debug, Serialize, Deserialize)]
pub struct OpenNode {
    pub parent: Option<u64>,
    pub children: BTreeSet<u64>,
    pub location: OpenLocation,
}

/// A handle in a table (`caps::Entry`).
#[allow(missing_docs)]
#[derive(Debug, Serialize, Deserialize)]
pub struct OpenEntry {
    pub node: u64,
    pub cap: Cap<ObjectId>,
}

/// A handle table (`caps::Table`).
#[allow(missing_docs)]
#[derive(Debug, Serialize, Deserialize)]
pub struct OpenTable {
    pub entries: BTreeMap<Handle, OpenEntry>,
    pub next_handle: u64,
    pub quota: usize,
}

/// `Capabilities<ObjectId>` with its fields open.
#[allow(missing_docs)]
#[derive(Debug, Serialize, Deserialize)]
pub struct OpenCaps {
    pub tables: BTreeMap<u64, OpenTable>,
    pub nodes: BTreeMap<u64, OpenNode>,
    pub next_table: u64,
    pub next_node: u64,
}

/// Changes `image`'s handle tables through [`OpenCaps`].
pub fn with_open_caps(image: &mut Image, change: impl FnOnce(&mut OpenCaps)) {
    let bytes = postcard::to_allocvec(&image.caps).expect("the tables encode");
    let mut open: OpenCaps = postcard::from_bytes(&bytes).expect("the layouts agree");
    change(&mut open);
    let bytes = postcard::to_allocvec(&open).expect("the open tables encode");
    image.caps = postcard::from_bytes(&bytes).expect("the layouts agree");
}

/// Finds a root A with a child B, both in tables, and makes B the parent
/// of A, linked both ways, with all rights and no badge, so that only the
/// cycle is wrong: revoking either would walk A, B, A, ... forever.
/// Returns (A, B), or `None` without such a pair.
pub fn make_derivation_cycle(caps: &mut OpenCaps) -> Option<(u64, u64)> {
    let in_table = |node: &OpenNode| matches!(node.location, OpenLocation::Table(..));
    let (a, b) = caps.nodes.iter().find_map(|(&b, node)| {
        let a = node.parent?;
        let root = caps.nodes.get(&a)?;
        (root.parent.is_none() && in_table(root) && in_table(node)).then_some((a, b))
    })?;
    caps.nodes.get_mut(&a)?.parent = Some(b);
    caps.nodes.get_mut(&b)?.children.insert(a);
    for table in caps.tables.values_mut() {
        for entry in table.entries.values_mut() {
            if [a, b].contains(&entry.node) {
                entry.cap.rights = Rights::ALL;
                entry.cap.badge = 0;
            }
        }
    }
    Some((a, b))
}
