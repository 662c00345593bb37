//! Loading a program (a static ELF executable) into a new address space.
//!
//! Program images may come from user memory later, so nothing in them is
//! trusted: the ELF header's program-header table geometry is checked here
//! before `xmas-elf` reads it (that crate indexes slices without checks), and
//! every segment must lie in user space (which ends a page below 2^47, see
//! `mm::USER_END`), fit the file, not overlap another, and not be both
//! writable and executable (W^X).

use abide_mm::{align_down, align_up, PAGE_SIZE};
use xmas_elf::header::{Class, Machine, Type};
use xmas_elf::program::Type as SegmentType;
use xmas_elf::ElfFile;

use crate::mm::{AddressSpace, MapError, PageFlags, USER_END, USER_START};

/// Where the main thread's stack ends (exclusive), and its size. The page
/// below the stack stays unmapped as a guard.
pub const STACK_TOP: u64 = 0x0000_7fff_ffff_0000;
pub const STACK_PAGES: u64 = 16;

const ELF64_PROGRAM_HEADER_SIZE: u16 = 56;

/// Why a program could not be loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadError {
    /// Not a 64-bit x86_64 executable, or a malformed header.
    NotAnExecutable(&'static str),
    /// A segment overlaps another or exceeds the file.
    BadSegment,
    /// A segment starts below `USER_START` or reaches past `USER_END` (the
    /// last page below 2^47 is never user memory).
    OutsideUserSpace { start: u64, end: u64 },
    /// A segment is both writable and executable (the kernel keeps W^X).
    WritableAndExecutable { start: u64 },
    /// Memory ran out.
    Map(MapError),
}

impl core::fmt::Display for LoadError {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        match self {
            LoadError::NotAnExecutable(why) => write!(f, "not a static x86_64 executable: {why}"),
            LoadError::BadSegment => {
                write!(f, "a segment overlaps another or exceeds the file")
            }
            LoadError::OutsideUserSpace { start, end } => write!(
                f,
                "a segment lies outside user space ({start:#x}..{end:#x}; user space is \
                 {USER_START:#x}..{USER_END:#x})"
            ),
            LoadError::WritableAndExecutable { start } => write!(
                f,
                "a segment is both writable and executable (at {start:#x}): W^X"
            ),
            LoadError::Map(error) => write!(f, "mapping the program: {error}"),
        }
    }
}

impl From<MapError> for LoadError {
    fn from(error: MapError) -> Self {
        LoadError::Map(error)
    }
}

/// A loaded program: its address space and where its main thread starts.
pub struct LoadedProgram {
    pub space: AddressSpace,
    pub entry: u64,
    pub stack_top: u64,
}

/// Checks what `xmas-elf` would otherwise trust.
fn check_header_geometry(image: &[u8]) -> Result<(), LoadError> {
    if !(image.as_ptr() as usize).is_multiple_of(8) {
        return Err(LoadError::NotAnExecutable("image is not 8-byte aligned"));
    }
    let elf = ElfFile::new(image).map_err(LoadError::NotAnExecutable)?;
    if elf.header.pt1.class() != Class::SixtyFour {
        return Err(LoadError::NotAnExecutable("not a 64-bit ELF"));
    }
    let pt2 = &elf.header.pt2;
    if pt2.ph_entry_size() != ELF64_PROGRAM_HEADER_SIZE {
        return Err(LoadError::NotAnExecutable("unexpected program header size"));
    }
    let table_end = (pt2.ph_count() as u64)
        .checked_mul(ELF64_PROGRAM_HEADER_SIZE as u64)
        .and_then(|len| len.checked_add(pt2.ph_offset()));
    match table_end {
        Some(end) if end <= image.len() as u64 && pt2.ph_offset() % 8 == 0 => Ok(()),
        _ => Err(LoadError::NotAnExecutable(
            "program header table outside the file",
        )),
    }
}

