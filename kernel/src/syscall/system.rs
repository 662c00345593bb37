//! Calls about the system as a whole: the files the image carries, the
//! kernel's log (for the holder of `READ` on the hardware resource), its
//! memory, and the machine's power.

use abide_abi::object::{MemoryStats, POWER_OFF};
use abide_abi::record::Record;
use abide_abi::syscall::{Error, Rights};

use super::{copy_in, hardware_resource, Outcome};
use crate::arch::{power, probe};
use crate::object::Kernel;
use crate::{bundle, console, mm, serial};

/// The longest bundle name (`abide_bundle` allows 64 bytes).
const MAX_NAME: u64 = 64;
/// The most kernel log bytes one call copies.
const MAX_LOG_READ: u64 = 16 * 1024;

/// `bundle_read`: the whole length of the named file; its bytes when they fit.
pub fn bundle_read(name_ptr: u64, name_len: u64, buffer: u64, capacity: u64) -> Result<u64, Error> {
    let name = copy_in(name_ptr, name_len, MAX_NAME)?;
    let name = core::str::from_utf8(&name).map_err(|_| Error::InvalidArgument)?;
    let file = bundle::file(name).ok_or(Error::InvalidArgument)?;
    if capacity >= file.len() as u64 {
        probe::copy_to_user(buffer, file)?;
    }
    Ok(file.len() as u64)
}

/// `boot_args`: the whole length of the kernel command line; its bytes
/// when they fit.
pub fn boot_args(buffer: u64, capacity: u64) -> Result<u64, Error> {
    let cmdline = crate::boot_data::info().map_or("", |info| info.cmdline.as_str());
    if capacity >= cmdline.len() as u64 {
        probe::copy_to_user(buffer, cmdline.as_bytes())?;
    }
    Ok(cmdline.len() as u64)
}

/// `kernel_log_read`: with `READ` on the hardware resource (the log holds
/// every process's output), copies from `*cursor` and moves the cursor on.
pub fn kernel_log_read(
    kernel: &Kernel,
    cursor_ptr: u64,
    buffer: u64,
    capacity: u64,
    resource: u64,
) -> Result<u64, Error> {
    hardware_resource(kernel, resource, Rights::READ)?;
    let mut cursor = [0u8; 8];
    probe::copy_from_user(&mut cursor, cursor_ptr)?;
    let cursor = u64::from_le_bytes(cursor);
    let mut bytes = alloc::vec::Vec::new();
    let capacity = capacity.min(MAX_LOG_READ) as usize;
    bytes
        .try_reserve_exact(capacity)
        .map_err(|_| Error::NoMemory)?;
    bytes.resize(capacity, 0);
    let (start, count) = console::read_log(cursor, &mut bytes);
    bytes.truncate(count);
    probe::copy_to_user(buffer, &bytes)?;
    probe::copy_to_user(cursor_ptr, &(start + count as u64).to_le_bytes())?;
    Ok(count as u64)
}

/// `memory_stats`: the frame allocator's and the kernel heap's totals.
pub fn memory_stats(stats_ptr: u64) -> Result<u64, Error> {
    let (frames, heap) = mm::stats();
    let stats = MemoryStats {
        usable_bytes: frames.total_bytes,
        free_bytes: frames.free_bytes,
        heap_used_bytes: heap.allocated_bytes,
        heap_bytes: heap.claimed_bytes,
    };
    probe::copy_to_user(stats_ptr, stats.encode())?;
    Ok(MemoryStats::LEN as u64)
}

/// `machine_power`: with the hardware resource, power the machine off.
pub fn machine_power(kernel: &mut Kernel, resource: u64, action: u64) -> Outcome {
    if let Err(error) = hardware_resource(kernel, resource, Rights::MANAGE) {
        return Outcome::Return(Err(error));
    }
    if action != POWER_OFF {
        return Outcome::Return(Err(Error::InvalidArgument));
    }
    serial::flush();
    power::power_off()
}
