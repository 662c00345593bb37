//! A Linux process's memory: `brk`, `mmap`, `munmap`, `mprotect`,
//! `mremap`, `madvise`, and the stack growing on faults. [`Memory`] is the
//! map the component keeps per process (the heap's end, the `mmap` areas,
//! how far the stack is mapped); the pages themselves are the kernel's
//! (`process_map`, `process_unmap`, `process_protect`).
//!
//! A shared anonymous mapping (`MAP_SHARED|MAP_ANONYMOUS`, readable, maybe
//! writable) is a memory object of its own, mapped with
//! `process_map_memory`: the kernel keeps it shared across `fork`
//! (`process_clone`), ends it at `munmap` of its whole range or at exit,
//! and frees its pages with the last mapping; the component keeps no
//! handle to it; so is a `MAP_SHARED` mapping of `/dev/zero`. Other
//! shared mappings (executable, `PROT_NONE`) are private pages, and file
//! mappings are private copies of the file's bytes: writes never reach
//! the file.

use alloc::collections::BTreeMap;
use alloc::vec;

use abide_abi::trap::{PROT_ALL, PROT_EXEC, PROT_READ, PROT_WRITE};
use abide_linux::errno::{EBADF, EEXIST, EINVAL, ENOMEM};
use abide_mm::{align_down, align_up, PAGE_SIZE};
use abide_rt::syscall;
use abide_unix::table::Pid;

use crate::call::{Call, Outcome};
use crate::files;
use crate::unix::Unix;

/// The top of the stack (exclusive): the highest page below the end of
/// user space is left unmapped.
pub const STACK_TOP: u64 = 0x7fff_ffff_e000;
/// How far the stack may grow (`RLIMIT_STACK`).
pub const STACK_RESERVE: u64 = 8 << 20;
/// How much of it is mapped at exec.
pub const STACK_INITIAL: u64 = 256 << 10;
/// Where `mmap` starts looking for room, downwards.
pub const MMAP_TOP: u64 = 0x7f00_0000_0000;
/// How many pages beyond the faulting one a stack fault maps.
const STACK_GROW_PAGES: u64 = 16;

/// `mmap` flags.
const MAP_SHARED: u64 = 0x01;
const MAP_PRIVATE: u64 = 0x02;
const MAP_FIXED: u64 = 0x10;
const MAP_ANONYMOUS: u64 = 0x20;
const MAP_FIXED_NOREPLACE: u64 = 0x10_0000;
/// `mremap` flags.
const MREMAP_MAYMOVE: u64 = 1;

/// One `mmap` area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Area {
    pub len: u64,
    pub prot: u64,
}

/// A process's memory map.
#[derive(Debug, Clone, Default)]
pub struct Memory {
    /// Where the heap starts (the first page after the program).
    pub brk_start: u64,
    /// The program break.
    pub brk: u64,
    /// The mmap areas, by start.
    pub areas: BTreeMap<u64, Area>,
    /// The lowest stack page mapped, and the lowest it may reach.
    pub stack_low: u64,
    pub stack_limit: u64,
}

impl Memory {
    /// The map of a fresh image whose heap starts at `brk_start`.
    pub fn new(brk_start: u64, stack_limit: u64) -> Memory {
        Memory {
            brk_start,
            brk: brk_start,
            areas: BTreeMap::new(),
            stack_low: STACK_TOP - STACK_INITIAL,
            stack_limit,
        }
    }

    /// Whether `[start, end)` is clear of every area and the heap.
    fn is_free(&self, start: u64, end: u64) -> bool {
        end <= self.stack_limit
            && start >= align_up(self.brk, PAGE_SIZE).unwrap_or(u64::MAX)
            && !self
                .areas
                .iter()
                .any(|(s, a)| *s < end && start < s + a.len)
    }

