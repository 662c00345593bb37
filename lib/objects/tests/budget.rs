//! How a child's memory limit comes out of its parent's, and what the parent
//! gets back when the child ends.

use abide_abi::syscall::Error;
use abide_objects::budget::*;

#[test]
fn an_unlimited_parent_sets_nothing_aside() {
    assert_eq!(child_budget(UNLIMITED, 500, 0), Ok((UNLIMITED, 0)));
    assert_eq!(child_budget(UNLIMITED, 500, 64), Ok((64, 0)));
}

#[test]
fn a_limited_parent_gives_part_of_what_it_has_left() {
    // Limit 64, 30 used: 34 left.
    assert_eq!(child_budget(64, 30, 20), Ok((20, 20)));
    assert_eq!(child_budget(64, 30, 34), Ok((34, 34)));
    assert_eq!(child_budget(64, 30, 35), Err(Error::NoMemory));
    assert_eq!(child_budget(64, 30, 65), Err(Error::InvalidArgument));
    // 0: all that is left.
    assert_eq!(child_budget(64, 30, 0), Ok((34, 34)));
    // Nothing left: a limit of 0 pages, which no program fits.
    assert_eq!(child_budget(64, 64, 0), Ok((0, 0)));
    assert_eq!(child_budget(64, 70, 1), Err(Error::NoMemory));
}

#[test]
fn the_budget_comes_back_less_what_outlives_the_child() {
    assert_eq!(after_child_ends(54, 20, 0), 34);
    assert_eq!(after_child_ends(54, 20, 5), 39);
    assert_eq!(after_child_ends(3, 20, 0), 0);
}

proptest::proptest! {
    /// However a tree is spawned, the sum of what its members hold never
    /// exceeds the root's limit: each spawn moves budget, never makes it.
    #[test]
    fn trees_never_multiply_limits(
        limit in 1u64..10_000,
        steps in proptest::collection::vec((0usize..8, 0u64..12_000, 0u64..200), 1..64),
    ) {
        // (limit, charged by itself and its children's budgets)
        let mut tree: Vec<(u64, u64)> = vec![(limit, 0)];
        for (parent, requested, use_pages) in steps {
            let parent = parent % tree.len();
            let (parent_limit, charged) = tree[parent];
            // The member uses some pages of its own, within its limit.
            let used = use_pages.min(parent_limit.saturating_sub(charged));
            tree[parent].1 += used;
            let charged = tree[parent].1;
            if let Ok((child_limit, reserved)) = child_budget(parent_limit, charged, requested) {
                proptest::prop_assert!(child_limit <= parent_limit);
                proptest::prop_assert!(charged + reserved <= parent_limit);
                tree[parent].1 += reserved;
                tree.push((child_limit, 0));
            }
            for &(member_limit, member_charged) in &tree {
                proptest::prop_assert!(member_charged <= member_limit);
            }
        }
        // The root's charge covers every descendant's budget.
        proptest::prop_assert!(tree[0].1 <= limit);
    }
}
