//! Unit tests for each rule of the capability system: handle values,
//! rights and badges, quotas, revocation, closing, and transfer.

mod support;

use abide_abi::syscall::{Error, Handle, Rights};
use abide_objects::caps::*;
use support::*;

#[test]
fn handles_start_at_one_and_are_never_reused() {
    let (mut caps, t, first) = one_table();
    assert_eq!(first, Handle(1));
    let second = caps.insert(t, 8, R).unwrap();
    assert_eq!(second, Handle(2));
    assert_eq!(caps.close(t, first), Ok(7));
    assert_eq!(caps.get(t, first), Err(Error::BadHandle));
    let third = caps.insert(t, 9, R).unwrap();
    assert_eq!(third, Handle(3));
    assert_eq!(caps.get(t, first), Err(Error::BadHandle));
    assert_eq!(caps.close(t, first), Err(Error::BadHandle));
    assert_eq!(caps.get(t, INVALID_HANDLE), Err(Error::BadHandle));
}

#[test]
fn handle_values_are_per_table() {
    let mut caps = Capabilities::new();
    let a = caps.create_table(4);
    let b = caps.create_table(4);
    assert_ne!(a, b);
    assert_eq!(caps.insert(a, 1, R), Ok(Handle(1)));
    assert_eq!(caps.insert(b, 2, R), Ok(Handle(1)));
    assert_eq!(caps.get(a, Handle(1)).unwrap().object, 1);
    assert_eq!(caps.get(b, Handle(1)).unwrap().object, 2);
}

#[test]
fn handle_value_space_runs_out_without_wrapping() {
    let (mut caps, t, _) = one_table();
    caps.set_next_handle(t, u64::from(u32::MAX));
    assert_eq!(caps.insert(t, 1, R), Ok(Handle(u32::MAX)));
    let before = caps.clone();
    assert_eq!(caps.insert(t, 2, R), Err(Error::NoMemory));
    assert_eq!(caps.duplicate(t, Handle(1), R), Err(Error::NoMemory));
    assert_eq!(caps, before);
}

#[test]
fn node_ids_run_out_without_wrapping() {
    let (mut caps, t, h) = one_table();
    caps.set_next_node(u64::MAX);
    let before = caps.clone();
    assert_eq!(caps.insert(t, 1, R), Err(Error::NoMemory));
    assert_eq!(caps.duplicate(t, h, R), Err(Error::NoMemory));
    assert_eq!(caps, before);
}

#[test]
fn unknown_tables_are_bad_handles() {
    let mut caps: Capabilities<u32> = Capabilities::default();
    let t = 99;
    assert_eq!(caps.insert(t, 1, R), Err(Error::BadHandle));
    assert_eq!(caps.get(t, Handle(1)), Err(Error::BadHandle));
    assert_eq!(caps.check(t, Handle(1), R), Err(Error::BadHandle));
    assert_eq!(caps.duplicate(t, Handle(1), R), Err(Error::BadHandle));
    assert_eq!(caps.mint(t, Handle(1), R, 1), Err(Error::BadHandle));
    assert_eq!(caps.close(t, Handle(1)), Err(Error::BadHandle));
    assert_eq!(caps.revoke(t, Handle(1)), Err(Error::BadHandle));
    assert_eq!(
        caps.take_for_transfer(t, &[], None).unwrap_err(),
        Error::BadHandle
    );
    assert_eq!(caps.destroy_table(t), Vec::<u32>::new());
    assert_eq!(caps.handle_count(t), 0);
    assert_eq!(caps.handles(t).count(), 0);
}

#[test]
fn check_demands_every_needed_right() {
    let mut caps = Capabilities::new();
    let t = caps.create_table(4);
    let h = caps.insert(t, 5, rights(&[R, W])).unwrap();
    assert_eq!(caps.check(t, h, R).unwrap().object, 5);
    assert_eq!(
        caps.check(t, h, rights(&[R, W])).unwrap().rights,
        rights(&[R, W])
    );
    assert!(caps.check(t, h, Rights::NONE).is_ok());
    assert_eq!(
        caps.check(t, h, rights(&[R, Rights::MAP])),
        Err(Error::AccessDenied)
    );
    assert_eq!(caps.check(t, h, Rights(1 << 31)), Err(Error::AccessDenied));
    assert_eq!(caps.check(t, Handle(2), R), Err(Error::BadHandle));
}

