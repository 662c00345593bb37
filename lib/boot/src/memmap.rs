//! The physical memory map, normalized into something a frame allocator can trust.
//!
//! Firmware reports memory as a list of ranges in no particular order; ranges
//! may overlap, touch, or disagree about what a byte is. The kernel needs the
//! opposite: sorted, disjoint regions where every usable byte really is usable.
//! [`MemoryMap::normalize`] turns the first into the second, always resolving a
//! disagreement towards the more restrictive kind, and shrinking usable regions
//! to whole pages so the frame allocator never hands out a partial page.

use crate::BootInfoError;
use core::fmt;

/// Size of a page frame in bytes.
pub const PAGE_SIZE: u64 = 4096;

/// How many regions a [`MemoryMap`] holds.
pub const MAX_REGIONS: usize = 128;

/// The highest page-aligned address; region ends that overflow are clamped here.
const TOP: u64 = !(PAGE_SIZE - 1);

/// What a physical memory region may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionKind {
    /// Free RAM the kernel may allocate.
    Usable,
    /// Not available (firmware, MMIO holes, anything unknown).
    Reserved,
    /// ACPI tables; usable once the kernel is done with them.
    AcpiReclaimable,
    /// ACPI non-volatile storage; must be preserved.
    AcpiNvs,
    /// Defective RAM.
    Bad,
}

impl RegionKind {
    /// Converts an E820 type code (as PVH and Multiboot2 use): 1 usable,
    /// 3 ACPI reclaimable, 4 ACPI NVS, 5 bad, anything else reserved.
    pub const fn from_e820(kind: u32) -> Self {
        match kind {
            1 => RegionKind::Usable,
            3 => RegionKind::AcpiReclaimable,
            4 => RegionKind::AcpiNvs,
            5 => RegionKind::Bad,
            _ => RegionKind::Reserved,
        }
    }

    /// How restrictive the kind is: where regions overlap, the highest wins.
    const fn restriction(self) -> u8 {
        match self {
            RegionKind::Usable => 0,
            RegionKind::AcpiReclaimable => 1,
            RegionKind::Reserved => 2,
            RegionKind::AcpiNvs => 3,
            RegionKind::Bad => 4,
        }
    }
}

/// A physical address range `[start, end)` of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryRegion {
    /// First byte of the region.
    pub start: u64,
    /// One past the last byte of the region.
    pub end: u64,
    /// What the region may be used for.
    pub kind: RegionKind,
}

impl MemoryRegion {
    /// Size of the region in bytes.
    pub const fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    /// True if the region holds no bytes.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A placeholder for unused slots.
const EMPTY_REGION: MemoryRegion = MemoryRegion {
    start: 0,
    end: 0,
    kind: RegionKind::Reserved,
};

/// A fixed-capacity list of physical memory regions.
#[derive(Clone)]
pub struct MemoryMap {
    regions: [MemoryRegion; MAX_REGIONS],
    len: usize,
}

impl MemoryMap {
    /// An empty map.
    pub const fn new() -> Self {
        Self {
            regions: [EMPTY_REGION; MAX_REGIONS],
            len: 0,
        }
    }

    /// Adds a firmware-reported region (any order, may overlap; len 0 ignored;
    /// start+len overflow is clamped to u64::MAX rounded down to a page).
    /// Err(BootInfoError::BadLength) when full.
    pub fn push(&mut self, start: u64, len: u64, kind: RegionKind) -> Result<(), BootInfoError> {
        let end = start.checked_add(len).unwrap_or(TOP);
        if end <= start {
            return Ok(());
        }
        let slot = self
            .regions
            .get_mut(self.len)
            .ok_or(BootInfoError::BadLength)?;
        *slot = MemoryRegion { start, end, kind };
        self.len += 1;
        Ok(())
    }

