//! The `KeyValue` example end to end: the client encodes, the server
//! dispatches, the client decodes the reply.

mod common;

use abide_ipc::wire::{self, Header, Kind, HEADER_LEN};
use abide_ipc::{CallError, RemoteError, WireError};
use common::{KeyValue, Store};

fn header_of(message: &[u8]) -> Header {
    Header::decode(message).unwrap().0
}

#[test]
fn generated_constants() {
    assert_eq!(KeyValue::NAME, "KeyValue");
    assert_eq!(KeyValue::ORDINALS, &[1, 2, 3]);
    assert_eq!(KeyValue::get::ORDINAL, 1);
    assert_eq!(KeyValue::set::ORDINAL, 2);
    assert_eq!(KeyValue::list::ORDINAL, 3);
}

#[test]
fn set_get_list_round_trip() {
    let mut store = Store::default();

    let request = KeyValue::get::encode(1, "a".into()).unwrap();
    let reply = KeyValue::dispatch(&mut store, &request);
    assert_eq!(KeyValue::get::decode_reply(&reply, Some(1)), Ok(None));

    let request = KeyValue::set::encode(2, "a".into(), vec![1, 2]).unwrap();
    let reply = KeyValue::dispatch(&mut store, &request);
    assert_eq!(KeyValue::set::decode_reply(&reply, Some(2)), Ok(()));
    assert_eq!(reply.len(), HEADER_LEN, "a unit reply has an empty payload");

    let request = KeyValue::set::encode(3, "b".into(), vec![]).unwrap();
    KeyValue::dispatch(&mut store, &request);

    let request = KeyValue::get::encode(4, "a".into()).unwrap();
    let reply = KeyValue::dispatch(&mut store, &request);
    assert_eq!(
        KeyValue::get::decode_reply(&reply, Some(4)),
        Ok(Some(vec![1, 2]))
    );

    let request = KeyValue::list::encode(5).unwrap();
    let reply = KeyValue::dispatch(&mut store, &request);
    assert_eq!(
        KeyValue::list::decode_reply(&reply, Some(5)),
        Ok(vec!["a".to_string(), "b".to_string()])
    );
    assert_eq!(store.calls, 5);
}

#[test]
fn request_enum_and_method_modules_encode_the_same() {
    let by_enum = KeyValue::Request::set {
        key: "k".into(),
        value: vec![9],
    };
    assert_eq!(by_enum.ordinal(), 2);
    assert_eq!(
        by_enum.encode(77).unwrap(),
        KeyValue::set::encode(77, "k".into(), vec![9]).unwrap()
    );
    assert_eq!(
        KeyValue::Request::list {}.encode(1).unwrap(),
        KeyValue::list::encode(1).unwrap()
    );
}

#[test]
fn request_decodes_back() {
    let request = KeyValue::Request::get { key: "x".into() };
    let bytes = request.encode(42).unwrap();
    assert_eq!(
        KeyValue::Request::decode(&bytes),
        Ok((Header::request(1, 42), request))
    );
    let reply = Header::request(1, 42).reply(true).encode();
    assert_eq!(
        KeyValue::Request::decode(&reply),
        Err(RemoteError::Malformed)
    );
    assert_eq!(KeyValue::Request::decode(&[]), Err(RemoteError::Malformed));
}

#[test]
fn reply_echoes_ordinal_and_txid() {
    let mut store = Store::default();
    for txid in [0, 1, u64::MAX] {
        let reply = KeyValue::dispatch(&mut store, &KeyValue::list::encode(txid).unwrap());
        assert_eq!(
            header_of(&reply),
            Header {
                kind: Kind::ReplyOk,
                ordinal: 3,
                txid
            }
        );
    }
}

#[test]
fn txid_mismatch_is_detected() {
    let mut store = Store::default();
    let reply = KeyValue::dispatch(&mut store, &KeyValue::get::encode(7, "k".into()).unwrap());
    assert_eq!(
        KeyValue::get::decode_reply(&reply, Some(8)),
        Err(CallError::WrongTxid {
            expected: 8,
            got: 7
        })
    );
    assert_eq!(KeyValue::get::decode_reply(&reply, None), Ok(None));
}

#[test]
fn a_request_is_not_a_reply() {
    let request = KeyValue::get::encode(7, "k".into()).unwrap();
    assert_eq!(
        KeyValue::get::decode_reply(&request, Some(7)),
        Err(CallError::WrongKind)
    );
}

#[test]
fn reply_of_another_method_does_not_decode() {
    let mut store = Store::default();
    let reply = KeyValue::dispatch(&mut store, &KeyValue::list::encode(1).unwrap());
    // `list` answered `[]`, one byte 0: not a `()`.
    assert_eq!(
        KeyValue::set::decode_reply(&reply, Some(1)),
        Err(CallError::Wire(WireError::Payload))
    );
}

