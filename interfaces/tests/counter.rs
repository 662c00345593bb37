//! The `Counter` interface through its generated dispatch.

use abide_interfaces::Counter;
use abide_ipc::RemoteError;

/// A `Counter` that counts its calls.
struct Calls(u64);

impl Counter::Server for Calls {
    fn get(&mut self) -> Result<u64, RemoteError> {
        self.0 += 1;
        Ok(self.0)
    }
}

#[test]
fn counter_round_trips_through_dispatch() {
    let mut counter = Calls(41);
    let reply = Counter::dispatch(&mut counter, &Counter::get::encode(1).unwrap());
    assert_eq!(Counter::get::decode_reply(&reply, Some(1)), Ok(42));
}

#[test]
fn names_and_ordinals_are_stable() {
    assert_eq!(Counter::NAME, "Counter");
    assert_eq!(Counter::ORDINALS, &[1]);
}
