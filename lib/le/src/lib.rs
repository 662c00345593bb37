//! Little-endian fields in byte slices, read and written by offset.
//!
//! Firmware tables, the kernel symbol table, the program bundle, the store's
//! blocks, the IPC header and the drivers' stashes are byte layouts; these
//! helpers read and write their fields by offset and return `None` instead
//! of panicking when a field runs past the end. (The system-call records
//! are `abide_abi::record`s, whose layout is their struct.)
#![cfg_attr(not(test), no_std)]

/// `N` bytes at `offset`, if they are all inside `bytes`.
pub fn array_at<const N: usize>(bytes: &[u8], offset: usize) -> Option<[u8; N]> {
    let end = offset.checked_add(N)?;
    bytes.get(offset..end)?.try_into().ok()
}

/// The byte at `offset`.
pub fn u8_at(bytes: &[u8], offset: usize) -> Option<u8> {
    bytes.get(offset).copied()
}

/// The little-endian `u16` at `offset`.
pub fn u16_at(bytes: &[u8], offset: usize) -> Option<u16> {
    array_at(bytes, offset).map(u16::from_le_bytes)
}

/// The little-endian `u32` at `offset`.
pub fn u32_at(bytes: &[u8], offset: usize) -> Option<u32> {
    array_at(bytes, offset).map(u32::from_le_bytes)
}

/// The little-endian `u64` at `offset`.
pub fn u64_at(bytes: &[u8], offset: usize) -> Option<u64> {
    array_at(bytes, offset).map(u64::from_le_bytes)
}

/// Writes `value` at `offset`; `None`, and nothing written, when it does
/// not fit inside `bytes`.
pub fn put_array<const N: usize>(bytes: &mut [u8], offset: usize, value: [u8; N]) -> Option<()> {
    let end = offset.checked_add(N)?;
    bytes.get_mut(offset..end)?.copy_from_slice(&value);
    Some(())
}

/// Writes `value` little-endian at `offset` (see [`put_array`]).
pub fn put_u16(bytes: &mut [u8], offset: usize, value: u16) -> Option<()> {
    put_array(bytes, offset, value.to_le_bytes())
}

/// Writes `value` little-endian at `offset` (see [`put_array`]).
pub fn put_u32(bytes: &mut [u8], offset: usize, value: u32) -> Option<()> {
    put_array(bytes, offset, value.to_le_bytes())
}

/// Writes `value` little-endian at `offset` (see [`put_array`]).
pub fn put_u64(bytes: &mut [u8], offset: usize, value: u64) -> Option<()> {
    put_array(bytes, offset, value.to_le_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_inside_and_rejects_outside() {
        let b = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        assert_eq!(u8_at(&b, 8), Some(9));
        assert_eq!(u16_at(&b, 0), Some(0x0201));
        assert_eq!(u32_at(&b, 1), Some(0x0504_0302));
        assert_eq!(u64_at(&b, 1), Some(0x0908_0706_0504_0302));
        assert_eq!(u8_at(&b, 9), None);
        assert_eq!(u16_at(&b, 8), None);
        assert_eq!(u64_at(&b, 2), None);
        assert_eq!(u32_at(&b, usize::MAX), None);
    }

    #[test]
    fn writes_fields_inside_and_nothing_outside() {
        let mut b = [0u8; 9];
        assert_eq!(put_u16(&mut b, 0, 0x0201), Some(()));
        assert_eq!(put_u32(&mut b, 2, 0x0605_0403), Some(()));
        assert_eq!(put_array(&mut b, 6, [7, 8, 9]), Some(()));
        assert_eq!(b, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert_eq!(put_u64(&mut b, 2, u64::MAX), None);
        assert_eq!(put_u16(&mut b, usize::MAX, 0), None);
        assert_eq!(b, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert_eq!(put_u64(&mut b, 1, 0x0908_0706_0504_0302), Some(()));
        assert_eq!(u64_at(&b, 1), Some(0x0908_0706_0504_0302));
    }
}
