//! Names for what enumeration finds, and BARs and sizes in one line.

use abide_pci::{class_name, describe_bars, short_size, vendor_name, Bar};

#[test]
fn class_names_cover_the_common_classes() {
    let cases = [
        ((0x01, 0x01), "IDE controller"),
        ((0x01, 0x06), "SATA controller"),
        ((0x01, 0x08), "NVMe controller"),
        ((0x01, 0x80), "Mass storage controller"),
        ((0x02, 0x00), "Ethernet controller"),
        ((0x02, 0x80), "Network controller"),
        ((0x03, 0x00), "VGA compatible controller"),
        ((0x03, 0x80), "Display controller"),
        ((0x06, 0x00), "Host bridge"),
        ((0x06, 0x01), "ISA bridge"),
        ((0x06, 0x04), "PCI bridge"),
        ((0x06, 0x80), "Bridge"),
        ((0x0C, 0x03), "USB controller"),
        ((0x0C, 0x05), "SMBus"),
        ((0x0C, 0x80), "Serial bus controller"),
        ((0x04, 0x03), "Audio device"),
        ((0x07, 0x00), "Serial controller"),
        ((0xFF, 0x00), "Unassigned class"),
        ((0x77, 0x00), "Unknown"),
    ];
    for ((class, subclass), name) in cases {
        assert_eq!(
            class_name(class, subclass),
            name,
            "{class:#x}/{subclass:#x}"
        );
    }
}

#[test]
fn vendor_names_for_a_handful_of_vendors() {
    assert_eq!(vendor_name(0x8086), Some("Intel"));
    assert_eq!(vendor_name(0x1AF4), Some("Red Hat (virtio)"));
    assert_eq!(vendor_name(0x1234), Some("QEMU"));
    assert_eq!(vendor_name(0x1B36), Some("Red Hat (QEMU)"));
    assert_eq!(vendor_name(0xFFFF), None);
    assert_eq!(vendor_name(0x0001), None);
}

#[test]
fn sizes_take_the_largest_unit_that_divides_them() {
    assert_eq!(short_size(16 << 20), "16M");
    assert_eq!(short_size(0x1800), "6K");
    assert_eq!(short_size(24), "24");
    assert_eq!(short_size(1 << 40), "1T");
}

#[test]
fn bars_fit_one_line() {
    assert_eq!(describe_bars(&[]), "-");
    let bars = [
        Bar::Memory {
            index: 0,
            address: 0xfd00_0000,
            size: 16 << 20,
            prefetchable: true,
            is_64: true,
        },
        Bar::Io {
            index: 1,
            port: 0xc000,
            size: 64,
        },
        Bar::Memory {
            index: 2,
            address: 0xfebf_0000,
            size: 0x4000,
            prefetchable: false,
            is_64: false,
        },
    ];
    assert_eq!(
        describe_bars(&bars),
        "mem fd000000/16M pf, io c000/64, mem febf0000/16K"
    );
}
