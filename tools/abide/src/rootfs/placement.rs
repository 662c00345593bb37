//! Where the archives go in guest RAM, and how QEMU and the kernel learn it.
//!
//! A PVH boot (QEMU `-kernel`) carries no initrd, so each archive is loaded
//! by QEMU's generic loader (`-device loader,file=PATH,addr=ADDR,force-raw=on`)
//! at a page-aligned address, and the kernel command line names it
//! (`archive=rootfs@0x...+0x...`, written by `abide_boot::archive`). The
//! archives sit one after the other, downwards from [`FIRMWARE_GAP`] below the
//! top of the RAM under 4 GiB, and never below [`FLOOR`] (the kernel image
//! and its first allocations live down there). The gap matters: the loader
//! writes at reset, before the firmware runs, and q35 takes the top 16 MiB
//! of that RAM for SMRAM (TSEG), under which SeaBIOS relocates its init code
//! and keeps its tables and temporary allocations — an archive placed right
//! under TSEG came out with its last 200 KiB overwritten.

use std::ffi::OsString;
use std::path::PathBuf;

use abide_boot::archive::ArchiveRange;

const MIB: u64 = 1 << 20;
const PAGE: u64 = 4096;
/// Left free at the top of the RAM below 4 GiB: q35's 16 MiB TSEG, and as
/// much again for SeaBIOS.
pub const FIRMWARE_GAP: u64 = 32 * MIB;
/// No archive lies below this.
pub const FLOOR: u64 = 32 * MIB;

/// An archive file and where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    /// `rootfs` or `add` (`abide_abi::host::ARCHIVES`).
    pub name: &'static str,
    pub path: PathBuf,
    /// Page-aligned guest-physical address.
    pub start: u64,
    pub len: u64,
}

impl Placed {
    /// The kernel command-line option naming it.
    pub fn option(&self) -> String {
        ArchiveRange {
            name: self.name,
            start: self.start,
            len: self.len,
        }
        .to_string()
    }

    /// QEMU's arguments loading it.
    pub fn qemu_args(&self) -> Vec<OsString> {
        // QEMU's option syntax doubles a comma inside a value.
        let mut file = OsString::from("loader,file=");
        file.push(self.path.to_string_lossy().replace(',', ",,"));
        file.push(format!(",addr={:#x},force-raw=on", self.start));
        vec!["-device".into(), file]
    }
}

/// The RAM QEMU's q35 machine puts below 4 GiB for `memory_mib` MiB: all
/// of it up to 2816 MiB, otherwise 2 GiB (the rest goes above 4 GiB).
pub fn ram_below_4g(memory_mib: u32) -> u64 {
    let ram = u64::from(memory_mib) * MIB;
    if ram >= 0xb000_0000 {
        0x8000_0000
    } else {
        ram
    }
}

/// Places `archives` (name, file, length) downwards from the top of the
/// RAM below 4 GiB, less [`FIRMWARE_GAP`], each page-aligned; Err says how
/// much memory they would need when they do not fit above [`FLOOR`].
pub fn place(
    archives: &[(&'static str, PathBuf, u64)],
    memory_mib: u32,
) -> Result<Vec<Placed>, String> {
    let top = ram_below_4g(memory_mib).saturating_sub(FIRMWARE_GAP);
    let mut end = top;
    let mut placed = Vec::new();
    for (name, path, len) in archives {
        let pages = len.div_ceil(PAGE) * PAGE;
        let start = end.checked_sub(pages).filter(|&s| s >= FLOOR);
        let Some(start) = start else {
            let total: u64 = archives
                .iter()
                .map(|(_, _, l)| l.div_ceil(PAGE) * PAGE)
                .sum();
            let needed = (FLOOR + total + FIRMWARE_GAP).div_ceil(MIB);
            let what = archives
                .iter()
                .map(|(n, _, l)| format!("{n} {} KiB", l.div_ceil(1024)))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(format!(
                "the archives ({what}) do not fit in {memory_mib} MiB of guest memory: \
                 they need --memory {needed} or more"
            ));
        };
        placed.push(Placed {
            name,
            path: path.clone(),
            start,
            len: *len,
        });
        end = start;
    }
    Ok(placed)
}

/// `cmdline` with the options naming `placed` appended.
pub fn with_options(cmdline: &str, placed: &[Placed]) -> String {
    placed
        .iter()
        .map(Placed::option)
        .fold(cmdline.trim().to_string(), |line, option| {
            if line.is_empty() {
                option
            } else {
                format!("{line} {option}")
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(lens: &[(&'static str, u64)]) -> Vec<(&'static str, PathBuf, u64)> {
        lens.iter()
            .map(|&(n, l)| (n, PathBuf::from(format!("/t/{n}.tar")), l))
            .collect()
    }

    #[test]
    fn archives_sit_below_the_firmware_gap_page_aligned() {
        let placed = place(&files(&[("rootfs", 2_000_000), ("add", 10)]), 256).unwrap();
        let top = 256 * MIB - FIRMWARE_GAP;
        assert_eq!(placed[0].start, top - 2_002_944);
        assert_eq!(placed[0].len, 2_000_000);
        assert_eq!(placed[1].start, placed[0].start - PAGE);
        assert!(placed.iter().all(|p| p.start % PAGE == 0));
        assert_eq!(
            placed[1].option(),
            format!("archive=add@{:#x}+0xa", placed[1].start)
        );
    }

    #[test]
    fn what_does_not_fit_is_refused_with_the_memory_it_needs() {
        // 16 MiB: not even the floor fits.
        let error = place(&files(&[("rootfs", 2_000_000)]), 16).unwrap_err();
        assert!(error.contains("do not fit in 16 MiB"), "{error}");
        assert!(error.contains("--memory 66 or more"), "{error}");
        // Exactly enough: FLOOR + 1 MiB + FIRMWARE_GAP.
        assert!(place(&files(&[("rootfs", MIB)]), 65).is_ok());
        assert!(place(&files(&[("rootfs", MIB + 1)]), 65).is_err());
        // Nothing to place always fits.
        assert_eq!(place(&[], 16).unwrap(), []);
    }

    #[test]
    fn large_memories_keep_the_archives_below_4_gib() {
        assert_eq!(ram_below_4g(256), 256 * MIB);
        assert_eq!(ram_below_4g(2815), 2815 * MIB);
        assert_eq!(ram_below_4g(2816), 2048 * MIB);
        assert_eq!(ram_below_4g(8192), 2048 * MIB);
        let placed = place(&files(&[("rootfs", PAGE)]), 8192).unwrap();
        assert_eq!(placed[0].start, 2048 * MIB - FIRMWARE_GAP - PAGE);
    }

    #[test]
    fn qemu_loads_each_file_raw_at_its_address() {
        let placed = Placed {
            name: "add",
            path: PathBuf::from("/t/a,b.tar"),
            start: 0xe000000,
            len: 3,
        };
        assert_eq!(
            placed.qemu_args(),
            [
                OsString::from("-device"),
                OsString::from("loader,file=/t/a,,b.tar,addr=0xe000000,force-raw=on")
            ]
        );
        assert_eq!(
            with_options(" log=debug ", std::slice::from_ref(&placed)),
            "log=debug archive=add@0xe000000+0x3"
        );
        assert_eq!(with_options("", &[]), "");
    }
}
