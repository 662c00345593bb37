//! The wire format: what one message on a channel looks like.
//!
//! Every message is a fixed 16-byte [`Header`] followed by a `postcard`
//! payload. All header fields are little endian:
//!
//! | offset | size | field     | meaning                                        |
//! |-------:|-----:|-----------|------------------------------------------------|
//! | 0      | 2    | `magic`   | always [`MAGIC`] (`0xAB1D`)                    |
//! | 2      | 1    | `version` | always [`VERSION`] (1)                         |
//! | 3      | 1    | `kind`    | [`Kind`]: 0 request, 1 reply-ok, 2 reply-error |
//! | 4      | 4    | `ordinal` | the method number                              |
//! | 8      | 8    | `txid`    | the transaction id                             |
//!
//! The client chooses the `txid`; the reply echoes it (and the ordinal), so a
//! client can match replies to requests. The `txid` is also the idempotency
//! token: a request that is retried (say after [`Restarted`]) carries the same
//! `txid` as the first attempt, so a server can tell a retry from a new call.
//!
//! The payload of a request is the method's arguments as a tuple; the payload
//! of a reply-ok is the method's return value; the payload of a reply-error is
//! a [`RemoteError`]. A payload must be consumed exactly: trailing bytes are an
//! error, so a truncated or padded message is never mistaken for a valid one.
//!
//! [`Restarted`]: abide_abi::syscall::Error::Restarted

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use abide_le::{put_array, put_u16, put_u32, put_u64, u16_at, u32_at, u64_at, u8_at};
use serde::{Deserialize, Serialize};

/// The first two bytes of every message.
pub const MAGIC: u16 = 0xAB1D;

/// The wire-format version this crate speaks.
pub const VERSION: u8 = 1;

/// The size of the header, in bytes; the payload starts right after it.
pub const HEADER_LEN: usize = 16;

/// What a message is.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A call from a client; the payload holds the arguments.
    Request = 0,
    /// A successful reply; the payload holds the return value.
    ReplyOk = 1,
    /// A failed call; the payload holds a [`RemoteError`].
    ReplyError = 2,
}

impl Kind {
    /// The kind with wire value `value`, if there is one.
    pub const fn from_u8(value: u8) -> Option<Kind> {
        match value {
            0 => Some(Kind::Request),
            1 => Some(Kind::ReplyOk),
            2 => Some(Kind::ReplyError),
            _ => None,
        }
    }
}

/// The fixed part of every message.
///
/// The magic and version are not fields: [`Header::encode`] writes the
/// constants and [`Header::decode`] checks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    /// Request, reply-ok or reply-error.
    pub kind: Kind,
    /// The method number within the interface.
    pub ordinal: u32,
    /// The transaction id, chosen by the client and echoed by the reply.
    pub txid: u64,
}

impl Header {
    /// A request header for method `ordinal`.
    pub const fn request(ordinal: u32, txid: u64) -> Header {
        Header {
            kind: Kind::Request,
            ordinal,
            txid,
        }
    }

    /// The header of the reply to this request: same ordinal and txid, kind
    /// reply-ok if `ok`, otherwise reply-error.
    pub const fn reply(&self, ok: bool) -> Header {
        Header {
            kind: if ok { Kind::ReplyOk } else { Kind::ReplyError },
            ordinal: self.ordinal,
            txid: self.txid,
        }
    }

    /// The header's 16 bytes.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut bytes = [0; HEADER_LEN];
        // Every field is inside the header's 16 bytes.
        put_u16(&mut bytes, 0, MAGIC);
        put_array(&mut bytes, 2, [VERSION, self.kind as u8]);
        put_u32(&mut bytes, 4, self.ordinal);
        put_u64(&mut bytes, 8, self.txid);
        bytes
    }

    /// Reads the header at the start of `message` and returns it with the
    /// payload (everything after the header).
    ///
    /// Checks, in order: the length ([`WireError::Truncated`]), the magic,
    /// the version and the kind.
    pub fn decode(message: &[u8]) -> Result<(Header, &[u8]), WireError> {
        let (Some(head), Some(payload)) = (message.get(..HEADER_LEN), message.get(HEADER_LEN..))
        else {
            return Err(WireError::Truncated);
        };
        // `head` is the header's 16 bytes: no field runs past it.
        let short = WireError::Truncated;
        if u16_at(head, 0).ok_or(short)? != MAGIC {
            return Err(WireError::BadMagic);
        }
        if u8_at(head, 2).ok_or(short)? != VERSION {
            return Err(WireError::BadVersion);
        }
        let kind = u8_at(head, 3).ok_or(short)?;
        let kind = Kind::from_u8(kind).ok_or(WireError::BadKind(kind))?;
        let header = Header {
            kind,
            ordinal: u32_at(head, 4).ok_or(short)?,
            txid: u64_at(head, 8).ok_or(short)?,
        };
        Ok((header, payload))
    }
}

