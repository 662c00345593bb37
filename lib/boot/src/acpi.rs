//! The ACPI tables the kernel needs at boot: where the CPUs and I/O APICs are and
//! how ISA interrupts are routed (MADT), and how to power the machine off (FADT
//! and the `_S5_` object in the DSDT).
//!
//! Tables are found from the RSDP through the XSDT (or the RSDT on ACPI 1.0) and
//! are checksummed before use. Everything is read through [`PhysMemory`] in
//! small pieces; nothing firmware says is trusted to be in range.

use crate::PhysMemory;
use abide_le::{u16_at, u32_at, u64_at, u8_at};
use core::fmt;

/// Why ACPI information could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcpiError {
    /// No valid RSDP was found.
    NoRsdp,
    /// The table with this signature has a bad checksum ("RSDP" for the RSDP).
    BadChecksum([u8; 4]),
    /// A table lies outside readable memory.
    Unreadable,
    /// A length, count or field is out of range, or a table is truncated.
    BadLength,
    /// The table with this signature is not there (or something else is where
    /// it should be).
    TableMissing([u8; 4]),
    /// The DSDT has no usable `_S5_` (soft-off) package.
    NoS5,
}

impl fmt::Display for AcpiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AcpiError::NoRsdp => write!(f, "no valid ACPI RSDP found"),
            AcpiError::BadChecksum(sig) => {
                write!(f, "ACPI table {} has a bad checksum", Signature(sig))
            }
            AcpiError::Unreadable => write!(f, "ACPI table lies outside readable memory"),
            AcpiError::BadLength => write!(f, "ACPI table has a bad length or field"),
            AcpiError::TableMissing(sig) => write!(f, "ACPI table {} is missing", Signature(sig)),
            AcpiError::NoS5 => write!(f, "ACPI DSDT has no _S5_ sleep state"),
        }
    }
}

/// Displays a table signature, with non-printable bytes as '?'.
struct Signature<'a>(&'a [u8; 4]);

impl fmt::Display for Signature<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in self.0 {
            let c = if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '?'
            };
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

/// Size of the common header of every ACPI table (SDT).
const SDT_HEADER_SIZE: usize = 36;
/// Largest table accepted for checksumming and scanning.
const MAX_TABLE_SIZE: u32 = 16 * 1024 * 1024;
/// Size of the ACPI 1.0 RSDP, which its checksum covers.
const RSDP_V1_SIZE: usize = 20;
/// Size of the ACPI 2.0+ RSDP.
const RSDP_V2_SIZE: usize = 36;
/// Largest extended RSDP length accepted.
const MAX_RSDP_SIZE: u32 = 4096;
/// Largest MADT [`read_platform`] reads (into a stack buffer).
pub const MAX_MADT_SIZE: usize = 16 * 1024;
/// How many bytes are checksummed or scanned per read.
const CHUNK: usize = 512;

/// The parts of the Root System Description Pointer the kernel uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rsdp {
    /// 0 for ACPI 1.0, 2 or more for ACPI 2.0+.
    pub revision: u8,
    /// Physical address of the RSDT.
    pub rsdt: u32,
    /// Physical address of the XSDT (0 before ACPI 2.0).
    pub xsdt: u64,
}

/// Searches the EBDA (real-mode segment at 0x40E, first 1 KiB) then
/// 0xE0000..0x100000 on 16-byte boundaries for "RSD PTR " with a valid
/// checksum.
pub fn find_rsdp(mem: &impl PhysMemory) -> Option<u64> {
    ebda_base(mem)
        .and_then(|ebda| scan_for_rsdp(mem, ebda, 1024))
        .or_else(|| scan_for_rsdp(mem, 0xE_0000, 0x2_0000))
}

/// The EBDA's physical address, from the BIOS data area.
fn ebda_base(mem: &impl PhysMemory) -> Option<u64> {
    let mut segment = [0u8; 2];
    if !mem.read(0x40E, &mut segment) {
        return None;
    }
    match u16::from_le_bytes(segment) {
        0 => None,
        segment => Some(u64::from(segment) << 4),
    }
}

/// The first valid RSDP in `[start, start + len)` on a 16-byte boundary.
fn scan_for_rsdp(mem: &impl PhysMemory, start: u64, len: u64) -> Option<u64> {
    (0..len)
        .step_by(16)
        .filter_map(|offset| start.checked_add(offset))
        .find(|&addr| is_valid_rsdp_v1(mem, addr))
}

/// True if an RSDP with a valid 20-byte checksum is at `addr`.
fn is_valid_rsdp_v1(mem: &impl PhysMemory, addr: u64) -> bool {
    let mut bytes = [0u8; RSDP_V1_SIZE];
    mem.read(addr, &mut bytes) && bytes.starts_with(b"RSD PTR ") && sum(&bytes) == 0
}

/// Reads and validates the RSDP (20-byte checksum; for revision >= 2 also the
/// extended checksum over `length`).
pub fn read_rsdp(mem: &impl PhysMemory, addr: u64) -> Result<Rsdp, AcpiError> {
    let mut bytes = [0u8; RSDP_V2_SIZE];
    let (v1, v2_tail) = bytes.split_at_mut(RSDP_V1_SIZE);
    read_exact(mem, addr, v1)?;
    if !v1.starts_with(b"RSD PTR ") {
        return Err(AcpiError::NoRsdp);
    }
    if sum(v1) != 0 {
        return Err(AcpiError::BadChecksum(*b"RSDP"));
    }
    let revision = u8_at(v1, 15).ok_or(AcpiError::BadLength)?;
    let rsdt = u32_at(v1, 16).ok_or(AcpiError::BadLength)?;
    if revision < 2 {
        return Ok(Rsdp {
            revision,
            rsdt,
            xsdt: 0,
        });
    }
    read_exact(mem, offset(addr, RSDP_V1_SIZE as u64)?, v2_tail)?;
    let length = u32_at(&bytes, 20).ok_or(AcpiError::BadLength)?;
    if !(RSDP_V2_SIZE as u32..=MAX_RSDP_SIZE).contains(&length) {
        return Err(AcpiError::BadLength);
    }
    if checksum(mem, addr, length)? != 0 {
        return Err(AcpiError::BadChecksum(*b"RSDP"));
    }
    let xsdt = u64_at(&bytes, 24).ok_or(AcpiError::BadLength)?;
    Ok(Rsdp {
        revision,
        rsdt,
        xsdt,
    })
}

/// Finds a table by signature through the XSDT (if revision >= 2 and xsdt != 0)
/// else the RSDT; verifies the table's checksum. Ok(None) if absent.
///
/// Entries that are null or point to unreadable memory are skipped.
pub fn find_table(
    mem: &impl PhysMemory,
    rsdp: &Rsdp,
    signature: &[u8; 4],
) -> Result<Option<u64>, AcpiError> {
    let (root, root_sig, entry_size) = if rsdp.revision >= 2 && rsdp.xsdt != 0 {
        (rsdp.xsdt, *b"XSDT", 8)
    } else {
        (u64::from(rsdp.rsdt), *b"RSDT", 4)
    };
    if root == 0 {
        return Err(AcpiError::TableMissing(root_sig));
    }
    let length = verify_table(mem, root, &root_sig)?;
    let count = (u64::from(length) - SDT_HEADER_SIZE as u64) / entry_size;
    for index in 0..count {
        let entry = offset(root, SDT_HEADER_SIZE as u64 + index * entry_size)?;
        let table = read_pointer(mem, entry, entry_size)?;
        if table != 0 && has_signature(mem, table, signature) {
            verify_table(mem, table, signature)?;
            return Ok(Some(table));
        }
    }
    Ok(None)
}

