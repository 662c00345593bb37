//! Memory budgets between parents and children: how much of a parent's
//! memory limit a child's limit takes, and what the parent is charged when
//! the child ends.
//!
//! A parent with a limit sets its child's limit aside from its own budget
//! at the spawn and gets it back when the child ends, less what of the
//! child outlives it (which it is charged for instead). So a tree of
//! processes never holds more than the limit of its root. A parent without
//! a limit (`u64::MAX`: the kernel's programs, `init`) sets nothing aside.

use abide_abi::syscall::Error;

/// The limit that means "none".
pub const UNLIMITED: u64 = u64::MAX;

/// The limit a child gets and the pages set aside for it from its parent,
/// which has limit `parent_limit` and is charged `parent_charged` pages
/// now, for a requested limit `requested` (0: all the parent has left; for
/// a parent without a limit, none either).
///
/// More than the parent's own limit is `InvalidArgument` (a child never
/// gets more than its parent); more than it has left is `NoMemory`.
pub fn child_budget(
    parent_limit: u64,
    parent_charged: u64,
    requested: u64,
) -> Result<(u64, u64), Error> {
    if parent_limit == UNLIMITED {
        return Ok(match requested {
            0 => (UNLIMITED, 0),
            pages => (pages, 0),
        });
    }
    let left = parent_limit.saturating_sub(parent_charged);
    match requested {
        0 => Ok((left, left)),
        pages if pages > parent_limit => Err(Error::InvalidArgument),
        pages if pages > left => Err(Error::NoMemory),
        pages => Ok((pages, pages)),
    }
}

/// What a parent is charged after its child, set aside `reserved` pages,
/// ended while `outliving` pages of it live on (its memory objects, its own
/// children's budgets): `parent_charged` less `reserved`, plus `outliving`.
/// Since a child is never charged more than its limit, `outliving` is at
/// most `reserved` and the parent's charge never grows.
pub fn after_child_ends(parent_charged: u64, reserved: u64, outliving: u64) -> u64 {
    parent_charged
        .saturating_sub(reserved)
        .saturating_add(outliving)
}
