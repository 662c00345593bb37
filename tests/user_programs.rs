//! The user programs as the kernel's loader receives them: the bundle the
//! build embeds holds every program of `user/`, and each is a static
//! ELF with the layout `user/user.ld` promises (docs/host-tool.md). Nothing
//! here boots QEMU.

use std::fs;

use abide_bundle::Bundle;
use abide_tool::{build, user};
use object::elf::{ET_EXEC, PF_R, PF_W, PF_X, PT_DYNAMIC, PT_INTERP, PT_LOAD, PT_TLS};
use object::read::elf::{FileHeader, ProgramHeader};
use object::Endianness;

const PAGE: u64 = 4096;
const USER_BASE: u64 = 0x40_0000;

#[test]
fn the_bundle_holds_every_program_with_the_promised_layout() {
    build::build_kernel().unwrap_or_else(|e| panic!("{e}"));
    let bytes = fs::read(user::bundle_path()).unwrap();
    let bundle = Bundle::parse(&bytes).unwrap();
    let is_config = |name: &str| name.starts_with(abide_abi::host::CONFIG_PREFIX);
    let names: Vec<&str> = bundle
        .iter()
        .map(|(name, _)| name)
        .filter(|name| !is_config(name))
        .collect();
    assert_eq!(
        names,
        user::program_names(
            &build::repo_root(),
            &[user::SYSTEM_PARTS, user::TEST_PARTS].concat()
        )
        .unwrap(),
        "the bundle holds exactly the programs of user/"
    );
    // And the system configurations, checked at build time.
    let config = bundle
        .get(abide_abi::host::DEFAULT_CONFIG)
        .expect("the image carries config-default");
    let text = std::str::from_utf8(config).expect("the configuration is UTF-8");
    assert!(
        abide_config::parse(text).is_ok(),
        "config-default is invalid"
    );
    for required in ["hello", "spinner", "fault-page", "fault-panic"] {
        assert!(names.contains(&required), "{required} missing: {names:?}");
    }
    for (name, elf) in bundle.iter().filter(|(name, _)| !is_config(name)) {
        check_layout(name, elf);
    }
}

/// A static executable at 4 MiB: three page-aligned PT_LOAD segments, R X,
/// then R, then R W, in ascending order below 2 GiB, entry at the start of
/// the text; no interpreter, no dynamic section, no TLS.
fn check_layout(name: &str, elf: &[u8]) {
    let header = object::elf::FileHeader64::<Endianness>::parse(elf)
        .unwrap_or_else(|e| panic!("{name}: not a 64-bit ELF: {e}"));
    let endian = header.endian().unwrap();
    assert_eq!(header.e_type(endian), ET_EXEC, "{name}: not ET_EXEC");
    assert_eq!(header.e_entry(endian), USER_BASE, "{name}: entry");
    let segments = header.program_headers(endian, elf).unwrap();
    for segment in segments {
        let kind = segment.p_type(endian);
        assert!(
            ![PT_INTERP, PT_DYNAMIC, PT_TLS].contains(&kind),
            "{name}: unexpected segment type {kind:#x}"
        );
    }
    let loads: Vec<_> = segments
        .iter()
        .filter(|s| s.p_type(endian) == PT_LOAD)
        .collect();
    let flags: Vec<u32> = loads.iter().map(|s| s.p_flags(endian).0).collect();
    assert_eq!(
        flags,
        [PF_R.0 | PF_X.0, PF_R.0, PF_R.0 | PF_W.0],
        "{name}: PT_LOAD flags"
    );
    assert_eq!(loads[0].p_vaddr(endian), USER_BASE, "{name}: text address");
    let mut previous_end = 0;
    for segment in &loads {
        let (vaddr, offset) = (segment.p_vaddr(endian), segment.p_offset(endian));
        let (filesz, memsz) = (segment.p_filesz(endian), segment.p_memsz(endian));
        assert_eq!(
            vaddr % PAGE,
            0,
            "{name}: segment at {vaddr:#x} not page-aligned"
        );
        assert_eq!(offset % PAGE, 0, "{name}: segment offset {offset:#x}");
        assert!(
            vaddr >= previous_end,
            "{name}: segments overlap or are out of order"
        );
        assert!(filesz <= memsz, "{name}: file size > memory size");
        assert!(
            offset + filesz <= elf.len() as u64,
            "{name}: segment past the file"
        );
        previous_end = vaddr + memsz;
    }
    assert!(previous_end <= 1 << 31, "{name}: above 2 GiB");
}