/// Loads `image` into a fresh address space.
pub fn load(image: &[u8]) -> Result<LoadedProgram, LoadError> {
    check_header_geometry(image)?;
    let elf = ElfFile::new(image).map_err(LoadError::NotAnExecutable)?;
    let pt2 = &elf.header.pt2;
    if pt2.machine().as_machine() != Machine::X86_64 || pt2.type_().as_type() != Type::Executable {
        return Err(LoadError::NotAnExecutable(
            "not a static x86_64 executable (ET_EXEC)",
        ));
    }
    let mut space = AddressSpace::new()?;
    let mut loaded: heapless::Vec<(u64, u64), 16> = heapless::Vec::new();
    for segment in elf.program_iter() {
        if segment.get_type() != Ok(SegmentType::Load) || segment.mem_size() == 0 {
            continue;
        }
        let (virt, mem_size, file_size, offset) = (
            segment.virtual_addr(),
            segment.mem_size(),
            segment.file_size(),
            segment.offset(),
        );
        let file_end = offset.checked_add(file_size).ok_or(LoadError::BadSegment)?;
        let mem_end = virt.checked_add(mem_size).ok_or(LoadError::BadSegment)?;
        if virt < USER_START || mem_end > USER_END {
            return Err(LoadError::OutsideUserSpace {
                start: virt,
                end: mem_end,
            });
        }
        if file_size > mem_size || file_end > image.len() as u64 {
            return Err(LoadError::BadSegment);
        }
        if segment.flags().is_write() && segment.flags().is_execute() {
            return Err(LoadError::WritableAndExecutable { start: virt });
        }
        let first = align_down(virt, PAGE_SIZE);
        let last = align_up(mem_end, PAGE_SIZE).ok_or(LoadError::BadSegment)?;
        if loaded
            .iter()
            .any(|&(start, end)| first < end && start < last)
        {
            return Err(LoadError::BadSegment);
        }
        loaded
            .push((first, last))
            .map_err(|_| LoadError::NotAnExecutable("too many segments"))?;
        let mut flags = PageFlags::empty();
        if segment.flags().is_write() {
            flags |= PageFlags::WRITABLE;
        }
        if !segment.flags().is_execute() {
            flags |= PageFlags::NO_EXECUTE;
        }
        space.map_zeroed(first, (last - first) / PAGE_SIZE, flags)?;
        let bytes = image
            .get(offset as usize..file_end as usize)
            .ok_or(LoadError::BadSegment)?;
        space.write(virt, bytes)?;
    }
    if loaded.is_empty() {
        return Err(LoadError::NotAnExecutable("no loadable segment"));
    }
    let entry = pt2.entry_point();
    if !loaded
        .iter()
        .any(|&(start, end)| (start..end).contains(&entry))
    {
        return Err(LoadError::NotAnExecutable(
            "entry point outside the program",
        ));
    }
    let stack_bottom = STACK_TOP - STACK_PAGES * PAGE_SIZE;
    space.map_zeroed(
        stack_bottom,
        STACK_PAGES,
        PageFlags::WRITABLE | PageFlags::NO_EXECUTE,
    )?;
    Ok(LoadedProgram {
        space,
        entry,
        stack_top: STACK_TOP,
    })
}

/// The pages `image` asks for (every loadable segment, rounded out to whole
/// pages, and the stack), read from its headers before anything is
/// allocated: the memory limit is checked against it first, so an image
/// too large for it is refused without being loaded (the page tables come
/// on top and are checked once loaded). Segments that would not load are
/// left to [`load`].
pub fn pages_needed(image: &[u8]) -> Result<u64, LoadError> {
    check_header_geometry(image)?;
    let elf = ElfFile::new(image).map_err(LoadError::NotAnExecutable)?;
    let mut pages = STACK_PAGES;
    for segment in elf.program_iter() {
        if segment.get_type() != Ok(SegmentType::Load) || segment.mem_size() == 0 {
            continue;
        }
        let virt = segment.virtual_addr();
        let end = virt
            .checked_add(segment.mem_size())
            .and_then(|end| align_up(end, PAGE_SIZE))
            .ok_or(LoadError::BadSegment)?;
        let span = (end - align_down(virt, PAGE_SIZE)) / PAGE_SIZE;
        pages = pages.saturating_add(span);
    }
    Ok(pages)
}