#[test]
fn duplicate_keeps_or_drops_rights_and_keeps_the_badge() {
    let (mut caps, t, root) = one_table();
    let minted = caps.mint(t, root, rights(&[R, W, DUP]), 42).unwrap();
    let same = caps.duplicate(t, minted, rights(&[R, W, DUP])).unwrap();
    let fewer = caps.duplicate(t, minted, R).unwrap();
    let none = caps.duplicate(t, minted, Rights::NONE).unwrap();
    for (h, r) in [
        (same, rights(&[R, W, DUP])),
        (fewer, R),
        (none, Rights::NONE),
    ] {
        let cap = caps.get(t, h).unwrap();
        assert_eq!((cap.object, cap.rights, cap.badge), (7, r, 42));
    }
}

#[test]
fn asking_for_more_rights_is_denied_not_intersected() {
    let (mut caps, t, root) = one_table();
    let limited = caps.duplicate(t, root, rights(&[R, DUP])).unwrap();
    let before = caps.clone();
    assert_eq!(
        caps.duplicate(t, limited, rights(&[R, W])),
        Err(Error::AccessDenied)
    );
    assert_eq!(
        caps.mint(t, limited, rights(&[R, W]), 3),
        Err(Error::AccessDenied)
    );
    assert_eq!(
        caps.duplicate(t, limited, Rights(1 << 20)),
        Err(Error::AccessDenied)
    );
    assert_eq!(caps, before);
}

#[test]
fn deriving_needs_the_duplicate_right() {
    let (mut caps, t, root) = one_table();
    let plain = caps.duplicate(t, root, rights(&[R, W, XFER])).unwrap();
    let before = caps.clone();
    assert_eq!(caps.duplicate(t, plain, R), Err(Error::AccessDenied));
    assert_eq!(
        caps.duplicate(t, plain, Rights::NONE),
        Err(Error::AccessDenied)
    );
    assert_eq!(caps.mint(t, plain, R, 1), Err(Error::AccessDenied));
    assert_eq!(caps, before);
    assert_eq!(caps.duplicate(t, Handle(77), R), Err(Error::BadHandle));
}

#[test]
fn mint_sets_the_badge_and_badges_cannot_be_replaced() {
    let (mut caps, t, root) = one_table();
    assert_eq!(caps.get(t, root).unwrap().badge, 0);
    let a = caps.mint(t, root, Rights::ALL, 1).unwrap();
    let b = caps.mint(t, root, R, 2).unwrap();
    assert_eq!(caps.get(t, a).unwrap().badge, 1);
    assert_eq!(caps.get(t, b).unwrap().badge, 2);
    let before = caps.clone();
    assert_eq!(caps.mint(t, a, Rights::ALL, 2), Err(Error::AccessDenied));
    assert_eq!(caps, before);
    // Minting badge 0 is a plain duplicate and may be done again.
    let zero = caps.mint(t, root, R, 0).unwrap();
    assert!(
        caps.mint(t, zero, R, 0).is_err(),
        "zero has no DUPLICATE right"
    );
}

#[test]
fn quota_limits_every_way_in() {
    let mut caps = Capabilities::new();
    let t = caps.create_table(2);
    let u = caps.create_table(0);
    let a = caps.insert(t, 1, Rights::ALL).unwrap();
    let b = caps.duplicate(t, a, Rights::ALL).unwrap();
    let before = caps.clone();
    assert_eq!(caps.insert(t, 2, R), Err(Error::NoMemory));
    assert_eq!(caps.duplicate(t, a, R), Err(Error::NoMemory));
    assert_eq!(caps.mint(t, a, R, 9), Err(Error::NoMemory));
    assert_eq!(caps.insert(u, 2, R), Err(Error::NoMemory));
    assert_eq!(caps, before);
    caps.close(t, b).unwrap();
    assert_eq!(caps.handle_count(t), 1);
    assert_eq!(caps.insert(t, 2, R), Ok(Handle(3)));
}