    /// The highest free range of `len` bytes below [`MMAP_TOP`].
    fn find_free(&self, len: u64) -> Option<u64> {
        let mut top = MMAP_TOP;
        for (start, area) in self.areas.range(..MMAP_TOP).rev() {
            let end = start + area.len;
            if end <= top.checked_sub(len)? {
                break;
            }
            top = top.min(*start);
        }
        let start = top.checked_sub(len)?;
        self.is_free(start, start + len).then_some(start)
    }

    /// Forgets `[start, end)` in the areas (splitting those it cuts).
    fn remove(&mut self, start: u64, end: u64) {
        let cut: alloc::vec::Vec<(u64, Area)> = self
            .areas
            .iter()
            .filter(|(s, a)| **s < end && start < **s + a.len)
            .map(|(s, a)| (*s, *a))
            .collect();
        for (s, a) in cut {
            self.areas.remove(&s);
            let e = s + a.len;
            if s < start {
                self.areas.insert(
                    s,
                    Area {
                        len: start - s,
                        prot: a.prot,
                    },
                );
            }
            if e > end {
                self.areas.insert(
                    end,
                    Area {
                        len: e - end,
                        prot: a.prot,
                    },
                );
            }
        }
    }
}

fn memory_mut(unix: &mut Unix, pid: Pid) -> Option<&mut Memory> {
    unix.kernel.get_mut(&pid).map(|k| &mut k.memory)
}

/// `brk(addr)`: moves the break; answers the break as it then is.
pub fn brk(c: &mut Call) -> Outcome {
    let want = c.arg(0);
    let Some(handle) = c.unix.handle(c.pid) else {
        return Outcome::err(EINVAL);
    };
    let Some(memory) = memory_mut(c.unix, c.pid) else {
        return Outcome::err(EINVAL);
    };
    let current = memory.brk;
    if want < memory.brk_start {
        return Outcome::Done(current as i64);
    }
    let (Some(old_end), Some(new_end)) = (align_up(current, PAGE_SIZE), align_up(want, PAGE_SIZE))
    else {
        return Outcome::Done(current as i64);
    };
    if new_end > old_end {
        let clear = new_end <= memory.stack_limit
            && !memory
                .areas
                .iter()
                .any(|(s, a)| *s < new_end && old_end < s + a.len);
        if !clear
            || syscall::process_map(handle, old_end, new_end - old_end, PROT_READ | PROT_WRITE)
                .is_err()
        {
            return Outcome::Done(current as i64);
        }
    } else if new_end < old_end {
        let _ = syscall::process_unmap(handle, new_end, old_end - new_end);
    }
    memory.brk = want;
    Outcome::Done(want as i64)
}

