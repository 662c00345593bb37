//! Messages between programs for async code: channels whose reads and writes
//! wait through the executor, and the two halves of a typed interface on
//! top of them (`abide_ipc::interface!` generates the encoding and dispatch;
//! this module moves the bytes).
//!
//! - [`Channel`]: one endpoint; [`Channel::recv`] and [`Channel::send`]
//!   wait (without blocking the other tasks) while there is nothing to read
//!   or no room to write.
//! - [`Client`]: calls on a channel. Each call gets a fresh transaction id
//!   and takes the reply carrying it, so several calls may be outstanding on
//!   one channel at once, from several tasks, in any order.
//! - [`next_request`]: one request from a channel, without waiting, for a
//!   server that waits on its channels itself.
//! - [`serve`]: a server loop that answers many client channels
//!   concurrently in one task, and takes new client channels as handles in
//!   messages on a listener channel. Every request gets the reply `dispatch`
//!   makes, a malformed one included; the server never fails on its input.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::fmt;
use core::future::{poll_fn, Future};
use core::mem::ManuallyDrop;
use core::task::Poll;

use abide_abi::object::{Signals, MAX_MESSAGE_BYTES, MAX_MESSAGE_HANDLES};
use abide_abi::syscall::{Error, Handle};
use abide_ipc::wire::Header;
use abide_ipc::{CallError, WireError};

pub use crate::blocking::Message;
use crate::executor::{wait_signals, FutureSet};
use crate::syscall;

/// The buffer a read starts with; a larger message costs a second read.
const FIRST_READ: usize = 512;

/// Takes the oldest message of `channel` without waiting
/// ([`Error::ShouldWait`] when none is queued), whatever its size: a message
/// larger than the first buffer costs a second read.
pub fn read_message(channel: Handle) -> Result<Message, Error> {
    let mut bytes = vec![0u8; FIRST_READ];
    let mut handles = [Handle(0); MAX_MESSAGE_HANDLES];
    loop {
        match syscall::channel_read(channel, &mut bytes, &mut handles) {
            Ok(info) => {
                bytes.truncate(info.bytes as usize);
                let count = (info.handles as usize).min(MAX_MESSAGE_HANDLES);
                return Ok(Message {
                    bytes,
                    handles: handles[..count].to_vec(),
                    badge: info.badge,
                });
            }
            // Nothing was taken: grow the buffer to the message's size and
            // read again. It only grows, so this ends.
            Err((Error::BufferTooSmall, info))
                if (info.bytes as usize) > bytes.len()
                    && info.bytes as usize <= MAX_MESSAGE_BYTES =>
            {
                bytes.resize(info.bytes as usize, 0);
            }
            Err((error, _)) => return Err(error),
        }
    }
}

/// A channel endpoint, closed when dropped.
#[derive(Debug)]
pub struct Channel {
    handle: Handle,
}

impl Channel {
    /// Takes ownership of the channel endpoint `handle`.
    pub fn from_handle(handle: Handle) -> Channel {
        Channel { handle }
    }

    /// A new channel: both of its endpoints.
    pub fn create() -> Result<(Channel, Channel), Error> {
        let (first, second) = syscall::channel_create()?;
        Ok((Channel::from_handle(first), Channel::from_handle(second)))
    }

    /// The endpoint's handle (still owned by this `Channel`).
    pub fn handle(&self) -> Handle {
        self.handle
    }

    /// Gives up ownership of the handle (to send it in a message, say).
    pub fn into_handle(self) -> Handle {
        ManuallyDrop::new(self).handle
    }

    /// Takes the oldest message, if one is queued ([`Error::ShouldWait`]
    /// otherwise).
    pub fn try_recv(&self) -> Result<Message, Error> {
        read_message(self.handle)
    }

    /// Takes the oldest message, waiting for one. [`Error::PeerClosed`]
    /// once the peer is closed and every message it sent has been read.
    pub async fn recv(&self) -> Result<Message, Error> {
        loop {
            match self.try_recv() {
                Err(Error::ShouldWait) => {}
                other => return other,
            }
            let signals =
                wait_signals(self.handle, Signals::READABLE.union(Signals::PEER_CLOSED)).await?;
            if !signals.intersects(Signals::READABLE) {
                // Closed; what it sent before closing is still ours.
                return match self.try_recv() {
                    Err(Error::ShouldWait) => Err(Error::PeerClosed),
                    other => other,
                };
            }
        }
    }

