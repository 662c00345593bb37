//! A channel endpoint's message queue.
//!
//! A channel is two endpoints; each endpoint has a queue of the messages its
//! peer wrote and it has not read yet. The queue is bounded (by message count
//! and by total bytes) so a writer cannot exhaust kernel memory: a full queue
//! makes the writer wait. A read never loses data: a message larger than the
//! reader's buffers stays queued and the reader learns its exact size. When
//! one end closes, the other sees [`Error::PeerClosed`] once nothing is left
//! to read, and messages nobody will read are handed back so the kernel can
//! drop the handles inside them.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use abide_abi::syscall::Error;

use crate::caps::InTransit;

pub use abide_abi::object::{MAX_MESSAGE_BYTES, MAX_MESSAGE_HANDLES};

/// A message: bytes plus handles (`H` is [`InTransit`] in the kernel).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Message<H> {
    /// The payload.
    pub bytes: Vec<u8>,
    /// The handles moved with it.
    pub handles: H,
}

/// How many handles a message's handle part holds.
pub trait HandleCount {
    /// Number of handles.
    fn count(&self) -> usize;
}

impl<O> HandleCount for InTransit<O> {
    fn count(&self) -> usize {
        self.len()
    }
}

impl<T> HandleCount for Vec<T> {
    fn count(&self) -> usize {
        self.len()
    }
}

/// Why [`MessageQueue::pop_if_fits`] returned no message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadError {
    /// Nothing queued; the writer may still write.
    Empty,
    /// Nothing queued and the writer has closed: nothing will come.
    PeerClosed,
    /// The oldest message does not fit the caller's buffers; it stays queued.
    TooSmall {
        /// Its size in bytes.
        bytes: usize,
        /// Its number of handles.
        handles: usize,
    },
}

impl ReadError {
    /// The system-call error for this outcome.
    pub const fn error(self) -> Error {
        match self {
            ReadError::Empty => Error::ShouldWait,
            ReadError::PeerClosed => Error::PeerClosed,
            ReadError::TooSmall { .. } => Error::BufferTooSmall,
        }
    }
}

impl From<ReadError> for Error {
    fn from(error: ReadError) -> Error {
        error.error()
    }
}

/// The messages waiting at one endpoint, oldest first, bounded by count and
/// total bytes.
#[derive(Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MessageQueue<H> {
    messages: VecDeque<Message<H>>,
    /// Total bytes of the queued messages.
    bytes: usize,
    max_messages: usize,
    max_bytes: usize,
    writer_closed: bool,
    reader_closed: bool,
}

/// Why a queue read back from a checkpoint image is refused
/// ([`MessageQueue::validate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueError {
    /// Its bounds are not the ones every queue of its kind has.
    Bounds,
    /// It holds more messages or bytes than its bounds.
    Overfull,
    /// Its byte count is not the sum of its messages' sizes.
    ByteCount,
    /// A message is over [`MAX_MESSAGE_BYTES`] or [`MAX_MESSAGE_HANDLES`].
    Message,
}

impl core::fmt::Display for QueueError {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        f.write_str(match self {
            QueueError::Bounds => "its bounds are not a channel's",
            QueueError::Overfull => "it holds more than its bounds",
            QueueError::ByteCount => "its byte count is not its messages' total",
            QueueError::Message => "a message is over the message limits",
        })
    }
}

impl<H> MessageQueue<H> {
    /// Checks a queue decoded from a checkpoint image against the rules
    /// [`MessageQueue::push`] keeps: the bounds are `max_messages` and
    /// `max_bytes` (the ones the kernel gives every queue), it holds no
    /// more than them, its byte count is exact and every message is
    /// within the message limits. `handles` counts a message's handles.
    pub fn validate(
        &self,
        max_messages: usize,
        max_bytes: usize,
        handles: impl Fn(&H) -> usize,
    ) -> Result<(), QueueError> {
        if self.max_messages != max_messages || self.max_bytes != max_bytes {
            return Err(QueueError::Bounds);
        }
        if self.messages.len() > max_messages || self.bytes > max_bytes {
            return Err(QueueError::Overfull);
        }
        let mut total = 0usize;
        for message in &self.messages {
            if message.bytes.len() > MAX_MESSAGE_BYTES
                || handles(&message.handles) > MAX_MESSAGE_HANDLES
            {
                return Err(QueueError::Message);
            }
            total = total.saturating_add(message.bytes.len());
        }
        if total != self.bytes {
            return Err(QueueError::ByteCount);
        }
        Ok(())
    }

    /// The queued messages, oldest first.
    pub fn messages(&self) -> impl Iterator<Item = &Message<H>> + '_ {
        self.messages.iter()
    }

    /// The same queue with each message's handle part converted by `f`
    /// (a restore turns the image's plain data into the kernel's types).
    pub fn map_handles<G>(self, mut f: impl FnMut(H) -> G) -> MessageQueue<G> {
        MessageQueue {
            messages: self
                .messages
                .into_iter()
                .map(|message| Message {
                    bytes: message.bytes,
                    handles: f(message.handles),
                })
                .collect(),
            bytes: self.bytes,
            max_messages: self.max_messages,
            max_bytes: self.max_bytes,
            writer_closed: self.writer_closed,
            reader_closed: self.reader_closed,
        }
    }
}

impl<H: HandleCount> MessageQueue<H> {
    /// An empty queue holding at most `max_messages` messages and
    /// `max_bytes` bytes in total.
    pub fn new(max_messages: usize, max_bytes: usize) -> Self {
        MessageQueue {
            messages: VecDeque::new(),
            bytes: 0,
            max_messages,
            max_bytes,
            writer_closed: false,
            reader_closed: false,
        }
    }