/// Why bytes are not a valid message (or a value could not be encoded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WireError {
    /// Shorter than the 16-byte header.
    Truncated,
    /// The first two bytes are not [`MAGIC`].
    BadMagic,
    /// A wire-format version this crate does not speak.
    BadVersion,
    /// A kind byte that is not a [`Kind`].
    BadKind(u8),
    /// The payload does not decode as the expected type (or has bytes left
    /// over), or a value could not be encoded.
    Payload,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Truncated => f.write_str("message shorter than its header"),
            WireError::BadMagic => f.write_str("bad magic number"),
            WireError::BadVersion => f.write_str("unsupported wire-format version"),
            WireError::BadKind(kind) => write!(f, "unknown message kind {kind}"),
            WireError::Payload => f.write_str("malformed payload"),
        }
    }
}

/// Why a server refused or failed a call: the payload of a reply-error.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RemoteError {
    /// The request could not be decoded (bad header, wrong kind, or
    /// arguments that do not match the method).
    Malformed,
    /// The interface has no method with this ordinal.
    UnknownMethod(u32),
    /// A system call made on the caller's behalf failed with this
    /// [`abide_abi::syscall::Error`] code.
    Kernel(u64),
    /// An application error, as text.
    App(String),
}

impl RemoteError {
    /// An application error with the text `message`.
    pub fn app(message: impl Into<String>) -> RemoteError {
        RemoteError::App(message.into())
    }

    /// The kernel error this carries, if it is a [`RemoteError::Kernel`]
    /// with a known code.
    pub fn kernel_error(&self) -> Option<abide_abi::syscall::Error> {
        match self {
            RemoteError::Kernel(code) => abide_abi::syscall::Error::from_code(*code),
            _ => None,
        }
    }
}

impl From<abide_abi::syscall::Error> for RemoteError {
    fn from(error: abide_abi::syscall::Error) -> RemoteError {
        RemoteError::Kernel(error as u64)
    }
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RemoteError::Malformed => f.write_str("malformed request"),
            RemoteError::UnknownMethod(ordinal) => write!(f, "unknown method {ordinal}"),
            RemoteError::Kernel(code) => match abide_abi::syscall::Error::from_code(*code) {
                Some(error) => write!(f, "kernel error: {error}"),
                None => write!(f, "kernel error {code}"),
            },
            RemoteError::App(message) => write!(f, "{message}"),
        }
    }
}

/// Encodes `value` as a payload.
pub fn encode_payload<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, WireError> {
    postcard::to_allocvec(value).map_err(|_| WireError::Payload)
}

/// Decodes a payload that must hold exactly one `T` and nothing after it.
pub fn decode_payload<'a, T: Deserialize<'a>>(payload: &'a [u8]) -> Result<T, WireError> {
    match postcard::take_from_bytes(payload) {
        Ok((value, [])) => Ok(value),
        _ => Err(WireError::Payload),
    }
}

