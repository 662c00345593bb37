//! Base address registers: what a function decodes and where, found by the
//! standard probe (write all ones, read back which bits stuck, restore).

use alloc::vec::Vec;

use crate::{command, reg, Address, ConfigSpace, WriteRefused};

/// A decoded, implemented base address register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Bar {
    /// A window in memory space.
    Memory {
        /// The register's number (0..6); a 64-bit BAR also uses `index + 1`.
        index: u8,
        /// The base physical address the firmware assigned.
        address: u64,
        /// The window's size in bytes, a power of two.
        size: u64,
        /// Reads have no side effects, so the window may be mapped
        /// write-combining or cached.
        prefetchable: bool,
        /// The register pair holds a 64-bit address.
        is_64: bool,
    },
    /// A window in I/O port space.
    Io {
        /// The register's number (0..6).
        index: u8,
        /// The first port.
        port: u32,
        /// The number of ports, a power of two.
        size: u32,
    },
}

impl Bar {
    /// The register's number.
    pub fn index(&self) -> u8 {
        match *self {
            Bar::Memory { index, .. } | Bar::Io { index, .. } => index,
        }
    }
}

/// Bit 0 of a BAR: 1 for I/O space, 0 for memory space.
const IO_SPACE: u32 = 1;
/// The address bits of an I/O BAR.
const IO_ADDRESS_MASK: u32 = !0x3;
/// The address bits of a memory BAR's low dword.
const MEMORY_ADDRESS_MASK: u32 = !0xF;
/// A memory BAR's prefetchable flag.
const PREFETCHABLE: u32 = 1 << 3;
/// A memory BAR's type field (bits 1..=2), shifted down.
const TYPE_32: u32 = 0b00;
const TYPE_BELOW_1M: u32 = 0b01;
const TYPE_64: u32 = 0b10;

/// Sizes the first `count` base address registers of the function at
/// `addr` (6 for a type 0 header, 2 for a bridge) and returns the
/// implemented ones; unimplemented registers (no address bit sticks) are
/// left out, as is a 64-bit BAR whose upper half would lie past `count`.
///
/// Memory and I/O decoding are switched off in the command register while
/// the registers hold all ones, so the function never answers at a bogus
/// address; every register written is restored to the value it had.
///
/// A function whose configuration refuses writes is refused at the first
/// write, before anything changed: [`WriteRefused`]. (Should a later write
/// be refused, the command register is put back as well as it can be.)
pub fn probe_bars(
    cs: &mut impl ConfigSpace,
    addr: Address,
    count: u8,
) -> Result<Vec<Bar>, WriteRefused> {
    let command = cs.read16(addr, reg::COMMAND);
    let decode = command::IO_SPACE | command::MEMORY_SPACE;
    if command & decode != 0 {
        // The status half is left zero: its bits are write-one-to-clear.
        cs.write32(addr, reg::COMMAND, u32::from(command & !decode))?;
    }
    let mut bars = Vec::new();
    let mut index = 0;
    let mut probed = Ok(());
    while index < count && probed.is_ok() {
        probed = probe_one(cs, addr, index, count).map(|(bar, used)| {
            bars.extend(bar);
            index += used;
        });
    }
    if command & decode != 0 {
        let restored = cs.write32(addr, reg::COMMAND, u32::from(command));
        probed = probed.and(restored);
    }
    probed.map(|()| bars)
}

/// The BAR at `index` and how many registers it occupies (1, or 2 for a
/// 64-bit memory BAR).
fn probe_one(
    cs: &mut impl ConfigSpace,
    addr: Address,
    index: u8,
    count: u8,
) -> Result<(Option<Bar>, u8), WriteRefused> {
    let offset = bar_offset(index);
    let original = cs.read32(addr, offset);
    if original & IO_SPACE != 0 {
        return Ok((probe_io(cs, addr, index, original)?, 1));
    }
    Ok(match (original >> 1) & 0b11 {
        TYPE_32 | TYPE_BELOW_1M => (probe_memory32(cs, addr, index, original)?, 1),
        TYPE_64 if index + 1 < count => (probe_memory64(cs, addr, index, original)?, 2),
        // A 64-bit BAR without room for its upper half, or the reserved type.
        _ => (None, 1),
    })
}

/// The configuration space offset of BAR `index`.
fn bar_offset(index: u8) -> u8 {
    reg::BAR0 + 4 * index
}

fn probe_io(
    cs: &mut impl ConfigSpace,
    addr: Address,
    index: u8,
    original: u32,
) -> Result<Option<Bar>, WriteRefused> {
    let mask = probe_dword(cs, addr, bar_offset(index), original)? & IO_ADDRESS_MASK;
    Ok(lowest_set_bit(u64::from(mask)).map(|size| Bar::Io {
        index,
        port: original & IO_ADDRESS_MASK,
        size: size as u32,
    }))
}

fn probe_memory32(
    cs: &mut impl ConfigSpace,
    addr: Address,
    index: u8,
    original: u32,
) -> Result<Option<Bar>, WriteRefused> {
    let mask = probe_dword(cs, addr, bar_offset(index), original)? & MEMORY_ADDRESS_MASK;
    Ok(lowest_set_bit(u64::from(mask)).map(|size| Bar::Memory {
        index,
        address: u64::from(original & MEMORY_ADDRESS_MASK),
        size,
        prefetchable: original & PREFETCHABLE != 0,
        is_64: false,
    }))
}

fn probe_memory64(
    cs: &mut impl ConfigSpace,
    addr: Address,
    index: u8,
    original: u32,
) -> Result<Option<Bar>, WriteRefused> {
    let high_offset = bar_offset(index + 1);
    let original_high = cs.read32(addr, high_offset);
    let low = probe_dword(cs, addr, bar_offset(index), original)? & MEMORY_ADDRESS_MASK;
    let high = probe_dword(cs, addr, high_offset, original_high)?;
    let mask = u64::from(high) << 32 | u64::from(low);
    Ok(lowest_set_bit(mask).map(|size| Bar::Memory {
        index,
        address: u64::from(original_high) << 32 | u64::from(original & MEMORY_ADDRESS_MASK),
        size,
        prefetchable: original & PREFETCHABLE != 0,
        is_64: true,
    }))
}

/// Writes all ones to the register at `offset`, reads back which bits
/// stuck, and writes `original` back.
fn probe_dword(
    cs: &mut impl ConfigSpace,
    addr: Address,
    offset: u8,
    original: u32,
) -> Result<u32, WriteRefused> {
    cs.write32(addr, offset, u32::MAX)?;
    let readback = cs.read32(addr, offset);
    cs.write32(addr, offset, original)?;
    Ok(readback)
}

/// The size a BAR's writable address bits imply: their lowest set bit
/// (devices that decode fewer upper bits read those back as zero, which
/// this ignores). `None` when no bit is writable: the BAR is not
/// implemented.
fn lowest_set_bit(mask: u64) -> Option<u64> {
    (mask != 0).then(|| 1 << mask.trailing_zeros())
}
