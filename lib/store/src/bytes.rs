//! Little-endian fields in on-disk blocks (`abide-le`), read and written
//! without any way to panic: a field that does not fit in the slice reads
//! as zero and is not written (callers only use offsets inside the block, so
//! this never happens, but the disk is untrusted and the kernel must not
//! panic).

/// The `u64` at `off`.
pub(crate) fn get_u64(b: &[u8], off: usize) -> u64 {
    abide_le::u64_at(b, off).unwrap_or(0)
}

/// The `u32` at `off`.
pub(crate) fn get_u32(b: &[u8], off: usize) -> u32 {
    abide_le::u32_at(b, off).unwrap_or(0)
}

/// Stores `v` at `off`.
pub(crate) fn put_u64(b: &mut [u8], off: usize, v: u64) {
    let _ = abide_le::put_u64(b, off, v);
}

/// Stores `v` at `off`.
pub(crate) fn put_u32(b: &mut [u8], off: usize, v: u32) {
    let _ = abide_le::put_u32(b, off, v);
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
