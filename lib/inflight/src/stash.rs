//! The stash as the table's region, with stores the compiler inlines.

use core::sync::atomic::{compiler_fence, Ordering};

use crate::Region;

/// Memory that outlives the server (its stash, mapped), as a [`Region`]
/// whose stores are inlined into the caller: in
/// [`Requests::write`](crate::Requests::write) the store of a write's
/// progress is then followed by the hand-over of the byte with nothing but
/// the transmitter's own instructions between them.
///
/// Its first byte must be 8-aligned in memory, so that the table's words
/// are: an aligned 8-byte copy is one `mov` on x86_64, which a kill cannot
/// tear. The compiler fences keep the compiler from moving other stores
/// across it.
#[derive(Debug)]
pub struct Stash<'a>(&'a mut [u8]);

impl<'a> Stash<'a> {
    /// The stash in `bytes`.
    pub fn new(bytes: &'a mut [u8]) -> Self {
        Stash(bytes)
    }
}

impl Region for Stash<'_> {
    #[inline(always)]
    fn bytes(&self) -> &[u8] {
        self.0
    }

    #[inline(always)]
    fn store(&mut self, offset: usize, data: &[u8]) {
        self.0[offset..offset + data.len()].copy_from_slice(data);
    }

    #[inline(always)]
    fn store_u64(&mut self, offset: usize, value: u64) {
        debug_assert_eq!(
            self.0[offset..].as_ptr().addr() % 8,
            0,
            "unaligned u64 store"
        );
        compiler_fence(Ordering::SeqCst);
        self.0[offset..offset + 8].copy_from_slice(&value.to_le_bytes());
        compiler_fence(Ordering::SeqCst);
    }
}
