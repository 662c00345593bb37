//! The parked-call list: waking by key, deadlines, and a re-issued trap
//! replacing the request it repeats.

use abide_unix::waits::Waits;

#[test]
fn wake_takes_only_the_key() {
    let mut waits: Waits<u32, &str> = Waits::default();
    waits.park(1, 7, None, "a");
    waits.park(2, 8, None, "b");
    waits.park(3, 7, Some(50), "c");
    let woken: Vec<u32> = waits.wake(&7).into_iter().map(|(t, _)| t).collect();
    assert_eq!(woken, [1, 3]);
    assert_eq!(waits.len(), 1);
    assert!(waits.is_parked(2));
}

#[test]
fn deadlines_expire_in_time() {
    let mut waits: Waits<u32, ()> = Waits::default();
    waits.park(1, 0, Some(100), ());
    waits.park(2, 0, Some(50), ());
    waits.park(3, 0, None, ());
    assert_eq!(waits.next_deadline(), Some(50));
    assert!(waits.expired(49).is_empty());
    assert_eq!(waits.expired(100).len(), 2);
    assert_eq!(waits.next_deadline(), None);
}

#[test]
fn parking_again_replaces_the_request() {
    let mut waits: Waits<u32, &str> = Waits::default();
    assert_eq!(waits.park(1, 0, None, "first"), None);
    assert_eq!(waits.park(1, 0, None, "again"), Some("first"));
    assert_eq!(waits.len(), 1);
    assert_eq!(waits.take(1).map(|p| p.request), Some("again"));
}
