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

use crate::config::{ADDRESS_ENABLE, ADDRESS_OFFSET, CONFIG_ADDRESS_PORT, CONFIG_DATA_PORT};
use crate::{command, reg};

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

/// Each port a write reaches, with the byte it writes there.
fn bytes(port: u16, width: u16, value: u32) -> impl Iterator<Item = (u16, u8)> {
    (0..width.min(4)).filter_map(move |lane| {
        let at = port.checked_add(lane)?;
        Some((at, value.to_le_bytes()[usize::from(lane)]))
    })
}
