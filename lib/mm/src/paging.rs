//! Editing x86_64 4-level page tables through an abstract physical memory.
//!
//! Every address space (the kernel's and each process's) is a hierarchy of
//! page tables: PML4 → PDPT → PD → PT, 512 entries each. This module maps,
//! unmaps, re-protects and translates pages in such a hierarchy. It never
//! touches memory itself: tables are read and written one entry at a time
//! through [`TableMemory`], so the kernel implements that over its direct map
//! and the tests over a vector. Flushing the TLB after a change is the
//! caller's job.

use core::fmt;

use crate::{HUGE_PAGE_SIZE, PAGE_SIZE};

bitflags::bitflags! {
    /// Bits of a page-table entry that the kernel sets (the address bits are separate).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct PageFlags: u64 {
        /// The entry is valid.
        const PRESENT = 1;
        /// Writes are allowed.
        const WRITABLE = 1 << 1;
        /// Ring 3 may access the page.
        const USER = 1 << 2;
        /// Write-through caching.
        const WRITE_THROUGH = 1 << 3;
        /// Caching disabled (for MMIO).
        const NO_CACHE = 1 << 4;
        /// Set by the CPU when the page is accessed.
        const ACCESSED = 1 << 5;
        /// Set by the CPU when the page is written.
        const DIRTY = 1 << 6;
        /// The entry maps a large page instead of pointing to a table.
        const HUGE = 1 << 7;
        /// The mapping survives CR3 reloads (kernel pages).
        const GLOBAL = 1 << 8;
        /// Software bit (ignored by the CPU): a page its owner may write
        /// whose frame is shared copy-on-write, so it is mapped read-only
        /// until the kernel resolves the first write fault.
        const COPY_ON_WRITE = 1 << 9;
        /// Instruction fetches are not allowed.
        const NO_EXECUTE = 1 << 63;
    }
}

/// Bits of an entry that hold the physical address of the table or page.
pub const ADDRESS_MASK: u64 = 0x000f_ffff_ffff_f000;

/// Entries in one table.
const ENTRIES: usize = 512;

/// Depth (0 = PML4) of the tables whose entries are 4 KiB leaves.
const DEPTH_4K: usize = 3;
/// Depth of the tables whose entries may be 2 MiB leaves.
const DEPTH_2M: usize = 2;
/// Depth of the tables whose entries may be 1 GiB leaves.
const DEPTH_1G: usize = 1;

/// The size of a page that [`PageTables::map`] can create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageSize {
    /// 4 KiB, mapped by a page-table (PT) entry.
    Size4K,
    /// 2 MiB, mapped by a page-directory (PD) entry with `HUGE` set.
    Size2M,
}

impl PageSize {
    /// The page size in bytes.
    pub const fn bytes(self) -> u64 {
        match self {
            PageSize::Size4K => PAGE_SIZE,
            PageSize::Size2M => HUGE_PAGE_SIZE,
        }
    }

    /// Depth of the table holding leaves of this size.
    const fn leaf_depth(self) -> usize {
        match self {
            PageSize::Size4K => DEPTH_4K,
            PageSize::Size2M => DEPTH_2M,
        }
    }
}

/// Physical memory as the page-table walker sees it: tables are read and written one entry at a time,
/// so the kernel can implement this over its direct map and tests over a vector.
pub trait TableMemory {
    /// Reads entry `index` (0..512) of the table at physical address `table`.
    fn read_entry(&self, table: u64, index: usize) -> u64;
    /// Writes entry `index` of the table at physical address `table`.
    fn write_entry(&mut self, table: u64, index: usize, value: u64);
    /// Allocates a zero-filled 4 KiB frame for a new table; None when out of memory.
    fn alloc_table(&mut self) -> Option<u64>;
    /// Returns a table frame that is no longer used.
    fn free_table(&mut self, table: u64);
}

/// Why a page-table change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapError {
    /// The virtual address is not canonical (bits 63..47 differ).
    NotCanonical,
    /// An address is not aligned to the page size (or the physical address
    /// does not fit in an entry).
    Misaligned,
    /// A page is already mapped there.
    AlreadyMapped,
    /// A larger page already covers the address.
    HugePageInTheWay,
    /// No frame was left for a new table.
    OutOfMemory,
    /// Nothing is mapped there.
    NotMapped,
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            MapError::NotCanonical => "virtual address is not canonical",
            MapError::Misaligned => "address is not aligned to the page size",
            MapError::AlreadyMapped => "page is already mapped",
            MapError::HugePageInTheWay => "a larger page covers the address",
            MapError::OutOfMemory => "out of memory for page tables",
            MapError::NotMapped => "page is not mapped",
        };
        f.write_str(text)
    }
}

/// The result of a successful translation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Translation {
    /// Physical address of the exact address translated, offset included.
    pub phys: u64,
    /// Flags of the leaf entry, without `HUGE`.
    pub flags: PageFlags,
    /// Size of the page (a 1 GiB leaf, which this crate never creates, is
    /// reported as `Size2M`: its 2 MiB block around the address is contiguous).
    pub size: PageSize,
}

/// A 4-level page-table hierarchy identified by the physical address of its top-level (PML4) table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageTables {
    root: u64,
}

/// The tables a walk went through: at each depth (0 = PML4) the table's
/// address and the index used in it, down to and including `depth`.
#[derive(Debug, Clone, Copy)]
struct Path {
    tables: [u64; 4],
    indices: [usize; 4],
    depth: usize,
}

