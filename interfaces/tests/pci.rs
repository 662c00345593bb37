//! The PCI interface's messages: the listing's rows, a claim's grants and
//! how its handles pair with them, and a claim through the interface.

use abide_datatable::{Table, Value};
use abide_interfaces::pci::{record, Claim, Grant, LIST_COLUMNS};
use abide_interfaces::Pci;
use abide_pci::claim::Resource;
use abide_pci::{Address, Bar, Device};

const IRQ_10: Grant = Grant::Resource(Resource::Interrupt { irq: 10 });

#[test]
fn grants_say_what_their_handles_are() {
    assert_eq!(Grant::Lease.kind(), "channel");
    assert_eq!(
        Grant::Lease.describe(),
        "lease: the claim lasts while it is held"
    );
    assert_eq!(IRQ_10.kind(), "interrupt");
    assert_eq!(IRQ_10.describe(), "IRQ 10");
}

#[test]
fn handles_pair_with_grants_or_come_back() {
    let claim = Claim {
        address: "00:1f.2".to_string(),
        grants: vec![Grant::Lease, IRQ_10],
        withheld: Vec::new(),
    };
    assert_eq!(
        claim.pair(vec![7, 8]),
        Ok(vec![(Grant::Lease, 7), (IRQ_10, 8)])
    );
    assert_eq!(claim.pair(vec![7]), Err(vec![7]));
}

#[test]
fn list_rows_have_the_list_columns() {
    // q35's AHCI controller, its host bridge, and a disk the kernel drives.
    let sata = Device {
        address: Address::new(0, 0x1f, 0),
        vendor_id: 0x8086,
        device_id: 0x2922,
        class: 1,
        subclass: 6,
        interrupt_line: 10,
        interrupt_pin: 1,
        bars: vec![
            Bar::Io {
                index: 4,
                port: 0xc060,
                size: 32,
            },
            Bar::Memory {
                index: 5,
                address: 0xfebd_1000,
                size: 0x1000,
                prefetchable: false,
                is_64: false,
            },
        ],
        ..Device::default()
    };
    let host = Device {
        class: 6,
        ..Device::default()
    };
    let store = Device {
        address: Address::new(0, 2, 0),
        class: 1,
        kernel: true,
        ..Device::default()
    };
    let table = Table::from_records(vec![
        record(&sata, Some("ahci")),
        record(&host, None),
        record(&store, None),
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
    assert_eq!(table.get(1, "name"), Some(&Value::text("Host bridge")));
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
        grants: vec![
            Grant::Lease,
            Grant::Resource(Resource::Io {
                bar: 0,
                port: 0xc000,
                count: 64,
            }),
        ],
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
}