/// Reads a 4- or 8-byte table pointer from a root table entry.
fn read_pointer(mem: &impl PhysMemory, addr: u64, size: u64) -> Result<u64, AcpiError> {
    let mut bytes = [0u8; 8];
    let field = bytes
        .get_mut(..usize::try_from(size).unwrap_or(8).min(8))
        .ok_or(AcpiError::BadLength)?;
    read_exact(mem, addr, field)?;
    Ok(u64::from_le_bytes(bytes))
}

/// True if the table at `addr` is readable and starts with `signature`.
fn has_signature(mem: &impl PhysMemory, addr: u64, signature: &[u8; 4]) -> bool {
    let mut found = [0u8; 4];
    mem.read(addr, &mut found) && found == *signature
}

/// Checks the table at `addr`: signature, length and checksum. Returns its
/// length.
fn verify_table(mem: &impl PhysMemory, addr: u64, signature: &[u8; 4]) -> Result<u32, AcpiError> {
    let length = read_table_header(mem, addr, signature)?;
    if checksum(mem, addr, length)? != 0 {
        return Err(AcpiError::BadChecksum(*signature));
    }
    Ok(length)
}

/// Reads the header of the table at `addr`, checks its signature and returns
/// its length (at least the header, at most [`MAX_TABLE_SIZE`]).
fn read_table_header(
    mem: &impl PhysMemory,
    addr: u64,
    signature: &[u8; 4],
) -> Result<u32, AcpiError> {
    let mut header = [0u8; SDT_HEADER_SIZE];
    read_exact(mem, addr, &mut header)?;
    if !header.starts_with(signature) {
        return Err(AcpiError::TableMissing(*signature));
    }
    let length = u32_at(&header, 4).ok_or(AcpiError::BadLength)?;
    if !(SDT_HEADER_SIZE as u32..=MAX_TABLE_SIZE).contains(&length) {
        return Err(AcpiError::BadLength);
    }
    Ok(length)
}

/// The byte sum of `len` bytes at `addr`, read in chunks.
fn checksum(mem: &impl PhysMemory, addr: u64, len: u32) -> Result<u8, AcpiError> {
    let mut buf = [0u8; CHUNK];
    let mut total = 0u8;
    let mut done = 0u64;
    let len = u64::from(len);
    while done < len {
        let n = (len - done).min(CHUNK as u64) as usize;
        let chunk = buf.get_mut(..n).ok_or(AcpiError::BadLength)?;
        read_exact(mem, offset(addr, done)?, chunk)?;
        total = total.wrapping_add(sum(chunk));
        done += n as u64;
    }
    Ok(total)
}

/// The wrapping byte sum of `bytes`.
fn sum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |acc, &b| acc.wrapping_add(b))
}

/// Fills `buf` from `addr` or fails with Unreadable.
fn read_exact(mem: &impl PhysMemory, addr: u64, buf: &mut [u8]) -> Result<(), AcpiError> {
    if mem.read(addr, buf) {
        Ok(())
    } else {
        Err(AcpiError::Unreadable)
    }
}

/// `base + off`, or Unreadable past the end of the address space.
fn offset(base: u64, off: u64) -> Result<u64, AcpiError> {
    base.checked_add(off).ok_or(AcpiError::Unreadable)
}

/// Checks a table held in `table`: long enough, the right signature, a length
/// field within the bytes, a valid checksum. Returns the table cut to its
/// length.
fn check_table<'a>(table: &'a [u8], signature: &[u8; 4]) -> Result<&'a [u8], AcpiError> {
    if table.len() < SDT_HEADER_SIZE {
        return Err(AcpiError::BadLength);
    }
    if !table.starts_with(signature) {
        return Err(AcpiError::TableMissing(*signature));
    }
    let length = u32_at(table, 4)
        .and_then(|l| usize::try_from(l).ok())
        .ok_or(AcpiError::BadLength)?;
    let table = table
        .get(..length)
        .filter(|t| t.len() >= SDT_HEADER_SIZE)
        .ok_or(AcpiError::BadLength)?;
    if sum(table) != 0 {
        return Err(AcpiError::BadChecksum(*signature));
    }
    Ok(table)
}

/// How many I/O APICs a [`Madt`] records.
pub const MAX_IOAPICS: usize = 8;
/// How many interrupt source overrides a [`Madt`] records.
pub const MAX_OVERRIDES: usize = 16;
/// How many CPUs a [`Madt`] records.
pub const MAX_CPUS: usize = 64;

/// An I/O APIC from the MADT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoApic {
    /// The I/O APIC's id.
    pub id: u8,
    /// Physical address of its registers.
    pub address: u32,
    /// The first global system interrupt (GSI) it handles.
    pub gsi_base: u32,
}

/// Interrupt signal polarity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polarity {
    /// As the bus specifies (ISA: active high).
    BusDefault,
    /// Active high.
    ActiveHigh,
    /// Active low.
    ActiveLow,
}

/// Interrupt trigger mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// As the bus specifies (ISA: edge).
    BusDefault,
    /// Edge triggered.
    Edge,
    /// Level triggered.
    Level,
}

/// An interrupt source override: an ISA IRQ that is not wired to the GSI of the
/// same number, or not with the ISA defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsaOverride {
    /// The ISA IRQ (0-15).
    pub isa_irq: u8,
    /// The GSI it arrives at.
    pub gsi: u32,
    /// Its polarity.
    pub polarity: Polarity,
    /// Its trigger mode.
    pub trigger: Trigger,
}

/// Where an ISA IRQ arrives at the I/O APIC, with the bus defaults (ISA: edge,
/// active high) resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IrqRoute {
    /// The GSI the IRQ arrives at.
    pub gsi: u32,
    /// True if the signal is active low.
    pub active_low: bool,
    /// True if the signal is level triggered.
    pub level_triggered: bool,
}

/// The interrupt controller layout from the MADT ("APIC" table).
#[derive(Clone)]
pub struct Madt {
    /// Physical address of the local APICs' registers.
    pub local_apic_address: u64,
    /// True if the machine also has 8259 PICs (which the kernel must mask).
    pub has_legacy_pics: bool,
    ioapics: [IoApic; MAX_IOAPICS],
    ioapic_count: usize,
    overrides: [IsaOverride; MAX_OVERRIDES],
    override_count: usize,
    cpu_apic_ids: [u8; MAX_CPUS],
    cpu_count: usize,
}

/// Offset of the first MADT entry.
const MADT_ENTRIES: usize = SDT_HEADER_SIZE + 8;

