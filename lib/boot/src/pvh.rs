//! Reading the Xen PVH boot information (`hvm_start_info`).
//!
//! QEMU `-kernel` (and Firecracker-style VMMs) start a kernel that carries a PVH
//! ELF note in 32-bit protected mode with `ebx` holding the physical address of
//! an `hvm_start_info` structure. It points to the E820-style memory map, the
//! command line and the ACPI RSDP; this module copies all of it into a
//! [`BootInfo`].

use crate::cmdline::Cmdline;
use crate::memmap::{MemoryMap, RegionKind, MAX_REGIONS};
use crate::{BootInfo, BootInfoError, BootProtocol, PhysMemory};
use abide_le::{u32_at, u64_at};

/// The `magic` field of a valid `hvm_start_info` ("xEn3" with the top bit set).
pub const START_INFO_MAGIC: u32 = 0x336e_c578;

/// Size of a version 0 `hvm_start_info`, which ends after `rsdp_paddr` and
/// has no memory map fields.
const START_INFO_V0_SIZE: usize = 40;
/// Size of a version 1 `hvm_start_info`.
const START_INFO_V1_SIZE: usize = 56;
/// Size of one `hvm_memmap_table_entry`.
const MEMMAP_ENTRY_SIZE: usize = 24;
/// The most memory map entries accepted (adjacent entries get merged).
const MAX_MEMMAP_ENTRIES: u32 = (MAX_REGIONS * 2) as u32;

/// The fields of `hvm_start_info` this module uses.
struct StartInfo {
    cmdline_paddr: u64,
    rsdp_paddr: u64,
    memmap_paddr: u64,
    memmap_entries: u32,
}

/// Reads hvm_start_info at `start_info` and everything it points to (memory
/// map, command line, RSDP address).
pub fn read_boot_info(mem: &impl PhysMemory, start_info: u64) -> Result<BootInfo, BootInfoError> {
    let info = read_start_info(mem, start_info)?;
    let memory = read_memory_map(mem, info.memmap_paddr, info.memmap_entries)?;
    let cmdline = match info.cmdline_paddr {
        0 => Cmdline::empty(),
        addr => Cmdline::read(mem, addr)?,
    };
    Ok(BootInfo {
        protocol: BootProtocol::Pvh,
        memory,
        cmdline,
        rsdp: (info.rsdp_paddr != 0).then_some(info.rsdp_paddr),
    })
}

/// Reads and checks the `hvm_start_info` header.
fn read_start_info(mem: &impl PhysMemory, addr: u64) -> Result<StartInfo, BootInfoError> {
    let mut raw = [0u8; START_INFO_V1_SIZE];
    let (v0, v1_tail) = raw.split_at_mut(START_INFO_V0_SIZE);
    if !mem.read(addr, v0) {
        return Err(BootInfoError::Unreadable);
    }
    if u32_at(v0, 0) != Some(START_INFO_MAGIC) {
        return Err(BootInfoError::BadMagic);
    }
    if u32_at(v0, 4) == Some(0) {
        return Err(BootInfoError::NoMemoryMap);
    }
    let tail_addr = addr
        .checked_add(START_INFO_V0_SIZE as u64)
        .ok_or(BootInfoError::Unreadable)?;
    if !mem.read(tail_addr, v1_tail) {
        return Err(BootInfoError::Unreadable);
    }
    let field64 = |offset| u64_at(&raw, offset).ok_or(BootInfoError::Unreadable);
    Ok(StartInfo {
        cmdline_paddr: field64(24)?,
        rsdp_paddr: field64(32)?,
        memmap_paddr: field64(40)?,
        memmap_entries: u32_at(&raw, 48).ok_or(BootInfoError::Unreadable)?,
    })
}

/// Reads `entries` memory map entries at `addr` and normalizes them.
fn read_memory_map(
    mem: &impl PhysMemory,
    addr: u64,
    entries: u32,
) -> Result<MemoryMap, BootInfoError> {
    if addr == 0 || entries == 0 {
        return Err(BootInfoError::NoMemoryMap);
    }
    if entries > MAX_MEMMAP_ENTRIES {
        return Err(BootInfoError::BadLength);
    }
    let mut map = MemoryMap::new();
    for index in 0..u64::from(entries) {
        let entry_addr = index
            .checked_mul(MEMMAP_ENTRY_SIZE as u64)
            .and_then(|offset| addr.checked_add(offset))
            .ok_or(BootInfoError::Unreadable)?;
        let mut entry = [0u8; MEMMAP_ENTRY_SIZE];
        if !mem.read(entry_addr, &mut entry) {
            return Err(BootInfoError::Unreadable);
        }
        let (start, len, kind) = decode_entry(&entry).ok_or(BootInfoError::Unreadable)?;
        map.push_compacting(start, len, kind)?;
    }
    map.normalize();
    Ok(map)
}

