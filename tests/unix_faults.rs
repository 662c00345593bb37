//! System test: a Linux process that faults gets the signal Linux gives
//! it, and its parent sees that signal. Four tiny static ELF programs,
//! written here byte by byte (no toolchain needed), each do one faulting
//! instruction — a write to page 0 (`SIGSEGV`, a page that is not there),
//! a write to their own code (`SIGSEGV`, a page that is read-only), `ud2`
//! (`SIGILL`) and a division by zero (`SIGFPE`) — and would exit 0 right
//! after it if the fault were lost. busybox `sh` runs each from `sh -c`
//! and prints `$?`, which is 128 + the signal only when `wait4` reported
//! the child killed by it. The Abide shell prompts again afterwards: the
//! faults ended the processes, not `unix` or the system.
//!
//! Drives: the default system (`user/services/unix`, the kernel's trap
//! path for faults) with the root tree and the programs in an `--add`
//! directory. Configs: `system/default.conf`.

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use abide_tool::rootfs::{AddSpec, RootTree};
use support::*;

/// Where the ELF is loaded: the classic non-PIE base.
const BASE: u64 = 0x40_0000;
/// ELF header (64 bytes) plus one program header (56 bytes).
const HEADERS: u64 = 64 + 56;
/// `mov eax, 60; xor edi, edi; syscall`: `exit(0)`, reached only if the
/// fault before it was lost.
const EXIT_0: &[u8] = &[0xb8, 0x3c, 0, 0, 0, 0x31, 0xff, 0x0f, 0x05];

/// The programs: name, the faulting instruction, the status `sh` reports.
const PROGRAMS: &[(&str, &[u8], u32)] = &[
    // mov dword [0], 0
    (
        "null-write",
        &[0xc7, 0x04, 0x25, 0, 0, 0, 0, 0, 0, 0, 0],
        128 + 11,
    ),
    // mov dword [0x400000], 0: the program's own (read-only) first page
    (
        "code-write",
        &[0xc7, 0x04, 0x25, 0, 0, 0x40, 0, 0, 0, 0, 0],
        128 + 11,
    ),
    // ud2
    ("undefined", &[0x0f, 0x0b], 128 + 4),
    // xor eax, eax; xor ecx, ecx; div ecx
    ("divide", &[0x31, 0xc0, 0x31, 0xc9, 0xf7, 0xf1], 128 + 8),
];

/// A static x86_64 Linux executable: one read+execute `PT_LOAD` segment
/// holding the headers and `code`, entered right after the headers.
fn elf(code: &[u8]) -> Vec<u8> {
    let size = HEADERS + code.len() as u64;
    let mut out = Vec::new();
    // e_ident: magic, 64-bit, little-endian, version 1, System V ABI.
    out.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&2u16.to_le_bytes()); // e_type: ET_EXEC
    out.extend_from_slice(&0x3eu16.to_le_bytes()); // e_machine: x86-64
    out.extend_from_slice(&1u32.to_le_bytes()); // e_version
    out.extend_from_slice(&(BASE + HEADERS).to_le_bytes()); // e_entry
    out.extend_from_slice(&64u64.to_le_bytes()); // e_phoff
    out.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
    out.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    out.extend_from_slice(&64u16.to_le_bytes()); // e_ehsize
    out.extend_from_slice(&56u16.to_le_bytes()); // e_phentsize
    out.extend_from_slice(&1u16.to_le_bytes()); // e_phnum
    out.extend_from_slice(&64u16.to_le_bytes()); // e_shentsize
    out.extend_from_slice(&0u16.to_le_bytes()); // e_shnum
    out.extend_from_slice(&0u16.to_le_bytes()); // e_shstrndx
                                                // The program header: PT_LOAD, R+X, the whole file at BASE.
    out.extend_from_slice(&1u32.to_le_bytes()); // p_type
    out.extend_from_slice(&5u32.to_le_bytes()); // p_flags: R | X
    out.extend_from_slice(&0u64.to_le_bytes()); // p_offset
    out.extend_from_slice(&BASE.to_le_bytes()); // p_vaddr
    out.extend_from_slice(&BASE.to_le_bytes()); // p_paddr
    out.extend_from_slice(&size.to_le_bytes()); // p_filesz
    out.extend_from_slice(&size.to_le_bytes()); // p_memsz
    out.extend_from_slice(&0x1000u64.to_le_bytes()); // p_align
    assert_eq!(out.len() as u64, HEADERS);
    out.extend_from_slice(code);
    out
}

#[test]
fn a_faulting_linux_process_dies_of_the_signal_linux_gives_and_its_parent_sees_it() {
    let dir = fresh_add_dir("unix-faults");
    let mut script = String::new();
    for (name, instruction, _) in PROGRAMS {
        let mut code = instruction.to_vec();
        code.extend_from_slice(EXIT_0);
        let path = dir.join(name);
        fs::write(&path, elf(&code)).expect("write a fault program");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod +x");
        script.push_str(&format!("/opt/faults/{name}; echo {name} $?; "));
    }
    let mut session = boot_to_shell(BootOptions {
        root_tree: RootTree::Required,
        add: vec![AddSpec {
            host: dir.clone(),
            guest: "/opt/faults".to_string(),
        }],
        ..BootOptions::default()
    });
    let before = session.output().len();
    step(session.send(&format!("sh -c '{script}echo faults done'\n")));
    step(session.expect_next("faults done", Duration::from_secs(180)));
    step(session.expect_next(host::SHELL_PROMPT, REPLY));
    let output = session.output()[before..].to_string();
    for (name, _, status) in PROGRAMS {
        assert_contains(&output, &format!("{name} {status}"));
    }
    // The system goes on: the Abide shell and `unix` still serve.
    let reply = command(&mut session, "sh -c 'echo still here'", "still here");
    assert_contains(&reply, "still here");
    power_off(&mut session);
    let _ = fs::remove_dir_all(&dir);
}
