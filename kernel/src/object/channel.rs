//! Channels: two endpoints, each with a bounded queue of the messages its
//! peer wrote (the queue rules are in `abide_objects::queue`).
//!
//! A message carries bytes, handles in transit and the badge of the handle
//! it was written through. Writing and reading are all or nothing: the
//! system-call layer checks everything (sizes, rights, room, user buffers)
//! before anything moves.

use alloc::vec::Vec;

use abide_abi::object::Signals;
use abide_abi::syscall::{Error, Rights};
use abide_objects::caps::InTransit;
use abide_objects::enclose::{self, Queues, Refusal};
use abide_objects::queue::{HandleCount, Message, MessageQueue};

use super::{account, port, Kernel, Object, ObjectId};
use crate::process::account::Charge;

/// Messages one endpoint may hold.
pub const QUEUE_MESSAGES: usize = 64;
/// Bytes one endpoint may hold (room for four of the largest messages).
pub const QUEUE_BYTES: usize = 256 * 1024;

/// What travels with a message's bytes.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Payload {
    /// The handles moved with it.
    pub handles: InTransit<ObjectId>,
    /// The badge of the handle the writer used (0: none).
    pub badge: u64,
    /// The writer is charged for the message until it is read or dropped
    /// (`object::account::charge_message`); saved with it.
    pub charge: Charge,
}

impl HandleCount for Payload {
    fn count(&self) -> usize {
        self.handles.len()
    }
}

/// One end of a channel.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct ChannelEnd {
    /// The other end, until it closes.
    pub peer: Option<ObjectId>,
    /// Messages written by the peer, oldest first.
    pub queue: MessageQueue<Payload>,
}

/// Creates a channel; both ends go to `table` with all rights.
pub fn create(
    kernel: &mut Kernel,
    table: abide_objects::caps::TableId,
) -> Result<(abide_abi::syscall::Handle, abide_abi::syscall::Handle), Error> {
    kernel.caps.check_room(table, 2)?;
    let empty = || ChannelEnd {
        peer: None,
        queue: MessageQueue::new(QUEUE_MESSAGES, QUEUE_BYTES),
    };
    let (first_id, first) = kernel.create(table, Object::Channel(empty()), Rights::ALL)?;
    let (second_id, second) = kernel.create(table, Object::Channel(empty()), Rights::ALL)?;
    if let Some(end) = kernel.objects.channel_mut(first_id) {
        end.peer = Some(second_id);
    }
    if let Some(end) = kernel.objects.channel_mut(second_id) {
        end.peer = Some(first_id);
    }
    Ok((first, second))
}

/// Endpoints answer the handles queued at them, for [`check_enclosure`].
impl Queues<ObjectId> for super::ObjectTable {
    fn for_each_queued(&self, endpoint: ObjectId, visit: &mut dyn FnMut(ObjectId)) {
        if let Some(end) = self.channel(endpoint) {
            for message in end.queue.iter() {
                message.handles.handles.objects().for_each(|&o| visit(o));
            }
        }
    }
}

/// Refuses a write through `writer` into `receiver`'s queue of handles to
/// `sent` that would leave an endpoint reachable only through itself (the
/// rule is `abide_objects::enclose`): `InvalidArgument`, or `NoMemory`.
pub fn check_enclosure(
    kernel: &Kernel,
    writer: ObjectId,
    receiver: ObjectId,
    sent: &[ObjectId],
) -> Result<(), Error> {
    enclose::check_write(&kernel.objects, writer, receiver, sent).map_err(|refusal| match refusal {
        Refusal::OwnEndpoint | Refusal::Cycle | Refusal::TooDeep => Error::InvalidArgument,
        Refusal::NoMemory => Error::NoMemory,
    })
}

/// The signals of `end`.
pub fn signals(kernel: &Kernel, end: &ChannelEnd) -> Signals {
    let mut signals = Signals::NONE;
    if !end.queue.is_empty() {
        signals = signals.union(Signals::READABLE);
    }
    match end.peer.and_then(|peer| kernel.objects.channel(peer)) {
        Some(peer) if !peer.queue.is_full() => signals = signals.union(Signals::WRITABLE),
        Some(_) => {}
        None => signals = signals.union(Signals::PEER_CLOSED),
    }
    signals
}

/// Queues `bytes` and `payload` at `peer` (checked with `check_push` by the
/// caller) and tells its observers.
pub fn deliver(
    kernel: &mut Kernel,
    peer: ObjectId,
    bytes: Vec<u8>,
    payload: Payload,
) -> Result<(), Error> {
    let Some(end) = kernel.objects.channel_mut(peer) else {
        account::uncharge_bytes(kernel, payload.charge);
        let orphans = kernel.caps.discard(payload.handles);
        super::release(kernel, orphans);
        return Err(Error::PeerClosed);
    };
    let message = Message {
        bytes,
        handles: payload,
    };
    if let Err((error, message)) = end.queue.push(message) {
        account::uncharge_bytes(kernel, message.handles.charge);
        let orphans = kernel.caps.discard(message.handles.handles);
        super::release(kernel, orphans);
        return Err(error);
    }
    port::notify(kernel, peer);
    Ok(())
}

/// The last handle to an endpoint is gone: its peer sees `PEER_CLOSED`, and
/// the handles in messages nobody will read go into `work` to be released.
pub fn close(kernel: &mut Kernel, mut end: ChannelEnd, work: &mut Vec<ObjectId>) {
    for message in end.queue.close_reader() {
        account::uncharge_bytes(kernel, message.handles.charge);
        work.extend(kernel.caps.discard(message.handles.handles));
    }
    if let Some(peer_id) = end.peer {
        if let Some(peer) = kernel.objects.channel_mut(peer_id) {
            peer.peer = None;
            peer.queue.close_writer();
        }
        port::notify(kernel, peer_id);
        // A trap channel's handler end: its foreign processes end.
        super::foreign::handler_closed(kernel, peer_id);
    }
}