    /// Sends `bytes` with `handles` (which leave this process), without
    /// waiting ([`Error::ShouldWait`] when the peer's queue is full; then
    /// the handles stay here).
    pub fn try_send(&self, bytes: &[u8], handles: &[Handle]) -> Result<(), Error> {
        syscall::channel_write(self.handle, bytes, handles)
    }

    /// Sends `bytes` with `handles`, waiting while the peer's queue is
    /// full. On failure the handles stay here.
    pub async fn send(&self, bytes: &[u8], handles: &[Handle]) -> Result<(), Error> {
        loop {
            match self.try_send(bytes, handles) {
                Err(Error::ShouldWait) => {}
                other => return other,
            }
            let signals =
                wait_signals(self.handle, Signals::WRITABLE.union(Signals::PEER_CLOSED)).await?;
            if !signals.intersects(Signals::WRITABLE) {
                return Err(Error::PeerClosed);
            }
        }
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        // Nothing to do about a failure: the handle is gone either way.
        let _ = syscall::handle_close(self.handle);
    }
}

/// A request taken from a channel: its header, and the message it came in.
#[derive(Debug)]
pub struct Request {
    pub header: Header,
    bytes: Vec<u8>,
    payload_at: usize,
}

impl Request {
    /// The encoded arguments, after the header.
    pub fn payload(&self) -> &[u8] {
        self.bytes.get(self.payload_at..).unwrap_or_default()
    }
}

/// The next request queued on `channel`, without waiting, for a server
/// that loops over its channels itself (a driver on a port) and takes no
/// handles: the handles a message carries are closed, and a message that
/// is not a request is answered with the error reply and passed over.
/// `None` once nothing is queued (or the channel failed).
pub fn next_request(channel: Handle) -> Option<Request> {
    loop {
        let message = read_message(channel).ok()?;
        close_all(&message.handles);
        match abide_ipc::server::request_header(&message.bytes) {
            Ok((header, payload)) => {
                let payload_at = message.bytes.len() - payload.len();
                return Some(Request {
                    header,
                    bytes: message.bytes,
                    payload_at,
                });
            }
            Err(reply) => {
                let _ = syscall::channel_write(channel, &reply, &[]);
            }
        }
    }
}

/// Closes handles that arrived where none were expected, so a peer cannot
/// fill this process's handle table.
fn close_all(handles: &[Handle]) {
    for handle in handles {
        let _ = syscall::handle_close(*handle);
    }
}

/// Why a call through a [`Client`] failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    /// The channel failed (the server is gone: [`Error::PeerClosed`]).
    Channel(Error),
    /// The call was made, and the reply says it failed or does not decode.
    Call(CallError),
}

impl From<Error> for ClientError {
    fn from(error: Error) -> ClientError {
        ClientError::Channel(error)
    }
}

impl From<CallError> for ClientError {
    fn from(error: CallError) -> ClientError {
        ClientError::Call(error)
    }
}

impl From<WireError> for ClientError {
    fn from(error: WireError) -> ClientError {
        ClientError::Call(CallError::Wire(error))
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Channel(error) => write!(f, "channel: {error}"),
            ClientError::Call(error) => error.fmt(f),
        }
    }
}

/// The client side of an interface on a channel.
///
/// ```ignore
/// let client = Client::new(channel);
/// client
///     .call(|txid| KeyValue::set::encode(txid, key, value), KeyValue::set::decode_reply)
///     .await?;
/// ```
///
/// `Send` and `Sync`: tasks may share it (by reference, or in an `Arc`).
#[derive(Debug)]
pub struct Client {
    channel: Channel,
    state: spin::Mutex<ClientState>,
    /// Send a request again when no reply came within this many ns.
    resend_after_ns: Option<u64>,
}

#[derive(Debug)]
struct ClientState {
    next_txid: u64,
    /// Transactions whose reply nobody has taken yet.
    outstanding: BTreeSet<u64>,
    /// Replies read by one caller for another, by txid.
    replies: BTreeMap<u64, Vec<u8>>,
}

