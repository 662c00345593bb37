//! The [`interface!`](crate::interface) macro: declare an interface once,
//! get the client's request encoding and reply decoding and the server's
//! dispatch.
//!
//! The generated code knows nothing about channels: a client encodes a
//! request to bytes and decodes the reply bytes it gets back; a server hands
//! the bytes of a request to `dispatch` and sends back the bytes it returns.
//! Moving the bytes is the transport's job (the async client and server loop
//! in `rt`, or a plain function call in a test).

/// Declares a typed interface.
///
/// ```
/// abide_ipc::interface! {
///     /// A key-value store.
///     pub interface KeyValue {
///         /// The value stored under `key`, if any.
///         1 => fn get(key: String) -> Option<Vec<u8>>;
///         /// Stores `value` under `key`.
///         2 => fn set(key: String, value: Vec<u8>) -> ();
///         /// Every key.
///         3 => fn list() -> Vec<String>;
///     }
/// }
///
/// // The server implements the generated trait ...
/// #[derive(Default)]
/// struct Store(std::collections::BTreeMap<String, Vec<u8>>);
///
/// impl KeyValue::Server for Store {
///     fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, abide_ipc::RemoteError> {
///         Ok(self.0.get(&key).cloned())
///     }
///     fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), abide_ipc::RemoteError> {
///         self.0.insert(key, value);
///         Ok(())
///     }
///     fn list(&mut self) -> Result<Vec<String>, abide_ipc::RemoteError> {
///         Ok(self.0.keys().cloned().collect())
///     }
/// }
///
/// // ... and the client encodes calls and decodes replies. Here the
/// // "channel" is a function call.
/// let mut store = Store::default();
/// let request = KeyValue::set::encode(1, "answer".into(), vec![42]).unwrap();
/// let reply = KeyValue::dispatch(&mut store, &request);
/// assert_eq!(KeyValue::set::decode_reply(&reply, Some(1)), Ok(()));
///
/// let request = KeyValue::get::encode(2, "answer".into()).unwrap();
/// let reply = KeyValue::dispatch(&mut store, &request);
/// assert_eq!(KeyValue::get::decode_reply(&reply, Some(2)), Ok(Some(vec![42])));
/// ```
///
/// # Syntax
///
/// ```text
/// $(#[attr])* $vis interface Name {
///     $( $(#[attr])* ordinal => fn method(arg: Type, ...) -> Return; )*
/// }
/// ```
///
/// Ordinals are `u32` literals and must be distinct, which is checked at
/// compile time:
///
/// ```compile_fail
/// abide_ipc::interface! {
///     interface Clash {
///         1 => fn first() -> ();
///         1 => fn second() -> ();
///     }
/// }
/// ```
/// The return type must be written, `-> ()` included. Argument and
/// return types must be owned (`'static`) and implement `serde`'s
/// `Serialize` and `Deserialize`; argument types must also implement
/// `Debug`, `Clone` and `PartialEq` (derived on the request enum).
///
/// # What it generates
///
/// A module named after the interface (`Name` below, `KeyValue` in the
/// example), with the interface's attributes and visibility, containing:
///
/// - `NAME: &str`, the interface name, and `ORDINALS: &[u32]`, every ordinal
///   in declaration order.
/// - `Request`, an enum with one variant per method, named like the method
///   and carrying its arguments as fields (`KeyValue::Request::get { key }`):
///   - `fn ordinal(&self) -> u32`;
///   - `fn encode(&self, txid: u64) -> Result<Vec<u8>, WireError>`, the whole
///     request message (header and payload);
///   - `fn decode_args(ordinal: u32, payload: &[u8]) -> Result<Request,
///     RemoteError>`, the arguments of method `ordinal`
///     ([`RemoteError::UnknownMethod`] or [`RemoteError::Malformed`]);
///   - `fn decode(message: &[u8]) -> Result<(Header, Request), RemoteError>`,
///     a whole request message ([`RemoteError::Malformed`] if the header is
///     unreadable or not a request).
/// - One module per method, named like the method (`KeyValue::get`), for the
///   client:
///   - `ORDINAL: u32`;
///   - `fn encode(txid: u64, args...) -> Result<Vec<u8>, WireError>`, the
///     request message;
///   - `fn decode_reply(reply: &[u8], expected_txid: Option<u64>) ->
///     Result<Return, CallError>`, the reply (see
///     [`client::decode_reply`](crate::client::decode_reply)).
/// - `Server`, a trait with one method per interface method, taking the
///   arguments by value: `fn get(&mut self, key: String) ->
///   Result<Option<Vec<u8>>, RemoteError>`.
/// - `fn dispatch<S: Server + ?Sized>(server: &mut S, request: &[u8]) ->
///   Vec<u8>`: decodes the request, calls the method and returns the reply
///   message. It always returns a reply and never panics: an unreadable
///   header gets a reply-error [`RemoteError::Malformed`] with txid and
///   ordinal 0; a readable header that is not a request, or arguments that
///   do not decode, get [`RemoteError::Malformed`]; an unknown ordinal gets
///   [`RemoteError::UnknownMethod`]; a method's `Err` is sent as it is. Every
///   reply to a readable header echoes its ordinal and txid.
///
/// # Name resolution
///
/// The generated modules glob-import the module the macro is invoked in
/// (`use super::*`), so types resolve as they would next to the macro call.
/// Invoke the macro at module level (not inside a function), and write a
/// type with a path if its name is one the macro defines in the module
/// (`Request`, `Server`, `dispatch`, `NAME`, `ORDINALS`, a method name, or
/// `ORDINAL`, `encode`, `decode_reply`) or starts with `super::`.
///
/// [`RemoteError::UnknownMethod`]: crate::wire::RemoteError::UnknownMethod
/// [`RemoteError::Malformed`]: crate::wire::RemoteError::Malformed
#[macro_export]
macro_rules! interface {
    (
        $(#[$attr:meta])*
        $vis:vis interface $name:ident {
            $(
                $(#[$method_attr:meta])*
                $ordinal:literal => fn $method:ident(
                    $($arg:ident : $arg_ty:ty),* $(,)?
                ) -> $ret:ty;
            )*
        }
    ) => {
        $(#[$attr])*
        // The module is named like the interface; a program uses only part
        // of what is generated (a server has no use for the client side).
        #[allow(non_snake_case, dead_code)]
        $vis mod $name {
            #[allow(unused_imports)]
            use super::*;

            /// The interface's name.
            pub const NAME: &str = ::core::stringify!($name);

            /// Every method's ordinal, in declaration order.
            pub const ORDINALS: &[u32] = &[$($ordinal),*];

            const _: () = ::core::assert!(
                $crate::__private::distinct(ORDINALS),
                "two methods of this interface share an ordinal",
            );

            #[doc = ::core::concat!(
                "A call to `", ::core::stringify!($name),
                "`: one variant per method, carrying its arguments."
            )]
            #[derive(Debug, Clone, PartialEq)]
            #[allow(non_camel_case_types, clippy::large_enum_variant)]
            pub enum Request {
                $(
                    $(#[$method_attr])*
                    $method {
                        $(
                            #[allow(missing_docs)]
                            $arg: $arg_ty,
                        )*
                    },
                )*
            }

            impl Request {
                /// The ordinal of the method this calls.
                pub fn ordinal(&self) -> u32 {
                    match *self {
                        $(Request::$method { .. } => $method::ORDINAL,)*
                    }
                }

                /// The request message: header (kind request, this method's
                /// ordinal, `txid`) and the arguments.
                pub fn encode(
                    &self,
                    txid: u64,
                ) -> ::core::result::Result<$crate::__private::Vec<u8>, $crate::wire::WireError> {
                    match *self {
                        $(
                            Request::$method { $(ref $arg),* } => $crate::wire::encode_message(
                                &$crate::wire::Header::request($method::ORDINAL, txid),
                                &($($arg,)*),
                            ),
                        )*
                    }
                }

                /// Decodes the arguments of method `ordinal` from `payload`.
                #[allow(unused_variables)]
                pub fn decode_args(
                    ordinal: u32,
                    payload: &[u8],
                ) -> ::core::result::Result<Request, $crate::wire::RemoteError> {
                    $(
                        if ordinal == $method::ORDINAL {
                            return match $crate::wire::decode_payload::<($($arg_ty,)*)>(payload) {
                                ::core::result::Result::Ok(($($arg,)*)) => {
                                    ::core::result::Result::Ok(Request::$method { $($arg),* })
                                }
                                ::core::result::Result::Err(_) => {
                                    ::core::result::Result::Err($crate::wire::RemoteError::Malformed)
                                }
                            };
                        }
                    )*
                    ::core::result::Result::Err($crate::wire::RemoteError::UnknownMethod(ordinal))
                }

                /// Decodes a whole request message.
                pub fn decode(
                    message: &[u8],
                ) -> ::core::result::Result<($crate::wire::Header, Request), $crate::wire::RemoteError>
                {
                    match $crate::wire::Header::decode(message) {
                        ::core::result::Result::Ok((header, payload))
                            if header.kind == $crate::wire::Kind::Request =>
                        {
                            let request = Request::decode_args(header.ordinal, payload)?;
                            ::core::result::Result::Ok((header, request))
                        }
                        _ => ::core::result::Result::Err($crate::wire::RemoteError::Malformed),
                    }
                }
            }

            $(
                $(#[$method_attr])*
                ///
                #[doc = ::core::concat!(
                    "Client side of `", ::core::stringify!($method),
                    "` (ordinal ", ::core::stringify!($ordinal), ")."
                )]
                pub mod $method {
                    #[allow(unused_imports)]
                    use super::*;

                    /// The method's ordinal.
                    pub const ORDINAL: u32 = $ordinal;

                    /// The request message calling this method with these
                    /// arguments, as transaction `txid`.
                    pub fn encode(
                        txid: u64,
                        $($arg: $arg_ty),*
                    ) -> ::core::result::Result<$crate::__private::Vec<u8>, $crate::wire::WireError> {
                        $crate::wire::encode_message(
                            &$crate::wire::Header::request(ORDINAL, txid),
                            &($(&$arg,)*),
                        )
                    }

                    /// Decodes the reply to this method; with `expected_txid`,
                    /// a reply to another transaction is an error.
                    pub fn decode_reply(
                        reply: &[u8],
                        expected_txid: ::core::option::Option<u64>,
                    ) -> ::core::result::Result<$ret, $crate::client::CallError> {
                        $crate::client::decode_reply(reply, expected_txid)
                    }
                }
            )*

            #[doc = ::core::concat!(
                "What a `", ::core::stringify!($name),
                "` server implements: one method per interface method."
            )]
            pub trait Server {
                $(
                    $(#[$method_attr])*
                    fn $method(
                        &mut self,
                        $($arg: $arg_ty),*
                    ) -> ::core::result::Result<$ret, $crate::wire::RemoteError>;
                )*
            }

            /// Decodes `request`, calls `server` and returns the reply
            /// message. Always returns a reply; never panics.
            #[allow(unused_variables)]
            pub fn dispatch<S: Server + ?Sized>(
                server: &mut S,
                request: &[u8],
            ) -> $crate::__private::Vec<u8> {
                let (header, payload) = match $crate::server::request_header(request) {
                    ::core::result::Result::Ok(parts) => parts,
                    ::core::result::Result::Err(reply) => return reply,
                };
                match Request::decode_args(header.ordinal, payload) {
                    ::core::result::Result::Ok(call) => match call {
                        $(
                            Request::$method { $($arg),* } => {
                                $crate::server::reply(&header, server.$method($($arg),*))
                            }
                        )*
                    },
                    ::core::result::Result::Err(error) => $crate::server::error(&header, &error),
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    //! The macro expanded inside this crate, so that `clippy` and the
    //! compiler lint the generated code as local code.

    use alloc::string::String;
    use alloc::vec::Vec;

    use crate::{CallError, RemoteError};

    crate::interface! {
        /// A counter.
        interface Counter {
            /// Adds `by` and returns the new value.
            1 => fn add(by: u64) -> u64;
            /// Names the counter.
            2 => fn rename(name: String, tags: Vec<String>) -> ();
            /// The current value.
            3 => fn value() -> u64;
        }
    }

    #[derive(Default)]
    struct Count(u64, String);

    impl Counter::Server for Count {
        fn add(&mut self, by: u64) -> Result<u64, RemoteError> {
            self.0 = self.0.checked_add(by).ok_or(RemoteError::app("overflow"))?;
            Ok(self.0)
        }

        fn rename(&mut self, name: String, _tags: Vec<String>) -> Result<(), RemoteError> {
            self.1 = name;
            Ok(())
        }

        fn value(&mut self) -> Result<u64, RemoteError> {
            Ok(self.0)
        }
    }

    #[test]
    fn local_expansion_works() {
        let mut count = Count::default();
        let reply = Counter::dispatch(&mut count, &Counter::add::encode(1, 5).unwrap());
        assert_eq!(Counter::add::decode_reply(&reply, Some(1)), Ok(5));
        let request = Counter::rename::encode(2, String::from("c"), Vec::new()).unwrap();
        let reply = Counter::dispatch(&mut count, &request);
        assert_eq!(Counter::rename::decode_reply(&reply, Some(2)), Ok(()));
        assert_eq!(count.1, "c");
        let reply = Counter::dispatch(&mut count, &Counter::add::encode(3, u64::MAX).unwrap());
        assert_eq!(
            Counter::add::decode_reply(&reply, Some(3)),
            Err(CallError::Remote(RemoteError::app("overflow")))
        );
        let reply = Counter::dispatch(&mut count, &Counter::value::encode(4).unwrap());
        assert_eq!(Counter::value::decode_reply(&reply, Some(4)), Ok(5));
    }
}
