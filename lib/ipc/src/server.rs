//! The server side: turning a call's outcome into a reply message.
//!
//! The dispatch function the [`interface!`](crate::interface) macro generates
//! decodes the request and calls the server; the functions here build the
//! reply. Every one of them returns a message: they cannot fail, so a server
//! always answers.

use alloc::vec::Vec;

use serde::Serialize;

use crate::wire::{self, Header, Kind, RemoteError};

/// The reply to a request whose header could not be read: a reply-error
/// [`RemoteError::Malformed`] with ordinal 0 and txid 0.
pub fn unreadable() -> Vec<u8> {
    error(&Header::request(0, 0), &RemoteError::Malformed)
}

/// The reply-error to `request` carrying `error`.
pub fn error(request: &Header, error: &RemoteError) -> Vec<u8> {
    let header = request.reply(false);
    // A `RemoteError` always encodes; should it ever not, the reply is still
    // a well-formed header, whose empty payload the client reports as a
    // wire error.
    wire::encode_message(&header, error).unwrap_or_else(|_| Vec::from(header.encode()))
}

/// The reply-error `Restarted` to the request `txid`, which a crashed
/// predecessor of this server had taken on: the client sends it again
/// (with the same txid). The ordinal is unknown by then and 0; clients
/// match replies by txid.
pub fn restarted(txid: u64) -> Vec<u8> {
    error(
        &Header::request(0, txid),
        &RemoteError::from(abide_abi::syscall::Error::Restarted),
    )
}

/// The reply to `request` for a call that returned `result`.
///
/// If the value cannot be encoded (a hand-written `Serialize` that fails),
/// the reply is a reply-error saying so instead.
pub fn reply<T: Serialize>(request: &Header, result: Result<T, RemoteError>) -> Vec<u8> {
    match result {
        Ok(value) => wire::encode_message(&request.reply(true), &value).unwrap_or_else(|_| {
            error(
                request,
                &RemoteError::app("the server could not encode its reply"),
            )
        }),
        Err(remote) => error(request, &remote),
    }
}

/// Reads the header of `message` and checks that it is a request.
///
/// On failure returns the reply to send instead: [`unreadable`] if the
/// header cannot be read, [`RemoteError::Malformed`] with the message's txid
/// if it is readable but not a request.
pub fn request_header(message: &[u8]) -> Result<(Header, &[u8]), Vec<u8>> {
    match Header::decode(message) {
        Ok((header, payload)) if header.kind == Kind::Request => Ok((header, payload)),
        Ok((header, _)) => Err(error(&header, &RemoteError::Malformed)),
        Err(_) => Err(unreadable()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restarted_carries_the_txid_and_the_kernel_error() {
        let reply = restarted(77);
        let (header, payload) = Header::decode(&reply).unwrap();
        assert_eq!((header.kind, header.txid), (Kind::ReplyError, 77));
        let error: RemoteError = wire::decode_payload(payload).unwrap();
        assert_eq!(
            error.kernel_error(),
            Some(abide_abi::syscall::Error::Restarted)
        );
    }
    use crate::client::{decode_reply, CallError};
    use alloc::string::String;

    struct Unencodable;

    impl Serialize for Unencodable {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("no"))
        }
    }

    #[test]
    fn ok_reply_carries_the_value_and_echoes_the_request() {
        let request = Header::request(4, 99);
        let bytes = reply(&request, Ok(String::from("v")));
        let (header, _) = Header::decode(&bytes).unwrap();
        assert_eq!(header, request.reply(true));
        assert_eq!(
            decode_reply::<String>(&bytes, Some(99)),
            Ok(String::from("v"))
        );
    }

    #[test]
    fn error_reply_carries_the_error() {
        let request = Header::request(4, 99);
        let bytes = reply::<()>(&request, Err(RemoteError::Kernel(3)));
        assert_eq!(Header::decode(&bytes).unwrap().0, request.reply(false));
        assert_eq!(
            decode_reply::<()>(&bytes, Some(99)),
            Err(CallError::Remote(RemoteError::Kernel(3)))
        );
    }

    #[test]
    fn unencodable_value_becomes_an_error_reply() {
        let bytes = reply(&Header::request(1, 2), Ok(Unencodable));
        assert!(matches!(
            decode_reply::<()>(&bytes, Some(2)),
            Err(CallError::Remote(RemoteError::App(_)))
        ));
    }

    #[test]
    fn request_header_accepts_requests_only() {
        let request = Header::request(1, 2).encode();
        assert_eq!(
            request_header(&request),
            Ok((Header::request(1, 2), &[][..]))
        );

        let not_request = Header::request(1, 2).reply(true).encode();
        let answer = request_header(&not_request).unwrap_err();
        assert_eq!(
            decode_reply::<()>(&answer, Some(2)),
            Err(CallError::Remote(RemoteError::Malformed))
        );

        let answer = request_header(&[1, 2, 3]).unwrap_err();
        assert_eq!(answer, unreadable());
        assert_eq!(
            decode_reply::<()>(&answer, Some(0)),
            Err(CallError::Remote(RemoteError::Malformed))
        );
    }
}