impl Path {
    /// Reads the entry the path ends at.
    fn read_last(&self, mem: &impl TableMemory) -> u64 {
        mem.read_entry(self.tables[self.depth], self.indices[self.depth])
    }

    /// Overwrites the entry the path ends at.
    fn write_last(&self, mem: &mut impl TableMemory, value: u64) {
        mem.write_entry(self.tables[self.depth], self.indices[self.depth], value);
    }

    /// Bytes mapped by a leaf entry at the end of this path.
    const fn leaf_span(&self) -> u64 {
        match self.depth {
            DEPTH_4K => PAGE_SIZE,
            DEPTH_2M => HUGE_PAGE_SIZE,
            _ => HUGE_PAGE_SIZE * ENTRIES as u64,
        }
    }

    /// Gives the intermediate entries above the end of the path the `needed`
    /// access bits they lack.
    fn grant(&self, mem: &mut impl TableMemory, needed: u64) {
        for depth in 0..self.depth {
            let (table, index) = (self.tables[depth], self.indices[depth]);
            let entry = mem.read_entry(table, index);
            if entry & needed != needed {
                mem.write_entry(table, index, entry | needed);
            }
        }
    }
}

impl PageTables {
    /// Allocates an empty top-level table.
    pub fn new(mem: &mut impl TableMemory) -> Result<Self, MapError> {
        let root = mem.alloc_table().ok_or(MapError::OutOfMemory)?;
        Ok(PageTables { root })
    }

    /// Wraps an existing hierarchy whose PML4 is at physical address `root`.
    pub const fn from_root(root: u64) -> Self {
        PageTables { root }
    }

    /// Physical address of the PML4 (the value for CR3).
    pub const fn root(&self) -> u64 {
        self.root
    }

    /// Maps the page at `virt` to `phys` (both aligned to `size`) with `flags`
    /// (PRESENT is added; HUGE is set for Size2M and cleared for Size4K, where
    /// that bit means PAT). Missing intermediate tables are created
    /// PRESENT|WRITABLE, plus USER when `flags` has USER (an existing
    /// intermediate entry gains USER/WRITABLE if the new leaf needs them;
    /// NO_EXECUTE never set on intermediates). Errors: NotCanonical,
    /// Misaligned, AlreadyMapped (a leaf is present there — or, for Size2M,
    /// any present 4K table under that slot), HugePageInTheWay (a 4K map under
    /// an existing 2M leaf, or any map under a 1G leaf), OutOfMemory (tables
    /// allocated by this call before the failure are left in place).
    pub fn map(
        &mut self,
        mem: &mut impl TableMemory,
        virt: u64,
        phys: u64,
        size: PageSize,
        flags: PageFlags,
    ) -> Result<(), MapError> {
        check_canonical(virt)?;
        let align_mask = size.bytes() - 1;
        if virt & align_mask != 0 || phys & (align_mask | !ADDRESS_MASK) != 0 {
            return Err(MapError::Misaligned);
        }
        let path = self.walk_creating(mem, virt, size.leaf_depth(), flags)?;
        if path.read_last(mem) & PageFlags::PRESENT.bits() != 0 {
            return Err(MapError::AlreadyMapped);
        }
        path.write_last(mem, phys | leaf_bits(flags, size));
        path.grant(mem, access_bits(flags));
        Ok(())
    }

    /// Removes the mapping of the page containing `virt` (must be the page's
    /// first address, aligned to its size) and returns (phys, size). Frees
    /// intermediate tables that become empty (never the root). NotMapped if
    /// nothing is there; Misaligned if `virt` is inside the page but not its
    /// start; HugePageInTheWay for a 1 GiB leaf (left in place).
    ///
    /// A freed PDPT may still be referenced by another hierarchy that copied
    /// its top-level entry with [`PageTables::share_top_level`]; for such
    /// shared (kernel-half) mappings use [`PageTables::unmap_keeping_tables`].
    pub fn unmap(
        &mut self,
        mem: &mut impl TableMemory,
        virt: u64,
    ) -> Result<(u64, PageSize), MapError> {
        let (path, phys, size) = self.remove_leaf(mem, virt)?;
        free_empty_tables(mem, &path);
        Ok((phys, size))
    }

    /// Like [`PageTables::unmap`] but frees no table, so top-level entries
    /// shared with other hierarchies stay valid.
    pub fn unmap_keeping_tables(
        &mut self,
        mem: &mut impl TableMemory,
        virt: u64,
    ) -> Result<(u64, PageSize), MapError> {
        let (_, phys, size) = self.remove_leaf(mem, virt)?;
        Ok((phys, size))
    }

    /// Replaces the flags of the leaf mapping the page that contains `virt`
    /// (keeps its address, PRESENT and HUGE as they are; intermediate entries
    /// gain USER/WRITABLE if the new flags need them). NotMapped if nothing is there.
    pub fn protect(
        &mut self,
        mem: &mut impl TableMemory,
        virt: u64,
        flags: PageFlags,
    ) -> Result<(), MapError> {
        check_canonical(virt)?;
        let (path, entry) = self.find_leaf(mem, virt).ok_or(MapError::NotMapped)?;
        let kept_mask = ADDRESS_MASK | (PageFlags::PRESENT | PageFlags::HUGE).bits();
        path.write_last(mem, (entry & kept_mask) | (flags.bits() & !kept_mask));
        path.grant(mem, access_bits(flags));
        Ok(())
    }

