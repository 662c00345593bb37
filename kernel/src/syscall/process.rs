//! `exit`, `process_spawn`, `process_kill`, `process_status`, and the
//! checks every new child passes (`process_create` too).

use alloc::string::String;

use abide_abi::object::{
    HandleInfo, ObjectKind, SpawnOptions, INHERIT_PRIORITY, KILL, KILL_AS_FAULT,
    MAX_MESSAGE_HANDLES, SPAWN_PERSISTENT,
};
use abide_abi::record::Record;
use abide_abi::syscall::{Error, Rights};
use abide_objects::budget;
use abide_objects::caps::TableId;

use super::{caller_table, copy_handles_in, copy_in, handle_arg, hardware_resource, Outcome};
use crate::arch::probe;
use crate::bundle;
use crate::object::{self, account, process, Kernel, Object, ObjectId};
use crate::process::{ExitReason, Limits, SpawnError, Startup};

/// The longest program name.
const MAX_NAME: u64 = abide_abi::object::MAX_PROCESS_NAME as u64;

/// The largest ELF image `process_spawn` copies out of a memory object.
const MAX_IMAGE: u64 = 16 << 20;

pub fn exit(kernel: &mut Kernel, code: u64) -> Outcome {
    if let Some(process) = process::current_process(kernel) {
        // The ABI passes an `i32` in the low bits.
        process::end_process(kernel, process, ExitReason::Exited(code as i32));
    }
    Outcome::Ended
}

/// A child process the caller may start, as `process_spawn` and
/// `process_create` check it before anything is allocated.
pub struct NewChild {
    /// The caller's handle table and process.
    pub table: TableId,
    pub parent: ObjectId,
    pub name: String,
    pub limits: Limits,
    /// Pages set aside from the parent's budget (see [`child_limits`]).
    pub reserve: u64,
    /// The options' flags (`SPAWN_PERSISTENT`).
    pub flags: u8,
}

/// The checks every new child passes, in this order: the authority named
/// in the options at `options_ptr` (`SPAWN` on the hardware resource; without
/// it nothing else is looked at), the limits, and the name.
pub fn check_new_child(
    kernel: &Kernel,
    name_ptr: u64,
    name_len: u64,
    options_ptr: u64,
) -> Result<NewChild, Error> {
    let table = caller_table(kernel)?;
    let parent = process::current_process(kernel).ok_or(Error::BadHandle)?;
    let options = read_options(options_ptr)?;
    hardware_resource(kernel, u64::from(options.authority), Rights::SPAWN)?;
    let (limits, reserve) = child_limits(kernel, parent, &options)?;
    let name = String::from_utf8(copy_in(name_ptr, name_len, MAX_NAME)?)
        .map_err(|_| Error::InvalidArgument)?;
    // The kernel prints the name in its own lines ("process 3 (name)
    // exited"): a line break in it would forge a kernel line.
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(Error::InvalidArgument);
    }
    Ok(NewChild {
        table,
        parent,
        name,
        limits,
        reserve,
        flags: options.flags,
    })
}

/// Child `child` exists (its budget was charged to the parent): it gets its
/// place in the parent's budget and persistence, and the parent a handle to
/// it with every right. Returns that handle.
pub fn adopt_child(kernel: &mut Kernel, child: ObjectId, new: &NewChild) -> Result<u64, Error> {
    if let Some(process) = kernel.objects.process_mut(child) {
        process.persistent = new.flags & SPAWN_PERSISTENT != 0;
        process.account.parent = new.parent;
        process.account.reserved = new.reserve;
    }
    log::info!("started process {child} ({})", new.name);
    match kernel.new_handle(new.table, child, Rights::ALL) {
        Ok(handle) => Ok(u64::from(handle.0)),
        Err(error) => {
            // Room was checked; should it still fail, the child must not
            // run on with nobody able to reach it.
            process::end_process(kernel, child, ExitReason::Killed);
            object::remove_if_unreferenced(kernel, child);
            Err(error)
        }
    }
}

