//! Exec planning: the initial stack's layout and the ELF checks.

use abide_unix::elf::{plan, ElfError};
use abide_unix::stack::{at, build, StackInput};

fn word(image: &abide_unix::stack::StackImage, addr: u64) -> u64 {
    let at = (addr - image.sp) as usize;
    u64::from_le_bytes(image.bytes[at..at + 8].try_into().unwrap())
}

fn string(image: &abide_unix::stack::StackImage, addr: u64) -> Vec<u8> {
    let at = (addr - image.sp) as usize;
    image.bytes[at..]
        .iter()
        .take_while(|b| **b != 0)
        .copied()
        .collect()
}

#[test]
fn stack_has_argc_argv_envp_auxv_in_order() {
    let top = 0x7fff_0000_0000;
    let input = StackInput {
        argv: &[b"busybox", b"echo", b"hi"],
        envp: &[b"PATH=/bin"],
        execfn: b"/bin/busybox",
        random: [7; 16],
        auxv: &[(at::PAGESZ, 4096), (at::ENTRY, 0x401000)],
    };
    let image = build(top, &input, 1 << 20).unwrap();
    assert_eq!(image.sp % 16, 0);
    assert_eq!(image.sp + image.bytes.len() as u64, top);
    assert_eq!(word(&image, image.sp), 3);
    assert_eq!(string(&image, word(&image, image.sp + 8)), b"busybox");
    assert_eq!(string(&image, word(&image, image.sp + 24)), b"hi");
    assert_eq!(word(&image, image.sp + 32), 0);
    assert_eq!(string(&image, word(&image, image.sp + 40)), b"PATH=/bin");
    assert_eq!(word(&image, image.sp + 48), 0);
    let mut aux = image.sp + 56;
    let mut seen = Vec::new();
    loop {
        let (k, v) = (word(&image, aux), word(&image, aux + 8));
        seen.push((k, v));
        aux += 16;
        if k == at::NULL {
            break;
        }
    }
    assert_eq!(seen[0], (at::PAGESZ, 4096));
    let random = seen.iter().find(|(k, _)| *k == at::RANDOM).unwrap().1;
    let at_r = (random - image.sp) as usize;
    assert_eq!(&image.bytes[at_r..at_r + 16], &[7; 16]);
    let execfn = seen.iter().find(|(k, _)| *k == at::EXECFN).unwrap().1;
    assert_eq!(string(&image, execfn), b"/bin/busybox");
    let platform = seen.iter().find(|(k, _)| *k == at::PLATFORM).unwrap().1;
    assert_eq!(string(&image, platform), b"x86_64");
}

#[test]
fn stack_over_the_limit_is_refused() {
    let big = vec![b'x'; 5000];
    let input = StackInput {
        argv: &[&big],
        envp: &[],
        execfn: b"/x",
        random: [0; 16],
        auxv: &[],
    };
    assert!(build(0x7fff_0000_0000, &input, 4096).is_none());
}

fn elf(kind: u16, segments: &[(u32, u64, u64, u64, u64)]) -> Vec<u8> {
    let mut f = vec![0u8; 64 + 56 * segments.len()];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 2;
    f[5] = 1;
    f[16..18].copy_from_slice(&kind.to_le_bytes());
    f[18..20].copy_from_slice(&62u16.to_le_bytes());
    f[24..32].copy_from_slice(&0x401000u64.to_le_bytes());
    f[32..40].copy_from_slice(&64u64.to_le_bytes());
    f[54..56].copy_from_slice(&56u16.to_le_bytes());
    f[56..58].copy_from_slice(&(segments.len() as u16).to_le_bytes());
    for (i, (t, off, vaddr, filesz, memsz)) in segments.iter().enumerate() {
        let p = 64 + 56 * i;
        f[p..p + 4].copy_from_slice(&t.to_le_bytes());
        f[p + 4..p + 8].copy_from_slice(&5u32.to_le_bytes());
        f[p + 8..p + 16].copy_from_slice(&off.to_le_bytes());
        f[p + 16..p + 24].copy_from_slice(&vaddr.to_le_bytes());
        f[p + 32..p + 40].copy_from_slice(&filesz.to_le_bytes());
        f[p + 40..p + 48].copy_from_slice(&memsz.to_le_bytes());
    }
    f
}

#[test]
fn static_executable_plans_its_segments() {
    let file = elf(2, &[(1, 0, 0x400000, 120, 0x2000)]);
    let p = plan(&file).unwrap();
    assert_eq!(p.entry, 0x401000);
    assert_eq!(p.phdr, 0x400040);
    assert_eq!(p.phnum, 1);
    assert_eq!(p.end, 0x402000);
}

#[test]
fn static_pie_moves_by_the_base() {
    let file = elf(3, &[(1, 0, 0, 120, 0x1000)]);
    let p = plan(&file).unwrap();
    assert_eq!(p.base, abide_unix::elf::PIE_BASE);
    assert_eq!(p.entry, abide_unix::elf::PIE_BASE + 0x401000);
}

#[test]
fn bad_files_are_refused() {
    assert_eq!(plan(b"#!/bin/sh\n"), Err(ElfError::NotExecutable));
    let past_end = elf(2, &[(1, 0, 0x400000, 1 << 20, 1 << 20)]);
    assert_eq!(plan(&past_end), Err(ElfError::NotExecutable));
    let dynamic = elf(2, &[(3, 0, 0, 0, 0), (1, 0, 0x400000, 120, 120)]);
    assert_eq!(plan(&dynamic), Err(ElfError::Dynamic));
    let mut truncated = elf(2, &[(1, 0, 0x400000, 120, 120)]);
    truncated.truncate(100);
    assert_eq!(plan(&truncated), Err(ElfError::NotExecutable));
}
