//! What the store needs from a disk: numbered blocks of [`BLOCK_SIZE`]
//! bytes, writes that may land in any order until a flush, and the flush.

/// Bytes in one store block (one page of memory).
pub const BLOCK_SIZE: usize = 4096;

/// A block device. `read` and `write` move `buf.len() / BLOCK_SIZE`
/// consecutive blocks starting at `block` (`buf.len()` is a multiple of
/// [`BLOCK_SIZE`]). Writes completed before a `flush` returns are durable;
/// writes after the last flush may be lost, reordered or torn (a block may
/// be half old, half new at 512-byte sector granularity).
pub trait Disk {
    type Error: core::fmt::Debug;
    /// How many blocks the disk holds.
    fn block_count(&self) -> u64;
    fn read(&mut self, block: u64, buf: &mut [u8]) -> Result<(), Self::Error>;
    fn write(&mut self, block: u64, buf: &[u8]) -> Result<(), Self::Error>;
    fn flush(&mut self) -> Result<(), Self::Error>;
}