impl Madt {
    /// Parses a whole MADT (signature "APIC", including the 36-byte SDT header).
    /// Entry types: 0 processor local APIC (keep apic id if enabled flag bit0 or
    /// online-capable bit1), 1 I/O APIC, 2 interrupt source override (flags bits
    /// 0-1 polarity: 0 bus default, 1 high, 3 low; bits 2-3 trigger: 0 default,
    /// 1 edge, 3 level), 5 local APIC address override (64-bit). Unknown entry
    /// types are skipped; an entry length < 2 or running past the table is
    /// BadLength. Excess entries beyond the capacities are ignored.
    ///
    /// The checksum is verified too; an entry of a known type that is too short
    /// for its fields is BadLength, and overrides for buses other than ISA (0)
    /// are skipped.
    pub fn parse(table: &[u8]) -> Result<Self, AcpiError> {
        let table = check_table(table, b"APIC")?;
        let mut madt = Madt {
            local_apic_address: u64::from(u32_at(table, 36).ok_or(AcpiError::BadLength)?),
            has_legacy_pics: u32_at(table, 40).ok_or(AcpiError::BadLength)? & 1 != 0,
            ioapics: [IoApic {
                id: 0,
                address: 0,
                gsi_base: 0,
            }; MAX_IOAPICS],
            ioapic_count: 0,
            overrides: [IsaOverride {
                isa_irq: 0,
                gsi: 0,
                polarity: Polarity::BusDefault,
                trigger: Trigger::BusDefault,
            }; MAX_OVERRIDES],
            override_count: 0,
            cpu_apic_ids: [0; MAX_CPUS],
            cpu_count: 0,
        };
        let mut entries = table.get(MADT_ENTRIES..).unwrap_or(&[]);
        while !entries.is_empty() {
            let length = u8_at(entries, 1).map_or(0, usize::from);
            if length < 2 {
                return Err(AcpiError::BadLength);
            }
            let entry = entries.get(..length).ok_or(AcpiError::BadLength)?;
            madt.add_entry(entry)?;
            entries = entries.get(length..).unwrap_or(&[]);
        }
        Ok(madt)
    }

    /// The I/O APICs.
    pub fn ioapics(&self) -> &[IoApic] {
        self.ioapics.get(..self.ioapic_count).unwrap_or(&[])
    }

    /// The interrupt source overrides for ISA IRQs.
    pub fn overrides(&self) -> &[IsaOverride] {
        self.overrides.get(..self.override_count).unwrap_or(&[])
    }

    /// The local APIC ids of the usable CPUs, in MADT order (the boot CPU is
    /// usually first).
    pub fn cpu_apic_ids(&self) -> &[u8] {
        self.cpu_apic_ids.get(..self.cpu_count).unwrap_or(&[])
    }

    /// Where ISA IRQ `isa_irq` arrives: the GSI of the same number with ISA
    /// defaults unless an override says otherwise.
    pub fn isa_irq_route(&self, isa_irq: u8) -> IrqRoute {
        match self.overrides().iter().find(|o| o.isa_irq == isa_irq) {
            Some(o) => IrqRoute {
                gsi: o.gsi,
                active_low: o.polarity == Polarity::ActiveLow,
                level_triggered: o.trigger == Trigger::Level,
            },
            None => IrqRoute {
                gsi: u32::from(isa_irq),
                active_low: false,
                level_triggered: false,
            },
        }
    }

    /// The I/O APIC handling `gsi`: the one with the greatest gsi_base <= gsi.
    pub fn ioapic_for_gsi(&self, gsi: u32) -> Option<&IoApic> {
        self.ioapics()
            .iter()
            .filter(|io| io.gsi_base <= gsi)
            .max_by_key(|io| io.gsi_base)
    }

    /// Records one MADT entry (type byte, length byte, fields).
    fn add_entry(&mut self, entry: &[u8]) -> Result<(), AcpiError> {
        match u8_at(entry, 0) {
            Some(0) => {
                let apic_id = field(u8_at(entry, 3))?;
                let flags = field(u32_at(entry, 4))?;
                if flags & 0b11 != 0 {
                    push(&mut self.cpu_apic_ids, &mut self.cpu_count, apic_id);
                }
            }
            Some(1) => {
                let ioapic = IoApic {
                    id: field(u8_at(entry, 2))?,
                    address: field(u32_at(entry, 4))?,
                    gsi_base: field(u32_at(entry, 8))?,
                };
                push(&mut self.ioapics, &mut self.ioapic_count, ioapic);
            }
            Some(2) => {
                let bus = field(u8_at(entry, 2))?;
                let source = IsaOverride {
                    isa_irq: field(u8_at(entry, 3))?,
                    gsi: field(u32_at(entry, 4))?,
                    polarity: polarity(field(u16_at(entry, 8))?),
                    trigger: trigger(field(u16_at(entry, 8))?),
                };
                if bus == 0 {
                    push(&mut self.overrides, &mut self.override_count, source);
                }
            }
            Some(5) => self.local_apic_address = field(u64_at(entry, 4))?,
            _ => {}
        }
        Ok(())
    }
}

impl fmt::Debug for Madt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Madt")
            .field("local_apic_address", &self.local_apic_address)
            .field("has_legacy_pics", &self.has_legacy_pics)
            .field("ioapics", &self.ioapics())
            .field("overrides", &self.overrides())
            .field("cpu_apic_ids", &self.cpu_apic_ids())
            .finish()
    }
}

/// A field of a MADT entry, or BadLength when the entry is too short for it.
fn field<T>(value: Option<T>) -> Result<T, AcpiError> {
    value.ok_or(AcpiError::BadLength)
}

/// Appends to a fixed array with a count, ignoring the item when full.
fn push<T>(items: &mut [T], count: &mut usize, item: T) {
    if let Some(slot) = items.get_mut(*count) {
        *slot = item;
        *count += 1;
    }
}

/// The polarity in MPS INTI flags (bits 0-1).
fn polarity(flags: u16) -> Polarity {
    match flags & 0b11 {
        1 => Polarity::ActiveHigh,
        3 => Polarity::ActiveLow,
        _ => Polarity::BusDefault,
    }
}

/// The trigger mode in MPS INTI flags (bits 2-3).
fn trigger(flags: u16) -> Trigger {
    match (flags >> 2) & 0b11 {
        1 => Trigger::Edge,
        3 => Trigger::Level,
        _ => Trigger::BusDefault,
    }
}

/// How to power the machine off through ACPI (S5): write (slp_typ << 10) |
/// (1 << 13) to the PM1 control ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowerOff {
    /// I/O port of the PM1a control register.
    pub pm1a_control: u16,
    /// I/O port of the PM1b control register, if the machine has one.
    pub pm1b_control: Option<u16>,
    /// SLP_TYPa for S5.
    pub slp_typ_a: u16,
    /// SLP_TYPb for S5.
    pub slp_typ_b: u16,
}

/// FADT field offsets.
const FADT_DSDT: usize = 40;
const FADT_PM1A_CNT: usize = 64;
const FADT_PM1B_CNT: usize = 68;
const FADT_X_DSDT: usize = 140;
/// How much of the FADT is read (up to and including X_DSDT).
const FADT_READ: usize = 148;

