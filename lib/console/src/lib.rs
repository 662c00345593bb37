//! The input side of a console driver, without the hardware.
//!
//! Both console drivers (`serial`, `vga`) serve `Console::read` the same
//! way: the bytes that arrive (received on the line, typed on the keyboard)
//! wait in a bounded buffer, the reads that arrive wait in a queue, and
//! whenever there is input the oldest read takes up to as much as it asked
//! for. [`Input`] is that buffer and that queue; what a read is (its reply
//! header, its route, its note in the driver's stash) is the driver's `R`.
#![no_std]

extern crate alloc;

use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// The most input a console keeps before the oldest is dropped.
pub const INPUT_CAPACITY: usize = 64 * 1024;

/// A read waiting for input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting<R> {
    /// The driver's record of the read.
    pub read: R,
    /// The most bytes it takes (at least 1).
    pub max: u32,
}

/// Received bytes, and the reads waiting for them.
#[derive(Debug)]
pub struct Input<R> {
    bytes: VecDeque<u8>,
    capacity: usize,
    reads: VecDeque<Waiting<R>>,
}

impl<R> Default for Input<R> {
    fn default() -> Self {
        Input::with_capacity(INPUT_CAPACITY)
    }
}

impl<R> Input<R> {
    /// An empty buffer that keeps [`INPUT_CAPACITY`] bytes.
    pub fn new() -> Input<R> {
        Input::default()
    }

    /// An empty buffer that keeps `capacity` bytes (at least 1).
    pub fn with_capacity(capacity: usize) -> Input<R> {
        Input {
            bytes: VecDeque::new(),
            capacity: capacity.max(1),
            reads: VecDeque::new(),
        }
    }

    /// Adds a received byte; when the buffer is full the oldest is dropped.
    pub fn push(&mut self, byte: u8) {
        if self.bytes.len() == self.capacity {
            self.bytes.pop_front();
        }
        self.bytes.push_back(byte);
    }

    /// The bytes received and not yet read.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether no byte waits to be read.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// How many reads wait.
    pub fn waiting(&self) -> usize {
        self.reads.len()
    }

    /// Queues `read` for up to `max` bytes (a `max` of 0 counts as 1: a
    /// read answers with at least one byte).
    pub fn wait(&mut self, read: R, max: u32) {
        self.reads.push_back(Waiting {
            read,
            max: max.max(1),
        });
    }

    /// Queues `read` as [`wait`](Self::wait) does, unless a waiting read
    /// is the `same` (its client's, say): then `read` takes its place in the
    /// queue, and the one it replaces is returned.
    pub fn wait_replacing(&mut self, read: R, max: u32, same: impl Fn(&R) -> bool) -> Option<R> {
        let waiting = Waiting {
            read,
            max: max.max(1),
        };
        match self.reads.iter_mut().find(|old| same(&old.read)) {
            Some(old) => Some(core::mem::replace(old, waiting).read),
            None => {
                self.reads.push_back(waiting);
                None
            }
        }
    }

    /// Answers waiting reads, oldest first, while there is input: `answer`
    /// gets each read and its bytes (as many as it asked for, or as there
    /// are).
    pub fn answer(&mut self, mut answer: impl FnMut(R, Vec<u8>)) {
        while !self.bytes.is_empty() {
            let Some(waiting) = self.reads.pop_front() else {
                return;
            };
            let count = (waiting.max as usize).min(self.bytes.len());
            answer(waiting.read, self.bytes.drain(..count).collect());
        }
    }
}