    /// Like [`push`](Self::push), but when the map is full it first resolves
    /// overlaps and merges touching regions (without shrinking usable regions to
    /// pages), so long firmware maps of adjacent entries still fit. Compacting
    /// may drop the smallest usable pieces, never anything else; when that is
    /// not enough it is Err(BootInfoError::BadLength).
    pub fn push_compacting(
        &mut self,
        start: u64,
        len: u64,
        kind: RegionKind,
    ) -> Result<(), BootInfoError> {
        if self.len == MAX_REGIONS && !self.resolve(false) {
            return Err(BootInfoError::BadLength);
        }
        self.push(start, len, kind)
    }

    /// Sorts; resolves overlaps so the more restrictive kind wins
    /// (Bad > AcpiNvs > Reserved > AcpiReclaimable > Usable); merges touching
    /// regions of the same kind; shrinks Usable regions inward to whole pages
    /// and drops empty ones. Idempotent.
    ///
    /// Splitting overlapping regions can need more than [`MAX_REGIONS`] slots.
    /// Then the smallest usable pieces are dropped first (losing a little RAM),
    /// and only if that is not enough the smallest pieces of other kinds (a
    /// range missing from the map is never usable, so that stays safe).
    pub fn normalize(&mut self) {
        // The final pass always fits.
        let _ = self.resolve(true);
    }

    /// The regions, sorted and disjoint once normalized.
    pub fn regions(&self) -> &[MemoryRegion] {
        self.regions.get(..self.len).unwrap_or(&[])
    }

    /// The usable regions.
    pub fn usable(&self) -> impl Iterator<Item = &MemoryRegion> + '_ {
        self.regions()
            .iter()
            .filter(|r| r.kind == RegionKind::Usable)
    }

    /// Total bytes in usable regions.
    pub fn usable_bytes(&self) -> u64 {
        self.usable().fold(0, |sum, r| sum.saturating_add(r.len()))
    }

    /// End of the highest usable region (0 if none).
    pub fn max_usable_end(&self) -> u64 {
        self.usable().map(|r| r.end).max().unwrap_or(0)
    }

    /// End of the highest region of any kind (0 if none).
    pub fn max_end(&self) -> u64 {
        self.regions().iter().map(|r| r.end).max().unwrap_or(0)
    }

    /// The boundary sweep behind [`normalize`](Self::normalize) (`final_pass`)
    /// and [`push_compacting`](Self::push_compacting). Only the final pass
    /// shrinks usable pieces and may drop non-usable ones: before more entries
    /// arrive, forgetting a reserved range could let a later usable entry claim
    /// it. Returns false, leaving the map as it was, when the pieces do not fit.
    fn resolve(&mut self, final_pass: bool) -> bool {
        let bounds = Boundaries::of(self.regions());
        let mut out = Pieces::new();
        for (start, end) in bounds.intervals() {
            if let Some(kind) = self.kind_covering(start) {
                out.append(MemoryRegion { start, end, kind });
            }
        }
        if final_pass {
            out.shrink_usable_to_pages();
        }
        if !out.fit_capacity(MAX_REGIONS, final_pass) {
            return false;
        }
        self.len = 0;
        for region in out.as_slice() {
            // Cannot fail: `fit_capacity` left at most MAX_REGIONS pieces.
            let _ = self.push(region.start, region.len(), region.kind);
        }
        true
    }

    /// The most restrictive kind among the regions that contain `addr`.
    fn kind_covering(&self, addr: u64) -> Option<RegionKind> {
        self.regions()
            .iter()
            .filter(|r| r.start <= addr && addr < r.end)
            .map(|r| r.kind)
            .max_by_key(|k| k.restriction())
    }
}

impl Default for MemoryMap {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.regions()).finish()
    }
}

/// The sorted start and end points of a set of regions.
struct Boundaries {
    points: [u64; 2 * MAX_REGIONS],
    len: usize,
}

