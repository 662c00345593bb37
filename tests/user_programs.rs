//! The user programs as the kernel's loader receives them: the bundle of the
//! shipped image (`target/abide/bundle.bin`, what `cargo run` boots) holds
//! the system's programs alone, the full image's (`bundle-full.bin`, what the
//! system tests boot) also every test and benchmark program of `user/`, and
//! each is a static ELF with the layout `user/user.ld` promises
//! (docs/host-tool.md). Nothing here boots QEMU.
//!
//! Drives: every program the build bundles (none is run: the test reads the
//! bundle). Configs: `system/default.conf`, read from the bundle.

use std::fs;

use abide_bundle::Bundle;
use abide_tool::build::{self, Image};
use abide_tool::user;
use object::elf::{ET_EXEC, PF_R, PF_W, PF_X, PT_DYNAMIC, PT_INTERP, PT_LOAD, PT_TLS};
use object::read::elf::{FileHeader, ProgramHeader};
use object::Endianness;

const PAGE: u64 = 4096;
const USER_BASE: u64 = 0x40_0000;

/// Builds `image` and returns its bundle's bytes.
fn bundle_of(image: Image) -> Vec<u8> {
    build::build_kernel(image).unwrap_or_else(|e| panic!("{e}"));
    fs::read(user::bundle_path(image)).unwrap()
}

/// The programs of a bundle (its entries that are not configurations).
fn programs(bundle: &Bundle<'_>) -> Vec<String> {
    bundle
        .iter()
        .map(|(name, _)| name.to_string())
        .filter(|name| !name.starts_with(abide_abi::host::CONFIG_PREFIX))
        .collect()
}

/// Checks the layout of every program and that `config-default` is valid.
fn check_bundle(bundle: &Bundle<'_>) {
    let config = bundle
        .get(abide_abi::host::DEFAULT_CONFIG)
        .expect("the image carries config-default");
    let text = std::str::from_utf8(config).expect("the configuration is UTF-8");
    assert!(
        abide_config::parse(text).is_ok(),
        "config-default is invalid"
    );
    for name in programs(bundle) {
        check_layout(&name, bundle.get(&name).unwrap());
    }
}

#[test]
fn the_shipped_image_carries_no_test_or_benchmark_program() {
    let bytes = bundle_of(Image::System);
    let bundle = Bundle::parse(&bytes).unwrap();
    let root = build::repo_root();
    let names = programs(&bundle);
    assert_eq!(
        names,
        user::program_names(&root, user::SYSTEM_PARTS).unwrap(),
        "the shipped bundle holds exactly the programs of user/init, drivers, services and apps"
    );
    for test in user::program_names(&root, user::TEST_PARTS).unwrap() {
        assert!(!names.contains(&test), "{test} is in the shipped image");
    }
    for required in ["init", "serial", "log", "shell"] {
        assert!(
            names.iter().any(|n| n == required),
            "{required} missing: {names:?}"
        );
    }
    // The configurations of the tests stay out too.
    for config in ["config-faults", "config-confine", "config-bench"] {
        assert!(
            bundle.get(config).is_none(),
            "{config} is in the shipped image"
        );
    }
    check_bundle(&bundle);
}

#[test]
fn the_test_image_carries_every_test_and_benchmark_program() {
    let bytes = bundle_of(Image::Full);
    let bundle = Bundle::parse(&bytes).unwrap();
    let names = programs(&bundle);
    assert_eq!(
        names,
        user::program_names(&build::repo_root(), &Image::Full.parts()).unwrap(),
        "the full bundle holds exactly the programs of user/"
    );
    for required in [
        "init",
        "shell",
        "hello",
        "spinner",
        "fault-page",
        "bench",
        "bench-quick",
    ] {
        assert!(
            names.iter().any(|n| n == required),
            "{required} missing: {names:?}"
        );
    }
    for config in [
        "config-faults",
        "config-confine",
        "config-bench",
        "config-stash-check",
    ] {
        assert!(
            bundle.get(config).is_some(),
            "{config} is not in the full image"
        );
    }
    check_bundle(&bundle);
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
