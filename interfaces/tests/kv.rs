//! The `KeyValue` interface through its generated dispatch: round trips,
//! errors, and messages it must refuse (garbage, another interface's).

use abide_interfaces::{Echo, Entry, KeyValue};
use abide_ipc::wire::{self, Header, Kind};
use abide_ipc::{CallError, RemoteError};
// The `KeyValue` server the kv services run, in memory.
use abide_kvstore::Store;

#[test]
fn key_value_round_trips_through_dispatch() {
    let mut store = Store::default();
    let reply = KeyValue::dispatch(&mut store, &KeyValue::get::encode(1, "a".into()).unwrap());
    assert_eq!(KeyValue::get::decode_reply(&reply, Some(1)), Ok(None));

    let request = KeyValue::set::encode(2, "b".into(), vec![1, 2, 3]).unwrap();
    let reply = KeyValue::dispatch(&mut store, &request);
    assert_eq!(KeyValue::set::decode_reply(&reply, Some(2)), Ok(()));
    let request = KeyValue::set::encode(3, "a".into(), vec![]).unwrap();
    KeyValue::dispatch(&mut store, &request);

    let reply = KeyValue::dispatch(&mut store, &KeyValue::get::encode(4, "b".into()).unwrap());
    assert_eq!(
        KeyValue::get::decode_reply(&reply, Some(4)),
        Ok(Some(vec![1, 2, 3]))
    );
    let reply = KeyValue::dispatch(&mut store, &KeyValue::list::encode(5).unwrap());
    assert_eq!(
        KeyValue::list::decode_reply(&reply, Some(5)),
        Ok(vec![
            Entry {
                key: "a".into(),
                len: 0
            },
            Entry {
                key: "b".into(),
                len: 3
            },
        ])
    );
}

#[test]
fn key_value_del_says_whether_the_key_was_there() {
    let mut store = Store::default();
    let request = KeyValue::set::encode(1, "a".into(), vec![1]).unwrap();
    KeyValue::dispatch(&mut store, &request);
    for (txid, was_there) in [(2, true), (3, false)] {
        let reply = KeyValue::dispatch(
            &mut store,
            &KeyValue::del::encode(txid, "a".into()).unwrap(),
        );
        assert_eq!(
            KeyValue::del::decode_reply(&reply, Some(txid)),
            Ok(was_there)
        );
    }
    assert!(store.is_empty());
}

#[test]
fn key_value_errors_reach_the_client() {
    let mut store = Store::default();
    let request = KeyValue::set::encode(7, String::new(), vec![1]).unwrap();
    let reply = KeyValue::dispatch(&mut store, &request);
    assert_eq!(
        KeyValue::set::decode_reply(&reply, Some(7)),
        Err(CallError::Remote(RemoteError::app("empty key")))
    );
}

#[test]
fn garbage_gets_a_malformed_reply_with_txid_zero() {
    let mut store = Store::default();
    // Not starting with the magic: the header is unreadable.
    for garbage in [&b""[..], b"\x00", &[0x5a; 64]] {
        let reply = KeyValue::dispatch(&mut store, garbage);
        let (header, _) = Header::decode(&reply).unwrap();
        assert_eq!((header.kind, header.txid), (Kind::ReplyError, 0));
        assert_eq!(
            KeyValue::get::decode_reply(&reply, Some(0)),
            Err(CallError::Remote(RemoteError::Malformed))
        );
    }
    assert!(store.is_empty());
}

#[test]
fn a_request_for_one_interface_is_refused_by_another() {
    // `Echo::add(40, 2)` (ordinal 2) sent to a `KeyValue` server, whose
    // ordinal 2 is `set`: the payload [40, 2] reads as a 40-byte key
    // with one byte behind it, which does not decode.
    let mut store = Store::default();
    let reply = KeyValue::dispatch(&mut store, &Echo::add::encode(9, 40, 2).unwrap());
    assert_eq!(
        KeyValue::set::decode_reply(&reply, Some(9)),
        Err(CallError::Remote(RemoteError::Malformed))
    );
    // An ordinal `KeyValue` does not have.
    let request = wire::encode_message(&Header::request(99, 10), &()).unwrap();
    let reply = KeyValue::dispatch(&mut store, &request);
    assert_eq!(
        KeyValue::list::decode_reply(&reply, Some(10)),
        Err(CallError::Remote(RemoteError::UnknownMethod(99)))
    );
}

#[test]
fn names_and_ordinals_are_stable() {
    assert_eq!(KeyValue::NAME, "KeyValue");
    assert_eq!(KeyValue::ORDINALS, &[1, 2, 3, 4]);
}
