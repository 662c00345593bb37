//! `port_create`, `port_bind`, `port_wait`, `timer_create`, `timer_set`:
//! waiting, and the clock objects that end waits.

use abide_abi::object::{Packet, Signals};
use abide_abi::record::Record;
use abide_abi::syscall::{Error, Rights};

use super::{caller_table, handle_arg, Outcome};
use crate::arch::probe;
use crate::object::account;
use crate::object::{self, timer, Kernel, Object, Port, Timer};
use crate::time;

pub fn create(kernel: &mut Kernel) -> Result<u64, Error> {
    let table = caller_table(kernel)?;
    let (_, handle) = kernel.create(table, Object::Port(Port::default()), Rights::ALL)?;
    Ok(u64::from(handle.0))
}

pub fn bind(
    kernel: &mut Kernel,
    port: u64,
    handle: u64,
    key: u64,
    signals: u64,
) -> Result<u64, Error> {
    let table = caller_table(kernel)?;
    let port_id = kernel.object_of(table, handle_arg(port)?, Rights::WRITE)?;
    let object = kernel.object_of(table, handle_arg(handle)?, Rights::WAIT)?;
    let signals = u32::try_from(signals)
        .map(Signals)
        .map_err(|_| Error::InvalidArgument)?;
    let owner = crate::object::process::current_process(kernel).ok_or(Error::BadHandle)?;
    object::port::bind(kernel, owner, port_id, object, key, signals)?;
    Ok(0)
}

/// Takes a packet, or parks the caller until one comes or the deadline
/// passes. A parked caller issues the call again when woken, so this
/// function is all a wait ever is: nothing is lost if it is interrupted.
pub fn wait(kernel: &mut Kernel, port: u64, packet_ptr: u64, deadline: u64) -> Outcome {
    let result = (|| {
        let table = caller_table(kernel)?;
        let port_id = kernel.object_of(table, handle_arg(port)?, Rights::READ)?;
        let port = kernel.objects.port_mut(port_id).ok_or(Error::WrongType)?;
        if let Some(packet) = port.front() {
            probe::copy_to_user(packet_ptr, packet.encode())?;
            if let Some((_, charge)) = port.pop() {
                account::uncharge_bytes(kernel, charge);
            }
            return Ok(None);
        }
        // Prove the packet buffer good now rather than after the wait.
        probe::copy_to_user(packet_ptr, &[0u8; Packet::LEN])?;
        if deadline == 0 || time::now_ns() >= deadline {
            return Err(Error::TimedOut);
        }
        if let Some(thread) = kernel.sched.current {
            port.add_waiter(thread);
        }
        Ok(Some(deadline))
    })();
    match result {
        Ok(None) => Outcome::Return(Ok(0)),
        Ok(Some(deadline)) => Outcome::Block { deadline },
        Err(error) => Outcome::Return(Err(error)),
    }
}

pub fn timer_create(kernel: &mut Kernel) -> Result<u64, Error> {
    let table = caller_table(kernel)?;
    let (_, handle) = kernel.create(table, Object::Timer(Timer::default()), Rights::ALL)?;
    Ok(u64::from(handle.0))
}

pub fn timer_set(kernel: &mut Kernel, handle: u64, deadline: u64) -> Result<u64, Error> {
    let table = caller_table(kernel)?;
    let id = kernel.object_of(table, handle_arg(handle)?, Rights::WRITE)?;
    if !matches!(kernel.objects.get(id), Some(Object::Timer(_))) {
        return Err(Error::WrongType);
    }
    timer::set(kernel, id, deadline, time::now_ns());
    Ok(0)
}
