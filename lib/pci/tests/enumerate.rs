//! Enumeration on a fake q35 machine: what it finds, how it sizes BARs
//! (restoring every register), how it follows bridges, and the walk the
//! kernel shares.

mod support;

use std::ops::ControlFlow;

use abide_pci::{
    enumerate, probe_bars, read_device, walk, Address, Bar, ConfigSpace, Device, Mechanism1,
};
use support::{q35, FakeBus, FakePorts, Function};

fn addr(bus: u8, device: u8, function: u8) -> Address {
    Address::new(bus, device, function)
}

fn find(devices: &[Device], address: Address) -> &Device {
    devices
        .iter()
        .find(|d| d.address == address)
        .unwrap_or_else(|| panic!("{address} not found"))
}

fn addresses(devices: &[Device]) -> Vec<Address> {
    devices.iter().map(|d| d.address).collect()
}

fn mem(index: u8, address: u64, size: u64, prefetchable: bool, is_64: bool) -> Bar {
    Bar::Memory {
        index,
        address,
        size,
        prefetchable,
        is_64,
    }
}

#[test]
fn enumerates_q35_in_address_order() {
    let devices = enumerate(&mut q35());
    assert_eq!(
        addresses(&devices),
        [
            addr(0, 0, 0),
            addr(0, 1, 0),
            addr(0, 2, 0),
            addr(0, 0x1F, 0),
            addr(0, 0x1F, 2),
            addr(0, 0x1F, 3),
        ]
    );
    let ids: Vec<(u16, u16)> = devices.iter().map(|d| (d.vendor_id, d.device_id)).collect();
    assert_eq!(
        ids,
        [
            (0x8086, 0x29C0),
            (0x1234, 0x1111),
            (0x1AF4, 0x1000),
            (0x8086, 0x2918),
            (0x8086, 0x2922),
            (0x8086, 0x2930),
        ]
    );
    let names: Vec<&str> = devices.iter().map(Device::class_name).collect();
    assert_eq!(
        names,
        [
            "Host bridge",
            "VGA compatible controller",
            "Ethernet controller",
            "ISA bridge",
            "SATA controller",
            "SMBus",
        ]
    );
}

#[test]
fn host_bridge_and_lpc_have_no_bars() {
    let devices = enumerate(&mut q35());
    let host = find(&devices, addr(0, 0, 0));
    assert!(host.bars.is_empty());
    assert_eq!(
        (host.class, host.subclass, host.header_type),
        (0x06, 0x00, 0)
    );
    assert!(!host.multifunction);
    assert_eq!(host.vendor_name(), Some("Intel"));
    let lpc = find(&devices, addr(0, 0x1F, 0));
    assert!(lpc.multifunction);
    assert_eq!(lpc.header_type, 0);
    assert!(lpc.bars.is_empty());
    assert_eq!(lpc.secondary_bus, None);
}

#[test]
fn vga_has_a_prefetchable_framebuffer_and_an_mmio_bar() {
    let devices = enumerate(&mut q35());
    let vga = find(&devices, addr(0, 1, 0));
    assert_eq!(
        vga.bars,
        [
            mem(0, 0xFD00_0000, 16 << 20, true, false),
            mem(2, 0xFEBD_4000, 4096, false, false),
        ]
    );
    assert_eq!(vga.bar(2), Some(&mem(2, 0xFEBD_4000, 4096, false, false)));
    assert_eq!(vga.bar(1), None);
    assert_eq!(vga.vendor_name(), Some("QEMU"));
}

#[test]
fn sata_has_io_and_abar_and_its_class_fields() {
    let devices = enumerate(&mut q35());
    let sata = find(&devices, addr(0, 0x1F, 2));
    assert_eq!(
        (sata.class, sata.subclass, sata.prog_if),
        (0x01, 0x06, 0x01)
    );
    assert_eq!(sata.revision, 0x02);
    assert_eq!((sata.interrupt_line, sata.interrupt_pin), (10, 1));
    assert_eq!(
        sata.bars,
        [
            Bar::Io {
                index: 4,
                port: 0xC080,
                size: 32
            },
            mem(5, 0xFEBD_5000, 4096, false, false),
        ]
    );
    let smbus = find(&devices, addr(0, 0x1F, 3));
    assert_eq!(
        smbus.bars,
        [Bar::Io {
            index: 4,
            port: 0x0700,
            size: 64
        }]
    );
}