/// `mmap(addr, len, prot, flags, fd, offset)`.
pub fn mmap(c: &mut Call) -> Outcome {
    let (hint, len, prot, flags, fd, offset) = (
        c.arg(0),
        c.arg(1),
        c.arg(2),
        c.arg(3),
        c.arg(4) as i32,
        c.arg(5),
    );
    let Some(len) = align_up(len, PAGE_SIZE).filter(|l| *l != 0 && *l < (1 << 46)) else {
        return Outcome::err(if len == 0 { EINVAL } else { ENOMEM });
    };
    if flags & (MAP_SHARED | MAP_PRIVATE) == 0
        || !offset.is_multiple_of(PAGE_SIZE)
        || prot & !PROT_ALL != 0
    {
        return Outcome::err(EINVAL);
    }
    let fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0;
    let Some(handle) = c.unix.handle(c.pid) else {
        return Outcome::err(EINVAL);
    };
    // `/dev/zero` shared is shared anonymous memory, as on Linux.
    let anonymous = flags & MAP_ANONYMOUS != 0
        || (flags & MAP_SHARED != 0 && files::is_dev_zero(c.unix, c.pid, fd));
    // The file's bytes first, so a bad fd changes nothing.
    let data = if !anonymous {
        match files::read_for_mmap(c.unix, c.pid, fd, offset, len) {
            Ok(data) => Some(data),
            Err(errno) => return Outcome::err(errno),
        }
    } else {
        None
    };
    let Some(memory) = memory_mut(c.unix, c.pid) else {
        return Outcome::err(EINVAL);
    };
    let start = if fixed {
        if !hint.is_multiple_of(PAGE_SIZE) {
            return Outcome::err(EINVAL);
        }
        if flags & MAP_FIXED_NOREPLACE != 0 && !memory.is_free(hint, hint + len) {
            return Outcome::err(EEXIST);
        }
        hint
    } else if hint != 0
        && hint.is_multiple_of(PAGE_SIZE)
        && hint.checked_add(len).is_some()
        && memory.is_free(hint, hint + len)
    {
        hint
    } else {
        match memory.find_free(len) {
            Some(start) => start,
            None => return Outcome::err(ENOMEM),
        }
    };
    let first = if data.is_some() {
        PROT_READ | PROT_WRITE
    } else {
        prot
    };
    let shared = data.is_none() && flags & MAP_SHARED != 0 && prot != 0 && prot & PROT_EXEC == 0;
    let mapped = if shared {
        map_shared(handle, start, len, prot)
    } else {
        syscall::process_map(handle, start, len, first)
    };
    if mapped.is_err() {
        return Outcome::err(ENOMEM);
    }
    memory.remove(start, start + len);
    memory.areas.insert(start, Area { len, prot });
    if let Some(data) = data {
        if c.write(start, &data).is_err() {
            return Outcome::err(ENOMEM);
        }
        if prot != first && syscall::process_protect(handle, start, len, prot).is_err() {
            return Outcome::err(ENOMEM);
        }
    }
    Outcome::Done(start as i64)
}

/// Maps a new shared anonymous area of `len` bytes at `start` in the
/// process `handle` names (what was there is unmapped first, as
/// `MAP_FIXED` asks): a memory object of its own, whose handle is closed
/// once mapped (the mappings hold its pages). `prot` is readable (write
/// implies read) and never executable.
fn map_shared(
    handle: abide_abi::syscall::Handle,
    start: u64,
    len: u64,
    prot: u64,
) -> Result<(), abide_abi::syscall::Error> {
    let object = syscall::memory_create(len)?;
    let _ = syscall::process_unmap(handle, start, len);
    let mapped =
        syscall::process_map_memory(handle, object, start, PROT_READ | (prot & PROT_WRITE));
    let _ = syscall::handle_close(object);
    mapped
}

/// `munmap(addr, len)`.
pub fn munmap(c: &mut Call) -> Outcome {
    let (addr, len) = (c.arg(0), c.arg(1));
    let Some(len) = align_up(len, PAGE_SIZE).filter(|l| *l != 0) else {
        return Outcome::err(EINVAL);
    };
    if !addr.is_multiple_of(PAGE_SIZE) || addr.checked_add(len).is_none() {
        return Outcome::err(EINVAL);
    }
    let Some(handle) = c.unix.handle(c.pid) else {
        return Outcome::err(EINVAL);
    };
    let _ = syscall::process_unmap(handle, addr, len);
    if let Some(memory) = memory_mut(c.unix, c.pid) {
        memory.remove(addr, addr + len);
    }
    Outcome::Done(0)
}

/// `mprotect(addr, len, prot)`.
pub fn mprotect(c: &mut Call) -> Outcome {
    let (addr, len, prot) = (c.arg(0), c.arg(1), c.arg(2));
    if !addr.is_multiple_of(PAGE_SIZE) || prot & !PROT_ALL != 0 {
        return Outcome::err(EINVAL);
    }
    let Some(len) = align_up(len, PAGE_SIZE) else {
        return Outcome::err(ENOMEM);
    };
    if len == 0 {
        return Outcome::Done(0);
    }
    let Some(handle) = c.unix.handle(c.pid) else {
        return Outcome::err(EINVAL);
    };
    match syscall::process_protect(handle, addr, len, prot) {
        Ok(()) => Outcome::Done(0),
        Err(_) => Outcome::err(ENOMEM),
    }
}

