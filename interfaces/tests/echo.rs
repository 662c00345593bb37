//! The `Echo` interface through its generated dispatch.

use abide_interfaces::Echo;
use abide_ipc::{CallError, RemoteError};

struct Echoer;

impl Echo::Server for Echoer {
    fn echo(&mut self, text: String) -> Result<String, RemoteError> {
        Ok(text)
    }

    fn add(&mut self, a: u64, b: u64) -> Result<u64, RemoteError> {
        a.checked_add(b).ok_or_else(|| RemoteError::app("overflow"))
    }
}

#[test]
fn echo_round_trips_through_dispatch() {
    let mut echo = Echoer;
    let reply = Echo::dispatch(&mut echo, &Echo::echo::encode(1, "hi".into()).unwrap());
    assert_eq!(Echo::echo::decode_reply(&reply, Some(1)), Ok("hi".into()));
    let reply = Echo::dispatch(&mut echo, &Echo::add::encode(2, 40, 2).unwrap());
    assert_eq!(Echo::add::decode_reply(&reply, Some(2)), Ok(42));
    let reply = Echo::dispatch(&mut echo, &Echo::add::encode(3, u64::MAX, 1).unwrap());
    assert_eq!(
        Echo::add::decode_reply(&reply, Some(3)),
        Err(CallError::Remote(RemoteError::app("overflow")))
    );
}

#[test]
fn names_and_ordinals_are_stable() {
    assert_eq!(Echo::NAME, "Echo");
    assert_eq!(Echo::ORDINALS, &[1, 2]);
}
