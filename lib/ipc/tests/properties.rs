//! Property tests: requests and replies round-trip exactly, and no input
//! makes the decoders or the dispatcher panic or stay silent.

mod common;

use abide_ipc::client::decode_reply;
use abide_ipc::wire::{self, Header, Kind, HEADER_LEN};
use abide_ipc::{CallError, RemoteError, WireError};
use common::{KeyValue, Store};
use proptest::prelude::*;

fn key() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "[a-z]{1,4}", any::<String>()]
}

fn request() -> impl Strategy<Value = KeyValue::Request> {
    prop_oneof![
        key().prop_map(|key| KeyValue::Request::get { key }),
        (key(), proptest::collection::vec(any::<u8>(), 0..64))
            .prop_map(|(key, value)| KeyValue::Request::set { key, value }),
        Just(KeyValue::Request::list {}),
    ]
}

fn remote_error() -> impl Strategy<Value = RemoteError> {
    prop_oneof![
        Just(RemoteError::Malformed),
        any::<u32>().prop_map(RemoteError::UnknownMethod),
        any::<u64>().prop_map(RemoteError::Kernel),
        any::<String>().prop_map(RemoteError::App),
    ]
}

/// A store preloaded with some entries, so `get` and `list` have something
/// to answer with.
fn store() -> Store {
    let mut store = Store::default();
    store.entries.insert("a".into(), vec![1]);
    store.entries.insert("bb".into(), vec![]);
    store
}

