//! The PCI interface's rules: address notation, what a claim grants and
//! withholds, the listing's rows, and a claim through the interface.

use abide_interfaces::pci::*;
use abide_interfaces::Pci;
use abide_records::Value;

/// q35's AHCI controller: an I/O BAR, a memory BAR, IRQ 10 on pin A.
fn sata() -> Function {
    function(
        0x1f,
        vec![
            Bar::Io {
                index: 4,
                port: 0xc060,
                size: 32,
            },
            mem(5, 0xfebd_1000, 0x1000),
        ],
        10,
        1,
    )
}

fn function(device: u8, bars: Vec<Bar>, line: u8, pin: u8) -> Function {
    Function {
        bus: 0,
        device,
        function: 0,
        vendor_id: 0x8086,
        device_id: 0x2922,
        class: 1,
        subclass: 6,
        prog_if: 1,
        interrupt_line: line,
        interrupt_pin: pin,
        bars,
        kernel: false,
    }
}

fn mem(index: u8, address: u64, size: u64) -> Bar {
    Bar::Memory {
        index,
        address,
        size,
        prefetchable: false,
    }
}

#[test]
fn addresses_parse_and_print() {
    assert_eq!(parse_address("00:1f.2"), Ok((0, 0x1f, 2)));
    assert_eq!(parse_address("0:2.0"), Ok((0, 2, 0)));
    assert_eq!(parse_address("0000:ff:1F.7"), Ok((0xff, 0x1f, 7)));
    assert_eq!(format_address(0, 0x1f, 2), "00:1f.2");
    for (bus, device, function) in [(0, 0, 0), (1, 31, 7), (255, 2, 3)] {
        let text = format_address(bus, device, function);
        assert_eq!(parse_address(&text), Ok((bus, device, function)));
    }
}