/// `process_spawn(image, name, name_len, handles, count, options)`.
pub fn spawn(kernel: &mut Kernel, args: [u64; 6]) -> Result<u64, Error> {
    let [image, name_ptr, name_len, handles_ptr, count, options_ptr] = args;
    let new = check_new_child(kernel, name_ptr, name_len, options_ptr)?;
    let (table, parent, limits, reserve) = (new.table, new.parent, new.limits, new.reserve);
    let name = new.name.as_str();
    let handles = copy_handles_in(handles_ptr, count, MAX_MESSAGE_HANDLES as u64)?;
    // The child's table must hold its own handle and every startup handle.
    if handles.len() + 1 > limits.handle_quota {
        return Err(Error::InvalidArgument);
    }
    kernel.caps.check_room(table, 1)?;
    let from_memory;
    let image: &[u8] = if image == 0 {
        bundle::programs()
            .get(name)
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
    // The child's budget comes out of the parent's: set aside now, given
    // back (less what outlives the child) when it ends.
    account::charge_pages(kernel, parent, reserve)?;
    let transit = match kernel.caps.take_for_transfer(table, &handles, None) {
        Ok(transit) => transit,
        Err(error) => {
            account::uncharge_pages(kernel, parent, reserve);
            return Err(error);
        }
    };
    let child = match process::spawn(kernel, name, image, limits, Startup::Handles(transit)) {
        Ok(child) => child,
        Err((error, transit)) => {
            if let Some(transit) = transit {
                // Back where they came from: the table had room for them.
                if let Err((_, transit)) = kernel.caps.install(table, transit) {
                    let orphans = kernel.caps.discard(transit);
                    object::release(kernel, orphans);
                }
            }
            account::uncharge_pages(kernel, parent, reserve);
            log::debug!("process_spawn of {name:?} failed: {error}");
            return Err(match error {
                SpawnError::Load(_) => Error::InvalidArgument,
                SpawnError::Handles(error) => error,
                SpawnError::OverMemoryLimit { .. } | SpawnError::IdsExhausted => Error::NoMemory,
            });
        }
    };
    adopt_child(kernel, child, &new)
}

/// The options at `options_ptr` (0: the defaults, which name no authority).
fn read_options(options_ptr: u64) -> Result<SpawnOptions, Error> {
    if options_ptr == 0 {
        return Ok(SpawnOptions::default());
    }
    let bytes = copy_in(
        options_ptr,
        SpawnOptions::LEN as u64,
        SpawnOptions::LEN as u64,
    )?;
    // Every byte pattern of the right length is a `SpawnOptions`.
    SpawnOptions::decode(&bytes).ok_or(Error::InvalidArgument)
}

/// The limits for a child of `parent` from `options`, never more than the
/// parent's, and the pages to set aside from the parent's budget for it: a
/// parent with a memory limit gives its child part of what it has left
/// (a limit of 0: all of it); one without a limit sets nothing aside.
fn child_limits(
    kernel: &Kernel,
    parent: ObjectId,
    options: &SpawnOptions,
) -> Result<(Limits, u64), Error> {
    let process = kernel.objects.process(parent).ok_or(Error::BadHandle)?;
    let own = process.limits;
    let priority = match options.priority {
        INHERIT_PRIORITY => own.priority,
        priority if priority <= own.priority => priority,
        _ => return Err(Error::InvalidArgument),
    };
    let handle_quota = match options.handle_quota as usize {
        0 => own.handle_quota,
        quota if quota <= own.handle_quota => quota,
        _ => return Err(Error::InvalidArgument),
    };
    if options.flags & !SPAWN_PERSISTENT != 0 {
        return Err(Error::InvalidArgument);
    }
    let (memory_pages, reserve) = budget::child_budget(
        own.memory_pages,
        process.charged_pages(),
        options.memory_pages,
    )?;
    Ok((
        Limits {
            priority,
            memory_pages,
            handle_quota,
        },
        reserve,
    ))
}

pub fn kill(kernel: &mut Kernel, handle: u64, how: u64) -> Outcome {
    let reason = match how {
        KILL => ExitReason::Killed,
        KILL_AS_FAULT => ExitReason::InjectedFault,
        _ => return Outcome::Return(Err(Error::InvalidArgument)),
    };
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
    process::end_process(kernel, target, reason);
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
    let report = process.report(kernel.caps.handle_count(process.table));
    probe::copy_to_user(status_ptr, report.encode())?;
    Ok(0)
}

/// The most handles `process_handles` describes in one call.
const MAX_HANDLE_INFOS: u64 = 4096;

/// `process_handles`: what the process's handle table holds.
pub fn handles(kernel: &mut Kernel, handle: u64, buffer: u64, capacity: u64) -> Result<u64, Error> {
    let table = caller_table(kernel)?;
    let id = kernel.object_of(table, handle_arg(handle)?, Rights::READ)?;
    let target = kernel.objects.process(id).ok_or(Error::WrongType)?.table;
    let capacity = capacity.min(MAX_HANDLE_INFOS) as usize;
    let mut bytes = alloc::vec::Vec::new();
    let mut count = 0u64;
    for (handle, cap) in kernel.caps.handles(target) {
        if count < capacity as u64 {
            let info = HandleInfo {
                handle: handle.0,
                kind: kind_of(kernel.objects.get(cap.object)),
                rights: cap.rights.0,
                reserved: [0; 4],
                badge: cap.badge,
                object: cap.object,
            };
            bytes
                .try_reserve(HandleInfo::LEN)
                .map_err(|_| Error::NoMemory)?;
            bytes.extend_from_slice(info.encode());
        }
        count += 1;
    }
    probe::copy_to_user(buffer, &bytes)?;
    Ok(count)
}

/// The ABI's name for the kind of `object`.
fn kind_of(object: Option<&Object>) -> ObjectKind {
    match object {
        Some(Object::Process(_)) => ObjectKind::Process,
        Some(Object::Thread(_)) => ObjectKind::Thread,
        Some(Object::Channel(_)) => ObjectKind::Channel,
        Some(Object::Port(_)) => ObjectKind::Port,
        Some(Object::Memory(_)) => ObjectKind::Memory,
        Some(Object::Timer(_)) => ObjectKind::Timer,
        Some(Object::Interrupt(_)) => ObjectKind::Interrupt,
        Some(Object::IoPorts(_)) => ObjectKind::IoPorts,
        Some(Object::HardwareResource) => ObjectKind::HardwareResource,
        None => ObjectKind::Unknown,
    }
}