#[test]
fn revoke_reaches_all_descendants_in_every_table_and_nothing_else() {
    let mut caps = Capabilities::new();
    let a = caps.create_table(16);
    let b = caps.create_table(16);
    let root = caps.insert(a, 1, Rights::ALL).unwrap();
    let other = caps.insert(a, 2, Rights::ALL).unwrap();
    let parent = caps.duplicate(a, root, Rights::ALL).unwrap();
    let sibling = caps.duplicate(a, root, Rights::ALL).unwrap();
    let child = caps.mint(a, parent, Rights::ALL, 5).unwrap();
    let grandchild = caps.duplicate(a, child, Rights::ALL).unwrap();
    let moving = caps.duplicate(a, child, Rights::ALL).unwrap();
    let transit = caps.take_for_transfer(a, &[moving], None).unwrap();
    let moved = caps.install(b, transit).unwrap().handles;
    let far = caps.duplicate(b, moved[0], Rights::ALL).unwrap();

    let mut objects = caps.revoke(a, parent).unwrap();
    objects.sort_unstable();
    assert_eq!(objects, vec![1; 5]);
    for h in [parent, child, grandchild] {
        assert_eq!(caps.get(a, h), Err(Error::BadHandle));
    }
    assert_eq!(caps.get(b, moved[0]), Err(Error::BadHandle));
    assert_eq!(caps.get(b, far), Err(Error::BadHandle));
    for h in [root, other, sibling] {
        assert!(caps.get(a, h).is_ok());
    }
    assert_eq!(caps.handle_count(b), 0);
    assert_eq!(caps.revoke(a, parent), Err(Error::BadHandle));
    caps.check_invariants().unwrap();
}

#[test]
fn revoking_a_root_takes_only_its_own_tree() {
    let (mut caps, t, root) = one_table();
    let dup = caps.duplicate(t, root, Rights::ALL).unwrap();
    let other = caps.insert(t, 8, Rights::ALL).unwrap();
    assert_eq!(caps.revoke(t, root), Ok(vec![7, 7]));
    assert_eq!(caps.get(t, dup), Err(Error::BadHandle));
    assert_eq!(caps.get(t, other).unwrap().object, 8);
    assert_eq!(caps.node_count(), 1);
}

#[test]
fn closing_reparents_children_so_revoke_still_reaches_them() {
    let mut caps = Capabilities::new();
    let a = caps.create_table(16);
    let b = caps.create_table(16);
    let root = caps.insert(a, 1, Rights::ALL).unwrap();
    let middle = caps.duplicate(a, root, Rights::ALL).unwrap();
    let child = caps.duplicate(a, middle, Rights::ALL).unwrap();
    let transit = caps.take_for_transfer(a, &[child], None).unwrap();
    let child = caps.install(b, transit).unwrap().handles[0];
    let grandchild = caps.duplicate(b, child, Rights::ALL).unwrap();

    assert_eq!(caps.close(a, middle), Ok(1));
    assert!(
        caps.get(b, child).is_ok(),
        "children outlive a closed parent"
    );
    caps.check_invariants().unwrap();
    assert_eq!(caps.close(b, child), Ok(1));
    assert!(caps.get(b, grandchild).is_ok());
    caps.check_invariants().unwrap();

    assert_eq!(caps.revoke(a, root), Ok(vec![1, 1]));
    assert_eq!(caps.get(b, grandchild), Err(Error::BadHandle));
    assert_eq!(caps.node_count(), 0);
}

#[test]
fn closing_a_root_makes_its_children_roots() {
    let (mut caps, t, root) = one_table();
    let child = caps.duplicate(t, root, Rights::ALL).unwrap();
    let grandchild = caps.duplicate(t, child, Rights::ALL).unwrap();
    caps.close(t, root).unwrap();
    caps.check_invariants().unwrap();
    assert_eq!(caps.revoke(t, child), Ok(vec![7, 7]));
    assert_eq!(caps.get(t, grandchild), Err(Error::BadHandle));
}

#[test]
fn deep_chains_revoke_and_close_without_recursion() {
    const DEPTH: usize = 200_000;
    let mut caps = Capabilities::new();
    let t = caps.create_table(DEPTH + 1);
    let root = caps.insert(t, 3, Rights::ALL).unwrap();
    let mut last = root;
    for _ in 0..DEPTH {
        last = caps.duplicate(t, last, Rights::ALL).unwrap();
    }
    assert_eq!(caps.handle_count(t), DEPTH + 1);
    let second = Handle(2);
    caps.close(t, second).unwrap();
    let removed = caps.revoke(t, root).unwrap();
    assert_eq!(removed.len(), DEPTH);
    assert_eq!(caps.handle_count(t), 0);
    assert_eq!(caps.node_count(), 0);
}