impl Client {
    /// A client on `channel`, whose peer is a server.
    pub fn new(channel: Channel) -> Client {
        Client {
            channel,
            state: spin::Mutex::new(ClientState {
                // Transaction ids are idempotency tokens: a new instance of
                // a restarted client must not reuse its predecessor's. The
                // clock has moved on by more than one per call made.
                next_txid: syscall::clock_ns().max(1),
                outstanding: BTreeSet::new(),
                replies: BTreeMap::new(),
            }),
            resend_after_ns: None,
        }
    }

    /// This client, sending a request again (with the same txid) whenever
    /// no reply came within `ns` nanoseconds.
    ///
    /// For servers that may crash after taking a request from the channel
    /// but before noting it anywhere that survives them: the new instance
    /// cannot answer `Restarted` for a request it never heard of, so the
    /// client asks again. Only for interfaces whose servers treat a repeated
    /// txid as the same request (the log service does; see
    /// `docs/system.md`): a retried call must not be done twice.
    pub fn resending_after(mut self, ns: u64) -> Client {
        self.resend_after_ns = Some(ns.max(1));
        self
    }

    /// The channel to the server.
    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    /// A transaction id this client has not used; never 0, which a server
    /// uses for the reply to a message it could not read at all.
    pub fn new_txid(&self) -> u64 {
        let mut state = self.state.lock();
        let txid = state.next_txid;
        state.next_txid = txid.checked_add(1).unwrap_or(1);
        txid
    }

    /// Calls a method: `encode` makes the request for a fresh txid (a
    /// generated `Interface::method::encode` with the arguments), `decode`
    /// reads the reply (the generated `Interface::method::decode_reply`).
    pub async fn call<T>(
        &self,
        encode: impl FnOnce(u64) -> Result<Vec<u8>, WireError>,
        decode: impl FnOnce(&[u8], Option<u64>) -> Result<T, CallError>,
    ) -> Result<T, ClientError> {
        let txid = self.new_txid();
        let request = encode(txid)?;
        let mut reply = self.exchange_once(txid, &request).await?;
        // The server died while it held the request: send it again, with
        // the same txid, so a server that did finish it does not do it twice.
        let mut retries = 0;
        while is_restarted(&reply) && retries < MAX_RETRIES {
            retries += 1;
            reply = self.exchange_once(txid, &request).await?;
        }
        Ok(decode(&reply, Some(txid))?)
    }

    /// One exchange, sent again after each [`Client::resending_after`]
    /// period without a reply.
    async fn exchange_once(&self, txid: u64, request: &[u8]) -> Result<Vec<u8>, Error> {
        let Some(period) = self.resend_after_ns else {
            return self.exchange(txid, request).await;
        };
        loop {
            let deadline = syscall::clock_ns().saturating_add(period);
            match crate::executor::timeout_at(deadline, self.exchange(txid, request)).await {
                Ok(reply) => return reply,
                Err(_) => continue,
            }
        }
    }

    /// Sends the message `request` and returns the reply whose header
    /// carries `txid` (replies to other transactions are kept for their
    /// callers; replies nobody waits for are dropped). For requests made by
    /// hand; [`Client::call`] is the typed way.
    pub async fn exchange(&self, txid: u64, request: &[u8]) -> Result<Vec<u8>, Error> {
        let _outstanding = Outstanding::new(self, txid);
        self.channel.send(request, &[]).await?;
        let mut closed = false;
        loop {
            if let Some(reply) = self.state.lock().replies.remove(&txid) {
                return Ok(reply);
            }
            match self.channel.try_recv() {
                Ok(message) => {
                    close_all(&message.handles);
                    let Ok((header, _)) = Header::decode(&message.bytes) else {
                        continue;
                    };
                    if header.txid == txid {
                        return Ok(message.bytes);
                    }
                    let mut state = self.state.lock();
                    if state.outstanding.contains(&header.txid) {
                        // Its caller waits on the channel too, and was
                        // woken by this message's arrival: it looks here
                        // before it reads.
                        state.replies.insert(header.txid, message.bytes);
                    }
                }
                Err(Error::ShouldWait) if closed => return Err(Error::PeerClosed),
                Err(Error::ShouldWait) => {
                    let signals = wait_signals(
                        self.channel.handle,
                        Signals::READABLE.union(Signals::PEER_CLOSED),
                    )
                    .await?;
                    closed = !signals.intersects(Signals::READABLE);
                }
                Err(error) => return Err(error),
            }
        }
    }
}

