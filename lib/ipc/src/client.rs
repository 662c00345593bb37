//! The client side: decoding a reply into a method's result.
//!
//! The code the [`interface!`](crate::interface) macro generates for each
//! method calls [`decode_reply`] with the method's return type; transports (the
//! async client in `rt`, or a test) only move the bytes.

use core::fmt;

use serde::de::DeserializeOwned;

use crate::wire::{self, Header, Kind, RemoteError, WireError};

/// Why a call did not produce a value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CallError {
    /// The reply is not a valid message, or its payload is not the method's
    /// return type (or not a [`RemoteError`]).
    Wire(WireError),
    /// The server answered with an error.
    Remote(RemoteError),
    /// The reply belongs to another transaction.
    WrongTxid {
        /// The txid of the request.
        expected: u64,
        /// The txid the reply carries.
        got: u64,
    },
    /// The message is a request, not a reply.
    WrongKind,
}

impl From<WireError> for CallError {
    fn from(error: WireError) -> CallError {
        CallError::Wire(error)
    }
}

impl From<RemoteError> for CallError {
    fn from(error: RemoteError) -> CallError {
        CallError::Remote(error)
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Wire(error) => write!(f, "bad reply: {error}"),
            CallError::Remote(error) => write!(f, "remote error: {error}"),
            CallError::WrongTxid { expected, got } => {
                write!(f, "reply for transaction {got}, expected {expected}")
            }
            CallError::WrongKind => f.write_str("expected a reply, got a request"),
        }
    }
}

/// Decodes `reply` as the answer to a call returning `T`.
///
/// If `expected_txid` is given, a reply carrying another txid is
/// [`CallError::WrongTxid`] (checked before anything else after the header).
/// A reply-ok payload must be exactly one `T`; a reply-error payload must be
/// exactly one [`RemoteError`], which is returned as [`CallError::Remote`].
pub fn decode_reply<T: DeserializeOwned>(
    reply: &[u8],
    expected_txid: Option<u64>,
) -> Result<T, CallError> {
    let (header, payload) = Header::decode(reply)?;
    if let Some(expected) = expected_txid {
        if header.txid != expected {
            return Err(CallError::WrongTxid {
                expected,
                got: header.txid,
            });
        }
    }
    match header.kind {
        Kind::Request => Err(CallError::WrongKind),
        Kind::ReplyOk => Ok(wire::decode_payload(payload)?),
        Kind::ReplyError => Err(CallError::Remote(wire::decode_payload(payload)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::encode_message;
    use alloc::string::{String, ToString};
    use alloc::vec::Vec;

    fn reply<T: serde::Serialize>(ok: bool, txid: u64, value: &T) -> Vec<u8> {
        encode_message(&Header::request(1, txid).reply(ok), value).unwrap()
    }

    #[test]
    fn ok_reply_decodes_to_the_value() {
        let bytes = reply(true, 5, &Some(7u32));
        assert_eq!(decode_reply::<Option<u32>>(&bytes, Some(5)), Ok(Some(7)));
        assert_eq!(decode_reply::<Option<u32>>(&bytes, None), Ok(Some(7)));
    }

    #[test]
    fn error_reply_decodes_to_the_remote_error() {
        let bytes = reply(false, 5, &RemoteError::app("nope"));
        assert_eq!(
            decode_reply::<u32>(&bytes, Some(5)),
            Err(CallError::Remote(RemoteError::app("nope")))
        );
    }

    #[test]
    fn txid_mismatch_is_detected() {
        let bytes = reply(true, 5, &1u32);
        assert_eq!(
            decode_reply::<u32>(&bytes, Some(6)),
            Err(CallError::WrongTxid {
                expected: 6,
                got: 5
            })
        );
    }

    #[test]
    fn request_is_not_a_reply() {
        let bytes = encode_message(&Header::request(1, 5), &1u32).unwrap();
        assert_eq!(
            decode_reply::<u32>(&bytes, Some(5)),
            Err(CallError::WrongKind)
        );
    }

    #[test]
    fn bad_payloads_are_wire_errors() {
        let bytes = reply(true, 5, &String::from("text"));
        assert_eq!(
            decode_reply::<u64>(&bytes, None),
            Err(CallError::Wire(WireError::Payload))
        );
        let bytes = reply(false, 5, &String::from("not a RemoteError"));
        assert_eq!(
            decode_reply::<u64>(&bytes, None),
            Err(CallError::Wire(WireError::Payload))
        );
        assert_eq!(
            decode_reply::<u64>(&[], None),
            Err(CallError::Wire(WireError::Truncated))
        );
    }

    #[test]
    fn call_errors_display() {
        assert_eq!(
            CallError::WrongTxid {
                expected: 1,
                got: 2
            }
            .to_string(),
            "reply for transaction 2, expected 1"
        );
        assert_eq!(
            CallError::Remote(RemoteError::UnknownMethod(3)).to_string(),
            "remote error: unknown method 3"
        );
        assert_eq!(
            CallError::Wire(WireError::BadMagic).to_string(),
            "bad reply: bad magic number"
        );
        assert!(!CallError::WrongKind.to_string().is_empty());
    }
}