/// `mremap(old, old_len, new_len, flags, new)`: shrinking in place, or
/// moving to a new area (`MREMAP_MAYMOVE`) by copying.
pub fn mremap(c: &mut Call) -> Outcome {
    let (old, old_len, new_len, flags) = (c.arg(0), c.arg(1), c.arg(2), c.arg(3));
    let (Some(old_len), Some(new_len)) =
        (align_up(old_len, PAGE_SIZE), align_up(new_len, PAGE_SIZE))
    else {
        return Outcome::err(EINVAL);
    };
    if !old.is_multiple_of(PAGE_SIZE) || new_len == 0 {
        return Outcome::err(EINVAL);
    }
    let Some(handle) = c.unix.handle(c.pid) else {
        return Outcome::err(EINVAL);
    };
    if new_len <= old_len {
        if new_len < old_len {
            let _ = syscall::process_unmap(handle, old + new_len, old_len - new_len);
            if let Some(memory) = memory_mut(c.unix, c.pid) {
                memory.remove(old + new_len, old + old_len);
            }
        }
        return Outcome::Done(old as i64);
    }
    if flags & MREMAP_MAYMOVE == 0 {
        return Outcome::err(ENOMEM);
    }
    let prot = c
        .unix
        .kernel
        .get(&c.pid)
        .and_then(|k| k.memory.areas.get(&old))
        .map_or(PROT_READ | PROT_WRITE, |a| a.prot);
    let Ok(bytes) = c.read(old, old_len as usize) else {
        return Outcome::err(abide_linux::errno::EFAULT);
    };
    let Some(memory) = memory_mut(c.unix, c.pid) else {
        return Outcome::err(EINVAL);
    };
    let Some(start) = memory.find_free(new_len) else {
        return Outcome::err(ENOMEM);
    };
    if syscall::process_map(handle, start, new_len, PROT_READ | PROT_WRITE).is_err() {
        return Outcome::err(ENOMEM);
    }
    memory.areas.insert(start, Area { len: new_len, prot });
    memory.remove(old, old + old_len);
    if c.write(start, &bytes).is_err() {
        return Outcome::err(ENOMEM);
    }
    let _ = syscall::process_protect(handle, start, new_len, prot);
    let _ = syscall::process_unmap(handle, old, old_len);
    Outcome::Done(start as i64)
}

/// `madvise`, `msync`, `mlock` and the like: accepted, nothing to do.
/// `MADV_DONTNEED` on private anonymous memory zeroes it, as Linux does.
pub fn madvise(c: &mut Call) -> Outcome {
    const MADV_DONTNEED: u64 = 4;
    if c.number() == abide_linux::syscalls::nr::MADVISE && c.arg(2) == MADV_DONTNEED {
        let (addr, len) = (c.arg(0), align_up(c.arg(1), PAGE_SIZE).unwrap_or(0));
        if addr.is_multiple_of(PAGE_SIZE) && len != 0 && len <= (64 << 20) {
            let _ = c.write(addr, &vec![0u8; len as usize]);
        }
    }
    Outcome::Done(0)
}

/// A page fault at `addr` in process `pid`: if it is in the stack's
/// reserve below what is mapped, map down to it (and a little more).
/// `Ok(true)` when the stack grew.
pub fn grow_stack(unix: &mut Unix, pid: Pid, addr: u64) -> Result<bool, i64> {
    let handle = unix.handle(pid).ok_or(EBADF)?;
    let memory = memory_mut(unix, pid).ok_or(EBADF)?;
    if addr >= memory.stack_low || addr < memory.stack_limit {
        return Ok(false);
    }
    let low = align_down(addr, PAGE_SIZE)
        .saturating_sub(STACK_GROW_PAGES * PAGE_SIZE)
        .max(memory.stack_limit);
    syscall::process_map(handle, low, memory.stack_low - low, PROT_READ | PROT_WRITE)
        .map_err(|_| ENOMEM)?;
    memory.stack_low = low;
    Ok(true)
}