#[test]
fn transfer_moves_handles_and_keeps_their_derivation() {
    let mut caps = Capabilities::new();
    let a = caps.create_table(16);
    let b = caps.create_table(16);
    let root = caps.insert(a, 1, Rights::ALL).unwrap();
    let first = caps.mint(a, root, rights(&[R, XFER, DUP]), 11).unwrap();
    let second = caps.insert(a, 2, rights(&[W, XFER])).unwrap();
    caps.insert(b, 3, R).unwrap();

    let transit = caps.take_for_transfer(a, &[second, first], None).unwrap();
    assert_eq!(transit.len(), 2);
    assert!(!transit.is_empty());
    assert_eq!(transit.objects().copied().collect::<Vec<_>>(), vec![2, 1]);
    assert_eq!(caps.get(a, first), Err(Error::BadHandle));
    assert_eq!(caps.get(a, second), Err(Error::BadHandle));
    assert_eq!(caps.transit_count(), 2);
    caps.check_invariants().unwrap();

    let installed = caps.install(b, transit).unwrap();
    assert_eq!(installed.handles, vec![Handle(2), Handle(3)]);
    assert!(installed.revoked.is_empty());
    let moved = caps.get(b, Handle(3)).unwrap();
    assert_eq!(
        (moved.object, moved.rights, moved.badge),
        (1, rights(&[R, XFER, DUP]), 11)
    );
    assert_eq!(caps.transit_count(), 0);
    caps.check_invariants().unwrap();

    assert_eq!(caps.revoke(a, root), Ok(vec![1, 1]));
    assert_eq!(caps.get(b, Handle(3)), Err(Error::BadHandle));
    assert!(caps.get(b, Handle(2)).is_ok());
}

#[test]
fn an_empty_transfer_is_fine() {
    let (mut caps, t, _) = one_table();
    let transit = caps.take_for_transfer(t, &[], None).unwrap();
    assert!(transit.is_empty());
    let installed = caps.install(t, transit).unwrap();
    assert!(installed.handles.is_empty());
}

#[test]
fn every_invalid_transfer_changes_nothing() {
    let mut caps = Capabilities::new();
    let t = caps.create_table(16);
    let ok1 = caps.insert(t, 1, Rights::ALL).unwrap();
    let ok2 = caps.insert(t, 2, XFER).unwrap();
    let stuck = caps.insert(t, 3, rights(&[R, W, DUP])).unwrap();
    let channel = caps.insert(t, 4, Rights::ALL).unwrap();
    let closed = caps.insert(t, 5, Rights::ALL).unwrap();
    caps.close(t, closed).unwrap();
    let cases: [(&[Handle], Error); 6] = [
        (&[ok1, Handle(99)], Error::BadHandle),
        (&[ok1, closed], Error::BadHandle),
        (&[ok1, INVALID_HANDLE, ok2], Error::BadHandle),
        (&[ok1, ok2, stuck], Error::AccessDenied),
        (&[ok1, ok2, ok1], Error::InvalidArgument),
        (&[ok2, channel], Error::InvalidArgument),
    ];
    for (handles, error) in cases {
        let before = caps.clone();
        let result = caps.take_for_transfer(t, handles, Some(channel));
        assert_eq!(result.unwrap_err(), error, "{handles:?}");
        assert_eq!(caps, before);
    }
    // Without the exclusion the channel itself may be moved.
    assert_eq!(
        caps.take_for_transfer(t, &[channel], None).unwrap().len(),
        1
    );
}

#[test]
fn install_over_quota_installs_nothing_and_gives_the_handles_back() {
    let mut caps = Capabilities::new();
    let a = caps.create_table(16);
    let full = caps.create_table(2);
    let other = caps.create_table(2);
    let x = caps.insert(a, 1, Rights::ALL).unwrap();
    let y = caps.insert(a, 2, Rights::ALL).unwrap();
    caps.insert(full, 3, R).unwrap();
    let transit = caps.take_for_transfer(a, &[x, y], None).unwrap();

    let before = caps.clone();
    let (error, transit) = caps.install(full, transit).unwrap_err();
    assert_eq!(error, Error::NoMemory);
    assert_eq!(caps, before);
    let (error, transit) = caps.install(999, transit).unwrap_err();
    assert_eq!(error, Error::BadHandle);
    assert_eq!(caps, before);
    assert_eq!(transit.objects().copied().collect::<Vec<_>>(), vec![1, 2]);

    let installed = caps.install(other, transit).unwrap();
    assert_eq!(installed.handles, vec![Handle(1), Handle(2)]);
    caps.check_invariants().unwrap();
}

