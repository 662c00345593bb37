//! The initial stack of a new program image, laid out exactly as Linux's
//! `create_elf_tables` does: from the top, the executable's path
//! (`AT_EXECFN`), the environment and argument strings, the platform
//! string, 16 random bytes (`AT_RANDOM`); below them, 16-byte aligned,
//! `argc`, the `argv` pointers and a null, the `envp` pointers and a null,
//! and the auxiliary vector ending in `AT_NULL`. The stack pointer points
//! at `argc`.

use alloc::vec;
use alloc::vec::Vec;

/// Auxiliary vector keys (`<linux/auxvec.h>`).
pub mod at {
    pub const NULL: u64 = 0;
    pub const PHDR: u64 = 3;
    pub const PHENT: u64 = 4;
    pub const PHNUM: u64 = 5;
    pub const PAGESZ: u64 = 6;
    pub const BASE: u64 = 7;
    pub const FLAGS: u64 = 8;
    pub const ENTRY: u64 = 9;
    pub const UID: u64 = 11;
    pub const EUID: u64 = 12;
    pub const GID: u64 = 13;
    pub const EGID: u64 = 14;
    pub const PLATFORM: u64 = 15;
    pub const HWCAP: u64 = 16;
    pub const CLKTCK: u64 = 17;
    pub const SECURE: u64 = 23;
    pub const RANDOM: u64 = 25;
    pub const HWCAP2: u64 = 26;
    pub const EXECFN: u64 = 31;
    pub const MINSIGSTKSZ: u64 = 51;
}

/// The platform string `AT_PLATFORM` points at.
pub const PLATFORM: &[u8] = b"x86_64";

/// What goes on a new stack.
#[derive(Debug, Clone)]
pub struct StackInput<'a> {
    pub argv: &'a [&'a [u8]],
    pub envp: &'a [&'a [u8]],
    /// The path given to `execve` (`AT_EXECFN`).
    pub execfn: &'a [u8],
    /// `AT_RANDOM`'s 16 bytes (glibc seeds its stack protector with them).
    pub random: [u8; 16],
    /// Every auxv entry but `AT_PLATFORM`, `AT_RANDOM`, `AT_EXECFN` and
    /// `AT_NULL` (which point into the stack and are added here).
    pub auxv: &'a [(u64, u64)],
}

/// The bytes of the stack's used top, and where they go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackImage {
    /// The initial `rsp` (16-byte aligned, at `argc`); `bytes` go there.
    pub sp: u64,
    pub bytes: Vec<u8>,
}

/// Lays out `input` below `top` (exclusive; 16-byte aligned). `None` if it
/// does not fit in `limit` bytes (`E2BIG`).
pub fn build(top: u64, input: &StackInput, limit: u64) -> Option<StackImage> {
    // The strings and random bytes, top down, each string NUL-terminated.
    let mut cursor = top.checked_sub(8)?; // Linux leaves a null word at the very top.
    let mut place = |len: u64| -> Option<u64> {
        cursor = cursor.checked_sub(len)?;
        Some(cursor)
    };
    let execfn = place(input.execfn.len() as u64 + 1)?;
    let mut envp = Vec::with_capacity(input.envp.len());
    for s in input.envp.iter().rev() {
        envp.push(place(s.len() as u64 + 1)?);
    }
    envp.reverse();
    let mut argv = Vec::with_capacity(input.argv.len());
    for s in input.argv.iter().rev() {
        argv.push(place(s.len() as u64 + 1)?);
    }
    argv.reverse();
    let platform = place(PLATFORM.len() as u64 + 1)?;
    let random = place(16)?;
    let strings_bottom = cursor & !15;

    let mut auxv: Vec<(u64, u64)> = input.auxv.to_vec();
    auxv.push((at::PLATFORM, platform));
    auxv.push((at::RANDOM, random));
    auxv.push((at::EXECFN, execfn));
    auxv.push((at::NULL, 0));
    let words = 1 + argv.len() + 1 + envp.len() + 1 + 2 * auxv.len();
    let sp = strings_bottom.checked_sub(words as u64 * 8)? & !15;
    if top - sp > limit {
        return None;
    }

    let mut bytes = vec![0u8; usize::try_from(top - sp).ok()?];
    let mut put = |addr: u64, data: &[u8]| -> Option<()> {
        let at = usize::try_from(addr - sp).ok()?;
        bytes.get_mut(at..at + data.len())?.copy_from_slice(data);
        Some(())
    };
    put(execfn, input.execfn)?;
    for (addr, s) in envp.iter().zip(input.envp) {
        put(*addr, s)?;
    }
    for (addr, s) in argv.iter().zip(input.argv) {
        put(*addr, s)?;
    }
    put(platform, PLATFORM)?;
    put(random, &input.random)?;
    let mut word = sp;
    let mut push = |value: u64| -> Option<()> {
        put(word, &value.to_le_bytes())?;
        word += 8;
        Some(())
    };
    push(argv.len() as u64)?;
    for a in &argv {
        push(*a)?;
    }
    push(0)?;
    for e in &envp {
        push(*e)?;
    }
    push(0)?;
    for (key, value) in &auxv {
        push(*key)?;
        push(*value)?;
    }
    Some(StackImage { sp, bytes })
}
