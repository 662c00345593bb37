//! Reaching configuration space: the address register's dword, and
//! narrow reads out of whole dwords.

mod support;

use abide_pci::{config_address, Address, ConfigSpace};
use support::q35;

#[test]
fn config_address_sets_enable_bit_fields_and_aligns_the_offset() {
    assert_eq!(config_address(Address::new(0, 0, 0), 0), 0x8000_0000);
    assert_eq!(config_address(Address::new(0, 0x1F, 3), 0x10), 0x8000_FB10);
    assert_eq!(config_address(Address::new(0, 0x1F, 3), 0x13), 0x8000_FB10);
    assert_eq!(config_address(Address::new(0xFF, 31, 7), 0xFF), 0x80FF_FFFC);
    assert_eq!(config_address(Address::new(1, 2, 3), 0x3C), 0x8001_133C);
    // Out-of-range device and function numbers cannot spill into other fields.
    assert_eq!(config_address(Address::new(0, 0xFF, 0xFF), 0), 0x8000_FF00);
}

#[test]
fn narrow_reads_pick_their_part_of_the_dword() {
    let mut bus = q35();
    let sata = Address::new(0, 0x1F, 2);
    assert_eq!(bus.read16(sata, 0x00), 0x8086);
    assert_eq!(bus.read16(sata, 0x02), 0x2922);
    assert_eq!(bus.read8(sata, 0x0B), 0x01);
    assert_eq!(bus.read8(sata, 0x0A), 0x06);
    assert_eq!(bus.read8(sata, 0x09), 0x01);
    assert_eq!(bus.read8(sata, 0x0E), 0x80);
}
