//! Hardening finding 9: a holder of the PCI configuration ports
//! (0xCF8..=0xCFF, with the hardware resource the kernel gives the
//! programs it starts) must not reach further than configuration space.
//! It tries to turn on bus mastering (DMA over all memory, there is no
//! IOMMU) for a function whose bus mastering is off, then to reset the
//! machine through 0xCF9, which sits between the two configuration ports.
//! Each must be `AccessDenied`; writes that stay within bounds still work.
//! Prints one line per check and `pci-grant: ok`, or `FAILED` lines and
//! exits 1. (If the reset went through, QEMU ends: `-no-reboot`.)
#![no_std]
#![no_main]

use abide_abi::syscall::{Error, Handle};
use abide_pci::guard::RESET_CONTROL_PORT;
use abide_pci::{command, config_address, reg, Address, CONFIG_ADDRESS_PORT, CONFIG_DATA_PORT};
use abide_rt::println;
use abide_rt::syscall::{ioport_read, ioport_write, ioports_create};

abide_rt::entry!(main);

fn main() -> i32 {
    let Some(resource) = abide_rt::startup_handle(0) else {
        println!("pci-grant: FAILED: no hardware resource");
        return 1;
    };
    let ports = match ioports_create(resource, CONFIG_ADDRESS_PORT, 8) {
        Ok(ports) => ports,
        Err(error) => {
            println!("pci-grant: FAILED: ioports_create 0xcf8: {error:?}");
            return 1;
        }
    };
    let mut ok = bus_master(ports);
    ok &= reset(ports);
    if ok {
        println!("pci-grant: ok");
        0
    } else {
        1
    }
}

fn read(ports: Handle, addr: Address, offset: u8) -> u32 {
    let _ = ioport_write(ports, CONFIG_ADDRESS_PORT, 4, config_address(addr, offset));
    ioport_read(ports, CONFIG_DATA_PORT, 4).unwrap_or(u32::MAX)
}

fn write(ports: Handle, addr: Address, offset: u8, width: u8, value: u32) -> Result<(), Error> {
    ioport_write(ports, CONFIG_ADDRESS_PORT, 4, config_address(addr, offset))?;
    ioport_write(ports, CONFIG_DATA_PORT, width, value)
}

/// A function on bus 0 whose bus mastering is off and whose command
/// register takes an unchanged write (so not the kernel's store disk), and
/// that command value.
fn victim(ports: Handle) -> Option<(Address, u32)> {
    (1..32)
        .map(|device| Address::new(0, device, 0))
        .find_map(|addr| {
            if read(ports, addr, reg::ID) & 0xFFFF == 0xFFFF {
                return None;
            }
            let current = read(ports, addr, reg::COMMAND) & 0xFFFF;
            let off = current as u16 & command::BUS_MASTER == 0;
            (off && write(ports, addr, reg::COMMAND, 4, current).is_ok()).then_some((addr, current))
        })
}

fn bus_master(ports: Handle) -> bool {
    let Some((addr, current)) = victim(ports) else {
        println!("pci-grant: FAILED: no function with bus mastering off");
        return false;
    };
    let on = current | u32::from(command::BUS_MASTER);
    let mut ok = true;
    for (width, value) in [(4, on), (2, on & 0xFFFF), (1, on & 0xFF)] {
        let result = write(ports, addr, reg::COMMAND, width, value);
        let now = read(ports, addr, reg::COMMAND) & 0xFFFF;
        if result != Err(Error::AccessDenied) || now & u32::from(command::BUS_MASTER) != 0 {
            println!(
                "pci-grant: FAILED: bus mastering of {addr} turned on ({width}-byte write: {result:?}, command now {now:#x})"
            );
            ok = false;
        }
        // Put it back as it was (clearing the bit is allowed).
        let _ = write(ports, addr, reg::COMMAND, 4, current);
    }
    if ok {
        println!("pci-grant: bus mastering of {addr} refused");
    }
    ok
}

fn reset(ports: Handle) -> bool {
    // 0x06: full reset (ICH9, PIIX). Only reached if the bus-master check
    // above did not stop the test already.
    match ioport_write(ports, RESET_CONTROL_PORT, 1, 0x06) {
        Err(Error::AccessDenied) => {
            println!("pci-grant: reset through {RESET_CONTROL_PORT:#x} refused");
            true
        }
        other => {
            println!("pci-grant: FAILED: the reset register write returned {other:?}");
            false
        }
    }
}