/// Splits a memory map entry into (address, size, kind).
fn decode_entry(entry: &[u8]) -> Option<(u64, u64, RegionKind)> {
    Some((
        u64_at(entry, 0)?,
        u64_at(entry, 8)?,
        RegionKind::from_e820(u32_at(entry, 16)?),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memmap::MemoryRegion;
    use crate::testmem::TestMem;
    use proptest::prelude::*;

    const INFO: u64 = 0x6000;
    const MEMMAP: u64 = 0x7000;
    const CMDLINE: u64 = 0x8000;

    fn start_info(version: u32, cmdline: u64, rsdp: u64, memmap: u64, entries: u32) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&START_INFO_MAGIC.to_le_bytes());
        b.extend_from_slice(&version.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes()); // flags
        b.extend_from_slice(&0u32.to_le_bytes()); // nr_modules
        b.extend_from_slice(&0u64.to_le_bytes()); // modlist_paddr
        b.extend_from_slice(&cmdline.to_le_bytes());
        b.extend_from_slice(&rsdp.to_le_bytes());
        if version > 0 {
            b.extend_from_slice(&memmap.to_le_bytes());
            b.extend_from_slice(&entries.to_le_bytes());
            b.extend_from_slice(&0u32.to_le_bytes());
        }
        b
    }

    fn memmap_bytes(entries: &[(u64, u64, u32)]) -> Vec<u8> {
        let mut b = Vec::new();
        for &(addr, size, kind) in entries {
            b.extend_from_slice(&addr.to_le_bytes());
            b.extend_from_slice(&size.to_le_bytes());
            b.extend_from_slice(&kind.to_le_bytes());
            b.extend_from_slice(&0u32.to_le_bytes());
        }
        b
    }

    /// What QEMU's PVH boot gives a 128 MiB guest.
    fn qemu_like() -> TestMem {
        let entries = [
            (0, 0x9_fc00, 1),
            (0x9_fc00, 0x400, 2),
            (0xf_0000, 0x1_0000, 2),
            (0x10_0000, 0x7f0_0000 - 0x10_0000, 1),
            (0x7fe_0000, 0x2_0000, 2),
            (0xfffc_0000, 0x4_0000, 2),
            (0x7f0_0000, 0xe_0000, 3),
        ];
        let mut mem = TestMem::new();
        mem.add(
            INFO,
            &start_info(1, CMDLINE, 0xf_5a40, MEMMAP, entries.len() as u32),
        );
        mem.add(MEMMAP, &memmap_bytes(&entries));
        mem.add(CMDLINE, b"log=debug test=paging\0");
        mem
    }

    #[test]
    fn reads_a_qemu_like_start_info() {
        let info = read_boot_info(&qemu_like(), INFO).unwrap();
        assert_eq!(info.protocol, BootProtocol::Pvh);
        assert_eq!(info.cmdline.as_str(), "log=debug test=paging");
        assert_eq!(info.rsdp, Some(0xf_5a40));
        let region = |start, end, kind| MemoryRegion { start, end, kind };
        assert_eq!(
            info.memory.regions(),
            &[
                region(0, 0x9_f000, RegionKind::Usable),
                region(0x9_fc00, 0xa_0000, RegionKind::Reserved),
                region(0xf_0000, 0x10_0000, RegionKind::Reserved),
                region(0x10_0000, 0x7f0_0000, RegionKind::Usable),
                region(0x7f0_0000, 0x7fe_0000, RegionKind::AcpiReclaimable),
                region(0x7fe_0000, 0x800_0000, RegionKind::Reserved),
                region(0xfffc_0000, 0x1_0000_0000, RegionKind::Reserved),
            ]
        );
    }

    #[test]
    fn no_cmdline_and_no_rsdp() {
        let mut mem = TestMem::new();
        mem.add(INFO, &start_info(1, 0, 0, MEMMAP, 1));
        mem.add(MEMMAP, &memmap_bytes(&[(0, 0x10_0000, 1)]));
        let info = read_boot_info(&mem, INFO).unwrap();
        assert_eq!(info.cmdline.as_str(), "");
        assert_eq!(info.rsdp, None);
        assert_eq!(info.memory.usable_bytes(), 0x10_0000);
    }

    #[test]
    fn rejects_bad_magic() {
        let mut bytes = start_info(1, 0, 0, MEMMAP, 1);
        bytes[0] ^= 1;
        let mut mem = TestMem::new();
        mem.add(INFO, &bytes);
        assert_eq!(
            read_boot_info(&mem, INFO).unwrap_err(),
            BootInfoError::BadMagic
        );
    }

    #[test]
    fn version_0_has_no_memory_map() {
        let mut mem = TestMem::new();
        mem.add(INFO, &start_info(0, 0, 0, 0, 0));
        assert_eq!(
            read_boot_info(&mem, INFO).unwrap_err(),
            BootInfoError::NoMemoryMap
        );
    }

    #[test]
    fn empty_memory_map() {
        let mut mem = TestMem::new();
        mem.add(INFO, &start_info(1, 0, 0, MEMMAP, 0));
        assert_eq!(
            read_boot_info(&mem, INFO).unwrap_err(),
            BootInfoError::NoMemoryMap
        );
        let mut mem = TestMem::new();
        mem.add(INFO, &start_info(1, 0, 0, 0, 3));
        assert_eq!(
            read_boot_info(&mem, INFO).unwrap_err(),
            BootInfoError::NoMemoryMap
        );
    }

    #[test]
    fn unreadable_structures() {
        let mem = TestMem::new();
        assert_eq!(
            read_boot_info(&mem, INFO).unwrap_err(),
            BootInfoError::Unreadable
        );
        // Version 1 claimed but the structure is cut after 48 bytes.
        let mut mem = TestMem::new();
        mem.add(INFO, &start_info(1, 0, 0, MEMMAP, 1)[..48]);
        assert_eq!(
            read_boot_info(&mem, INFO).unwrap_err(),
            BootInfoError::Unreadable
        );
        // Memory map shorter than its entry count.
        let mut mem = TestMem::new();
        mem.add(INFO, &start_info(1, 0, 0, MEMMAP, 2));
        mem.add(MEMMAP, &memmap_bytes(&[(0, 0x10_0000, 1)]));
        assert_eq!(
            read_boot_info(&mem, INFO).unwrap_err(),
            BootInfoError::Unreadable
        );
        // Command line pointer into nowhere.
        let mut mem = TestMem::new();
        mem.add(INFO, &start_info(1, 0xdead_0000, 0, MEMMAP, 1));
        mem.add(MEMMAP, &memmap_bytes(&[(0, 0x10_0000, 1)]));
        assert_eq!(
            read_boot_info(&mem, INFO).unwrap_err(),
            BootInfoError::Unreadable
        );
        // Memory map at the top of the address space.
        let mut mem = TestMem::new();
        mem.add(INFO, &start_info(1, 0, 0, u64::MAX - 30, 2));
        assert_eq!(
            read_boot_info(&mem, INFO).unwrap_err(),
            BootInfoError::Unreadable
        );
        assert_eq!(
            read_boot_info(&mem, u64::MAX - 20).unwrap_err(),
            BootInfoError::Unreadable
        );
    }

    #[test]
    fn too_many_entries() {
        let mut mem = TestMem::new();
        mem.add(INFO, &start_info(1, 0, 0, MEMMAP, MAX_MEMMAP_ENTRIES + 1));
        assert_eq!(
            read_boot_info(&mem, INFO).unwrap_err(),
            BootInfoError::BadLength
        );
    }

    #[test]
    fn many_adjacent_entries_fit() {
        let entries: Vec<(u64, u64, u32)> = (0..MAX_MEMMAP_ENTRIES as u64)
            .map(|i| (i * 0x1000, 0x1000, 1))
            .collect();
        let mut mem = TestMem::new();
        mem.add(INFO, &start_info(1, 0, 0, MEMMAP, entries.len() as u32));
        mem.add(MEMMAP, &memmap_bytes(&entries));
        let info = read_boot_info(&mem, INFO).unwrap();
        assert_eq!(info.memory.regions().len(), 1);
        assert_eq!(
            info.memory.usable_bytes(),
            MAX_MEMMAP_ENTRIES as u64 * 0x1000
        );
    }

    proptest! {
        #[test]
        fn random_memory_never_panics(
            header in prop::collection::vec(any::<u8>(), 0..80),
            table in prop::collection::vec(any::<u8>(), 0..600),
            entries in 0u32..40,
            version in 0u32..3,
        ) {
            let mut mem = TestMem::new();
            let mut info = start_info(version, CMDLINE, 0, MEMMAP, entries);
            for (dst, src) in info.iter_mut().skip(8).zip(&header) {
                *dst ^= *src;
            }
            mem.add(INFO, &info);
            mem.add(MEMMAP, &table);
            mem.add(CMDLINE, &table);
            let _ = read_boot_info(&mem, INFO);
            let mut raw = TestMem::new();
            raw.add(INFO, &header);
            let _ = read_boot_info(&raw, INFO);
        }
    }
}
