//! The most kernel-heap bytes one insert into a `BTreeMap` or `BTreeSet`
//! can allocate, so the kernel can make sure its heap holds them before a
//! system call starts instead of panicking half-way through
//! (docs/reliability.md, "When the kernel heap cannot grow").
//!
//! An insert allocates at most one node per level of the tree, plus a new
//! root when the root splits: `height + 1` nodes. The standard B-tree keeps
//! every non-root node at least half full (at least 6 children), so a tree
//! of height `h` holds at least `2·6^(h−1) − 1` entries; [`MAX_TREE_HEIGHT`]
//! is a height no map of the kernel can reach on any machine it runs on.

use core::mem::size_of;

/// A height no B-tree of the kernel reaches: height 15 would need at least
/// `2·6^14 − 1` ≈ 1.6·10^11 entries, each taking at least 8 bytes of heap,
/// more than a terabyte.
pub const MAX_TREE_HEIGHT: usize = 14;

/// What the kernel's heap allocator (talc) may add to one allocation:
/// rounding to its 32-byte chunk unit, its tag word and alignment.
pub const ALLOCATION_OVERHEAD: usize = 64;

/// Keys a B-tree node holds (`2·B − 1` with the standard library's B = 6).
const NODE_CAPACITY: usize = 11;

/// The size of a B-tree's internal node (its largest) for keys of `key`
/// bytes and values of `value` bytes: the parent pointer, the parent index
/// and length, the keys, the values, the child pointers, and room for
/// padding between the arrays.
pub const fn btree_node_bytes(key: usize, value: usize) -> usize {
    size_of::<usize>()
        + 2 * size_of::<u16>()
        + NODE_CAPACITY * (key + value)
        + (NODE_CAPACITY + 1) * size_of::<usize>()
        + 3 * size_of::<usize>()
}

/// The most heap bytes one insert into a map of `key`-byte keys and
/// `value`-byte values can allocate (a set has values of 0 bytes).
pub const fn btree_insert_bytes(key: usize, value: usize) -> usize {
    (MAX_TREE_HEIGHT + 1) * (btree_node_bytes(key, value) + ALLOCATION_OVERHEAD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_of_the_kernel_object_table_fits_one_page() {
        // The object table's slots are 280 bytes today; a node must stay
        // small enough that a single free frame can hold it.
        assert!(btree_node_bytes(8, 288) + ALLOCATION_OVERHEAD <= 4096);
    }

    #[test]
    fn an_insert_costs_one_node_per_level_and_a_root() {
        assert_eq!(
            btree_insert_bytes(8, 0),
            (MAX_TREE_HEIGHT + 1) * (btree_node_bytes(8, 0) + ALLOCATION_OVERHEAD)
        );
        assert!(btree_node_bytes(8, 8) > btree_node_bytes(8, 0));
    }
}