/// How often [`Client::call`] sends a request again after `Restarted`.
const MAX_RETRIES: u32 = 100;

/// True when `reply` is the error reply `Restarted`.
fn is_restarted(reply: &[u8]) -> bool {
    let Ok((header, payload)) = Header::decode(reply) else {
        return false;
    };
    header.kind == abide_ipc::wire::Kind::ReplyError
        && abide_ipc::wire::decode_payload::<abide_ipc::RemoteError>(payload)
            .is_ok_and(|error| error.kernel_error() == Some(Error::Restarted))
}

/// Marks a transaction outstanding for as long as its caller waits (also
/// when the caller's future is dropped halfway).
struct Outstanding<'a> {
    client: &'a Client,
    txid: u64,
}

impl<'a> Outstanding<'a> {
    fn new(client: &'a Client, txid: u64) -> Outstanding<'a> {
        client.state.lock().outstanding.insert(txid);
        Outstanding { client, txid }
    }
}

impl Drop for Outstanding<'_> {
    fn drop(&mut self) {
        let mut state = self.client.state.lock();
        state.outstanding.remove(&self.txid);
        state.replies.remove(&self.txid);
    }
}

/// Answers the requests on `channel` with `dispatch` (a generated
/// `Interface::dispatch`) on `server`, one at a time, until the client
/// closes its end (`Ok`) or the channel fails (`Err`).
///
/// `server` is borrowed only while `dispatch` runs, never across an
/// `.await`, so many of these may share it.
pub async fn serve_channel<S, D>(
    server: &RefCell<S>,
    channel: Channel,
    dispatch: D,
) -> Result<(), Error>
where
    S: ?Sized,
    D: Fn(&mut S, &[u8]) -> Vec<u8>,
{
    loop {
        let request = match channel.recv().await {
            Ok(request) => request,
            Err(Error::PeerClosed) => return Ok(()),
            Err(error) => return Err(error),
        };
        // Requests carry no handles.
        close_all(&request.handles);
        let reply = dispatch(&mut *server.borrow_mut(), &request.bytes);
        match channel.send(&reply, &[]).await {
            Ok(()) => {}
            Err(Error::PeerClosed) => return Ok(()),
            Err(error) => return Err(error),
        }
    }
}

/// Serves `server` on every channel in `channels` and on each channel that
/// arrives on `listener`, concurrently in this task (see
/// [`serve_channel`]).
///
/// Every message on `listener` may carry client channel endpoints as its
/// handles; its bytes are ignored. Returns once `listener` is closed (or
/// `None`) and every client channel has ended.
pub async fn serve<S, D>(
    server: &RefCell<S>,
    dispatch: D,
    listener: Option<&Channel>,
    channels: impl IntoIterator<Item = Channel>,
) where
    S: ?Sized,
    D: Fn(&mut S, &[u8]) -> Vec<u8>,
{
    let dispatch = &dispatch;
    let mut clients = FutureSet::new();
    for channel in channels {
        clients.push(serve_channel(server, channel, dispatch));
    }
    let mut accept = listener.map(|listener| alloc::boxed::Box::pin(listener.recv()));
    poll_fn(|cx| {
        while let Some(pending) = accept.as_mut() {
            match pending.as_mut().poll(cx) {
                Poll::Pending => break,
                Poll::Ready(Ok(message)) => {
                    for handle in message.handles {
                        let channel = Channel::from_handle(handle);
                        clients.push(serve_channel(server, channel, dispatch));
                    }
                    accept = listener.map(|listener| alloc::boxed::Box::pin(listener.recv()));
                }
                // The listener is closed (or broken): serve who is here.
                Poll::Ready(Err(_)) => accept = None,
            }
        }
        // Drive every client; how each one ended is of no further use.
        while let Poll::Ready(Some(_)) = clients.poll_next(cx) {}
        if accept.is_none() && clients.is_empty() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await
}
