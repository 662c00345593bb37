//! A fake configuration space for the tests: functions with the registers a
//! real device has (read-only identity, writable command bits, BARs whose
//! low address bits do not stick), all ones for absent functions, and a
//! record of every write.
#![allow(dead_code)]

use std::collections::BTreeMap;

use abide_pci::{
    command, reg, Address, ConfigSpace, PortIo, WriteRefused, CONFIG_ADDRESS_PORT, CONFIG_DATA_PORT,
};

/// One function's 256 bytes of configuration space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    pub regs: [u32; 64],
    /// Which bits of each dword a write changes.
    writable: [u32; 64],
}

impl Function {
    pub fn new(vendor: u16, device: u16, class: u8, subclass: u8, prog_if: u8) -> Self {
        let mut f = Self {
            regs: [0; 64],
            writable: [0; 64],
        };
        f.regs[0] = u32::from(device) << 16 | u32::from(vendor);
        f.regs[2] = u32::from_le_bytes([0x02, prog_if, subclass, class]);
        f.writable[1] = 0x0000_0407; // I/O, memory, bus master, INTx disable
        f.regs[1] = 0x0010_0000 | u32::from(command::IO_SPACE | command::MEMORY_SPACE);
        f
    }

    /// Sets the header type byte (layout and multi-function bit).
    pub fn header(mut self, header_type: u8) -> Self {
        self.regs[3] = u32::from(header_type) << 16;
        self
    }

    pub fn multifunction(self) -> Self {
        let header = (self.regs[3] >> 16) as u8;
        self.header(header | 0x80)
    }

    pub fn irq(mut self, line: u8, pin: u8) -> Self {
        self.regs[15] = u32::from(pin) << 8 | u32::from(line);
        self
    }

    /// A 32-bit memory BAR of `size` bytes at `address`.
    pub fn mem32(mut self, index: usize, address: u32, size: u32, prefetchable: bool) -> Self {
        let flags = if prefetchable { 0x8 } else { 0 };
        self.regs[4 + index] = address | flags;
        self.writable[4 + index] = !(size - 1);
        self
    }

    /// A 64-bit memory BAR of `size` bytes at `address` in BARs `index` and
    /// `index + 1`.
    pub fn mem64(mut self, index: usize, address: u64, size: u64, prefetchable: bool) -> Self {
        let flags = 0x4 | if prefetchable { 0x8 } else { 0 };
        let mask = !(size - 1);
        self.regs[4 + index] = address as u32 | flags;
        self.regs[5 + index] = (address >> 32) as u32;
        self.writable[4 + index] = mask as u32 & !0xF;
        self.writable[5 + index] = (mask >> 32) as u32;
        self
    }

    /// An I/O BAR of `size` ports at `port`; like QEMU's, only the low 16
    /// address bits are implemented.
    pub fn io(mut self, index: usize, port: u32, size: u32) -> Self {
        self.regs[4 + index] = port | 1;
        self.writable[4 + index] = !(size - 1) & 0xFFFF & !0x3;
        self
    }

    /// Makes it a PCI-to-PCI bridge (header type 1) between `primary` and
    /// `secondary`.
    pub fn bridge(mut self, primary: u8, secondary: u8, subordinate: u8) -> Self {
        let header = (self.regs[3] >> 16) as u8 & 0x80;
        self = self.header(header | 1);
        self.regs[6] = u32::from_le_bytes([primary, secondary, subordinate, 0]);
        self.writable[6] = 0x00FF_FFFF;
        self
    }

    fn write(&mut self, offset: u8, value: u32) {
        let i = usize::from(offset / 4);
        self.regs[i] = (self.regs[i] & !self.writable[i]) | (value & self.writable[i]);
    }
}

/// Configuration space of a whole machine.
#[derive(Debug, Default, Clone)]
pub struct FakeBus {
    pub functions: BTreeMap<Address, Function>,
    /// Every write made, in order.
    pub writes: Vec<(Address, u8, u32)>,
    /// Writes of all ones to a BAR while the function decoded memory or I/O.
    pub probes_while_decoding: usize,
    /// Every read made, in order.
    pub reads: usize,
    /// Functions whose configuration refuses writes, as Abide's kernel
    /// refuses writes to the store's disk.
    pub refusing: Vec<Address>,
}

impl FakeBus {
    pub fn with(mut self, addr: Address, function: Function) -> Self {
        self.functions.insert(addr, function);
        self
    }

    /// Every function's registers, to compare before and after a scan.
    pub fn snapshot(&self) -> BTreeMap<Address, [u32; 64]> {
        self.functions.iter().map(|(a, f)| (*a, f.regs)).collect()
    }
}

