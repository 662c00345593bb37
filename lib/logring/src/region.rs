//! The memory the ring lives in, seen through the only two kinds of store
//! the ring makes, so a test can intercept every store and cut the sequence
//! anywhere, as a crash would.

use core::sync::atomic::{compiler_fence, Ordering};

/// Bytes that outlive the log service, and the stores the ring makes to
/// them.
///
/// The ring reads through [`bytes`](Region::bytes) and changes the region
/// only through [`store`](Region::store) and
/// [`store_u64`](Region::store_u64), in the order it needs them to happen;
/// an implementation must make them in that order. The crash model: the
/// instance may be killed between any two byte stores of a `store` and
/// between any two calls, but a `store_u64` happens entirely or not at all.
pub trait Region {
    /// The whole region.
    fn bytes(&self) -> &[u8];

    /// Copies `data` to `offset`. Not atomic: a crash may leave any of the
    /// bytes written and the others not.
    fn store(&mut self, offset: usize, data: &[u8]);

    /// Writes `value` little-endian to the 8 bytes at `offset`, a multiple
    /// of 8, with one aligned store a crash cannot tear.
    fn store_u64(&mut self, offset: usize, value: u64);
}

/// The region the supervisor hands the log service: memory it keeps mapped
/// across the service's restarts. Its first byte must be 8-aligned in
/// memory, so that the ring's 8-byte fields are aligned.
///
/// An 8-byte copy to an aligned address is one `mov` on x86_64, which a
/// kill cannot tear. Compiler fences around it keep the compiler from
/// moving other stores across it, so the entry bytes are in memory before
/// the store that commits them.
impl Region for &mut [u8] {
    fn bytes(&self) -> &[u8] {
        self
    }

    fn store(&mut self, offset: usize, data: &[u8]) {
        self[offset..offset + data.len()].copy_from_slice(data);
    }

    fn store_u64(&mut self, offset: usize, value: u64) {
        debug_assert_eq!(self[offset..].as_ptr().addr() % 8, 0, "unaligned u64 store");
        compiler_fence(Ordering::SeqCst);
        self[offset..offset + 8].copy_from_slice(&value.to_le_bytes());
        compiler_fence(Ordering::SeqCst);
    }
}
