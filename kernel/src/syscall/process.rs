//! `exit`, `process_spawn`, `process_kill`, `process_status`.

use alloc::string::String;

use abide_abi::object::MAX_MESSAGE_HANDLES;
use abide_abi::syscall::{Error, Rights};

use super::{caller_table, copy_handles_in, copy_in, handle_arg, Outcome};
use crate::arch::probe;
use crate::bundle;
use crate::object::{self, Kernel, Object};
use crate::process::{self, ExitReason, Startup};

/// The longest program name.
const MAX_NAME: u64 = 64;

/// The largest ELF image `process_spawn` copies out of a memory object.
const MAX_IMAGE: u64 = 16 << 20;

pub fn exit(kernel: &mut Kernel, code: u64) -> Outcome {
    if let Some(process) = process::current_process(kernel) {
        // The ABI passes an `i32` in the low bits.
        process::end_process(kernel, process, ExitReason::Exited(code as i32));
    }
    Outcome::Ended
}

pub fn spawn(
    kernel: &mut Kernel,
    image: u64,
    name_ptr: u64,
    name_len: u64,
    handles_ptr: u64,
    count: u64,
) -> Result<u64, Error> {
    let table = caller_table(kernel)?;
    let name = String::from_utf8(copy_in(name_ptr, name_len, MAX_NAME)?)
        .map_err(|_| Error::InvalidArgument)?;
    if name.is_empty() {
        return Err(Error::InvalidArgument);
    }
    let handles = copy_handles_in(handles_ptr, count, MAX_MESSAGE_HANDLES as u64)?;
    kernel.caps.check_room(table, 1)?;
    let from_memory;
    let image: &[u8] = if image == 0 {
        bundle::programs()
            .get(&name)
            .ok_or(Error::InvalidArgument)?
    } else {
        let id = kernel.object_of(table, handle_arg(image)?, Rights::READ)?;
        let Some(Object::Memory(memory)) = kernel.objects.get(id) else {
            return Err(Error::WrongType);
        };
        if memory.pages.len() > MAX_IMAGE || !crate::mm::user_memory_available(memory.pages.len()) {
            return Err(Error::NoMemory);
        }
        from_memory = memory.pages.read_all().ok_or(Error::WrongType)?;
        &from_memory
    };
    let transit = kernel.caps.take_for_transfer(table, &handles, None)?;
    let priority = abide_sched::DEFAULT_PRIORITY;
    let child = match process::spawn(kernel, &name, image, priority, Startup::Handles(transit)) {
        Ok(child) => child,
        Err((error, transit)) => {
            if let Some(transit) = transit {
                // Back where they came from: the table had room for them.
                if let Err((_, transit)) = kernel.caps.install(table, transit) {
                    let orphans = kernel.caps.discard(transit);
                    object::release(kernel, orphans);
                }
            }
            log::debug!("process_spawn of {name:?} failed: {error}");
            return Err(match error {
                process::SpawnError::Load(_) => Error::InvalidArgument,
                process::SpawnError::Handles(error) => error,
            });
        }
    };
    log::info!("started process {child} ({name})");
    let handle = kernel.new_handle(table, child, Rights::ALL)?;
    Ok(u64::from(handle.0))
}

pub fn kill(kernel: &mut Kernel, handle: u64) -> Outcome {
    let target = caller_table(kernel)
        .and_then(|table| kernel.object_of(table, handle_arg(handle)?, Rights::MANAGE));
    let target = match target {
        Ok(target) => target,
        Err(error) => return Outcome::Return(Err(error)),
    };
    if kernel.objects.process(target).is_none() {
        return Outcome::Return(Err(Error::WrongType));
    }
    let suicide = process::current_process(kernel) == Some(target);
    process::end_process(kernel, target, ExitReason::Killed);
    if suicide {
        Outcome::Ended
    } else {
        Outcome::Return(Ok(0))
    }
}

pub fn status(kernel: &mut Kernel, handle: u64, status_ptr: u64) -> Result<u64, Error> {
    let table = caller_table(kernel)?;
    let id = kernel.object_of(table, handle_arg(handle)?, Rights::READ)?;
    let process = kernel.objects.process(id).ok_or(Error::WrongType)?;
    probe::copy_to_user(status_ptr, &process.status.encode())?;
    Ok(0)
}