#[test]
fn bad_addresses_say_what_is_expected() {
    for bad in [
        "",
        "1f.2",
        "00:1f",
        "00:1f.",
        "x0:1f.2",
        "00:1f.2.3",
        "000:1f.2",
        "00:1f.22",
        "00:+1.2",
        "0000:00:00:00.0",
    ] {
        let error = parse_address(bad).unwrap_err();
        assert!(error.contains("is not a PCI address"), "{bad}: {error}");
    }
    assert!(parse_address("00:20.0").unwrap_err().contains("00..1f"));
    assert!(parse_address("00:1f.8").unwrap_err().contains("0..7"));
    assert!(parse_address("0001:00:1f.2")
        .unwrap_err()
        .contains("domain 0"));
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
fn a_claim_grants_the_lease_the_bars_and_the_irq_in_order() {
    let sata = sata();
    let (grants, withheld) = plan(&sata, &[]);
    assert_eq!(
        grants,
        vec![
            Grant::Lease,
            Grant::Io {
                bar: 4,
                port: 0xc060,
                count: 32
            },
            Grant::Memory {
                bar: 5,
                address: 0xfebd_1000,
                size: 0x1000,
                base: 0xfebd_1000,
                len: 0x1000,
                prefetchable: false
            },
            Grant::Interrupt { irq: 10 },
        ]
    );
    assert!(withheld.is_empty());
    let kinds: Vec<&str> = grants.iter().map(Grant::kind).collect();
    assert_eq!(kinds, ["channel", "ioports", "memory", "interrupt"]);
    assert_eq!(grants[1].describe(), "BAR 4: ports 0xc060..=0xc07f");
    assert_eq!(
        grants[2].describe(),
        "BAR 5: memory 0xfebd1000..=0xfebd1fff (4K)"
    );
}

#[test]
fn small_memory_bars_are_granted_as_whole_pages_unless_shared() {
    let alone = function(3, vec![mem(0, 0xfebd_2010, 0x20)], 0, 0);
    let (grants, _) = plan(&alone, &[]);
    assert_eq!(
        grants[1].describe(),
        "BAR 0: memory 0xfebd2010..=0xfebd202f (32), in the pages 0xfebd2000+4K"
    );
    assert_eq!(
        grants[1],
        Grant::Memory {
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
    assert_eq!(grants, vec![Grant::Lease]);
    assert_eq!(withheld, ["BAR 0: shares a page with 00:04.0 BAR 1"]);
    // A window spanning pages is granted whole.
    let big = function(6, vec![mem(2, 0xfd00_0000, 16 << 20)], 0, 0);
    let (grants, withheld) = plan(&big, &[elsewhere]);
    assert!(withheld.is_empty());
    assert!(matches!(grants[1], Grant::Memory { len, .. } if len == 16 << 20));
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
    assert_eq!(grants, vec![Grant::Lease]);
    assert_eq!(withheld.len(), 5, "{withheld:?}");
    assert!(withheld[0].starts_with("BAR 0: no memory address"));
    assert!(withheld[1].starts_with("BAR 1: no I/O address"));
    assert!(withheld[2].contains("beyond 0xffff"));
    assert!(withheld[3].contains("overflows"));
    assert!(withheld[4].contains("no ISA IRQ routed (line 0xff)"));
}

#[test]
fn handles_pair_with_grants_or_come_back() {
    let claim = Claim {
        address: "00:1f.2".to_string(),
        grants: vec![Grant::Lease, Grant::Interrupt { irq: 10 }],
        withheld: Vec::new(),
    };
    assert_eq!(
        claim.pair(vec![7, 8]),
        Ok(vec![(Grant::Lease, 7), (Grant::Interrupt { irq: 10 }, 8)])
    );
    assert_eq!(claim.pair(vec![7]), Err(vec![7]));
}

#[test]
fn list_rows_have_the_list_columns() {
    let sata = sata();
    let store = Function {
        kernel: true,
        ..function(2, Vec::new(), 0, 0)
    };
    let table = abide_records::Table::from_records(vec![
        record(&sata, "SATA controller", Some("ahci")),
        record(&function(0, Vec::new(), 0, 0), "Host bridge", None),
        record(&store, "Mass storage", None),
    ])
    .unwrap();
    let columns: Vec<&str> = table.columns.iter().map(String::as_str).collect();
    assert_eq!(columns, LIST_COLUMNS);
    let text = table.render();
    assert!(
        text.contains("00:1f.0  8086    2922    0106   SATA controller"),
        "{text}"
    );
    assert!(text.contains("io c060/32, mem febd1000/4K"), "{text}");
    assert_eq!(table.get(0, "irq"), Some(&Value::Int(10)));
    assert_eq!(table.get(0, "claimed"), Some(&Value::text("ahci")));
    assert_eq!(table.get(1, "irq"), Some(&Value::text("-")));
    assert_eq!(table.get(1, "bars"), Some(&Value::text("-")));
    assert_eq!(table.get(1, "claimed"), Some(&Value::text("-")));
    assert_eq!(table.get(2, "claimed"), Some(&Value::text("kernel")));
}

#[test]
fn the_interface_carries_a_claim() {
    use abide_ipc::wire;
    let claim = Claim {
        address: "00:02.0".to_string(),
        grants: vec![Grant::Lease],
        withheld: vec!["IRQ 11: busy".to_string()],
    };
    let request = Pci::claim::encode(3, "00:02.0".to_string()).unwrap();
    let (header, payload) = wire::Header::decode(&request).unwrap();
    assert_eq!(
        Pci::Request::decode_args(header.ordinal, payload),
        Ok(Pci::Request::claim {
            address: "00:02.0".to_string()
        })
    );
    let reply = abide_ipc::server::reply(&header, Ok(claim.clone()));
    assert_eq!(Pci::claim::decode_reply(&reply, Some(3)), Ok(claim));
    assert_eq!(short_size(16 << 20), "16M");
    assert_eq!(short_size(0x1800), "6K");
    assert_eq!(short_size(24), "24");
}
