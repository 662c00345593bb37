//! A pipe's buffer and ends, with Linux's rules: 64 KiB, reads that take
//! what is there or see end-of-file once no writer is left, writes that
//! are partial but atomic up to `PIPE_BUF`, and `EPIPE` with no reader.

use crate::error::{fail, Error, Result};
use abide_linux::errno::EPIPE;
use abide_linux::fs::limits::PIPE_BUF;
use abide_linux::fs::poll::{POLLERR, POLLHUP, POLLIN, POLLOUT};
use alloc::collections::VecDeque;

/// A pipe's capacity in bytes.
pub const PIPE_CAPACITY: usize = 64 * 1024;

/// The state of a pipe or FIFO: its bytes and who holds its ends.
#[derive(Debug, Default)]
pub struct Pipe {
    buffer: VecDeque<u8>,
    /// Open file descriptions reading / writing it.
    pub(crate) readers: u32,
    pub(crate) writers: u32,
    /// How many times a reader / writer has opened it, so a FIFO opened
    /// before its peer waits for the peer instead of seeing EOF/EPIPE.
    pub(crate) reader_opens: u64,
    pub(crate) writer_opens: u64,
}

impl Pipe {
    /// A pipe with one reader and one writer, as `pipe2` makes it.
    pub(crate) fn with_both_ends() -> Pipe {
        Pipe {
            readers: 1,
            writers: 1,
            reader_opens: 1,
            writer_opens: 1,
            ..Pipe::default()
        }
    }

    /// Reads what is there into `buf`. `writer_seen`: a writer opened it
    /// since the reader did, so no writer means end-of-file.
    pub(crate) fn read(&mut self, buf: &mut [u8], writer_seen: bool) -> Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.buffer.is_empty() {
            return if self.writers == 0 && writer_seen {
                Ok(0)
            } else {
                Err(Error::WouldBlock)
            };
        }
        let count = buf.len().min(self.buffer.len());
        for (slot, byte) in buf.iter_mut().zip(self.buffer.drain(..count)) {
            *slot = byte;
        }
        Ok(count)
    }

    /// Writes as much of `buf` as fits (all or nothing up to `PIPE_BUF`).
    /// `reader_seen`: a reader opened it since the writer did.
    pub(crate) fn write(&mut self, buf: &[u8], reader_seen: bool) -> Result<usize> {
        if self.readers == 0 {
            return if reader_seen {
                fail(EPIPE)
            } else {
                Err(Error::WouldBlock)
            };
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let space = PIPE_CAPACITY - self.buffer.len();
        if space == 0 || (buf.len() <= PIPE_BUF && space < buf.len()) {
            return Err(Error::WouldBlock);
        }
        let count = buf.len().min(space);
        self.buffer.extend(buf.iter().take(count));
        Ok(count)
    }

    /// Free space, in bytes.
    pub(crate) fn space(&self) -> usize {
        PIPE_CAPACITY - self.buffer.len()
    }

    /// `poll` events of the reading end.
    pub(crate) fn poll_reader(&self, writer_seen: bool) -> u16 {
        let mut events = 0;
        if !self.buffer.is_empty() {
            events |= POLLIN;
        }
        if self.writers == 0 && writer_seen {
            events |= POLLHUP;
        }
        events
    }

    /// `poll` events of the writing end.
    pub(crate) fn poll_writer(&self, reader_seen: bool) -> u16 {
        if self.readers == 0 && reader_seen {
            return POLLERR;
        }
        if self.space() >= PIPE_BUF {
            POLLOUT
        } else {
            0
        }
    }
}
