//! The port writes no holder of I/O ports may make: resets, and turning on
//! bus mastering.

use abide_pci::guard::{resets_machine, turns_on_bus_master};
use abide_pci::{command, config_address, Address};

#[test]
fn the_reset_register_is_refused_at_any_width() {
    assert!(resets_machine(0xCF9, 1, 0x06));
    assert!(resets_machine(0xCF9, 1, 0x00));
    assert!(resets_machine(0xCF8, 2, 0x0600));
    assert!(resets_machine(0xCF9, 2, 0x06));
    // The configuration address register is a dword at 0xCF8.
    assert!(!resets_machine(0xCF8, 4, 0x8000_0004));
    assert!(!resets_machine(0xCFC, 4, u32::MAX));
    assert!(!resets_machine(0xCF8, 1, 0));
    assert!(!resets_machine(0xCFA, 2, u32::MAX));
}

#[test]
fn other_reset_paths_are_refused() {
    assert!(resets_machine(0x92, 1, 0x01));
    assert!(!resets_machine(0x92, 1, 0x02), "A20 alone is harmless");
    assert!(resets_machine(0x64, 1, 0xFE));
    assert!(resets_machine(0x64, 1, 0xF0));
    assert!(!resets_machine(0x64, 1, 0xFF), "pulses no line");
    assert!(!resets_machine(0x64, 1, 0xAE), "enable keyboard");
    assert!(!resets_machine(0x60, 1, 0xFE), "the data port");
    assert!(resets_machine(0x63, 2, 0xFE00));
}

fn command_select(offset: u8) -> u32 {
    config_address(Address::new(0, 3, 0), offset)
}

#[test]
fn setting_bus_master_is_refused_through_every_width() {
    let select = command_select(0x04);
    let current = command::IO_SPACE | command::MEMORY_SPACE;
    assert!(turns_on_bus_master(select, 0xCFC, 4, 0x0000_0007, current));
    assert!(turns_on_bus_master(select, 0xCFC, 2, 0x0004, current));
    assert!(turns_on_bus_master(select, 0xCFC, 1, 0x04, current));
    // The status half and the command's high byte hold no such bit.
    assert!(!turns_on_bus_master(select, 0xCFD, 1, 0xFF, current));
    assert!(!turns_on_bus_master(select, 0xCFE, 2, 0xFFFF, current));
}

#[test]
fn clearing_or_keeping_bus_master_and_other_registers_pass() {
    let select = command_select(0x04);
    let off = command::IO_SPACE;
    let on = off | command::BUS_MASTER;
    assert!(!turns_on_bus_master(select, 0xCFC, 4, u32::from(off), off));
    assert!(!turns_on_bus_master(select, 0xCFC, 4, u32::from(on), on));
    assert!(!turns_on_bus_master(select, 0xCFC, 4, 0, on));
    // Another register, bit 2 set: a BAR.
    assert!(!turns_on_bus_master(
        command_select(0x10),
        0xCFC,
        4,
        0xFFFF_FFFF,
        off
    ));
    // The enable bit clear: no configuration cycle.
    assert!(!turns_on_bus_master(select & !(1 << 31), 0xCFC, 4, 7, off));
    // The address port itself.
    assert!(!turns_on_bus_master(select, 0xCF8, 4, 0x8000_0004, off));
}

#[test]
fn data_writes_to_the_kernels_function_or_pciexbar_are_refused() {
    use abide_pci::guard::{data_write_allowed, function_bits, HOST_BRIDGE, UNGUARDED};
    let store = Address::new(0, 4, 0);
    let other = Address::new(0, 5, 0);
    let guarded = function_bits(store);
    for offset in [0x04, 0x10, 0x3c] {
        assert!(!data_write_allowed(config_address(store, offset), guarded));
        assert!(data_write_allowed(config_address(other, offset), guarded));
        assert!(data_write_allowed(config_address(store, offset), UNGUARDED));
    }
    // The enable bit clear: no configuration cycle.
    assert!(data_write_allowed(
        config_address(store, 0x10) & !(1 << 31),
        guarded
    ));
    for offset in [0x60, 0x64] {
        assert!(!data_write_allowed(
            config_address(HOST_BRIDGE, offset),
            UNGUARDED
        ));
    }
    assert!(data_write_allowed(
        config_address(HOST_BRIDGE, 0x68),
        UNGUARDED
    ));
    assert!(data_write_allowed(
        config_address(Address::new(0, 0, 1), 0x60),
        UNGUARDED
    ));
}

#[test]
fn pciexbar_places_the_window_when_enabled() {
    use abide_pci::guard::q35_ecam_window;
    // QEMU's q35: 256 MiB at 0xb000_0000.
    assert_eq!(q35_ecam_window(0xb000_0001, 0), (0xb000_0000, 0xc000_0000));
    assert_eq!(q35_ecam_window(0xb000_0000, 0), (0, 0), "disabled");
    assert_eq!(
        q35_ecam_window(0xe000_0005, 0),
        (0xe000_0000, 0xe400_0000),
        "64 MiB"
    );
    assert_eq!(
        q35_ecam_window(0x1000_0003, 0x1),
        (0x1_1000_0000, 0x1_1800_0000),
        "128 MiB above 4 GiB"
    );
    assert_eq!(q35_ecam_window(0xb000_0007, 0), (0, 0), "reserved length");
}