impl Boundaries {
    fn of(regions: &[MemoryRegion]) -> Self {
        let mut points = [0; 2 * MAX_REGIONS];
        let mut len = 0;
        for (slot, point) in points
            .iter_mut()
            .zip(regions.iter().flat_map(|r| [r.start, r.end]))
        {
            *slot = point;
            len += 1;
        }
        if let Some(used) = points.get_mut(..len) {
            used.sort_unstable();
        }
        Self { points, len }
    }

    /// The non-empty elementary intervals between consecutive points.
    fn intervals(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.points
            .get(..self.len)
            .unwrap_or(&[])
            .windows(2)
            .filter_map(|w| match *w {
                [start, end] if start < end => Some((start, end)),
                _ => None,
            })
    }
}

/// Scratch space for the resolved pieces, which may outnumber [`MAX_REGIONS`].
struct Pieces {
    items: [MemoryRegion; 2 * MAX_REGIONS],
    len: usize,
}

impl Pieces {
    fn new() -> Self {
        Self {
            items: [EMPTY_REGION; 2 * MAX_REGIONS],
            len: 0,
        }
    }

    fn as_slice(&self) -> &[MemoryRegion] {
        self.items.get(..self.len).unwrap_or(&[])
    }

    /// Appends a piece (in address order), merging it into the previous one
    /// when they touch and have the same kind.
    fn append(&mut self, piece: MemoryRegion) {
        if let Some(last) = self.len.checked_sub(1).and_then(|i| self.items.get_mut(i)) {
            if last.kind == piece.kind && last.end == piece.start {
                last.end = piece.end;
                return;
            }
        }
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = piece;
            self.len += 1;
        }
    }

    /// Shrinks usable pieces inward to page boundaries, dropping empty ones.
    fn shrink_usable_to_pages(&mut self) {
        let mut kept = 0;
        for i in 0..self.len {
            let Some(mut piece) = self.items.get(i).copied() else {
                break;
            };
            if piece.kind == RegionKind::Usable {
                piece.start = align_up(piece.start).unwrap_or(TOP);
                piece.end = align_down(piece.end);
                if piece.end <= piece.start {
                    continue;
                }
            }
            if let Some(slot) = self.items.get_mut(kept) {
                *slot = piece;
                kept += 1;
            }
        }
        self.len = kept;
    }

    /// Drops pieces until at most `capacity` remain: the smallest usable ones
    /// first, then (if `any_kind`) the smallest of any kind. Returns whether
    /// the pieces fit.
    fn fit_capacity(&mut self, capacity: usize, any_kind: bool) -> bool {
        while self.len > capacity {
            let victim = self
                .as_slice()
                .iter()
                .enumerate()
                .filter(|(_, r)| any_kind || r.kind == RegionKind::Usable)
                .min_by_key(|(_, r)| (r.kind != RegionKind::Usable, r.len()))
                .map(|(i, _)| i);
            match victim {
                Some(i) => self.remove(i),
                None => return false,
            }
        }
        true
    }

    fn remove(&mut self, index: usize) {
        if let Some(tail) = self.items.get_mut(index..self.len) {
            if !tail.is_empty() {
                tail.rotate_left(1);
                self.len -= 1;
            }
        }
    }
}

/// `addr` rounded up to a page boundary, `None` on overflow.
const fn align_up(addr: u64) -> Option<u64> {
    match addr.checked_add(PAGE_SIZE - 1) {
        Some(a) => Some(align_down(a)),
        None => None,
    }
}

