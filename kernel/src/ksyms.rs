//! The kernel's own symbol table, embedded at image build time by the host
//! tool (see docs/boot.md), so crash reports can name functions.

use abide_ksyms::KsymTable;

#[used]
#[link_section = ".ksyms"]
static KSYMS: [u8; include_bytes!(env!("ABIDE_KSYMS")).len()] =
    *include_bytes!(env!("ABIDE_KSYMS"));

/// The embedded bytes, hidden from the optimizer: otherwise an empty table
/// (the first of the host tool's two links) would let it fold the lookup code
/// away, so code addresses would move when the real table is embedded.
fn table_bytes() -> &'static [u8] {
    core::hint::black_box(&KSYMS[..])
}

/// The function containing `addr` and the offset into it.
pub fn lookup(addr: u64) -> Option<(&'static str, u64)> {
    // Validation is cheap enough for crash paths and keeps no state around.
    KsymTable::parse(table_bytes()).ok()?.lookup(addr)
}

/// Number of symbols embedded (0 when the image was built without a table).
pub fn count() -> usize {
    KsymTable::parse(table_bytes()).map_or(0, |table| table.len())
}
