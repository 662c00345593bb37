//! Planning the image of an `execve`: from a static ELF file's bytes, the
//! segments to map and what the auxiliary vector says about them.
//!
//! Nothing in the file is trusted: every offset and size is checked against
//! the file and user space, and a bad file is `ENOEXEC`. Non-PIE
//! executables (`ET_EXEC`) load where they say; static-PIE ones (`ET_DYN`
//! without `PT_INTERP`) at [`PIE_BASE`]. Programs that need a dynamic
//! loader (`PT_INTERP`) are refused: the personality runs static programs.

use alloc::vec::Vec;

use abide_mm::{align_down, align_up, PAGE_SIZE};

/// Where a static-PIE program is loaded (Linux's `ELF_ET_DYN_BASE` region).
pub const PIE_BASE: u64 = 0x5555_5555_4000;

/// The end of the part of user space programs may use (exclusive).
pub const USER_END: u64 = 0x0000_7fff_ffff_f000;

/// The lowest address a segment may start at (the zero page stays out).
pub const USER_START: u64 = 0x1_0000;

/// Protection bits of a segment (`PF_X`, `PF_W`, `PF_R` in ELF).
pub const PF_X: u32 = 1;
pub const PF_W: u32 = 2;
pub const PF_R: u32 = 4;

const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
const PT_PHDR: u32 = 6;
const ET_EXEC: u16 = 2;
const ET_DYN: u16 = 3;
const EM_X86_64: u16 = 62;
const PHDR_SIZE: u64 = 56;

/// One `PT_LOAD` segment, already moved by the load base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Where its bytes go (not page-aligned in general).
    pub vaddr: u64,
    /// How many bytes it spans in memory (the rest after `filesz` is zero).
    pub memsz: u64,
    /// Where its bytes are in the file, and how many.
    pub offset: u64,
    pub filesz: u64,
    /// `PF_R | PF_W | PF_X`.
    pub flags: u32,
}

impl Segment {
    /// The page-aligned range it occupies.
    pub fn pages(&self) -> (u64, u64) {
        let start = align_down(self.vaddr, PAGE_SIZE);
        let end = align_up(self.vaddr + self.memsz, PAGE_SIZE).unwrap_or(USER_END);
        (start, end)
    }
}

/// What loading a file takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub segments: Vec<Segment>,
    /// The entry point (moved by the base).
    pub entry: u64,
    /// Where the program headers are in memory (`AT_PHDR`), their size and
    /// count (`AT_PHENT`, `AT_PHNUM`).
    pub phdr: u64,
    pub phent: u64,
    pub phnum: u64,
    /// The load base (0 for `ET_EXEC`): `AT_BASE` stays 0 either way, as
    /// no interpreter is loaded.
    pub base: u64,
    /// The first page after the highest segment: where `brk` starts.
    pub end: u64,
}

/// Why a file cannot be executed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElfError {
    /// Not an x86_64 ELF executable, or malformed (`ENOEXEC`).
    NotExecutable,
    /// It needs a dynamic loader (`PT_INTERP`); only static programs run.
    Dynamic,
}

fn u16_at(bytes: &[u8], at: u64) -> Option<u16> {
    let at = usize::try_from(at).ok()?;
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([
        b.first().copied()?,
        b.get(1).copied()?,
    ]))
}

fn u32_at(bytes: &[u8], at: u64) -> Option<u32> {
    let at = usize::try_from(at).ok()?;
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(b))
}

fn u64_at(bytes: &[u8], at: u64) -> Option<u64> {
    let at = usize::try_from(at).ok()?;
    let b: [u8; 8] = bytes.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(b))
}

/// Whether `bytes` start like an ELF file (so a failure is `ENOEXEC`, not
/// a script to try).
pub fn is_elf(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x7fELF")
}

/// The plan to load the ELF file `bytes`.
pub fn plan(bytes: &[u8]) -> Result<Plan, ElfError> {
    plan_inner(bytes).unwrap_or(Err(ElfError::NotExecutable))
}

fn plan_inner(bytes: &[u8]) -> Option<Result<Plan, ElfError>> {
    let bad = Some(Err(ElfError::NotExecutable));
    // Magic, 64-bit, little-endian.
    if !is_elf(bytes) || bytes.get(4) != Some(&2) || bytes.get(5) != Some(&1) {
        return bad;
    }
    let kind = u16_at(bytes, 16)?;
    if u16_at(bytes, 18)? != EM_X86_64 || (kind != ET_EXEC && kind != ET_DYN) {
        return bad;
    }
    let entry = u64_at(bytes, 24)?;
    let phoff = u64_at(bytes, 32)?;
    let phent = u64::from(u16_at(bytes, 54)?);
    let phnum = u64::from(u16_at(bytes, 56)?);
    if phent != PHDR_SIZE || phnum == 0 {
        return bad;
    }
    let table_end = phoff.checked_add(phnum.checked_mul(PHDR_SIZE)?)?;
    if table_end > bytes.len() as u64 {
        return bad;
    }
    let base = if kind == ET_DYN { PIE_BASE } else { 0 };
    let mut segments = Vec::new();
    let mut phdr = None;
    for i in 0..phnum {
        let at = phoff + i * PHDR_SIZE;
        let p_type = u32_at(bytes, at)?;
        let flags = u32_at(bytes, at + 4)?;
        let offset = u64_at(bytes, at + 8)?;
        let vaddr = u64_at(bytes, at + 16)?.checked_add(base)?;
        let filesz = u64_at(bytes, at + 32)?;
        let memsz = u64_at(bytes, at + 40)?;
        match p_type {
            PT_INTERP => return Some(Err(ElfError::Dynamic)),
            PT_PHDR => phdr = Some(vaddr),
            PT_LOAD => {
                let file_end = offset.checked_add(filesz)?;
                let mem_end = vaddr.checked_add(memsz)?;
                if filesz > memsz
                    || file_end > bytes.len() as u64
                    || vaddr < USER_START
                    || mem_end > USER_END
                    || vaddr % PAGE_SIZE != offset % PAGE_SIZE
                {
                    return bad;
                }
                segments.push(Segment {
                    vaddr,
                    memsz,
                    offset,
                    filesz,
                    flags,
                });
            }
            _ => {}
        }
    }
    segments.sort_by_key(|s| s.vaddr);
    if segments.is_empty()
        || segments
            .windows(2)
            .any(|w| matches!(w, [a, b] if a.vaddr + a.memsz > b.vaddr))
    {
        return bad;
    }
    // Without PT_PHDR: the table is where the segment holding file offset
    // `phoff` puts it.
    let phdr = match phdr {
        Some(addr) => addr,
        None => segments
            .iter()
            .find(|s| s.offset <= phoff && table_end <= s.offset + s.filesz)
            .map(|s| s.vaddr + (phoff - s.offset))?,
    };
    let end = segments.iter().map(|s| s.pages().1).max()?;
    Some(Ok(Plan {
        segments,
        entry: entry.checked_add(base)?,
        phdr,
        phent,
        phnum,
        base,
        end,
    }))
}