/// Checks that `reply` is a well-formed reply to `request`: kind reply-ok
/// or reply-error with a payload that decodes, echoing the request's
/// ordinal and txid if its header was readable (and 0 and 0 otherwise).
fn check_reply(request: &[u8], reply: &[u8]) -> Result<(), TestCaseError> {
    let (header, payload) =
        Header::decode(reply).map_err(|e| TestCaseError::fail(e.to_string()))?;
    match header.kind {
        Kind::ReplyOk => {}
        Kind::ReplyError => {
            wire::decode_payload::<RemoteError>(payload)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
        Kind::Request => return Err(TestCaseError::fail("the reply is a request")),
    }
    match Header::decode(request) {
        Ok((request, _)) => {
            prop_assert_eq!(header.txid, request.txid);
            prop_assert_eq!(header.ordinal, request.ordinal);
            if request.kind != Kind::Request {
                prop_assert_eq!(header.kind, Kind::ReplyError);
            }
        }
        Err(_) => {
            prop_assert_eq!(header.kind, Kind::ReplyError);
            prop_assert_eq!((header.txid, header.ordinal), (0, 0));
            prop_assert_eq!(
                wire::decode_payload::<RemoteError>(payload),
                Ok(RemoteError::Malformed)
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn headers_round_trip(kind in 0u8..3, ordinal in any::<u32>(), txid in any::<u64>(),
                          payload in proptest::collection::vec(any::<u8>(), 0..32)) {
        let header = Header { kind: Kind::from_u8(kind).unwrap(), ordinal, txid };
        let mut message = header.encode().to_vec();
        message.extend_from_slice(&payload);
        prop_assert_eq!(Header::decode(&message), Ok((header, &payload[..])));
    }

    #[test]
    fn requests_round_trip(request in request(), txid in any::<u64>()) {
        let bytes = request.encode(txid).unwrap();
        let header = Header::request(request.ordinal(), txid);
        prop_assert_eq!(KeyValue::Request::decode(&bytes), Ok((header, request)));
    }

    #[test]
    fn method_modules_encode_like_the_request_enum(request in request(), txid in any::<u64>()) {
        let by_module = match request.clone() {
            KeyValue::Request::get { key } => KeyValue::get::encode(txid, key),
            KeyValue::Request::set { key, value } => KeyValue::set::encode(txid, key, value),
            KeyValue::Request::list {} => KeyValue::list::encode(txid),
        };
        prop_assert_eq!(by_module.unwrap(), request.encode(txid).unwrap());
    }

    #[test]
    fn calls_round_trip_through_dispatch(request in request(), txid in any::<u64>()) {
        let mut server = store();
        let mut model = store();
        let bytes = request.encode(txid).unwrap();
        let reply = KeyValue::dispatch(&mut server, &bytes);
        check_reply(&bytes, &reply)?;
        use KeyValue::Server as _;
        match request {
            KeyValue::Request::get { key } => prop_assert_eq!(
                KeyValue::get::decode_reply(&reply, Some(txid)),
                model.get(key).map_err(CallError::Remote)
            ),
            KeyValue::Request::set { key, value } => prop_assert_eq!(
                KeyValue::set::decode_reply(&reply, Some(txid)),
                model.set(key, value).map_err(CallError::Remote)
            ),
            KeyValue::Request::list {} => prop_assert_eq!(
                KeyValue::list::decode_reply(&reply, Some(txid)),
                model.list().map_err(CallError::Remote)
            ),
        }
        prop_assert_eq!(server.entries, model.entries);
    }

    #[test]
    fn remote_errors_round_trip(error in remote_error(), ordinal in any::<u32>(), txid in any::<u64>()) {
        let reply = abide_ipc::server::error(&Header::request(ordinal, txid), &error);
        prop_assert_eq!(decode_reply::<Vec<String>>(&reply, Some(txid)), Err(CallError::Remote(error)));
    }

    #[test]
    fn replies_round_trip(value in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64)),
                          txid in any::<u64>()) {
        let reply = abide_ipc::server::reply(&Header::request(1, txid), Ok(value.clone()));
        prop_assert_eq!(KeyValue::get::decode_reply(&reply, Some(txid)), Ok(value));
    }

    #[test]
    fn random_bytes_never_panic_and_always_get_a_reply(
        bytes in proptest::collection::vec(any::<u8>(), 0..64)
    ) {
        if let Ok((header, payload)) = Header::decode(&bytes) {
            let mut again = header.encode().to_vec();
            again.extend_from_slice(payload);
            prop_assert_eq!(&again, &bytes);
        }
        let _ = KeyValue::Request::decode(&bytes);
        let _ = KeyValue::get::decode_reply(&bytes, None);
        let _ = KeyValue::list::decode_reply(&bytes, Some(0));
        let _ = wire::decode_payload::<RemoteError>(&bytes);
        let reply = KeyValue::dispatch(&mut store(), &bytes);
        check_reply(&bytes, &reply)?;
    }

    #[test]
    fn random_payloads_behind_a_valid_header_always_get_a_reply(
        ordinal in 0u32..5,
        txid in any::<u64>(),
        payload in proptest::collection::vec(any::<u8>(), 0..48),
    ) {
        let mut bytes = Header::request(ordinal, txid).encode().to_vec();
        bytes.extend_from_slice(&payload);
        let reply = KeyValue::dispatch(&mut store(), &bytes);
        check_reply(&bytes, &reply)?;
        if !(1..=3).contains(&ordinal) {
            prop_assert_eq!(
                KeyValue::list::decode_reply(&reply, Some(txid)),
                Err(CallError::Remote(RemoteError::UnknownMethod(ordinal)))
            );
        }
    }

    #[test]
    fn corrupted_requests_always_get_a_reply(
        request in request(),
        txid in any::<u64>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut bytes = request.encode(txid).unwrap();
        for (index, value) in flips {
            let at = index.index(bytes.len());
            bytes[at] = value;
        }
        let reply = KeyValue::dispatch(&mut store(), &bytes);
        check_reply(&bytes, &reply)?;
    }

    #[test]
    fn truncated_requests_are_rejected(request in request(), txid in any::<u64>(),
                                       cut in any::<prop::sample::Index>()) {
        let bytes = request.encode(txid).unwrap();
        let len = cut.index(bytes.len());
        let truncated = &bytes[..len];
        prop_assert_eq!(KeyValue::Request::decode(truncated), Err(RemoteError::Malformed));
        let reply = KeyValue::dispatch(&mut store(), truncated);
        check_reply(truncated, &reply)?;
        prop_assert_eq!(
            wire::decode_payload::<RemoteError>(Header::decode(&reply).unwrap().1),
            Ok(RemoteError::Malformed)
        );
    }

    #[test]
    fn truncated_replies_are_rejected(request in request(), txid in any::<u64>(),
                                      cut in any::<prop::sample::Index>()) {
        let bytes = request.encode(txid).unwrap();
        let reply = KeyValue::dispatch(&mut store(), &bytes);
        let len = cut.index(reply.len());
        let truncated = &reply[..len];
        let expected = if len < HEADER_LEN { WireError::Truncated } else { WireError::Payload };
        let error = match request {
            KeyValue::Request::get { .. } => KeyValue::get::decode_reply(truncated, Some(txid)).err(),
            KeyValue::Request::set { .. } => KeyValue::set::decode_reply(truncated, Some(txid)).err(),
            KeyValue::Request::list {} => KeyValue::list::decode_reply(truncated, Some(txid)).err(),
        };
        prop_assert_eq!(error, Some(CallError::Wire(expected)));
    }
}
