//! CRC-32C (Castagnoli), the checksum of every block the store writes.
//!
//! The kernel checksums every 4 KiB page it writes or reads back, under QEMU
//! TCG as well, so the bytewise algorithm is too slow: this is the
//! slicing-by-8 variant (eight 256-entry tables built at compile time, eight
//! bytes per step), with no `unsafe` and no CPU feature detection. The
//! parameters are the standard CRC-32C ones (reflected polynomial
//! `0x82F63B78`, initial value and final XOR `0xFFFFFFFF`), whose check value
//! for `"123456789"` is `0xE3069283`.

/// The reflected CRC-32C polynomial.
const POLY: u32 = 0x82F6_3B78;

/// `TABLES[0]` is the classic bytewise table; `TABLES[k][b]` is the CRC of
/// byte `b` followed by `k` zero bytes, which lets one step fold 8 bytes.
static TABLES: [[u32; 256]; 8] = make_tables();

const fn make_tables() -> [[u32; 256]; 8] {
    let mut t = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ POLY } else { c >> 1 };
            k += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut i = 0;
    while i < 256 {
        let mut s = 1;
        while s < 8 {
            let prev = t[s - 1][i];
            t[s][i] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            s += 1;
        }
        i += 1;
    }
    t
}

/// Table lookup with the index reduced to a byte, so it cannot go out of
/// bounds.
#[inline(always)]
fn t(table: usize, v: u32) -> u32 {
    TABLES[table & 7][(v & 0xff) as usize]
}

/// A CRC-32C computed over several pieces.
#[derive(Clone, Copy, Debug)]
pub struct Crc32c(u32);

impl Crc32c {
    /// A CRC over no bytes yet.
    pub const fn new() -> Self {
        Self(!0)
    }

    /// Adds `data` to the checksummed bytes.
    pub fn update(mut self, data: &[u8]) -> Self {
        let mut crc = self.0;
        let mut chunks = data.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            let lo = u32::from_le_bytes([w[0], w[1], w[2], w[3]]) ^ crc;
            let hi = u32::from_le_bytes([w[4], w[5], w[6], w[7]]);
            crc = t(7, lo)
                ^ t(6, lo >> 8)
                ^ t(5, lo >> 16)
                ^ t(4, lo >> 24)
                ^ t(3, hi)
                ^ t(2, hi >> 8)
                ^ t(1, hi >> 16)
                ^ t(0, hi >> 24);
        }
        for &b in chunks.remainder() {
            crc = (crc >> 8) ^ t(0, crc ^ u32::from(b));
        }
        self.0 = crc;
        self
    }

    /// Adds `n` zero bytes (the padding of a partial block).
    pub fn update_zeros(mut self, mut n: usize) -> Self {
        const ZEROS: [u8; 64] = [0; 64];
        while n > 0 {
            let k = n.min(ZEROS.len());
            self = self.update(&ZEROS[..k]);
            n -= k;
        }
        self
    }

    /// The checksum of everything added.
    pub const fn finish(self) -> u32 {
        !self.0
    }
}

impl Default for Crc32c {
    fn default() -> Self {
        Self::new()
    }
}

/// The CRC-32C of `data`.
pub fn crc32c(data: &[u8]) -> u32 {
    Crc32c::new().update(data).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytewise definition, to check the sliced one against.
    fn reference(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ POLY
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn check_value() {
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(b""), 0);
        // RFC 3720 (iSCSI) B.4: 32 bytes of zeros, of 0xff.
        assert_eq!(crc32c(&[0u8; 32]), 0x8A91_36AA);
        assert_eq!(crc32c(&[0xffu8; 32]), 0x62A8_AB43);
    }

    #[test]
    fn sliced_matches_bytewise_at_every_length_and_split() {
        let data: Vec<u8> = (0..300u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for len in 0..data.len() {
            let whole = crc32c(&data[..len]);
            assert_eq!(whole, reference(&data[..len]), "length {len}");
            let split = len / 3;
            let pieces = Crc32c::new()
                .update(&data[..split])
                .update(&data[split..len])
                .finish();
            assert_eq!(pieces, whole, "length {len} split at {split}");
        }
    }

    #[test]
    fn zero_padding_equals_explicit_zeros() {
        let mut block = [0u8; 4096];
        block[..100].fill(0x5a);
        let padded = Crc32c::new()
            .update(&block[..100])
            .update_zeros(3996)
            .finish();
        assert_eq!(padded, crc32c(&block));
    }
}