/// Reads the FADT ("FACP") at `fadt`: PM1a_CNT_BLK u32 @64, PM1b_CNT_BLK u32 @68
/// (0 = none), DSDT u32 @40 (X_DSDT u64 @140 when the FADT length >= 148 and it
/// is nonzero); then scans the DSDT body for the AML name "_S5_" followed by
/// PackageOp 0x12, skips PkgLength (1-4 bytes encoding) and NumElements, and
/// reads the first two elements (0x00 ZeroOp → 0, 0x01 OneOp → 1, 0x0A
/// BytePrefix n → n). Missing _S5_ → Err(NoS5). Read the DSDT in chunks (it may
/// be large), handling a match across chunk borders.
///
/// A PM1a port of 0 or one that is not a 16-bit port is BadLength (a
/// hardware-reduced ACPI machine has no PM1 registers); a zero DSDT address is
/// TableMissing("DSDT"). WordPrefix (0x0B) elements are accepted too.
pub fn read_power_off(mem: &impl PhysMemory, fadt: u64) -> Result<PowerOff, AcpiError> {
    let length = verify_table(mem, fadt, b"FACP")?;
    let mut bytes = [0u8; FADT_READ];
    let read_len = usize::try_from(length).map_or(FADT_READ, |l| l.min(FADT_READ));
    read_exact(
        mem,
        fadt,
        bytes.get_mut(..read_len).ok_or(AcpiError::BadLength)?,
    )?;
    let fields = bytes.get(..read_len).ok_or(AcpiError::BadLength)?;

    let pm1a = u32_at(fields, FADT_PM1A_CNT).ok_or(AcpiError::BadLength)?;
    let pm1b = u32_at(fields, FADT_PM1B_CNT).ok_or(AcpiError::BadLength)?;
    let dsdt = match u64_at(fields, FADT_X_DSDT) {
        Some(x_dsdt) if x_dsdt != 0 => x_dsdt,
        _ => u64::from(u32_at(fields, FADT_DSDT).ok_or(AcpiError::BadLength)?),
    };
    let pm1a_control = io_port(pm1a)?.ok_or(AcpiError::BadLength)?;
    let pm1b_control = io_port(pm1b)?;
    if dsdt == 0 {
        return Err(AcpiError::TableMissing(*b"DSDT"));
    }
    let (slp_typ_a, slp_typ_b) = find_s5(mem, dsdt)?;
    Ok(PowerOff {
        pm1a_control,
        pm1b_control,
        slp_typ_a,
        slp_typ_b,
    })
}

/// A PM1 control block address as an I/O port: None for 0, BadLength when it
/// is not a 16-bit port.
fn io_port(block: u32) -> Result<Option<u16>, AcpiError> {
    match block {
        0 => Ok(None),
        port => u16::try_from(port)
            .map(Some)
            .map_err(|_| AcpiError::BadLength),
    }
}

/// Bytes kept from one chunk to the next while scanning, so a `_S5_` package
/// that starts near a chunk's end is parsed whole in the next chunk. A package
/// needs at most 4 (name) + 1 + 4 + 1 + 2 * 3 = 16 bytes.
const S5_OVERLAP: usize = 32;

/// Verifies the DSDT at `dsdt` and finds the (SLP_TYPa, SLP_TYPb) of its
/// `_S5_` package.
fn find_s5(mem: &impl PhysMemory, dsdt: u64) -> Result<(u16, u16), AcpiError> {
    let length = u64::from(verify_table(mem, dsdt, b"DSDT")?);
    let mut buf = [0u8; CHUNK];
    let mut pos = SDT_HEADER_SIZE as u64;
    while pos < length {
        let n = (length - pos).min(CHUNK as u64) as usize;
        let chunk = buf.get_mut(..n).ok_or(AcpiError::BadLength)?;
        read_exact(mem, offset(dsdt, pos)?, chunk)?;
        let is_last = pos + n as u64 >= length;
        // Matches starting in the overlap are left for the next chunk.
        let starts = if is_last { n } else { n - S5_OVERLAP };
        if let Some(found) = find_s5_in(chunk, starts) {
            return Ok(found);
        }
        pos += starts as u64;
    }
    Err(AcpiError::NoS5)
}

/// The first `_S5_` package in `aml` whose name starts before `starts`.
fn find_s5_in(aml: &[u8], starts: usize) -> Option<(u16, u16)> {
    (0..starts)
        .filter_map(|i| aml.get(i..))
        .filter_map(|rest| rest.strip_prefix(b"_S5_"))
        .find_map(parse_s5_package)
}

/// Parses `PackageOp PkgLength NumElements a b ...` after the `_S5_` name.
fn parse_s5_package(aml: &[u8]) -> Option<(u16, u16)> {
    let (&op, rest) = aml.split_first()?;
    if op != 0x12 {
        return None;
    }
    let (&lead, rest) = rest.split_first()?;
    // PkgLength: bits 7-6 of the lead byte count the bytes that follow.
    let rest = rest.get(usize::from(lead >> 6)..)?;
    let (_num_elements, rest) = rest.split_first()?;
    let (a, rest) = aml_integer(rest)?;
    let (b, _) = aml_integer(rest)?;
    Some((a, b))
}

/// Reads a small AML integer constant: ZeroOp, OneOp, BytePrefix or WordPrefix.
fn aml_integer(aml: &[u8]) -> Option<(u16, &[u8])> {
    let (&op, rest) = aml.split_first()?;
    match op {
        0x00 => Some((0, rest)),
        0x01 => Some((1, rest)),
        0x0A => rest.split_first().map(|(&n, rest)| (u16::from(n), rest)),
        0x0B => Some((u16_at(rest, 0)?, rest.get(2..)?)),
        _ => None,
    }
}

/// What the kernel needs from ACPI at boot.
#[derive(Debug, Clone)]
pub struct Platform {
    /// Physical address of the RSDP used.
    pub rsdp: u64,
    /// The interrupt controller layout.
    pub madt: Madt,
    /// How to power off, if the FADT and DSDT say.
    pub power_off: Option<PowerOff>,
}

/// Uses `rsdp_hint` if given (else find_rsdp), requires the MADT ("APIC";
/// tables up to 16 KiB read into a stack buffer — BadLength above), and reads
/// FADT power-off information if present (errors there are reported as
/// power_off: None).
pub fn read_platform(mem: &impl PhysMemory, rsdp_hint: Option<u64>) -> Result<Platform, AcpiError> {
    let rsdp_addr = match rsdp_hint {
        Some(addr) => addr,
        None => find_rsdp(mem).ok_or(AcpiError::NoRsdp)?,
    };
    let rsdp = read_rsdp(mem, rsdp_addr)?;
    let madt_addr = find_table(mem, &rsdp, b"APIC")?.ok_or(AcpiError::TableMissing(*b"APIC"))?;
    let madt = read_madt(mem, madt_addr)?;
    let power_off = match find_table(mem, &rsdp, b"FACP") {
        Ok(Some(fadt)) => read_power_off(mem, fadt).ok(),
        _ => None,
    };
    Ok(Platform {
        rsdp: rsdp_addr,
        madt,
        power_off,
    })
}

