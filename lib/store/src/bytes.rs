//! Little-endian fields in on-disk blocks, read and written without any
//! way to panic: a field that does not fit in the slice reads as zero and
//! is not written (callers only use offsets inside the block, so this never
//! happens, but the disk is untrusted and the kernel must not panic).

/// The `u64` at `off`.
pub(crate) fn get_u64(b: &[u8], off: usize) -> u64 {
    off.checked_add(8)
        .and_then(|end| b.get(off..end))
        .and_then(|s| <[u8; 8]>::try_from(s).ok())
        .map_or(0, u64::from_le_bytes)
}

/// The `u32` at `off`.
pub(crate) fn get_u32(b: &[u8], off: usize) -> u32 {
    off.checked_add(4)
        .and_then(|end| b.get(off..end))
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map_or(0, u32::from_le_bytes)
}

/// Stores `v` at `off`.
pub(crate) fn put_u64(b: &mut [u8], off: usize, v: u64) {
    put(b, off, &v.to_le_bytes());
}

/// Stores `v` at `off`.
pub(crate) fn put_u32(b: &mut [u8], off: usize, v: u32) {
    put(b, off, &v.to_le_bytes());
}

/// Stores `bytes` at `off`.
pub(crate) fn put(b: &mut [u8], off: usize, bytes: &[u8]) {
    if let Some(s) = off
        .checked_add(bytes.len())
        .and_then(|end| b.get_mut(off..end))
    {
        s.copy_from_slice(bytes);
    }
}

/// Whether every byte of `b` is zero (8 bytes at a time).
pub(crate) fn is_zero(b: &[u8]) -> bool {
    let mut chunks = b.chunks_exact(8);
    chunks.all(|c| u64::from_le_bytes(<[u8; 8]>::try_from(c).unwrap_or([1; 8])) == 0)
        && chunks.remainder().iter().all(|&x| x == 0)
}