#[test]
fn virtio_net_has_io_bar0_and_a_64_bit_bar() {
    let devices = enumerate(&mut q35());
    let net = find(&devices, addr(0, 2, 0));
    assert_eq!(net.vendor_name(), Some("Red Hat (virtio)"));
    assert_eq!((net.interrupt_line, net.interrupt_pin), (11, 1));
    assert_eq!(
        net.bars,
        [
            Bar::Io {
                index: 0,
                port: 0xC060,
                size: 32
            },
            mem(1, 0xFEBD_1000, 4096, false, false),
            mem(4, 0xFE00_0000, 16 << 10, true, true),
        ]
    );
}

#[test]
fn probing_restores_every_register_and_never_probes_while_decoding() {
    let mut bus = q35();
    let before = bus.snapshot();
    let devices = enumerate(&mut bus);
    assert_eq!(devices.len(), 6);
    assert_eq!(bus.snapshot(), before);
    assert!(!bus.writes.is_empty(), "the BARs were probed");
    assert_eq!(bus.probes_while_decoding, 0);
    // Nothing is written to absent functions.
    assert!(bus
        .writes
        .iter()
        .all(|(a, ..)| bus.functions.contains_key(a)));
}

#[test]
fn command_register_writes_never_set_status_bits() {
    let mut bus = q35();
    enumerate(&mut bus);
    let command_writes: Vec<u32> = bus
        .writes
        .iter()
        .filter(|(_, offset, _)| *offset == 0x04)
        .map(|w| w.2)
        .collect();
    assert!(!command_writes.is_empty());
    assert!(command_writes.iter().all(|v| v >> 16 == 0));
}

#[test]
fn bars_of_a_function_that_does_not_decode_are_probed_without_touching_command() {
    let mut f = Function::new(0x1AF4, 0x1001, 0x01, 0x00, 0).mem32(0, 0xFEB0_0000, 8192, false);
    f.regs[1] &= !0x3;
    let mut bus = FakeBus::default().with(addr(0, 3, 0), f);
    let bars = probe_bars(&mut bus, addr(0, 3, 0), 6).unwrap();
    assert_eq!(bars, [mem(0, 0xFEB0_0000, 8192, false, false)]);
    assert!(bus.writes.iter().all(|(_, offset, _)| *offset != 0x04));
}

#[test]
fn a_64_bit_bar_above_4_gib_and_unassigned_bars() {
    let f = Function::new(0x1B36, 0x0010, 0x01, 0x08, 0x02)
        .mem64(0, 0x8_0000_0000, 1 << 33, true)
        .mem32(2, 0, 4096, false)
        .io(3, 0, 8);
    let mut bus = FakeBus::default().with(addr(0, 4, 0), f);
    let device = read_device(&mut bus, addr(0, 4, 0)).unwrap();
    assert_eq!(device.class_name(), "NVMe controller");
    assert_eq!(
        device.bars,
        [
            mem(0, 0x8_0000_0000, 1 << 33, true, true),
            mem(2, 0, 4096, false, false),
            Bar::Io {
                index: 3,
                port: 0,
                size: 8
            },
        ]
    );
}

#[test]
fn a_64_bit_bar_without_room_for_its_upper_half_is_ignored() {
    let mut f = Function::new(0x8086, 0x1234, 0x02, 0x00, 0);
    // BAR5 claims to be 64-bit; there is no BAR6.
    f.regs[9] = 0xFE00_0004;
    let mut bus = FakeBus::default().with(addr(0, 5, 0), f);
    assert_eq!(read_device(&mut bus, addr(0, 5, 0)).unwrap().bars, []);
}