#[test]
fn method_error_is_sent_back() {
    let mut store = Store::default();
    let request = KeyValue::set::encode(3, String::new(), vec![1]).unwrap();
    let reply = KeyValue::dispatch(&mut store, &request);
    assert_eq!(header_of(&reply).kind, Kind::ReplyError);
    assert_eq!(
        KeyValue::set::decode_reply(&reply, Some(3)),
        Err(CallError::Remote(RemoteError::app("empty key")))
    );
    assert!(store.entries.is_empty());
}

#[test]
fn unknown_method() {
    let mut store = Store::default();
    for ordinal in [0, 4, u32::MAX] {
        let request = wire::encode_message(&Header::request(ordinal, 11), &()).unwrap();
        let reply = KeyValue::dispatch(&mut store, &request);
        assert_eq!(
            header_of(&reply),
            Header {
                kind: Kind::ReplyError,
                ordinal,
                txid: 11
            }
        );
        assert_eq!(
            KeyValue::list::decode_reply(&reply, Some(11)),
            Err(CallError::Remote(RemoteError::UnknownMethod(ordinal)))
        );
    }
    assert_eq!(store.calls, 0);
}

#[test]
fn malformed_args() {
    let mut store = Store::default();
    let cases: [(u32, Vec<u8>); 5] = [
        // `get` with no argument.
        (1, vec![]),
        // `get` with a string cut short.
        (1, vec![3, b'a']),
        // `get` with a key that is not UTF-8.
        (1, vec![1, 0xFF]),
        // `list` with an argument it does not take.
        (3, vec![0]),
        // `set` with its key but not its value.
        (2, vec![1, b'k']),
    ];
    for (ordinal, payload) in cases {
        let mut request = Header::request(ordinal, 5).encode().to_vec();
        request.extend_from_slice(&payload);
        let reply = KeyValue::dispatch(&mut store, &request);
        assert_eq!(header_of(&reply).txid, 5);
        assert_eq!(header_of(&reply).ordinal, ordinal);
        assert_eq!(
            KeyValue::list::decode_reply(&reply, Some(5)),
            Err(CallError::Remote(RemoteError::Malformed)),
            "ordinal {ordinal}, payload {payload:?}"
        );
    }
    assert_eq!(store.calls, 0);
}

#[test]
fn trailing_bytes_in_a_request_are_malformed() {
    let mut store = Store::default();
    let mut request = KeyValue::get::encode(5, "k".into()).unwrap();
    request.push(0);
    let reply = KeyValue::dispatch(&mut store, &request);
    assert_eq!(
        KeyValue::get::decode_reply(&reply, Some(5)),
        Err(CallError::Remote(RemoteError::Malformed))
    );
}

#[test]
fn unreadable_header_gets_malformed_with_txid_zero() {
    let mut store = Store::default();
    let good = KeyValue::list::encode(9).unwrap();
    let mut bad_magic = good.clone();
    bad_magic[0] = 0;
    let mut bad_version = good.clone();
    bad_version[2] = 7;
    let mut bad_kind = good.clone();
    bad_kind[3] = 3;
    for request in [
        vec![],
        good[..HEADER_LEN - 1].to_vec(),
        bad_magic,
        bad_version,
        bad_kind,
    ] {
        let reply = KeyValue::dispatch(&mut store, &request);
        assert_eq!(
            header_of(&reply),
            Header {
                kind: Kind::ReplyError,
                ordinal: 0,
                txid: 0
            }
        );
        assert_eq!(
            KeyValue::list::decode_reply(&reply, Some(0)),
            Err(CallError::Remote(RemoteError::Malformed))
        );
    }
}

#[test]
fn a_reply_sent_to_the_server_is_malformed_with_its_txid() {
    let mut store = Store::default();
    let reply_ok = KeyValue::dispatch(&mut store, &KeyValue::list::encode(9).unwrap());
    let answer = KeyValue::dispatch(&mut store, &reply_ok);
    assert_eq!(header_of(&answer).txid, 9);
    assert_eq!(
        KeyValue::list::decode_reply(&answer, Some(9)),
        Err(CallError::Remote(RemoteError::Malformed))
    );
}

#[test]
fn server_trait_objects_dispatch() {
    let mut store = Store::default();
    let server: &mut dyn KeyValue::Server = &mut store;
    let reply = KeyValue::dispatch(server, &KeyValue::list::encode(1).unwrap());
    assert_eq!(KeyValue::list::decode_reply(&reply, Some(1)), Ok(vec![]));
}