    /// Translates any virtual address (2M and 4K leaves; 1G leaves too if
    /// found). None if not mapped or not canonical.
    pub fn translate(&self, mem: &impl TableMemory, virt: u64) -> Option<Translation> {
        if !is_canonical(virt) {
            return None;
        }
        let (path, entry) = self.find_leaf(mem, virt)?;
        let span = path.leaf_span();
        let size = if path.depth == DEPTH_4K {
            PageSize::Size4K
        } else {
            PageSize::Size2M
        };
        Some(Translation {
            phys: leaf_address(entry, span) | (virt & (span - 1)),
            flags: PageFlags::from_bits_truncate(entry) - PageFlags::HUGE,
            size,
        })
    }

    /// Copies top-level entries [first, last] from another hierarchy (to share
    /// the kernel half between address spaces). Indices past 511 are ignored.
    pub fn share_top_level(
        &mut self,
        mem: &mut impl TableMemory,
        from: &PageTables,
        first: usize,
        last: usize,
    ) {
        for index in first..=last.min(ENTRIES - 1) {
            let entry = mem.read_entry(from.root, index);
            mem.write_entry(self.root, index, entry);
        }
    }

    /// Clears the leaf entry of the page starting at `virt`; returns the path
    /// to it, the page's physical address and its size.
    fn remove_leaf(
        &self,
        mem: &mut impl TableMemory,
        virt: u64,
    ) -> Result<(Path, u64, PageSize), MapError> {
        check_canonical(virt)?;
        let (path, entry) = self.find_leaf(mem, virt).ok_or(MapError::NotMapped)?;
        let size = match path.depth {
            DEPTH_4K => PageSize::Size4K,
            DEPTH_2M => PageSize::Size2M,
            _ => return Err(MapError::HugePageInTheWay),
        };
        if virt & (size.bytes() - 1) != 0 {
            return Err(MapError::Misaligned);
        }
        path.write_last(mem, 0);
        Ok((path, leaf_address(entry, size.bytes()), size))
    }

    /// Walks from the root down to the table at `depth` for `virt`, creating
    /// missing tables, and returns the path ending at the entry for `virt`
    /// in that table.
    fn walk_creating(
        &self,
        mem: &mut impl TableMemory,
        virt: u64,
        depth: usize,
        flags: PageFlags,
    ) -> Result<Path, MapError> {
        let indices = table_indices(virt);
        let mut tables = [self.root, 0, 0, 0];
        for level in 0..depth {
            tables[level + 1] =
                next_table_creating(mem, level, tables[level], indices[level], flags)?;
        }
        Ok(Path {
            tables,
            indices,
            depth,
        })
    }

    /// Finds the present leaf entry mapping `virt`: the path to it and its value.
    fn find_leaf(&self, mem: &impl TableMemory, virt: u64) -> Option<(Path, u64)> {
        let indices = table_indices(virt);
        let mut tables = [self.root, 0, 0, 0];
        for depth in 0..=DEPTH_4K {
            let entry = mem.read_entry(tables[depth], indices[depth]);
            if entry & PageFlags::PRESENT.bits() == 0 {
                return None;
            }
            let huge = depth >= DEPTH_1G && entry & PageFlags::HUGE.bits() != 0;
            if huge || depth == DEPTH_4K {
                let path = Path {
                    tables,
                    indices,
                    depth,
                };
                return Some((path, entry));
            }
            tables[depth + 1] = entry & ADDRESS_MASK;
        }
        None
    }
}

/// Follows entry `index` of the intermediate `table` (at `depth`, 0 = PML4)
/// to the next table, allocating it if the entry is not present.
fn next_table_creating(
    mem: &mut impl TableMemory,
    depth: usize,
    table: u64,
    index: usize,
    flags: PageFlags,
) -> Result<u64, MapError> {
    let entry = mem.read_entry(table, index);
    if entry & PageFlags::PRESENT.bits() == 0 {
        let new = mem.alloc_table().ok_or(MapError::OutOfMemory)?;
        let bits = PageFlags::PRESENT | PageFlags::WRITABLE | (flags & PageFlags::USER);
        mem.write_entry(table, index, new | bits.bits());
        return Ok(new);
    }
    // Bit 7 of a PML4 entry is reserved: only lower levels hold leaves.
    if depth >= DEPTH_1G && entry & PageFlags::HUGE.bits() != 0 {
        return Err(MapError::HugePageInTheWay);
    }
    Ok(entry & ADDRESS_MASK)
}

/// Clears and frees the tables on `path` that became empty, from the bottom up,
/// stopping at the first table still in use; the root is never freed.
fn free_empty_tables(mem: &mut impl TableMemory, path: &Path) {
    for depth in (1..=path.depth).rev() {
        let table = path.tables[depth];
        if !table_is_empty(mem, table) {
            return;
        }
        mem.write_entry(path.tables[depth - 1], path.indices[depth - 1], 0);
        mem.free_table(table);
    }
}

/// Whether every entry of `table` is zero.
fn table_is_empty(mem: &impl TableMemory, table: u64) -> bool {
    (0..ENTRIES).all(|index| mem.read_entry(table, index) == 0)
}

/// The bits of a new leaf entry, address excluded.
fn leaf_bits(flags: PageFlags, size: PageSize) -> u64 {
    let flags = flags | PageFlags::PRESENT;
    let flags = match size {
        PageSize::Size4K => flags - PageFlags::HUGE,
        PageSize::Size2M => flags | PageFlags::HUGE,
    };
    flags.bits() & !ADDRESS_MASK
}