#[test]
fn read_device_of_an_absent_function_is_none() {
    let mut bus = q35();
    assert_eq!(read_device(&mut bus, addr(0, 3, 0)), None);
    assert_eq!(read_device(&mut bus, addr(0, 0x1F, 1)), None);
    assert!(bus.writes.is_empty());
}

#[test]
fn functions_of_a_single_function_device_are_not_scanned() {
    // Some devices answer on every function number with function 0's
    // registers; without the multi-function bit, only function 0 counts.
    let f = Function::new(0x10EC, 0x8139, 0x02, 0x00, 0);
    let mut bus = FakeBus::default()
        .with(addr(0, 0, 0), Function::new(0x8086, 0x1237, 0x06, 0x00, 0))
        .with(addr(0, 3, 0), f.clone())
        .with(addr(0, 3, 1), f);
    let devices = enumerate(&mut bus);
    assert_eq!(addresses(&devices), [addr(0, 0, 0), addr(0, 3, 0)]);
}

#[test]
fn follows_bridges_to_their_secondary_buses() {
    let mut bus = q35()
        .with(
            addr(0, 3, 0),
            Function::new(0x1B36, 0x0001, 0x06, 0x04, 0)
                .bridge(0, 1, 2)
                .mem32(0, 0xFEBD_6000, 256, false),
        )
        .with(
            addr(1, 0, 0),
            Function::new(0x1B36, 0x0001, 0x06, 0x04, 0).bridge(1, 2, 2),
        )
        .with(
            addr(2, 5, 0),
            Function::new(0x1AF4, 0x1001, 0x01, 0x00, 0).io(0, 0xB000, 64),
        )
        // Not behind any bridge: never reached.
        .with(addr(7, 0, 0), Function::new(0x1AF4, 0x1001, 0x01, 0x00, 0));
    let before = bus.snapshot();
    let devices = enumerate(&mut bus);
    assert_eq!(bus.snapshot(), before);
    let found = addresses(&devices);
    assert!(found.contains(&addr(0, 3, 0)));
    assert!(found.contains(&addr(1, 0, 0)));
    assert!(found.contains(&addr(2, 5, 0)));
    assert!(!found.contains(&addr(7, 0, 0)));
    assert_eq!(devices.len(), 9);
    let bridge = find(&devices, addr(0, 3, 0));
    assert_eq!(bridge.header_type, 1);
    assert_eq!(bridge.secondary_bus, Some(1));
    assert_eq!(bridge.class_name(), "PCI bridge");
    assert_eq!(bridge.vendor_name(), Some("Red Hat (QEMU)"));
    assert_eq!(bridge.bars, [mem(0, 0xFEBD_6000, 256, false, false)]);
    assert_eq!(find(&devices, addr(1, 0, 0)).secondary_bus, Some(2));
    assert!(devices.windows(2).all(|w| w[0].address < w[1].address));
}

#[test]
fn bridge_loops_and_unconfigured_bridges_end_the_scan() {
    let mut bus = FakeBus::default()
        .with(addr(0, 0, 0), Function::new(0x8086, 0x29C0, 0x06, 0x00, 0))
        // Unconfigured: secondary bus 0.
        .with(
            addr(0, 1, 0),
            Function::new(0x1B36, 0x0001, 0x06, 0x04, 0).bridge(0, 0, 0),
        )
        .with(
            addr(0, 2, 0),
            Function::new(0x1B36, 0x0001, 0x06, 0x04, 0).bridge(0, 1, 1),
        )
        // Points back at bus 1 and at bus 0.
        .with(
            addr(1, 0, 0),
            Function::new(0x1B36, 0x0001, 0x06, 0x04, 0).bridge(1, 1, 1),
        )
        .with(
            addr(1, 1, 0),
            Function::new(0x1B36, 0x0001, 0x06, 0x04, 0).bridge(1, 0, 0),
        );
    let devices = enumerate(&mut bus);
    assert_eq!(
        addresses(&devices),
        [
            addr(0, 0, 0),
            addr(0, 1, 0),
            addr(0, 2, 0),
            addr(1, 0, 0),
            addr(1, 1, 0)
        ]
    );
}