#[test]
fn handles_revoked_in_transit_are_not_installed() {
    let mut caps = Capabilities::new();
    let a = caps.create_table(16);
    let b = caps.create_table(1);
    let root = caps.insert(a, 1, Rights::ALL).unwrap();
    let kept = caps.insert(a, 2, Rights::ALL).unwrap();
    let sent = caps.duplicate(a, root, Rights::ALL).unwrap();
    let transit = caps.take_for_transfer(a, &[sent, kept], None).unwrap();
    assert_eq!(caps.revoke(a, root), Ok(vec![1]));
    // Only the live handle counts against b's quota of one.
    let installed = caps.install(b, transit).unwrap();
    assert_eq!(installed.handles, vec![INVALID_HANDLE, Handle(1)]);
    assert_eq!(installed.revoked, vec![1]);
    assert_eq!(caps.get(b, Handle(1)).unwrap().object, 2);
    assert_eq!(caps.transit_count(), 0);
    caps.check_invariants().unwrap();
}

#[test]
fn revoke_reaches_through_handles_in_transit() {
    let mut caps = Capabilities::new();
    let a = caps.create_table(16);
    let root = caps.insert(a, 1, Rights::ALL).unwrap();
    let middle = caps.duplicate(a, root, Rights::ALL).unwrap();
    let leaf = caps.duplicate(a, middle, Rights::ALL).unwrap();
    let transit = caps.take_for_transfer(a, &[middle], None).unwrap();
    assert_eq!(caps.revoke(a, root), Ok(vec![1, 1]));
    assert_eq!(caps.get(a, leaf), Err(Error::BadHandle));
    assert_eq!(caps.discard(transit), vec![1]);
    assert_eq!(caps.node_count(), 0);
}

#[test]
fn discard_drops_handles_and_reparents_their_children() {
    let mut caps = Capabilities::new();
    let a = caps.create_table(16);
    let root = caps.insert(a, 1, Rights::ALL).unwrap();
    let middle = caps.duplicate(a, root, Rights::ALL).unwrap();
    let leaf = caps.duplicate(a, middle, Rights::ALL).unwrap();
    let other = caps.insert(a, 2, Rights::ALL).unwrap();
    let transit = caps.take_for_transfer(a, &[middle, other], None).unwrap();
    assert_eq!(caps.discard(transit), vec![1, 2]);
    assert_eq!(caps.transit_count(), 0);
    caps.check_invariants().unwrap();
    assert!(caps.get(a, leaf).is_ok());
    assert_eq!(caps.revoke(a, root), Ok(vec![1, 1]));
    assert_eq!(caps.get(a, leaf), Err(Error::BadHandle));
}

#[test]
fn destroying_a_table_keeps_derived_handles_elsewhere() {
    let mut caps = Capabilities::new();
    let a = caps.create_table(16);
    let b = caps.create_table(16);
    let dying = caps.create_table(16);
    let root = caps.insert(a, 1, Rights::ALL).unwrap();
    let given = caps.duplicate(a, root, Rights::ALL).unwrap();
    let transit = caps.take_for_transfer(a, &[given], None).unwrap();
    let given = caps.install(dying, transit).unwrap().handles[0];
    let passed_on = caps.duplicate(dying, given, Rights::ALL).unwrap();
    caps.insert(dying, 9, Rights::ALL).unwrap();
    let transit = caps.take_for_transfer(dying, &[passed_on], None).unwrap();
    let passed_on = caps.install(b, transit).unwrap().handles[0];

    assert_eq!(sorted(caps.destroy_table(dying)), vec![1, 9]);
    assert_eq!(caps.handle_count(dying), 0);
    assert_eq!(caps.insert(dying, 1, R), Err(Error::BadHandle));
    assert!(caps.get(b, passed_on).is_ok());
    caps.check_invariants().unwrap();
    assert_eq!(caps.revoke(a, root), Ok(vec![1, 1]));
    assert_eq!(caps.get(b, passed_on), Err(Error::BadHandle));
    let fresh = caps.create_table(1);
    assert!(fresh > dying, "table ids are not reused");
}

#[test]
fn handles_lists_a_table_in_order() {
    let (mut caps, t, root) = one_table();
    let dup = caps.mint(t, root, R, 4).unwrap();
    caps.insert(t, 8, W).unwrap();
    caps.close(t, root).unwrap();
    let listed: Vec<_> = caps.handles(t).map(|(h, cap)| (h, cap.clone())).collect();
    assert_eq!(
        listed,
        vec![
            (
                dup,
                Cap {
                    object: 7,
                    rights: R,
                    badge: 4
                }
            ),
            (
                Handle(3),
                Cap {
                    object: 8,
                    rights: W,
                    badge: 0
                }
            ),
        ]
    );
    assert_eq!(caps.handle_count(t), 2);
}
