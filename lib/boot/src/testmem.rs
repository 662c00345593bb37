//! A fake physical memory for the host tests.
//!
//! The parsers read firmware structures through [`PhysMemory`]; the tests build
//! those structures in byte vectors placed at chosen physical addresses. Reads
//! succeed only when the whole range lies inside one segment, so tests can also
//! exercise "unreadable" paths.

use crate::PhysMemory;

/// Physical memory made of separate readable segments.
#[derive(Default)]
pub(crate) struct TestMem {
    segments: Vec<(u64, Vec<u8>)>,
}

impl TestMem {
    /// Memory with nothing readable.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Adds a zero-filled readable segment of `len` bytes at `base`.
    pub(crate) fn add_zeroed(&mut self, base: u64, len: usize) {
        self.segments.push((base, vec![0; len]));
    }

    /// Adds a readable segment holding `bytes` at `base`.
    pub(crate) fn add(&mut self, base: u64, bytes: &[u8]) {
        self.segments.push((base, bytes.to_vec()));
    }

    /// Overwrites bytes at `phys`, which must lie inside one segment.
    pub(crate) fn write(&mut self, phys: u64, bytes: &[u8]) {
        let (base, data) = self
            .segments
            .iter_mut()
            .find(|(base, data)| {
                phys >= *base && phys - base + bytes.len() as u64 <= data.len() as u64
            })
            .expect("test write outside every segment");
        let start = (phys - *base) as usize;
        data[start..start + bytes.len()].copy_from_slice(bytes);
    }
}

impl PhysMemory for TestMem {
    fn read(&self, phys: u64, buf: &mut [u8]) -> bool {
        for (base, data) in &self.segments {
            let Some(offset) = phys.checked_sub(*base) else {
                continue;
            };
            let Ok(offset) = usize::try_from(offset) else {
                continue;
            };
            if let Some(src) = offset
                .checked_add(buf.len())
                .and_then(|end| data.get(offset..end))
            {
                buf.copy_from_slice(src);
                return true;
            }
        }
        false
    }
}

/// Sets byte 9 of the ACPI table in `table` so all its bytes sum to zero.
pub(crate) fn fix_acpi_checksum(table: &mut [u8]) {
    table[9] = 0;
    let sum = table.iter().fold(0u8, |a, b| a.wrapping_add(*b));
    table[9] = 0u8.wrapping_sub(sum);
}
