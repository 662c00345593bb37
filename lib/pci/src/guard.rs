//! Port writes no holder of I/O ports may make, whatever ports it was
//! granted: the kernel checks every `ioport_write` against these rules.
//!
//! - [`resets_machine`]: the reset control register at 0xCF9 (it sits
//!   between the configuration address and data ports, so whoever holds
//!   0xCF8..=0xCFF for configuration would hold it too), the fast-reset bit
//!   of port 0x92 and the keyboard controller's pulse-reset command. Nobody
//!   needs them: the machine powers off through ACPI (`machine_power`).
//! - [`turns_on_bus_master`]: a configuration write that sets a function's
//!   bus-master bit while it is clear. A bus-mastering device reads and
//!   writes any physical memory (there is no IOMMU), so that would hand the
//!   whole kernel to whoever programs the device. No user-space driver is
//!   granted DMA: the kernel's store disk is the only device that masters
//!   the bus because the kernel asked it to. Clearing the bit, and writing
//!   it back as it was, stay allowed (sizing BARs writes the command
//!   register back).
//! - [`data_write_allowed`]: a configuration write to the function the
//!   kernel keeps for itself (the store's disk), or to the q35 register
//!   that places the memory-mapped configuration window
//!   ([`q35_ecam_window`]), which the kernel keeps out of drivers' reach so
//!   the ports stay the only way in.

use crate::config::{
    config_address, ADDRESS_ENABLE, ADDRESS_FUNCTION, ADDRESS_OFFSET, CONFIG_ADDRESS_PORT,
    CONFIG_DATA_PORT,
};
use crate::{command, reg, Address};

/// The chipset's reset control register (q35's ICH9, PIIX): writing it can
/// reset the machine.
pub const RESET_CONTROL_PORT: u16 = 0xCF9;
/// System control port A: bit 0 pulses the CPU's reset line.
pub const FAST_RESET_PORT: u16 = 0x92;
/// The 8042 keyboard controller's command port: commands 0xF0..=0xFF pulse
/// its output lines low, and line 0 (bit 0 clear) is the CPU's reset.
pub const KBC_COMMAND_PORT: u16 = 0x64;

/// True when writing `value` (`width` bytes, little-endian) at `port` would
/// reach a register that resets the machine. A dword at 0xCF8 is the
/// configuration address register, not the reset register.
pub fn resets_machine(port: u16, width: u16, value: u32) -> bool {
    bytes(port, width, value).any(|(at, byte)| match at {
        RESET_CONTROL_PORT => !(port == CONFIG_ADDRESS_PORT && width == 4),
        FAST_RESET_PORT => byte & 1 != 0,
        KBC_COMMAND_PORT => byte >= 0xF0 && byte & 1 == 0,
        _ => false,
    })
}

/// True when writing `value` (`width` bytes) at `port`, while the
/// configuration address register holds `selected`, would set the
/// bus-master bit of the selected function's command register;
/// `current_command` is that register's value now.
pub fn turns_on_bus_master(
    selected: u32,
    port: u16,
    width: u16,
    value: u32,
    current_command: u16,
) -> bool {
    if selected & ADDRESS_ENABLE == 0 || current_command & command::BUS_MASTER != 0 {
        return false;
    }
    let dword = (selected & ADDRESS_OFFSET) as u8;
    bytes(port, width, value).any(|(at, byte)| {
        let Some(lane) = at.checked_sub(CONFIG_DATA_PORT).filter(|lane| *lane < 4) else {
            return false;
        };
        let offset = u16::from(dword) + lane;
        offset == u16::from(reg::COMMAND) && u16::from(byte) & command::BUS_MASTER != 0
    })
}

/// The value of [`data_write_allowed`]'s `guarded` when the kernel keeps no
/// function.
pub const UNGUARDED: u32 = u32::MAX;

/// The host bridge, where q35 keeps PCIEXBAR.
pub const HOST_BRIDGE: Address = Address::new(0, 0, 0);
/// The vendor and device ID dword of q35's host bridge (Intel's memory
/// controller hub).
pub const Q35_HOST_BRIDGE_ID: u32 = 0x29C0_8086;
/// PCIEXBAR's offset in q35's host bridge (a 64-bit register): where the
/// memory-mapped configuration window lies.
pub const Q35_PCIEXBAR: u8 = 0x60;

/// The function `addr` as the configuration address register names it
/// (its [`ADDRESS_FUNCTION`] bits): [`data_write_allowed`]'s `guarded`.
pub fn function_bits(addr: Address) -> u32 {
    config_address(addr, 0) & ADDRESS_FUNCTION
}

/// True when a write through the data port may go to the register the
/// address register value `selected` names, `guarded` being the function
/// the kernel keeps ([`function_bits`], or [`UNGUARDED`]): not to that
/// function, and not to q35's PCIEXBAR (offsets 0x60..0x68 of the host
/// bridge; on other host bridges nothing a driver writes).
pub fn data_write_allowed(selected: u32, guarded: u32) -> bool {
    if selected & ADDRESS_ENABLE == 0 {
        return true;
    }
    let function = selected & ADDRESS_FUNCTION;
    let places_ecam = function == function_bits(HOST_BRIDGE)
        && (selected & ADDRESS_OFFSET) & !4 == u32::from(Q35_PCIEXBAR);
    function != guarded && !places_ecam
}

/// The window q35's PCIEXBAR (`low`, `high` dwords) places, as (start,
/// end); (0, 0) when it is off. Bit 0 enables it, bits 2:1 give its length
/// (256, 128 or 64 MiB: 256, 128 or 64 buses), the address bits above the
/// length give its base.
pub fn q35_ecam_window(low: u32, high: u32) -> (u64, u64) {
    if low & 1 == 0 {
        return (0, 0);
    }
    let len: u64 = match (low >> 1) & 0b11 {
        0 => 256 << 20,
        1 => 128 << 20,
        2 => 64 << 20,
        _ => return (0, 0),
    };
    // Bits 35 down to log2(len).
    let mask = ((1u64 << 36) - 1) & !(len - 1);
    let start = ((u64::from(high) << 32) | u64::from(low)) & mask;
    (start, start + len)
}

/// Each port a write reaches, with the byte it writes there.
fn bytes(port: u16, width: u16, value: u32) -> impl Iterator<Item = (u16, u8)> {
    (0..width.min(4)).filter_map(move |lane| {
        let at = port.checked_add(lane)?;
        Some((at, value.to_le_bytes()[usize::from(lane)]))
    })
}