/// The access bits intermediate entries need for a leaf with `flags`.
fn access_bits(flags: PageFlags) -> u64 {
    (flags & (PageFlags::USER | PageFlags::WRITABLE)).bits()
}

/// Physical address of the page a leaf entry of `span` bytes maps (the low
/// address bits of a large-page entry hold PAT, not address).
fn leaf_address(entry: u64, span: u64) -> u64 {
    entry & ADDRESS_MASK & !(span - 1)
}

/// `Err(NotCanonical)` unless `virt` is canonical.
fn check_canonical(virt: u64) -> Result<(), MapError> {
    if is_canonical(virt) {
        Ok(())
    } else {
        Err(MapError::NotCanonical)
    }
}

/// Whether `virt` is canonical: bits 63..47 all equal (48-bit addressing).
pub const fn is_canonical(virt: u64) -> bool {
    let top = virt >> 47;
    top == 0 || top == 0x1_ffff
}

/// Indices into the four levels for a virtual address: [pml4, pdpt, pd, pt].
pub const fn table_indices(virt: u64) -> [usize; 4] {
    [
        table_index(virt, 39),
        table_index(virt, 30),
        table_index(virt, 21),
        table_index(virt, 12),
    ]
}

/// The 9-bit table index of `virt` starting at bit `shift`.
const fn table_index(virt: u64, shift: u32) -> usize {
    ((virt >> shift) & (ENTRIES as u64 - 1)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// Physical address of the first fake frame.
    const BASE: u64 = 0x10_0000;
    const KERNEL_HALF: u64 = 0xffff_8000_0000_0000;
    const KERNEL_IMAGE: u64 = 0xffff_ffff_8000_0000;

    /// Page-table memory over a vector of frames, with a cap on live tables.
    struct FakeMemory {
        frames: Vec<[u64; ENTRIES]>,
        live: Vec<bool>,
        max_live: usize,
    }

    impl FakeMemory {
        fn new(max_live: usize) -> Self {
            FakeMemory {
                frames: Vec::new(),
                live: Vec::new(),
                max_live,
            }
        }

        fn live_tables(&self) -> usize {
            self.live.iter().filter(|&&live| live).count()
        }

        /// Index of the live frame at physical address `table`.
        fn frame(&self, table: u64) -> usize {
            assert!(
                table >= BASE && table & (PAGE_SIZE - 1) == 0,
                "bad table {table:#x}"
            );
            let frame = ((table - BASE) / PAGE_SIZE) as usize;
            assert!(self.live[frame], "table {table:#x} is not live");
            frame
        }
    }

    impl TableMemory for FakeMemory {
        fn read_entry(&self, table: u64, index: usize) -> u64 {
            self.frames[self.frame(table)][index]
        }

        fn write_entry(&mut self, table: u64, index: usize, value: u64) {
            let frame = self.frame(table);
            self.frames[frame][index] = value;
        }

        fn alloc_table(&mut self) -> Option<u64> {
            if self.live_tables() >= self.max_live {
                return None;
            }
            let frame = match self.live.iter().position(|&live| !live) {
                Some(frame) => frame,
                None => {
                    self.frames.push([0; ENTRIES]);
                    self.live.push(false);
                    self.frames.len() - 1
                }
            };
            self.frames[frame] = [0; ENTRIES];
            self.live[frame] = true;
            Some(BASE + frame as u64 * PAGE_SIZE)
        }

        fn free_table(&mut self, table: u64) {
            let frame = self.frame(table);
            self.frames[frame] = [0xdead_beef; ENTRIES];
            self.live[frame] = false;
        }
    }

    fn setup() -> (FakeMemory, PageTables) {
        let mut mem = FakeMemory::new(1000);
        let tables = PageTables::new(&mut mem).unwrap();
        (mem, tables)
    }

    const RW: PageFlags = PageFlags::WRITABLE;
    const K4: PageSize = PageSize::Size4K;
    const M2: PageSize = PageSize::Size2M;

    #[test]
    fn helpers_split_and_check_addresses() {
        assert_eq!(table_indices(0), [0, 0, 0, 0]);
        assert_eq!(table_indices(KERNEL_HALF), [256, 0, 0, 0]);
        assert_eq!(table_indices(KERNEL_IMAGE), [511, 510, 0, 0]);
        assert_eq!(table_indices(0x0000_7fff_ffff_ffff), [255, 511, 511, 511]);
        assert_eq!(table_indices(0x20_3000), [0, 0, 1, 3]);
        assert!(is_canonical(0));
        assert!(is_canonical(0x0000_7fff_ffff_ffff));
        assert!(is_canonical(KERNEL_HALF));
        assert!(is_canonical(u64::MAX));
        assert!(!is_canonical(0x0000_8000_0000_0000));
        assert!(!is_canonical(0xffff_7fff_ffff_ffff));
        assert_eq!(PageSize::Size4K.bytes(), 4096);
        assert_eq!(PageSize::Size2M.bytes(), 2 * 1024 * 1024);
    }

    #[test]
    fn new_and_from_root_agree() {
        let (_, tables) = setup();
        assert_eq!(PageTables::from_root(tables.root()), tables);
        assert_eq!(
            PageTables::new(&mut FakeMemory::new(0)),
            Err(MapError::OutOfMemory)
        );
    }

    #[test]
    fn map_4k_translates_with_offsets() {
        let (mut mem, mut tables) = setup();
        for (i, virt) in [0x40_0000, KERNEL_HALF, KERNEL_IMAGE, 0x7fff_ffff_f000]
            .into_iter()
            .enumerate()
        {
            let phys = 0x1234_5000 + i as u64 * PAGE_SIZE;
            tables.map(&mut mem, virt, phys, K4, RW).unwrap();
            for offset in [0, 1, 0x7ff, 0xfff] {
                let t = tables.translate(&mem, virt + offset).unwrap();
                assert_eq!(t.phys, phys + offset);
                assert_eq!(t.size, K4);
                assert_eq!(t.flags, PageFlags::PRESENT | RW);
            }
            assert_eq!(tables.translate(&mem, virt + PAGE_SIZE), None);
        }
    }

    #[test]
    fn map_2m_translates_with_offsets() {
        let (mut mem, mut tables) = setup();
        let flags = RW | PageFlags::GLOBAL | PageFlags::NO_EXECUTE;
        for virt in [0x20_0000, KERNEL_HALF + 0x4000_0000, KERNEL_IMAGE] {
            tables.map(&mut mem, virt, 0x4060_0000, M2, flags).unwrap();
            for offset in [0, 0x1234, 0x1f_ffff] {
                let t = tables.translate(&mem, virt + offset).unwrap();
                assert_eq!(t.phys, 0x4060_0000 + offset);
                assert_eq!(t.size, M2);
                assert_eq!(t.flags, flags | PageFlags::PRESENT);
            }
            assert_eq!(tables.translate(&mem, virt + HUGE_PAGE_SIZE), None);
        }
        // The leaf itself is a PD entry with HUGE set.
        let [pml4, pdpt, pd, _] = table_indices(0x20_0000);
        let pdpt_table = mem.read_entry(tables.root(), pml4) & ADDRESS_MASK;
        let pd_table = mem.read_entry(pdpt_table, pdpt) & ADDRESS_MASK;
        let leaf = mem.read_entry(pd_table, pd);
        assert_eq!(leaf & ADDRESS_MASK, 0x4060_0000);
        assert_ne!(leaf & PageFlags::HUGE.bits(), 0);
    }

    #[test]
    fn map_4k_clears_the_pat_bit_it_was_given() {
        let (mut mem, mut tables) = setup();
        tables
            .map(&mut mem, 0x1000, 0x5000, K4, PageFlags::HUGE)
            .unwrap();
        let t = tables.translate(&mem, 0x1000).unwrap();
        assert_eq!(t.flags, PageFlags::PRESENT);
    }

    #[test]
    fn translate_of_unmapped_or_bad_addresses_is_none() {
        let (mut mem, mut tables) = setup();
        assert_eq!(tables.translate(&mem, 0), None);
        assert_eq!(tables.translate(&mem, KERNEL_HALF), None);
        tables.map(&mut mem, 0x1000, 0x5000, K4, RW).unwrap();
        assert_eq!(tables.translate(&mem, 0x2000), None);
        assert_eq!(tables.translate(&mem, 0x20_1000), None);
        assert_eq!(tables.translate(&mem, 0x8000_0000_1000), None);
        assert_eq!(tables.translate(&mem, 0x0000_8000_0000_1000), None);
    }

    #[test]
    fn map_refuses_occupied_slots() {
        let (mut mem, mut tables) = setup();
        tables.map(&mut mem, 0x1000, 0x5000, K4, RW).unwrap();
        assert_eq!(
            tables.map(&mut mem, 0x1000, 0x6000, K4, RW),
            Err(MapError::AlreadyMapped)
        );
        // A 2M page over a slot that holds a 4K table.
        assert_eq!(
            tables.map(&mut mem, 0, 0x20_0000, M2, RW),
            Err(MapError::AlreadyMapped)
        );
        tables.map(&mut mem, 0x20_0000, 0x40_0000, M2, RW).unwrap();
        assert_eq!(
            tables.map(&mut mem, 0x20_0000, 0x60_0000, M2, RW),
            Err(MapError::AlreadyMapped)
        );
        assert_eq!(
            tables.map(&mut mem, 0x20_3000, 0x6000, K4, RW),
            Err(MapError::HugePageInTheWay)
        );
        // Nothing changed.
        assert_eq!(tables.translate(&mem, 0x1000).unwrap().phys, 0x5000);
        assert_eq!(tables.translate(&mem, 0x20_3000).unwrap().phys, 0x40_3000);
    }

    #[test]
    fn map_checks_addresses() {
        let (mut mem, mut tables) = setup();
        let bad = 0x0000_8000_0000_0000;
        assert_eq!(
            tables.map(&mut mem, bad, 0, K4, RW),
            Err(MapError::NotCanonical)
        );
        assert_eq!(
            tables.map(&mut mem, 0x1001, 0, K4, RW),
            Err(MapError::Misaligned)
        );
        assert_eq!(
            tables.map(&mut mem, 0x1000, 0x10, K4, RW),
            Err(MapError::Misaligned)
        );
        assert_eq!(
            tables.map(&mut mem, 0x1000, 1 << 52, K4, RW),
            Err(MapError::Misaligned)
        );
        assert_eq!(
            tables.map(&mut mem, 0x20_1000, 0x20_0000, M2, RW),
            Err(MapError::Misaligned)
        );
        assert_eq!(
            tables.map(&mut mem, 0x20_0000, 0x20_1000, M2, RW),
            Err(MapError::Misaligned)
        );
        assert_eq!(mem.live_tables(), 1);
    }

    #[test]
    fn map_reports_out_of_memory() {
        let mut mem = FakeMemory::new(3);
        let mut tables = PageTables::new(&mut mem).unwrap();
        assert_eq!(
            tables.map(&mut mem, 0x1000, 0x5000, K4, RW),
            Err(MapError::OutOfMemory)
        );
        assert_eq!(tables.translate(&mem, 0x1000), None);
        // A 2M page needs one table fewer.
        tables.map(&mut mem, 0x20_0000, 0x20_0000, M2, RW).unwrap();
        assert_eq!(mem.live_tables(), 3);
    }

    #[test]
    fn unmap_returns_the_frame_and_frees_empty_tables() {
        let (mut mem, mut tables) = setup();
        tables.map(&mut mem, KERNEL_IMAGE, 0x7000, K4, RW).unwrap();
        tables
            .map(&mut mem, KERNEL_IMAGE + 0x1000, 0x8000, K4, RW)
            .unwrap();
        tables
            .map(&mut mem, 0x20_0000, 0x4000_0000, M2, RW)
            .unwrap();
        assert_eq!(mem.live_tables(), 1 + 3 + 2);

        assert_eq!(tables.unmap(&mut mem, KERNEL_IMAGE), Ok((0x7000, K4)));
        assert_eq!(mem.live_tables(), 6);
        assert_eq!(tables.translate(&mem, KERNEL_IMAGE), None);
        assert_eq!(
            tables.unmap(&mut mem, KERNEL_IMAGE + 0x1000),
            Ok((0x8000, K4))
        );
        assert_eq!(mem.live_tables(), 3);
        assert_eq!(tables.unmap(&mut mem, 0x20_0000), Ok((0x4000_0000, M2)));
        assert_eq!(mem.live_tables(), 1);
        assert!(table_is_empty(&mem, tables.root()));
    }

    #[test]
    fn unmap_keeping_tables_leaves_shared_tables_alive() {
        let (mut mem, mut kernel) = setup();
        kernel.map(&mut mem, KERNEL_HALF, 0x7000, K4, RW).unwrap();
        let mut process = PageTables::new(&mut mem).unwrap();
        process.share_top_level(&mut mem, &kernel, 256, 511);
        assert_eq!(mem.live_tables(), 5);
        assert_eq!(
            kernel.unmap_keeping_tables(&mut mem, KERNEL_HALF),
            Ok((0x7000, K4))
        );
        assert_eq!(mem.live_tables(), 5);
        assert_eq!(process.translate(&mem, KERNEL_HALF), None);
        // The process sees a mapping made later through the shared tables.
        kernel.map(&mut mem, KERNEL_HALF, 0x9000, K4, RW).unwrap();
        assert_eq!(process.translate(&mem, KERNEL_HALF).unwrap().phys, 0x9000);
        assert_eq!(
            kernel.unmap_keeping_tables(&mut mem, KERNEL_HALF + 0x1000),
            Err(MapError::NotMapped)
        );
    }

    #[test]
    fn unmap_reports_missing_and_misaligned_pages() {
        let (mut mem, mut tables) = setup();
        assert_eq!(tables.unmap(&mut mem, 0x1000), Err(MapError::NotMapped));
        assert_eq!(
            tables.unmap(&mut mem, 0x0000_8000_0000_0000),
            Err(MapError::NotCanonical)
        );
        tables.map(&mut mem, 0x20_0000, 0x40_0000, M2, RW).unwrap();
        tables.map(&mut mem, 0x1000, 0x5000, K4, RW).unwrap();
        assert_eq!(tables.unmap(&mut mem, 0x20_1000), Err(MapError::Misaligned));
        assert_eq!(tables.unmap(&mut mem, 0x1800), Err(MapError::Misaligned));
        assert_eq!(tables.unmap(&mut mem, 0x2000), Err(MapError::NotMapped));
        assert!(tables.translate(&mem, 0x20_1000).is_some());
        assert!(tables.translate(&mem, 0x1800).is_some());
    }

    #[test]
    fn protect_changes_flags_but_not_the_address() {
        let (mut mem, mut tables) = setup();
        tables.map(&mut mem, 0x1000, 0x5000, K4, RW).unwrap();
        tables.map(&mut mem, 0x20_0000, 0x40_0000, M2, RW).unwrap();
        let flags = PageFlags::NO_EXECUTE | PageFlags::USER;
        tables.protect(&mut mem, 0x1abc, flags).unwrap();
        tables.protect(&mut mem, 0x21_0000, flags).unwrap();

        let small = tables.translate(&mem, 0x1abc).unwrap();
        assert_eq!(small.phys, 0x5abc);
        assert_eq!(small.flags, flags | PageFlags::PRESENT);
        let big = tables.translate(&mem, 0x21_0000).unwrap();
        assert_eq!((big.phys, big.size), (0x41_0000, M2));
        assert_eq!(big.flags, flags | PageFlags::PRESENT);
        // The 2M leaf is still a leaf; unmap still finds it whole.
        assert_eq!(tables.unmap(&mut mem, 0x20_0000), Ok((0x40_0000, M2)));
        assert_eq!(
            tables.protect(&mut mem, 0x20_0000, flags),
            Err(MapError::NotMapped)
        );
        assert_eq!(
            tables.protect(&mut mem, 0xffff_0000_0000_0000, flags),
            Err(MapError::NotCanonical)
        );
    }

    /// The three intermediate entries above the leaf for `virt`.
    fn intermediates(mem: &FakeMemory, tables: &PageTables, virt: u64) -> [u64; 3] {
        let indices = table_indices(virt);
        let mut table = tables.root();
        let mut entries = [0; 3];
        for (entry, index) in entries.iter_mut().zip(indices) {
            *entry = mem.read_entry(table, index);
            table = *entry & ADDRESS_MASK;
        }
        entries
    }

    #[test]
    fn user_and_writable_reach_the_intermediates() {
        let (mut mem, mut tables) = setup();
        let kernel_only = PageFlags::NO_EXECUTE;
        tables
            .map(&mut mem, 0x40_0000, 0x5000, K4, kernel_only)
            .unwrap();
        for entry in intermediates(&mem, &tables, 0x40_0000) {
            let flags = PageFlags::from_bits_truncate(entry);
            assert_eq!(flags, PageFlags::PRESENT | PageFlags::WRITABLE);
        }
        let user = PageFlags::USER | PageFlags::NO_EXECUTE;
        tables.map(&mut mem, 0x40_1000, 0x6000, K4, user).unwrap();
        for entry in intermediates(&mem, &tables, 0x40_1000) {
            let flags = PageFlags::from_bits_truncate(entry);
            assert_eq!(
                flags,
                PageFlags::PRESENT | PageFlags::WRITABLE | PageFlags::USER
            );
        }
        // The older leaf keeps its own (kernel-only) flags.
        let t = tables.translate(&mem, 0x40_0000).unwrap();
        assert_eq!(t.flags, PageFlags::PRESENT | kernel_only);
    }

    #[test]
    fn existing_intermediates_gain_access_bits_on_success_only() {
        let (mut mem, mut tables) = setup();
        tables
            .map(&mut mem, 0x40_0000, 0x5000, K4, PageFlags::empty())
            .unwrap();
        // Make the path read-only, as another mapper might have.
        let [pml4, ..] = table_indices(0x40_0000);
        let entry = mem.read_entry(tables.root(), pml4);
        mem.write_entry(tables.root(), pml4, entry & !PageFlags::WRITABLE.bits());

        let wanted = PageFlags::USER | PageFlags::WRITABLE;
        assert_eq!(
            tables.map(&mut mem, 0x40_0000, 0x5000, K4, wanted),
            Err(MapError::AlreadyMapped)
        );
        let top = PageFlags::from_bits_truncate(intermediates(&mem, &tables, 0x40_0000)[0]);
        assert_eq!(top, PageFlags::PRESENT);

        tables.map(&mut mem, 0x40_2000, 0x7000, K4, wanted).unwrap();
        let top = PageFlags::from_bits_truncate(intermediates(&mem, &tables, 0x40_0000)[0]);
        assert_eq!(top, PageFlags::PRESENT | wanted);

        // protect also grants what the new flags need.
        tables
            .map(&mut mem, KERNEL_HALF, 0x8000, K4, PageFlags::empty())
            .unwrap();
        tables
            .protect(&mut mem, KERNEL_HALF, PageFlags::USER)
            .unwrap();
        for entry in intermediates(&mem, &tables, KERNEL_HALF) {
            assert!(PageFlags::from_bits_truncate(entry).contains(PageFlags::USER));
        }
    }

    #[test]
    fn one_gigabyte_leaves_are_translated_but_left_alone() {
        let (mut mem, mut tables) = setup();
        // Build a 1G leaf by hand: PML4[0] -> PDPT, PDPT[1] = 1G page at 3 GiB.
        let pdpt = mem.alloc_table().unwrap();
        mem.write_entry(tables.root(), 0, pdpt | 0b11);
        let huge = (PageFlags::PRESENT | PageFlags::WRITABLE | PageFlags::HUGE).bits();
        mem.write_entry(pdpt, 1, 0xc000_0000 | huge);

        let t = tables.translate(&mem, 0x4123_4567).unwrap();
        assert_eq!(t.phys, 0xc123_4567);
        assert_eq!(t.flags, PageFlags::PRESENT | PageFlags::WRITABLE);
        assert_eq!(
            tables.map(&mut mem, 0x4000_1000, 0, K4, RW),
            Err(MapError::HugePageInTheWay)
        );
        assert_eq!(
            tables.map(&mut mem, 0x4020_0000, 0, M2, RW),
            Err(MapError::HugePageInTheWay)
        );
        assert_eq!(
            tables.unmap(&mut mem, 0x4000_0000),
            Err(MapError::HugePageInTheWay)
        );
        tables
            .protect(&mut mem, 0x4000_0000, PageFlags::empty())
            .unwrap();
        assert_eq!(
            tables.translate(&mem, 0x4000_0000).unwrap().flags,
            PageFlags::PRESENT
        );
    }

    #[test]
    fn share_top_level_copies_the_kernel_half() {
        let (mut mem, mut kernel) = setup();
        kernel.map(&mut mem, KERNEL_IMAGE, 0x7000, K4, RW).unwrap();
        kernel.map(&mut mem, 0x1000, 0x8000, K4, RW).unwrap();
        let mut process = PageTables::new(&mut mem).unwrap();
        process.share_top_level(&mut mem, &kernel, 256, 511);
        assert_eq!(process.translate(&mem, KERNEL_IMAGE).unwrap().phys, 0x7000);
        assert_eq!(process.translate(&mem, 0x1000), None);
        // Out-of-range and empty ranges do nothing harmful.
        process.share_top_level(&mut mem, &kernel, 600, 700);
        process.share_top_level(&mut mem, &kernel, 10, 5);
        process.share_top_level(&mut mem, &kernel, 0, usize::MAX);
        assert_eq!(process.translate(&mem, 0x1000).unwrap().phys, 0x8000);
    }

    #[test]
    fn map_errors_display() {
        assert_eq!(MapError::NotMapped.to_string(), "page is not mapped");
        assert!(!MapError::HugePageInTheWay.to_string().is_empty());
    }

    /// One step of the model test: map or unmap a page at one of a few
    /// clustered addresses (so pages share tables and collide).
    #[derive(Debug, Clone)]
    enum Op {
        Map {
            virt: u64,
            size: PageSize,
            frame: u64,
            user: bool,
            writable: bool,
        },
        Unmap {
            virt: u64,
        },
    }

    /// A virtual address in one of three clusters, aligned to `size`.
    fn virt_in(cluster: usize, slot: u64, size: PageSize) -> u64 {
        let base = [0x4000_0000, KERNEL_HALF, KERNEL_IMAGE][cluster];
        match size {
            // 4K pages spread over the first 3 × 2 MiB of the cluster.
            PageSize::Size4K => base + (slot % 3) * HUGE_PAGE_SIZE + (slot / 3 % 8) * PAGE_SIZE,
            PageSize::Size2M => base + (slot % 4) * HUGE_PAGE_SIZE,
        }
    }

    fn size() -> impl Strategy<Value = PageSize> {
        prop_oneof![Just(PageSize::Size4K), Just(PageSize::Size2M)]
    }

    fn op() -> impl Strategy<Value = Op> {
        let map = (
            0usize..3,
            0u64..24,
            size(),
            0u64..1000,
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(cluster, slot, size, frame, user, writable)| Op::Map {
                virt: virt_in(cluster, slot, size),
                size,
                frame,
                user,
                writable,
            });
        let unmap = (0usize..3, 0u64..24, size()).prop_map(|(cluster, slot, size)| Op::Unmap {
            virt: virt_in(cluster, slot, size),
        });
        prop_oneof![3 => map, 2 => unmap]
    }

    /// The mappings the model holds: page start -> (phys, size, flags).
    type Model = HashMap<u64, (u64, PageSize, PageFlags)>;

    /// The model's mapping covering `virt`, if any.
    fn model_lookup(model: &Model, virt: u64) -> Option<(u64, &(u64, PageSize, PageFlags))> {
        let small = virt & !(PAGE_SIZE - 1);
        let big = virt & !(HUGE_PAGE_SIZE - 1);
        let found = model.get(&small).map(|m| (small, m));
        found.or_else(|| model.get(&big).filter(|m| m.1 == M2).map(|m| (big, m)))
    }

    fn model_map(
        model: &mut Model,
        virt: u64,
        phys: u64,
        size: PageSize,
        flags: PageFlags,
    ) -> Result<(), MapError> {
        let span = virt..virt + size.bytes();
        match size {
            PageSize::Size4K if model_lookup(model, virt).is_some_and(|(_, m)| m.1 == M2) => {
                return Err(MapError::HugePageInTheWay)
            }
            _ if model.keys().any(|v| span.contains(v)) => return Err(MapError::AlreadyMapped),
            _ => {}
        }
        model.insert(virt, (phys, size, flags | PageFlags::PRESENT));
        Ok(())
    }

    fn model_unmap(model: &mut Model, virt: u64) -> Result<(u64, PageSize), MapError> {
        let (start, _) = model_lookup(model, virt).ok_or(MapError::NotMapped)?;
        if start != virt {
            return Err(MapError::Misaligned);
        }
        let (phys, size, _) = model.remove(&virt).unwrap_or_else(|| unreachable!());
        Ok((phys, size))
    }

    fn check_translations(mem: &FakeMemory, tables: &PageTables, model: &Model, probes: &[u64]) {
        for &virt in probes {
            for offset in [0, 0x123, PAGE_SIZE - 1, 0x1_2345] {
                let probe = virt + offset;
                let expected =
                    model_lookup(model, probe).map(|(start, &(phys, size, flags))| Translation {
                        phys: phys + (probe - start),
                        flags,
                        size,
                    });
                assert_eq!(tables.translate(mem, probe), expected, "at {probe:#x}");
            }
        }
    }

    proptest! {
        #[test]
        fn map_and_unmap_agree_with_a_hash_map_model(ops in proptest::collection::vec(op(), 1..80)) {
            let (mut mem, mut tables) = setup();
            let mut model = Model::new();
            let mut probes = Vec::new();
            for op in ops {
                match op {
                    Op::Map { virt, size, frame, user, writable } => {
                        let mut flags = PageFlags::NO_EXECUTE;
                        flags.set(PageFlags::USER, user);
                        flags.set(PageFlags::WRITABLE, writable);
                        let phys = frame * size.bytes();
                        let got = tables.map(&mut mem, virt, phys, size, flags);
                        prop_assert_eq!(got, model_map(&mut model, virt, phys, size, flags));
                        probes.push(virt);
                    }
                    Op::Unmap { virt } => {
                        let got = tables.unmap(&mut mem, virt);
                        prop_assert_eq!(got, model_unmap(&mut model, virt));
                        probes.push(virt);
                    }
                }
                check_translations(&mem, &tables, &model, &probes);
            }
            let mut pages: Vec<u64> = model.keys().copied().collect();
            pages.sort_unstable();
            for virt in pages {
                let expected = model_unmap(&mut model, virt);
                prop_assert_eq!(tables.unmap(&mut mem, virt), expected);
            }
            check_translations(&mem, &tables, &model, &probes);
            prop_assert_eq!(mem.live_tables(), 1);
            prop_assert!(table_is_empty(&mem, tables.root()));
        }
    }
}