/// `addr` rounded down to a page boundary.
const fn align_down(addr: u64) -> u64 {
    addr & !(PAGE_SIZE - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use RegionKind::*;

    fn region(start: u64, end: u64, kind: RegionKind) -> MemoryRegion {
        MemoryRegion { start, end, kind }
    }

    fn map_of(entries: &[(u64, u64, RegionKind)]) -> MemoryMap {
        let mut map = MemoryMap::new();
        for &(start, len, kind) in entries {
            map.push(start, len, kind).unwrap();
        }
        map
    }

    #[test]
    fn e820_types() {
        assert_eq!(RegionKind::from_e820(1), Usable);
        assert_eq!(RegionKind::from_e820(2), Reserved);
        assert_eq!(RegionKind::from_e820(3), AcpiReclaimable);
        assert_eq!(RegionKind::from_e820(4), AcpiNvs);
        assert_eq!(RegionKind::from_e820(5), Bad);
        assert_eq!(RegionKind::from_e820(0), Reserved);
        assert_eq!(RegionKind::from_e820(12), Reserved);
    }

    #[test]
    fn push_ignores_empty_and_clamps_overflow() {
        let mut map = MemoryMap::new();
        map.push(0x1000, 0, Usable).unwrap();
        assert!(map.regions().is_empty());
        map.push(0xFFFF_FFFF_0000_0000, u64::MAX, Reserved).unwrap();
        assert_eq!(
            map.regions(),
            &[region(0xFFFF_FFFF_0000_0000, TOP, Reserved)]
        );
        // Starts above the clamp point: nothing left.
        map.push(u64::MAX - 10, 100, Reserved).unwrap();
        assert_eq!(map.regions().len(), 1);
    }

    #[test]
    fn push_fails_when_full() {
        let mut map = MemoryMap::new();
        for i in 0..MAX_REGIONS as u64 {
            map.push(i * 0x10000, 0x1000, Usable).unwrap();
        }
        assert_eq!(map.push(0, 1, Usable), Err(BootInfoError::BadLength));
    }

    #[test]
    fn push_compacting_merges_adjacent_entries_when_full() {
        let mut map = MemoryMap::new();
        for i in 0..(MAX_REGIONS as u64 * 2) {
            map.push_compacting(i * 0x1800, 0x1800, Usable).unwrap();
        }
        map.normalize();
        assert_eq!(
            map.regions(),
            &[region(0, MAX_REGIONS as u64 * 2 * 0x1800, Usable)]
        );
    }

    #[test]
    fn push_compacting_fails_when_nothing_merges() {
        let mut map = MemoryMap::new();
        for i in 0..MAX_REGIONS as u64 {
            map.push_compacting(i * 0x10000, 0x1000, Reserved).unwrap();
        }
        assert_eq!(
            map.push_compacting(0x1_0000_0000, 0x1000, Reserved),
            Err(BootInfoError::BadLength)
        );
    }

    #[test]
    fn normalizes_a_qemu_like_map() {
        // As QEMU's firmware reports it, out of order.
        let mut map = map_of(&[
            (0x10_0000, 0x7fe_0000 - 0x10_0000, Usable),
            (0, 0x9_fc00, Usable),
            (0x9_fc00, 0x400, Reserved),
            (0xf_0000, 0x1_0000, Reserved),
            (0x7fe_0000, 0x2_0000, Reserved),
            (0xfffc_0000, 0x4_0000, Reserved),
        ]);
        map.normalize();
        assert_eq!(
            map.regions(),
            &[
                region(0, 0x9_f000, Usable),
                region(0x9_fc00, 0xa_0000, Reserved),
                region(0xf_0000, 0x10_0000, Reserved),
                region(0x10_0000, 0x7fe_0000, Usable),
                region(0x7fe_0000, 0x800_0000, Reserved),
                region(0xfffc_0000, 0x1_0000_0000, Reserved),
            ]
        );
        assert_eq!(map.usable_bytes(), 0x9_f000 + 0x7fe_0000 - 0x10_0000);
        assert_eq!(map.max_usable_end(), 0x7fe_0000);
        assert_eq!(map.max_end(), 0x1_0000_0000);
        assert_eq!(map.usable().count(), 2);
    }

    #[test]
    fn more_restrictive_kind_wins_overlaps() {
        let mut map = map_of(&[
            (0, 0x10_000, Usable),
            (0x2000, 0x2000, AcpiReclaimable),
            (0x3000, 0x2000, Reserved),
            (0x4800, 0x1000, AcpiNvs),
            (0x5000, 0x100, Bad),
        ]);
        map.normalize();
        assert_eq!(
            map.regions(),
            &[
                region(0, 0x2000, Usable),
                region(0x2000, 0x3000, AcpiReclaimable),
                region(0x3000, 0x4800, Reserved),
                region(0x4800, 0x5000, AcpiNvs),
                region(0x5000, 0x5100, Bad),
                region(0x5100, 0x5800, AcpiNvs),
                region(0x6000, 0x10_000, Usable),
            ]
        );
    }

    #[test]
    fn merges_touching_and_duplicate_regions() {
        let mut map = map_of(&[
            (0x1000, 0x1000, Usable),
            (0x2000, 0x1000, Usable),
            (0x1000, 0x2000, Usable),
            (0x8000, 0x10, Reserved),
            (0x8010, 0x10, Reserved),
        ]);
        map.normalize();
        assert_eq!(
            map.regions(),
            &[
                region(0x1000, 0x3000, Usable),
                region(0x8000, 0x8020, Reserved)
            ]
        );
    }

    #[test]
    fn drops_usable_smaller_than_a_page() {
        let mut map = map_of(&[(0x1800, 0x1000, Usable), (0x10, 0x20, Reserved)]);
        map.normalize();
        assert_eq!(map.regions(), &[region(0x10, 0x30, Reserved)]);
        assert_eq!(map.usable_bytes(), 0);
        assert_eq!(map.max_usable_end(), 0);
    }

    #[test]
    fn empty_map() {
        let mut map = MemoryMap::default();
        map.normalize();
        assert!(map.regions().is_empty());
        assert_eq!(map.max_end(), 0);
        assert_eq!(format!("{map:?}"), "[]");
    }

    #[test]
    fn usable_at_the_top_of_the_address_space() {
        let mut map = map_of(&[(u64::MAX - 0x2fff, u64::MAX, Usable)]);
        map.normalize();
        assert_eq!(map.regions(), &[region(TOP - 0x2000, TOP, Usable)]);
    }

    #[test]
    fn capacity_overflow_drops_smallest_usable_first() {
        // One big usable region cut by many small reserved holes needs twice
        // the slots; the smallest usable pieces go first.
        let mut map = MemoryMap::new();
        map.push(0, 0x1000_0000, Usable).unwrap();
        for i in 0..(MAX_REGIONS as u64 - 1) {
            map.push(0x10_0000 * (i + 1), 0x1000, Reserved).unwrap();
        }
        map.normalize();
        assert_eq!(map.regions().len(), MAX_REGIONS);
        let reserved = map.regions().iter().filter(|r| r.kind == Reserved).count();
        assert_eq!(reserved, MAX_REGIONS - 1);
        // The last usable piece (after the last hole) is the biggest and stays.
        assert_eq!(map.max_usable_end(), 0x1000_0000);
    }

    #[test]
    fn capacity_overflow_without_usable_drops_smallest_pieces() {
        let mut map = MemoryMap::new();
        map.push(0, 0x1_0000_0000, Reserved).unwrap();
        for i in 0..(MAX_REGIONS as u64 - 1) {
            map.push(0x10_0000 * (i + 1), 0x1000, Bad).unwrap();
        }
        map.normalize();
        assert_eq!(map.regions().len(), MAX_REGIONS);
        assert!(map.usable().next().is_none());
        let before = map.clone();
        map.normalize();
        assert_eq!(map.regions(), before.regions());
    }

    #[test]
    fn debug_lists_regions() {
        let map = map_of(&[(0, 0x1000, Usable)]);
        assert_eq!(
            format!("{map:?}"),
            "[MemoryRegion { start: 0, end: 4096, kind: Usable }]"
        );
    }

    fn kind_strategy() -> impl Strategy<Value = RegionKind> {
        prop_oneof![
            3 => Just(Usable),
            1 => Just(Reserved),
            1 => Just(AcpiReclaimable),
            1 => Just(AcpiNvs),
            1 => Just(Bad),
        ]
    }

    fn entry_strategy() -> impl Strategy<Value = (u64, u64, RegionKind)> {
        prop_oneof![
            // Small addresses so regions collide often.
            (0u64..0x40_000, 0u64..0x20_000, kind_strategy()),
            // Anything, including overflowing ends.
            (any::<u64>(), any::<u64>(), kind_strategy()),
        ]
    }

    /// The expected kind at `addr` straight from the raw entries.
    fn raw_kind_at(entries: &[MemoryRegion], addr: u64) -> Option<RegionKind> {
        entries
            .iter()
            .filter(|r| r.start <= addr && addr < r.end)
            .map(|r| r.kind)
            .max_by_key(|k| k.restriction())
    }

    fn normalized_kind_at(map: &MemoryMap, addr: u64) -> Option<RegionKind> {
        map.regions()
            .iter()
            .find(|r| r.start <= addr && addr < r.end)
            .map(|r| r.kind)
    }

    proptest! {
        #[test]
        fn normalize_invariants(entries in prop::collection::vec(entry_strategy(), 0..MAX_REGIONS)) {
            let mut map = map_of(&entries);
            let raw: Vec<MemoryRegion> = map.regions().to_vec();
            let raw_usable: u64 = raw
                .iter()
                .filter(|r| r.kind == Usable)
                .fold(0u64, |s, r| s.saturating_add(r.len()));
            map.normalize();
            let out = map.regions();

            for r in out {
                prop_assert!(r.start < r.end);
                if r.kind == Usable {
                    prop_assert_eq!(r.start % PAGE_SIZE, 0);
                    prop_assert_eq!(r.end % PAGE_SIZE, 0);
                }
            }
            for w in out.windows(2) {
                prop_assert!(w[0].end <= w[1].start, "sorted and disjoint: {:?}", w);
                if w[0].end == w[1].start {
                    prop_assert_ne!(w[0].kind, w[1].kind, "touching same kind not merged");
                }
            }
            prop_assert!(map.usable_bytes() <= raw_usable);

            // Reserved ranges are never reported usable.
            for r in &raw {
                if r.kind != Usable {
                    for u in map.usable() {
                        prop_assert!(u.end <= r.start || r.end <= u.start,
                            "usable {:?} overlaps {:?}", u, r);
                    }
                }
            }
            // Every usable byte was reported usable (and nothing stricter).
            for u in map.usable() {
                for addr in [u.start, u.end - 1] {
                    prop_assert_eq!(raw_kind_at(&raw, addr), Some(Usable));
                }
            }
            // Below capacity, no information is lost at any boundary.
            if out.len() < MAX_REGIONS {
                for r in &raw {
                    for addr in [r.start, r.end - 1, r.end] {
                        let expected = raw_kind_at(&raw, addr);
                        let got = normalized_kind_at(&map, addr);
                        match expected {
                            Some(Usable) => prop_assert!(got.is_none() || got == Some(Usable)),
                            _ => prop_assert_eq!(got, expected, "at {:#x}", addr),
                        }
                    }
                }
            }

            let once = map.clone();
            map.normalize();
            prop_assert_eq!(map.regions(), once.regions());
        }

        #[test]
        fn compacting_never_makes_memory_more_usable(
            entries in prop::collection::vec(entry_strategy(), 0..3 * MAX_REGIONS)
        ) {
            let mut map = MemoryMap::new();
            let mut pushed = 0;
            for &(start, len, kind) in &entries {
                if map.push_compacting(start, len, kind).is_err() {
                    break;
                }
                pushed += 1;
            }
            let entries = &entries[..pushed];
            map.normalize();
            for w in map.regions().windows(2) {
                prop_assert!(w[0].end <= w[1].start);
            }
            for u in map.usable() {
                for &(start, len, kind) in entries {
                    let end = start.checked_add(len).unwrap_or(TOP);
                    if kind != Usable && start < end {
                        prop_assert!(u.end <= start || end <= u.start);
                    }
                }
            }
        }
    }
}