#[test]
fn a_multi_function_host_bridge_has_a_bus_per_function() {
    let mut bus = FakeBus::default()
        .with(
            addr(0, 0, 0),
            Function::new(0x1022, 0x1450, 0x06, 0x00, 0).multifunction(),
        )
        .with(
            addr(0, 0, 2),
            Function::new(0x1022, 0x1451, 0x06, 0x00, 0).multifunction(),
        )
        .with(addr(2, 4, 0), Function::new(0x10DE, 0x1C82, 0x03, 0x00, 0));
    let devices = enumerate(&mut bus);
    assert_eq!(
        addresses(&devices),
        [addr(0, 0, 0), addr(0, 0, 2), addr(2, 4, 0)]
    );
    assert_eq!(find(&devices, addr(2, 4, 0)).vendor_name(), Some("NVIDIA"));
}

#[test]
fn an_empty_machine_has_no_devices() {
    assert_eq!(enumerate(&mut FakeBus::default()), []);
}

#[test]
fn mechanism_1_through_ports_matches_direct_access() {
    let direct = enumerate(&mut q35());
    let mut ports = Mechanism1::new(FakePorts::new(q35()));
    let through_ports = enumerate(&mut ports);
    assert_eq!(through_ports, direct);
    let fake = ports.into_inner();
    assert_eq!(fake.bus.snapshot(), q35().snapshot());
    assert_eq!(fake.bus.probes_while_decoding, 0);
}

#[test]
fn a_function_that_refuses_writes_is_the_kernels_listed_unsized_and_untouched() {
    // As Abide's kernel refuses writes to the store's virtio-blk function.
    let store = addr(0, 4, 0);
    let machine = || {
        let disk = Function::new(0x1AF4, 0x1042, 0x01, 0x00, 0).mem32(4, 0xFEB8_0000, 16384, false);
        q35().with(store, disk)
    };
    let mut bus = machine();
    bus.refusing.push(store);
    let devices = enumerate(&mut bus);
    let disk = find(&devices, store);
    assert!(disk.kernel);
    assert_eq!((disk.vendor_id, disk.device_id), (0x1AF4, 0x1042));
    assert!(disk.bars.is_empty());
    assert!(bus.writes.iter().all(|(at, _, _)| *at != store));
    assert_eq!(bus.snapshot(), machine().snapshot());
    // Every other function is sized as usual.
    assert!(devices
        .iter()
        .filter(|d| d.address != store)
        .all(|d| !d.kernel));
    assert_eq!(
        devices
            .iter()
            .filter(|d| d.address != store)
            .collect::<Vec<_>>(),
        enumerate(&mut q35()).iter().collect::<Vec<_>>()
    );
    // Through the ports, the same.
    let mut refusing = machine();
    refusing.refusing.push(store);
    let mut ports = Mechanism1::new(FakePorts::new(refusing));
    assert_eq!(enumerate(&mut ports), devices);
}

#[test]
fn the_walk_stops_at_the_first_function_it_breaks_at() {
    // A virtio-blk function behind a bridge, as the kernel looks for it.
    let disk = addr(2, 0, 0);
    let mut bus = q35()
        .with(
            addr(0, 3, 0),
            Function::new(0x1B36, 0x0001, 0x06, 0x04, 0).bridge(0, 2, 2),
        )
        .with(disk, Function::new(0x1AF4, 0x1042, 0x01, 0x00, 0));
    let found = walk(&mut bus, |cs, at| {
        let id = cs.read32(at, abide_pci::reg::ID);
        if id == 0x1042_1AF4 {
            ControlFlow::Break(at)
        } else {
            ControlFlow::Continue(())
        }
    });
    assert_eq!(found, Some(disk));
    assert!(bus.writes.is_empty(), "the walk only reads");
    let mut visited = Vec::new();
    let none: Option<()> = walk(&mut q35(), |_, at| {
        visited.push(at);
        ControlFlow::Continue(())
    });
    assert_eq!(none, None);
    visited.sort();
    assert_eq!(visited, addresses(&enumerate(&mut q35())));
}