    /// Queues `msg`. Errors give the message back:
    /// [`Error::InvalidArgument`] if it is over [`MAX_MESSAGE_BYTES`] or
    /// [`MAX_MESSAGE_HANDLES`] or could never fit this queue;
    /// [`Error::BadHandle`] if the writing end is closed;
    /// [`Error::PeerClosed`] if the reading end is closed;
    /// [`Error::ShouldWait`] if the queue has no room now;
    /// [`Error::NoMemory`] if the allocator has none for it.
    pub fn push(&mut self, msg: Message<H>) -> Result<(), (Error, Message<H>)> {
        if let Err(error) = self.check_push(msg.bytes.len(), msg.handles.count()) {
            return Err((error, msg));
        }
        // Never a panic when the allocator is out of memory.
        if self.messages.try_reserve(1).is_err() {
            return Err((Error::NoMemory, msg));
        }
        self.bytes = self.bytes.saturating_add(msg.bytes.len());
        self.messages.push_back(msg);
        Ok(())
    }

    /// Pops the oldest message if it fits the caller's buffers; otherwise
    /// leaves it queued and reports its size. An empty queue whose writer
    /// has closed reports [`ReadError::PeerClosed`].
    pub fn pop_if_fits(
        &mut self,
        byte_capacity: usize,
        handle_capacity: usize,
    ) -> Result<Message<H>, ReadError> {
        let Some(oldest) = self.messages.front() else {
            return Err(self.empty_error());
        };
        let (bytes, handles) = (oldest.bytes.len(), oldest.handles.count());
        if bytes > byte_capacity || handles > handle_capacity {
            return Err(ReadError::TooSmall { bytes, handles });
        }
        let msg = self
            .messages
            .pop_front()
            .ok_or_else(|| self.empty_error())?;
        self.bytes = self.bytes.saturating_sub(bytes);
        Ok(msg)
    }

    /// What travels with each queued message, oldest first, to update in
    /// place (the kernel re-points who is charged for them).
    pub fn payloads_mut(&mut self) -> impl Iterator<Item = &mut H> + '_ {
        self.messages.iter_mut().map(|message| &mut message.handles)
    }

    /// The oldest message, left queued.
    pub fn peek(&self) -> Option<&Message<H>> {
        self.messages.front()
    }

    /// What [`MessageQueue::pop_if_fits`] would answer now, without taking
    /// anything: the oldest message's size, or why there is none to take.
    pub fn check_pop(
        &self,
        byte_capacity: usize,
        handle_capacity: usize,
    ) -> Result<(usize, usize), ReadError> {
        let Some(oldest) = self.messages.front() else {
            return Err(self.empty_error());
        };
        let (bytes, handles) = (oldest.bytes.len(), oldest.handles.count());
        if bytes > byte_capacity || handles > handle_capacity {
            return Err(ReadError::TooSmall { bytes, handles });
        }
        Ok((bytes, handles))
    }

    /// The queued messages, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Message<H>> + '_ {
        self.messages.iter()
    }

    /// Number of queued messages.
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// True when no message is queued.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// True when no message can be pushed until one is read (the count or
    /// the byte bound is reached).
    pub fn is_full(&self) -> bool {
        self.messages.len() >= self.max_messages || self.bytes >= self.max_bytes
    }

    /// Total bytes of the queued messages.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The writing end closed: queued messages stay readable, then reads
    /// report [`ReadError::PeerClosed`].
    pub fn close_writer(&mut self) {
        self.writer_closed = true;
    }

    /// The reading end closed: later pushes fail with [`Error::PeerClosed`].
    /// Returns the queued messages so the kernel can discard their handles.
    pub fn close_reader(&mut self) -> Vec<Message<H>> {
        self.reader_closed = true;
        self.bytes = 0;
        self.messages.drain(..).collect()
    }

    /// True once [`MessageQueue::close_writer`] was called.
    pub fn is_writer_closed(&self) -> bool {
        self.writer_closed
    }

    /// True once [`MessageQueue::close_reader`] was called.
    pub fn is_reader_closed(&self) -> bool {
        self.reader_closed
    }

    /// What [`MessageQueue::push`] would answer now for a message of
    /// `bytes` bytes and `handles` handles, without pushing. The kernel
    /// checks this before taking the handles out of the sender's table, so
    /// a message that cannot be queued never disturbs the sender's handles.
    pub fn check_push(&self, bytes: usize, handles: usize) -> Result<(), Error> {
        if !self.could_ever_hold(bytes, handles) {
            return Err(Error::InvalidArgument);
        }
        if self.writer_closed {
            return Err(Error::BadHandle);
        }
        if self.reader_closed {
            return Err(Error::PeerClosed);
        }
        let total = self.bytes.checked_add(bytes);
        if self.is_full() || total.is_none_or(|total| total > self.max_bytes) {
            return Err(Error::ShouldWait);
        }
        Ok(())
    }

    /// True when a message of this size is within the ABI limits and fits
    /// this queue when empty (otherwise waiting for room would never end).
    fn could_ever_hold(&self, bytes: usize, handles: usize) -> bool {
        bytes <= MAX_MESSAGE_BYTES
            && handles <= MAX_MESSAGE_HANDLES
            && self.max_messages > 0
            && self.max_bytes > 0
            && bytes <= self.max_bytes
    }

    fn empty_error(&self) -> ReadError {
        if self.writer_closed {
            ReadError::PeerClosed
        } else {
            ReadError::Empty
        }
    }
}