/// Copies the MADT at `addr` into a stack buffer and parses it. Kept out of
/// line so the buffer is gone before the FADT is read.
#[inline(never)]
fn read_madt(mem: &impl PhysMemory, addr: u64) -> Result<Madt, AcpiError> {
    let length = read_table_header(mem, addr, b"APIC")?;
    let mut buf = [0u8; MAX_MADT_SIZE];
    let table = usize::try_from(length)
        .ok()
        .and_then(|l| buf.get_mut(..l))
        .ok_or(AcpiError::BadLength)?;
    read_exact(mem, addr, table)?;
    Madt::parse(table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testmem::{fix_acpi_checksum, TestMem};
    use proptest::prelude::*;

    const RSDP: u64 = 0xF_5A40;
    const XSDT: u64 = 0x7FE_1000;
    const RSDT: u64 = 0x7FE_2000;
    const MADT: u64 = 0x7FE_3000;
    const FADT: u64 = 0x7FE_4000;
    const DSDT: u64 = 0x7FE_5000;
    const HPET: u64 = 0x7FE_6000;

    /// An ACPI table with a valid header and checksum.
    fn sdt(signature: &[u8; 4], revision: u8, body: &[u8]) -> Vec<u8> {
        let mut t = Vec::new();
        t.extend_from_slice(signature);
        t.extend_from_slice(&((SDT_HEADER_SIZE + body.len()) as u32).to_le_bytes());
        t.push(revision);
        t.push(0); // checksum
        t.extend_from_slice(b"BOCHS ");
        t.extend_from_slice(b"BXPC    ");
        t.extend_from_slice(&1u32.to_le_bytes());
        t.extend_from_slice(b"BXPC");
        t.extend_from_slice(&1u32.to_le_bytes());
        t.extend_from_slice(body);
        fix_acpi_checksum(&mut t);
        t
    }

    fn rsdp_v2(rsdt: u32, xsdt: u64) -> Vec<u8> {
        let mut r = Vec::new();
        r.extend_from_slice(b"RSD PTR ");
        r.push(0);
        r.extend_from_slice(b"BOCHS ");
        r.push(2);
        r.extend_from_slice(&rsdt.to_le_bytes());
        r.extend_from_slice(&36u32.to_le_bytes());
        r.extend_from_slice(&xsdt.to_le_bytes());
        r.push(0);
        r.extend_from_slice(&[0, 0, 0]);
        r[8] = 0u8.wrapping_sub(sum(&r[..20]));
        r[32] = 0u8.wrapping_sub(sum(&r));
        r
    }

    fn rsdp_v0(rsdt: u32) -> Vec<u8> {
        let mut r = rsdp_v2(rsdt, 0)[..20].to_vec();
        r[15] = 0;
        r[8] = 0;
        r[8] = 0u8.wrapping_sub(sum(&r));
        r
    }

    fn xsdt(entries: &[u64]) -> Vec<u8> {
        let body: Vec<u8> = entries.iter().flat_map(|e| e.to_le_bytes()).collect();
        sdt(b"XSDT", 1, &body)
    }

    fn rsdt(entries: &[u32]) -> Vec<u8> {
        let body: Vec<u8> = entries.iter().flat_map(|e| e.to_le_bytes()).collect();
        sdt(b"RSDT", 1, &body)
    }

    fn cpu(apic_id: u8, flags: u32) -> Vec<u8> {
        let mut e = vec![0, 8, apic_id, apic_id];
        e.extend_from_slice(&flags.to_le_bytes());
        e
    }

    fn ioapic(id: u8, address: u32, gsi_base: u32) -> Vec<u8> {
        let mut e = vec![1, 12, id, 0];
        e.extend_from_slice(&address.to_le_bytes());
        e.extend_from_slice(&gsi_base.to_le_bytes());
        e
    }

    fn source_override(bus: u8, irq: u8, gsi: u32, flags: u16) -> Vec<u8> {
        let mut e = vec![2, 10, bus, irq];
        e.extend_from_slice(&gsi.to_le_bytes());
        e.extend_from_slice(&flags.to_le_bytes());
        e
    }

    fn madt_table(entries: &[Vec<u8>]) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&0xFEE0_0000u32.to_le_bytes());
        body.extend_from_slice(&1u32.to_le_bytes()); // PCAT_COMPAT
        for e in entries {
            body.extend_from_slice(e);
        }
        sdt(b"APIC", 3, &body)
    }

    /// The MADT QEMU gives a 2-CPU q35 machine.
    fn qemu_madt() -> Vec<u8> {
        madt_table(&[
            cpu(0, 1),
            cpu(1, 1),
            cpu(2, 0), // disabled, not online capable
            cpu(3, 2), // online capable
            ioapic(0, 0xFEC0_0000, 0),
            source_override(0, 0, 2, 0),
            source_override(0, 5, 5, 0x0D),
            source_override(0, 9, 9, 0x0D),
            source_override(0, 10, 10, 0x0F),
            source_override(0, 11, 11, 0x0D),
            source_override(1, 3, 40, 0x0F), // not ISA: skipped
            vec![4, 6, 0xFF, 0, 0, 1],       // local APIC NMI: skipped
        ])
    }

    fn fadt_table(dsdt: u32, x_dsdt: u64, pm1a: u32, pm1b: u32) -> Vec<u8> {
        let mut body = vec![0u8; 244 - SDT_HEADER_SIZE];
        let mut put = |offset: usize, bytes: &[u8]| {
            let at = offset - SDT_HEADER_SIZE;
            body[at..at + bytes.len()].copy_from_slice(bytes);
        };
        put(FADT_DSDT, &dsdt.to_le_bytes());
        put(FADT_PM1A_CNT, &pm1a.to_le_bytes());
        put(FADT_PM1B_CNT, &pm1b.to_le_bytes());
        put(FADT_X_DSDT, &x_dsdt.to_le_bytes());
        sdt(b"FACP", 3, &body)
    }

    /// QEMU's `_S5_`: Name (_S5, Package (0x04) { Zero, Zero, Zero, Zero }).
    const QEMU_S5: &[u8] = &[
        0x08, 0x5F, 0x53, 0x35, 0x5F, 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00,
    ];
    /// Name (\_S5, Package (0x04) { 0x05, 0x05, Zero, Zero }).
    const BYTE_S5: &[u8] = &[
        0x08, 0x5C, 0x5F, 0x53, 0x35, 0x5F, 0x12, 0x08, 0x04, 0x0A, 0x05, 0x0A, 0x05, 0x00, 0x00,
    ];

    fn dsdt_with(prefix_len: usize, s5: &[u8], suffix_len: usize) -> Vec<u8> {
        let mut body = vec![0xA3u8; prefix_len]; // NoopOp filler
        body.extend_from_slice(s5);
        body.extend(std::iter::repeat_n(0xA3u8, suffix_len));
        sdt(b"DSDT", 2, &body)
    }

    /// A complete QEMU-like ACPI setup (RSDP v2, XSDT and RSDT, MADT, FADT,
    /// DSDT, HPET) plus the BIOS areas.
    fn qemu_acpi() -> TestMem {
        let mut mem = TestMem::new();
        mem.add_zeroed(0, 0x1000); // BIOS data area, EBDA segment 0
        mem.add_zeroed(0xE_0000, 0x2_0000);
        mem.write(RSDP, &rsdp_v2(RSDT as u32, XSDT));
        mem.add(XSDT, &xsdt(&[FADT, HPET, MADT]));
        mem.add(RSDT, &rsdt(&[FADT as u32, HPET as u32, MADT as u32]));
        mem.add(MADT, &qemu_madt());
        mem.add(FADT, &fadt_table(DSDT as u32, 0, 0x604, 0));
        mem.add(DSDT, &dsdt_with(300, QEMU_S5, 200));
        mem.add(HPET, &sdt(b"HPET", 1, &[0; 20]));
        mem
    }

    #[test]
    fn finds_the_rsdp_in_the_bios_area() {
        let mem = qemu_acpi();
        assert_eq!(find_rsdp(&mem), Some(RSDP));
    }

    #[test]
    fn finds_the_rsdp_in_the_ebda_first() {
        let mut mem = qemu_acpi();
        mem.write(0x40E, &0x9FC0u16.to_le_bytes());
        mem.add_zeroed(0x9_FC00, 0x400);
        mem.write(0x9_FC00 + 0x30, &rsdp_v2(RSDT as u32, XSDT));
        assert_eq!(find_rsdp(&mem), Some(0x9_FC30));
        // An EBDA without an RSDP falls back to the BIOS area.
        mem.write(0x9_FC00 + 0x30, &[0; 36]);
        assert_eq!(find_rsdp(&mem), Some(RSDP));
    }

    #[test]
    fn rsdp_search_skips_bad_candidates() {
        let mut mem = TestMem::new();
        mem.add_zeroed(0xE_0000, 0x2_0000);
        assert_eq!(find_rsdp(&mem), None);
        // Bad checksum, then misaligned, then a good one.
        let mut bad = rsdp_v2(RSDT as u32, XSDT);
        bad[8] ^= 1;
        mem.write(0xE_0100, &bad);
        mem.write(0xE_0208, &rsdp_v2(RSDT as u32, XSDT));
        assert_eq!(find_rsdp(&mem), None);
        mem.write(0xF_FFE0, &rsdp_v2(RSDT as u32, XSDT)[..32]);
        assert_eq!(find_rsdp(&mem), Some(0xF_FFE0));
        assert_eq!(find_rsdp(&TestMem::new()), None);
    }

    #[test]
    fn reads_rsdp_versions() {
        let mem = qemu_acpi();
        assert_eq!(
            read_rsdp(&mem, RSDP),
            Ok(Rsdp {
                revision: 2,
                rsdt: RSDT as u32,
                xsdt: XSDT
            })
        );
        let mut mem = TestMem::new();
        mem.add(0x1000, &rsdp_v0(0x1234));
        assert_eq!(
            read_rsdp(&mem, 0x1000),
            Ok(Rsdp {
                revision: 0,
                rsdt: 0x1234,
                xsdt: 0
            })
        );
    }

    #[test]
    fn rsdp_errors() {
        let mut mem = TestMem::new();
        let good = rsdp_v2(1, 2);
        let mut bad_v1 = good.clone();
        bad_v1[19] ^= 1;
        let mut bad_ext = good.clone();
        bad_ext[35] ^= 1;
        let mut bad_len = good.clone();
        bad_len[20] = 20;
        let mut not_rsdp = good.clone();
        not_rsdp[0] = b'X';
        mem.add(0x1000, &bad_v1);
        mem.add(0x2000, &bad_ext);
        mem.add(0x3000, &bad_len);
        mem.add(0x4000, &not_rsdp);
        mem.add(0x5000, &good[..20]);
        assert_eq!(
            read_rsdp(&mem, 0x1000),
            Err(AcpiError::BadChecksum(*b"RSDP"))
        );
        assert_eq!(
            read_rsdp(&mem, 0x2000),
            Err(AcpiError::BadChecksum(*b"RSDP"))
        );
        assert_eq!(read_rsdp(&mem, 0x3000), Err(AcpiError::BadLength));
        assert_eq!(read_rsdp(&mem, 0x4000), Err(AcpiError::NoRsdp));
        assert_eq!(read_rsdp(&mem, 0x5000), Err(AcpiError::Unreadable));
        assert_eq!(read_rsdp(&mem, 0x9000), Err(AcpiError::Unreadable));
        assert_eq!(read_rsdp(&mem, u64::MAX - 25), Err(AcpiError::Unreadable));
    }

    #[test]
    fn finds_tables_through_xsdt_and_rsdt() {
        let mem = qemu_acpi();
        let v2 = read_rsdp(&mem, RSDP).unwrap();
        assert_eq!(find_table(&mem, &v2, b"APIC"), Ok(Some(MADT)));
        assert_eq!(find_table(&mem, &v2, b"FACP"), Ok(Some(FADT)));
        assert_eq!(find_table(&mem, &v2, b"MCFG"), Ok(None));
        let v0 = Rsdp {
            revision: 0,
            rsdt: RSDT as u32,
            xsdt: XSDT,
        };
        assert_eq!(find_table(&mem, &v0, b"HPET"), Ok(Some(HPET)));
        let v2_without_xsdt = Rsdp {
            revision: 2,
            rsdt: RSDT as u32,
            xsdt: 0,
        };
        assert_eq!(find_table(&mem, &v2_without_xsdt, b"APIC"), Ok(Some(MADT)));
    }

    #[test]
    fn find_table_errors() {
        let mut mem = qemu_acpi();
        let v2 = read_rsdp(&mem, RSDP).unwrap();
        assert_eq!(
            find_table(
                &mem,
                &Rsdp {
                    revision: 0,
                    rsdt: 0,
                    xsdt: 0
                },
                b"APIC"
            ),
            Err(AcpiError::TableMissing(*b"RSDT"))
        );
        assert_eq!(
            find_table(
                &mem,
                &Rsdp {
                    revision: 2,
                    rsdt: 0,
                    xsdt: MADT
                },
                b"APIC"
            ),
            Err(AcpiError::TableMissing(*b"XSDT"))
        );
        assert_eq!(
            find_table(
                &mem,
                &Rsdp {
                    revision: 2,
                    rsdt: 0,
                    xsdt: 0xdead_0000
                },
                b"APIC"
            ),
            Err(AcpiError::Unreadable)
        );
        // A corrupted MADT.
        mem.write(MADT + 50, &[0x55]);
        assert_eq!(
            find_table(&mem, &v2, b"APIC"),
            Err(AcpiError::BadChecksum(*b"APIC"))
        );
        // A corrupted XSDT.
        mem.write(XSDT + 40, &[0x55]);
        assert_eq!(
            find_table(&mem, &v2, b"FACP"),
            Err(AcpiError::BadChecksum(*b"XSDT"))
        );
        // A root table whose length runs off readable memory.
        let mut short = xsdt(&[MADT]);
        short[4] = 200;
        fix_acpi_checksum(&mut short);
        let mut mem = qemu_acpi();
        mem.write(XSDT, &short);
        assert_eq!(find_table(&mem, &v2, b"APIC"), Err(AcpiError::Unreadable));
        // A root table shorter than its header.
        let mut tiny = xsdt(&[MADT]);
        tiny[4] = 10;
        let mut mem = qemu_acpi();
        mem.write(XSDT, &tiny);
        assert_eq!(find_table(&mem, &v2, b"APIC"), Err(AcpiError::BadLength));
    }

    #[test]
    fn find_table_skips_null_and_unreadable_entries() {
        let mut mem = qemu_acpi();
        mem.write(XSDT, &xsdt(&[0, 0xdead_0000, MADT]));
        let v2 = read_rsdp(&mem, RSDP).unwrap();
        assert_eq!(find_table(&mem, &v2, b"APIC"), Ok(Some(MADT)));
    }

    #[test]
    fn parses_qemu_madt() {
        let madt = Madt::parse(&qemu_madt()).unwrap();
        assert_eq!(madt.local_apic_address, 0xFEE0_0000);
        assert!(madt.has_legacy_pics);
        assert_eq!(madt.cpu_apic_ids(), &[0, 1, 3]);
        assert_eq!(
            madt.ioapics(),
            &[IoApic {
                id: 0,
                address: 0xFEC0_0000,
                gsi_base: 0
            }]
        );
        assert_eq!(madt.overrides().len(), 5);
        assert_eq!(
            madt.overrides()[0],
            IsaOverride {
                isa_irq: 0,
                gsi: 2,
                polarity: Polarity::BusDefault,
                trigger: Trigger::BusDefault
            }
        );
        assert_eq!(
            madt.isa_irq_route(0),
            IrqRoute {
                gsi: 2,
                active_low: false,
                level_triggered: false
            }
        );
        assert_eq!(
            madt.isa_irq_route(9),
            IrqRoute {
                gsi: 9,
                active_low: false,
                level_triggered: true
            }
        );
        assert_eq!(
            madt.isa_irq_route(10),
            IrqRoute {
                gsi: 10,
                active_low: true,
                level_triggered: true
            }
        );
        assert_eq!(
            madt.isa_irq_route(4),
            IrqRoute {
                gsi: 4,
                active_low: false,
                level_triggered: false
            }
        );
        assert_eq!(madt.isa_irq_route(3).gsi, 3); // bus 1 override ignored
        assert_eq!(
            madt.ioapic_for_gsi(2).map(|io| io.address),
            Some(0xFEC0_0000)
        );
        let debug = format!("{madt:?}");
        assert!(debug.contains("cpu_apic_ids: [0, 1, 3]"), "{debug}");
    }

    #[test]
    fn madt_flag_decoding() {
        assert_eq!(polarity(0), Polarity::BusDefault);
        assert_eq!(polarity(1), Polarity::ActiveHigh);
        assert_eq!(polarity(2), Polarity::BusDefault);
        assert_eq!(polarity(3), Polarity::ActiveLow);
        assert_eq!(trigger(0), Trigger::BusDefault);
        assert_eq!(trigger(4), Trigger::Edge);
        assert_eq!(trigger(8), Trigger::BusDefault);
        assert_eq!(trigger(12), Trigger::Level);
    }

    #[test]
    fn madt_with_several_ioapics_and_address_override() {
        let mut lapic_override = vec![5, 12, 0, 0];
        lapic_override.extend_from_slice(&0x1_FEE0_0000u64.to_le_bytes());
        let mut table = madt_table(&[
            ioapic(2, 0xFEC1_0000, 24),
            ioapic(1, 0xFEC0_0000, 0),
            lapic_override,
        ]);
        table[40] = 0; // no PCAT_COMPAT
        fix_acpi_checksum(&mut table);
        let madt = Madt::parse(&table).unwrap();
        assert!(!madt.has_legacy_pics);
        assert_eq!(madt.local_apic_address, 0x1_FEE0_0000);
        assert_eq!(madt.ioapic_for_gsi(0).unwrap().id, 1);
        assert_eq!(madt.ioapic_for_gsi(23).unwrap().id, 1);
        assert_eq!(madt.ioapic_for_gsi(24).unwrap().id, 2);
        assert_eq!(madt.ioapic_for_gsi(100).unwrap().id, 2);
        let only_high = Madt::parse(&madt_table(&[ioapic(2, 0xFEC1_0000, 24)])).unwrap();
        assert_eq!(only_high.ioapic_for_gsi(3), None);
    }

    #[test]
    fn madt_capacities() {
        let mut entries: Vec<Vec<u8>> = (0..100).map(|i| cpu(i as u8, 1)).collect();
        entries.extend((0..20).map(|i| ioapic(i, 0xFEC0_0000, u32::from(i) * 24)));
        entries.extend((0..30).map(|i| source_override(0, i, u32::from(i), 0)));
        let madt = Madt::parse(&madt_table(&entries)).unwrap();
        assert_eq!(madt.cpu_apic_ids().len(), MAX_CPUS);
        assert_eq!(madt.ioapics().len(), MAX_IOAPICS);
        assert_eq!(madt.overrides().len(), MAX_OVERRIDES);
        assert_eq!(madt.cpu_apic_ids()[MAX_CPUS - 1], (MAX_CPUS - 1) as u8);
    }

    #[test]
    fn madt_errors() {
        let good = qemu_madt();
        let mut bad_sum = good.clone();
        bad_sum[50] ^= 1;
        assert_eq!(
            Madt::parse(&bad_sum).unwrap_err(),
            AcpiError::BadChecksum(*b"APIC")
        );
        assert_eq!(
            Madt::parse(&good[..good.len() - 1]).unwrap_err(),
            AcpiError::BadLength
        );
        assert_eq!(Madt::parse(&good[..20]).unwrap_err(), AcpiError::BadLength);
        assert_eq!(
            Madt::parse(&sdt(b"FACP", 1, &[0; 8])).unwrap_err(),
            AcpiError::TableMissing(*b"APIC")
        );
        // Too short for the local APIC address and flags.
        assert_eq!(
            Madt::parse(&sdt(b"APIC", 1, &[0; 4])).unwrap_err(),
            AcpiError::BadLength
        );
        // Entry length 0, 1, past the end, a truncated entry header.
        for entry in [vec![0, 0], vec![9, 1], vec![0, 20, 0, 0], vec![1]] {
            let table = madt_table(std::slice::from_ref(&entry));
            assert_eq!(
                Madt::parse(&table).unwrap_err(),
                AcpiError::BadLength,
                "{entry:?}"
            );
        }
        // Known types too short for their fields.
        for entry in [
            vec![0, 4, 0, 0],
            vec![1, 8, 0, 0, 0, 0, 0, 0],
            vec![2, 6, 0, 0, 0, 0],
        ] {
            let table = madt_table(std::slice::from_ref(&entry));
            assert_eq!(
                Madt::parse(&table).unwrap_err(),
                AcpiError::BadLength,
                "{entry:?}"
            );
        }
        // Bytes after the declared length are ignored.
        let mut longer = good.clone();
        longer.extend_from_slice(&[0xFF; 7]);
        assert!(Madt::parse(&longer).is_ok());
    }

    #[test]
    fn reads_power_off_from_qemu_tables() {
        let mem = qemu_acpi();
        assert_eq!(
            read_power_off(&mem, FADT),
            Ok(PowerOff {
                pm1a_control: 0x604,
                pm1b_control: None,
                slp_typ_a: 0,
                slp_typ_b: 0
            })
        );
    }

    #[test]
    fn power_off_with_byte_prefixes_x_dsdt_and_pm1b() {
        let mut mem = qemu_acpi();
        mem.add(0x1_2345_0000, &dsdt_with(10, BYTE_S5, 0));
        mem.write(FADT, &fadt_table(0xdead, 0x1_2345_0000, 0xB004, 0xB008));
        assert_eq!(
            read_power_off(&mem, FADT),
            Ok(PowerOff {
                pm1a_control: 0xB004,
                pm1b_control: Some(0xB008),
                slp_typ_a: 5,
                slp_typ_b: 5
            })
        );
    }

    #[test]
    fn short_fadt_uses_the_32_bit_dsdt() {
        let mut mem = qemu_acpi();
        let full = fadt_table(DSDT as u32, 0xdead_0000, 0x604, 0);
        let mut short = sdt(b"FACP", 1, &full[SDT_HEADER_SIZE..116]);
        fix_acpi_checksum(&mut short);
        mem.write(FADT, &short);
        assert_eq!(read_power_off(&mem, FADT).unwrap().pm1a_control, 0x604);
    }

    #[test]
    fn finds_s5_across_chunk_borders() {
        for s5 in [QEMU_S5, BYTE_S5] {
            for prefix in (CHUNK - 60)..(CHUNK + 10) {
                let mut mem = qemu_acpi();
                mem.add(0x2000_0000, &dsdt_with(prefix, s5, 0));
                mem.write(FADT, &fadt_table(0x2000_0000, 0, 0x604, 0));
                let power_off = read_power_off(&mem, FADT);
                assert!(power_off.is_ok(), "prefix {prefix}: {power_off:?}");
            }
        }
        // Deep inside a large DSDT.
        let mut mem = qemu_acpi();
        mem.add(0x2000_0000, &dsdt_with(100_000, BYTE_S5, 5000));
        mem.write(FADT, &fadt_table(0x2000_0000, 0, 0x604, 0));
        assert_eq!(read_power_off(&mem, FADT).unwrap().slp_typ_a, 5);
    }

    #[test]
    fn s5_package_parsing() {
        assert_eq!(
            parse_s5_package(&[0x12, 0x06, 0x04, 0, 0, 0, 0]),
            Some((0, 0))
        );
        assert_eq!(
            parse_s5_package(&[0x12, 0x06, 0x02, 1, 0x0A, 7]),
            Some((1, 7))
        );
        // Two-byte PkgLength.
        assert_eq!(
            parse_s5_package(&[0x12, 0x41, 0x00, 0x02, 0x0A, 5, 0x0A, 6]),
            Some((5, 6))
        );
        // Four-byte PkgLength and a WordPrefix.
        assert_eq!(
            parse_s5_package(&[0x12, 0xC0, 0, 0, 0, 0x02, 0x0B, 0x34, 0x12, 0x00]),
            Some((0x1234, 0))
        );
        assert_eq!(parse_s5_package(&[0x12, 0x06, 0x04, 0x0A]), None);
        assert_eq!(parse_s5_package(&[0x13, 0x06, 0x04, 0, 0]), None);
        assert_eq!(parse_s5_package(&[0x12, 0x06, 0x04, 0x70, 0]), None);
        assert_eq!(parse_s5_package(&[]), None);
        // A reference to _S5_ that is not a package, then the real one.
        let aml = [b"_S5_\x70".as_slice(), b"_S5_\x12\x06\x04\x0A\x07\x0A\x07"].concat();
        assert_eq!(find_s5_in(&aml, aml.len()), Some((7, 7)));
    }

    #[test]
    fn power_off_errors() {
        let mut mem = qemu_acpi();
        mem.write(DSDT, &dsdt_with(300, &[0xA3; QEMU_S5.len()], 200));
        assert_eq!(read_power_off(&mem, FADT), Err(AcpiError::NoS5));

        let mut mem = qemu_acpi();
        mem.write(DSDT + 40, &[0x42]);
        assert_eq!(
            read_power_off(&mem, FADT),
            Err(AcpiError::BadChecksum(*b"DSDT"))
        );

        let mut mem = qemu_acpi();
        mem.write(FADT, &fadt_table(0, 0, 0x604, 0));
        assert_eq!(
            read_power_off(&mem, FADT),
            Err(AcpiError::TableMissing(*b"DSDT"))
        );

        let mut mem = qemu_acpi();
        mem.write(FADT, &fadt_table(DSDT as u32, 0, 0, 0));
        assert_eq!(read_power_off(&mem, FADT), Err(AcpiError::BadLength));

        let mut mem = qemu_acpi();
        mem.write(FADT, &fadt_table(DSDT as u32, 0, 0x1_0000, 0));
        assert_eq!(read_power_off(&mem, FADT), Err(AcpiError::BadLength));

        let mut mem = qemu_acpi();
        mem.write(FADT, &fadt_table(0x3000_0000, 0, 0x604, 0));
        assert_eq!(read_power_off(&mem, FADT), Err(AcpiError::Unreadable));

        // A FADT too short for the PM1 fields.
        let mut mem = qemu_acpi();
        mem.write(FADT, &sdt(b"FACP", 1, &[0; 20]));
        assert_eq!(read_power_off(&mem, FADT), Err(AcpiError::BadLength));

        let mem = qemu_acpi();
        assert_eq!(
            read_power_off(&mem, MADT),
            Err(AcpiError::TableMissing(*b"FACP"))
        );
    }

    #[test]
    fn reads_the_platform() {
        let mem = qemu_acpi();
        for hint in [None, Some(RSDP)] {
            let platform = read_platform(&mem, hint).unwrap();
            assert_eq!(platform.rsdp, RSDP);
            assert_eq!(platform.madt.cpu_apic_ids(), &[0, 1, 3]);
            assert_eq!(platform.madt.isa_irq_route(0).gsi, 2);
            assert_eq!(platform.power_off.unwrap().pm1a_control, 0x604);
        }
    }

    #[test]
    fn platform_without_power_off() {
        let mut mem = qemu_acpi();
        mem.write(DSDT + 40, &[0x42]);
        let platform = read_platform(&mem, None).unwrap();
        assert_eq!(platform.power_off, None);

        let mut mem = qemu_acpi();
        mem.write(XSDT, &xsdt(&[MADT]));
        assert_eq!(read_platform(&mem, None).unwrap().power_off, None);
    }

    #[test]
    fn platform_errors() {
        assert_eq!(
            read_platform(&TestMem::new(), None).unwrap_err(),
            AcpiError::NoRsdp
        );
        let mut mem = qemu_acpi();
        mem.write(XSDT, &xsdt(&[FADT, HPET]));
        assert_eq!(
            read_platform(&mem, None).unwrap_err(),
            AcpiError::TableMissing(*b"APIC")
        );
        let mem = qemu_acpi();
        assert_eq!(
            read_platform(&mem, Some(0x9_0000)).unwrap_err(),
            AcpiError::Unreadable
        );
        // A MADT bigger than the buffer.
        let mut mem = qemu_acpi();
        let entries: Vec<Vec<u8>> = (0..2100).map(|i| cpu(i as u8, 1)).collect();
        mem.add(0x4000_0000, &madt_table(&entries));
        mem.write(XSDT, &xsdt(&[FADT, 0x4000_0000]));
        assert_eq!(read_platform(&mem, None).unwrap_err(), AcpiError::BadLength);
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            AcpiError::TableMissing(*b"APIC").to_string(),
            "ACPI table APIC is missing"
        );
        assert_eq!(
            AcpiError::BadChecksum([b'X', 0, b'Y', 0xFF]).to_string(),
            "ACPI table X?Y? has a bad checksum"
        );
        for e in [
            AcpiError::NoRsdp,
            AcpiError::Unreadable,
            AcpiError::BadLength,
            AcpiError::NoS5,
        ] {
            assert!(!e.to_string().is_empty());
        }
    }

    proptest! {
        #[test]
        fn madt_parse_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let _ = Madt::parse(&bytes);
            // Random entries behind a valid header and checksum.
            let mut table = sdt(b"APIC", 1, &bytes);
            fix_acpi_checksum(&mut table);
            if let Ok(madt) = Madt::parse(&table) {
                prop_assert!(madt.cpu_apic_ids().len() <= MAX_CPUS);
                for irq in 0..16 {
                    let _ = madt.isa_irq_route(irq);
                }
                let _ = madt.ioapic_for_gsi(9);
            }
        }

        #[test]
        fn random_tables_never_panic(
            table in prop::collection::vec(any::<u8>(), 0..400),
            which in 0usize..6,
        ) {
            let mut mem = qemu_acpi();
            let mut table = table;
            if table.len() >= SDT_HEADER_SIZE {
                fix_acpi_checksum(&mut table);
            }
            // Overwrite one of the real tables (where it fits) and add a copy.
            let target = [RSDP, XSDT, MADT, FADT, DSDT, 0x40E][which];
            if mem.read(target, &mut vec![0u8; table.len()]) {
                mem.write(target, &table);
            }
            mem.add(0x5000_0000, &table);
            let _ = read_platform(&mem, None);
            let _ = read_platform(&mem, Some(0x5000_0000));
            let _ = read_power_off(&mem, 0x5000_0000);
            let _ = find_s5_in(&table, table.len());
        }

        #[test]
        fn s5_scan_never_panics(aml in prop::collection::vec(
            prop_oneof![Just(0x12u8), Just(b'_'), Just(b'S'), Just(b'5'), any::<u8>()], 0..200)
        ) {
            let _ = find_s5_in(&aml, aml.len());
            let mut mem = qemu_acpi();
            mem.add(0x6000_0000, &dsdt_with(0, &aml, 0));
            mem.write(FADT, &fadt_table(0x6000_0000, 0, 0x604, 0));
            let _ = read_power_off(&mem, FADT);
        }
    }
}
