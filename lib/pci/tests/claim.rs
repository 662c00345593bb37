//! What a claim of a function grants and withholds: its BARs' ports and
//! pages, its IRQ, and the reasons for what it cannot have.

use abide_pci::claim::{plan, Resource};
use abide_pci::{Address, Bar, Device};

/// q35's AHCI controller: an I/O BAR, a memory BAR, IRQ 10 on pin A.
fn sata() -> Device {
    let bars = vec![
        Bar::Io {
            index: 4,
            port: 0xc060,
            size: 32,
        },
        mem(5, 0xfebd_1000, 0x1000),
    ];
    function(0x1f, bars, 10, 1)
}

/// Function 0 of device `device` on bus 0.
fn function(device: u8, bars: Vec<Bar>, line: u8, pin: u8) -> Device {
    Device {
        address: Address::new(0, device, 0),
        vendor_id: 0x8086,
        device_id: 0x2922,
        interrupt_line: line,
        interrupt_pin: pin,
        bars,
        ..Device::default()
    }
}

fn mem(index: u8, address: u64, size: u64) -> Bar {
    Bar::Memory {
        index,
        address,
        size,
        prefetchable: false,
        is_64: false,
    }
}

#[test]
fn irq_needs_a_pin_and_an_isa_line() {
    assert_eq!(function(2, Vec::new(), 11, 1).irq(), Some(11));
    assert_eq!(function(2, Vec::new(), 11, 0).irq(), None);
    assert_eq!(function(2, Vec::new(), 0xff, 1).irq(), None);
    assert_eq!(function(2, Vec::new(), 0, 1).irq(), None);
    assert_eq!(function(2, Vec::new(), 16, 1).irq(), None);
}

#[test]
fn a_claim_grants_the_bars_and_the_irq_in_order() {
    let (grants, withheld) = plan(&sata(), &[]);
    assert_eq!(
        grants,
        [
            Resource::Io {
                bar: 4,
                port: 0xc060,
                count: 32
            },
            Resource::Memory {
                bar: 5,
                address: 0xfebd_1000,
                size: 0x1000,
                base: 0xfebd_1000,
                len: 0x1000,
                prefetchable: false
            },
            Resource::Interrupt { irq: 10 },
        ]
    );
    assert!(withheld.is_empty());
    let kinds: Vec<&str> = grants.iter().map(Resource::kind).collect();
    assert_eq!(kinds, ["ioports", "memory", "interrupt"]);
    assert_eq!(grants[0].describe(), "BAR 4: ports 0xc060..=0xc07f");
    assert_eq!(
        grants[1].describe(),
        "BAR 5: memory 0xfebd1000..=0xfebd1fff (4K)"
    );
    assert_eq!(grants[2].describe(), "IRQ 10");
}

#[test]
fn small_memory_bars_are_granted_as_whole_pages_unless_shared() {
    let alone = function(3, vec![mem(0, 0xfebd_2010, 0x20)], 0, 0);
    let (grants, _) = plan(&alone, &[]);
    assert_eq!(
        grants[0].describe(),
        "BAR 0: memory 0xfebd2010..=0xfebd202f (32), in the pages 0xfebd2000+4K"
    );
    assert_eq!(
        grants[0],
        Resource::Memory {
            bar: 0,
            address: 0xfebd_2010,
            size: 0x20,
            base: 0xfebd_2000,
            len: 0x1000,
            prefetchable: false
        }
    );
    let neighbour = function(4, vec![mem(1, 0xfebd_2800, 0x100)], 0, 0);
    let elsewhere = function(5, vec![mem(0, 0xfebd_3000, 0x1000)], 0, 0);
    let (grants, withheld) = plan(&alone, &[elsewhere.clone(), neighbour]);
    assert_eq!(grants, []);
    assert_eq!(withheld, ["BAR 0: shares a page with 00:04.0 BAR 1"]);
    // A window spanning pages is granted whole.
    let big = function(6, vec![mem(2, 0xfd00_0000, 16 << 20)], 0, 0);
    let (grants, withheld) = plan(&big, &[elsewhere]);
    assert!(withheld.is_empty());
    assert!(matches!(grants[0], Resource::Memory { len, .. } if len == 16 << 20));
}

#[test]
fn unassigned_or_impossible_bars_are_withheld_with_the_reason() {
    let odd = function(
        7,
        vec![
            mem(0, 0, 0x1000),
            Bar::Io {
                index: 1,
                port: 0,
                size: 8,
            },
            Bar::Io {
                index: 2,
                port: 0xfff8,
                size: 16,
            },
            mem(3, u64::MAX - 0xff, 0x1000),
        ],
        0xff,
        2,
    );
    let (grants, withheld) = plan(&odd, &[]);
    assert_eq!(grants, []);
    assert_eq!(withheld.len(), 5, "{withheld:?}");
    assert!(withheld[0].starts_with("BAR 0: no memory address"));
    assert!(withheld[1].starts_with("BAR 1: no I/O address"));
    assert!(withheld[2].contains("beyond 0xffff"));
    assert!(withheld[3].contains("overflows"));
    assert!(withheld[4].contains("no ISA IRQ routed (line 0xff)"));
}