/// Encodes a whole message: `header` followed by `payload` as a payload.
pub fn encode_message<T: Serialize + ?Sized>(
    header: &Header,
    payload: &T,
) -> Result<Vec<u8>, WireError> {
    let message = Vec::from(header.encode());
    postcard::to_extend(payload, message).map_err(|_| WireError::Payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn header_layout_is_little_endian() {
        let header = Header {
            kind: Kind::ReplyError,
            ordinal: 0x0403_0201,
            txid: 0x0c0b_0a09_0807_0605,
        };
        assert_eq!(
            header.encode(),
            [0x1D, 0xAB, 1, 2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
        );
    }

    #[test]
    fn header_round_trips_with_payload() {
        for kind in [Kind::Request, Kind::ReplyOk, Kind::ReplyError] {
            let header = Header {
                kind,
                ordinal: 7,
                txid: u64::MAX,
            };
            let mut message = Vec::from(header.encode());
            message.extend_from_slice(b"rest");
            assert_eq!(Header::decode(&message), Ok((header, &b"rest"[..])));
        }
    }

    #[test]
    fn header_alone_has_empty_payload() {
        let header = Header::request(1, 2);
        let bytes = header.encode();
        assert_eq!(Header::decode(&bytes), Ok((header, &[][..])));
    }

    #[test]
    fn short_messages_are_truncated() {
        let bytes = Header::request(1, 2).encode();
        for len in 0..HEADER_LEN {
            assert_eq!(Header::decode(&bytes[..len]), Err(WireError::Truncated));
        }
    }

    #[test]
    fn bad_magic_version_and_kind_are_rejected() {
        let good = Header::request(1, 2).encode();

        let mut bytes = good;
        bytes[0] ^= 1;
        assert_eq!(Header::decode(&bytes), Err(WireError::BadMagic));
        let mut bytes = good;
        bytes[1] = 0;
        assert_eq!(Header::decode(&bytes), Err(WireError::BadMagic));

        let mut bytes = good;
        bytes[2] = 2;
        assert_eq!(Header::decode(&bytes), Err(WireError::BadVersion));
        bytes[2] = 0;
        assert_eq!(Header::decode(&bytes), Err(WireError::BadVersion));

        for kind in 3..=u8::MAX {
            let mut bytes = good;
            bytes[3] = kind;
            assert_eq!(Header::decode(&bytes), Err(WireError::BadKind(kind)));
        }
    }

    #[test]
    fn kind_values_are_stable() {
        assert_eq!(Kind::from_u8(0), Some(Kind::Request));
        assert_eq!(Kind::from_u8(1), Some(Kind::ReplyOk));
        assert_eq!(Kind::from_u8(2), Some(Kind::ReplyError));
        assert_eq!(Kind::from_u8(3), None);
        for value in 0..3 {
            assert_eq!(Kind::from_u8(value).map(|kind| kind as u8), Some(value));
        }
    }

    #[test]
    fn reply_header_echoes_the_request() {
        let request = Header::request(9, 77);
        assert_eq!(
            request.reply(true),
            Header {
                kind: Kind::ReplyOk,
                ordinal: 9,
                txid: 77
            }
        );
        assert_eq!(request.reply(false).kind, Kind::ReplyError);
    }

    #[test]
    fn payloads_round_trip() {
        let value = (String::from("key"), alloc::vec![1u8, 2, 3], Some(5u64));
        let bytes = encode_payload(&value).unwrap();
        assert_eq!(decode_payload(&bytes), Ok(value));
        assert_eq!(decode_payload::<()>(&[]), Ok(()));
    }

    #[test]
    fn payloads_can_borrow() {
        let bytes = encode_payload("borrowed").unwrap();
        assert_eq!(decode_payload::<&str>(&bytes), Ok("borrowed"));
    }

    #[test]
    fn payload_trailing_bytes_are_an_error() {
        let mut bytes = encode_payload(&5u32).unwrap();
        bytes.push(0);
        assert_eq!(decode_payload::<u32>(&bytes), Err(WireError::Payload));
        assert_eq!(decode_payload::<()>(&[0]), Err(WireError::Payload));
    }

    #[test]
    fn payload_of_the_wrong_shape_is_an_error() {
        assert_eq!(decode_payload::<u32>(&[]), Err(WireError::Payload));
        // A string whose length prefix points past the end.
        assert_eq!(
            decode_payload::<String>(&[5, b'a']),
            Err(WireError::Payload)
        );
        // Invalid UTF-8.
        assert_eq!(
            decode_payload::<String>(&[1, 0xFF]),
            Err(WireError::Payload)
        );
        // A bool that is neither 0 nor 1.
        assert_eq!(decode_payload::<bool>(&[2]), Err(WireError::Payload));
    }

    #[test]
    fn encode_message_is_header_then_payload() {
        let header = Header::request(3, 4);
        let message = encode_message(&header, &(String::from("k"),)).unwrap();
        let (decoded, payload) = Header::decode(&message).unwrap();
        assert_eq!(decoded, header);
        assert_eq!(
            decode_payload::<(String,)>(payload),
            Ok((String::from("k"),))
        );
    }

    #[test]
    fn remote_errors_round_trip() {
        for error in [
            RemoteError::Malformed,
            RemoteError::UnknownMethod(u32::MAX),
            RemoteError::Kernel(8),
            RemoteError::app("no such key"),
        ] {
            let bytes = encode_payload(&error).unwrap();
            assert_eq!(decode_payload::<RemoteError>(&bytes), Ok(error));
        }
    }

    #[test]
    fn remote_kernel_errors_map_to_abi_errors() {
        use abide_abi::syscall::Error;
        for error in Error::ALL {
            let remote = RemoteError::from(*error);
            assert_eq!(remote, RemoteError::Kernel(*error as u64));
            assert_eq!(remote.kernel_error(), Some(*error));
        }
        assert_eq!(RemoteError::Kernel(0).kernel_error(), None);
        assert_eq!(RemoteError::Malformed.kernel_error(), None);
    }

    #[test]
    fn errors_display() {
        assert_eq!(
            WireError::Truncated.to_string(),
            "message shorter than its header"
        );
        assert_eq!(WireError::BadKind(9).to_string(), "unknown message kind 9");
        assert_eq!(
            RemoteError::UnknownMethod(4).to_string(),
            "unknown method 4"
        );
        assert_eq!(
            RemoteError::from(abide_abi::syscall::Error::PeerClosed).to_string(),
            "kernel error: peer closed"
        );
        assert_eq!(RemoteError::Kernel(999).to_string(), "kernel error 999");
        assert_eq!(RemoteError::app("full").to_string(), "full");
        for error in [
            WireError::BadMagic,
            WireError::BadVersion,
            WireError::Payload,
        ] {
            assert!(!error.to_string().is_empty());
        }
    }
}