impl ConfigSpace for FakeBus {
    fn read32(&mut self, addr: Address, offset: u8) -> u32 {
        assert_eq!(offset % 4, 0, "unaligned read of {offset:#x}");
        self.reads += 1;
        self.functions
            .get(&addr)
            .map_or(u32::MAX, |f| f.regs[usize::from(offset / 4)])
    }

    fn write32(&mut self, addr: Address, offset: u8, value: u32) -> Result<(), WriteRefused> {
        assert_eq!(offset % 4, 0, "unaligned write of {offset:#x}");
        if self.refusing.contains(&addr) {
            return Err(WriteRefused);
        }
        self.writes.push((addr, offset, value));
        let Some(f) = self.functions.get_mut(&addr) else {
            return Ok(());
        };
        let decoding = f.regs[1] as u16 & (command::IO_SPACE | command::MEMORY_SPACE) != 0;
        let is_bar = (reg::BAR0..reg::BAR0 + 24).contains(&offset);
        if is_bar && value == u32::MAX && decoding {
            self.probes_while_decoding += 1;
        }
        f.write(offset, value);
        Ok(())
    }
}

/// The same machine behind ports 0xCF8 and 0xCFC.
pub struct FakePorts {
    pub bus: FakeBus,
    selected: u32,
}

impl FakePorts {
    pub fn new(bus: FakeBus) -> Self {
        Self { bus, selected: 0 }
    }

    fn selected(&self) -> Option<(Address, u8)> {
        let s = self.selected;
        (s & 0x8000_0000 != 0).then(|| {
            let addr = Address::new((s >> 16) as u8, (s >> 11) as u8 & 0x1F, (s >> 8) as u8 & 7);
            (addr, s as u8)
        })
    }
}

impl PortIo for FakePorts {
    fn inl(&mut self, port: u16) -> u32 {
        match port {
            CONFIG_ADDRESS_PORT => self.selected,
            CONFIG_DATA_PORT => match self.selected() {
                Some((addr, offset)) => self.bus.read32(addr, offset),
                None => u32::MAX,
            },
            _ => panic!("read of unexpected port {port:#x}"),
        }
    }

    fn outl(&mut self, port: u16, value: u32) -> Result<(), WriteRefused> {
        match port {
            CONFIG_ADDRESS_PORT => self.selected = value,
            CONFIG_DATA_PORT => {
                if let Some((addr, offset)) = self.selected() {
                    self.bus.write32(addr, offset, value)?;
                }
            }
            _ => panic!("write of unexpected port {port:#x}"),
        }
        Ok(())
    }
}

/// QEMU's q35 machine with a std VGA and a legacy virtio-net, as
/// `qemu-system-x86_64 -machine q35 -device virtio-net-pci` shows it:
///
/// ```text
/// 00:00.0 Host bridge 8086:29c0
/// 00:01.0 VGA 1234:1111        BAR0 fd000000 16M pref, BAR2 febd4000 4K
/// 00:02.0 Ethernet 1af4:1000   BAR0 io c060 32, BAR1 febd1000 4K, BAR4 64-bit fe000000 16K pref
/// 00:1f.0 ISA bridge 8086:2918 (multi-function)
/// 00:1f.2 SATA 8086:2922       BAR4 io c080 32, BAR5 febd5000 4K
/// 00:1f.3 SMBus 8086:2930      BAR4 io 0700 64
/// ```
pub fn q35() -> FakeBus {
    FakeBus::default()
        .with(
            Address::new(0, 0, 0),
            Function::new(0x8086, 0x29C0, 0x06, 0x00, 0),
        )
        .with(
            Address::new(0, 1, 0),
            Function::new(0x1234, 0x1111, 0x03, 0x00, 0)
                .mem32(0, 0xFD00_0000, 16 << 20, true)
                .mem32(2, 0xFEBD_4000, 4096, false),
        )
        .with(
            Address::new(0, 2, 0),
            Function::new(0x1AF4, 0x1000, 0x02, 0x00, 0)
                .irq(11, 1)
                .io(0, 0xC060, 32)
                .mem32(1, 0xFEBD_1000, 4096, false)
                .mem64(4, 0xFE00_0000, 16 << 10, true),
        )
        .with(
            Address::new(0, 0x1F, 0),
            Function::new(0x8086, 0x2918, 0x06, 0x01, 0).multifunction(),
        )
        .with(
            Address::new(0, 0x1F, 2),
            Function::new(0x8086, 0x2922, 0x01, 0x06, 0x01)
                .multifunction()
                .irq(10, 1)
                .io(4, 0xC080, 32)
                .mem32(5, 0xFEBD_5000, 4096, false),
        )
        .with(
            Address::new(0, 0x1F, 3),
            Function::new(0x8086, 0x2930, 0x0C, 0x05, 0)
                .multifunction()
                .irq(10, 1)
                .io(4, 0x0700, 64),
        )
}
