//! `persist(op, arg, resource)`: checkpoints on demand, output commit,
//! the engine's status, and its period.

use abide_abi::persist::{PersistStatus, SET_PERIOD, SNAPSHOT, STATUS, SYNC};
use abide_abi::syscall::{Error, Rights};

use super::{caller_table, handle_arg, set_result, Outcome};
use crate::arch::context::FpuState;
use crate::arch::idt::TrapFrame;
use crate::arch::probe;
use crate::object::{Kernel, Object};
use crate::persist::{self, CheckpointError};

/// Longest period `SET_PERIOD` accepts (one hour, like the configuration).
const MAX_PERIOD_MS: u64 = 3_600_000;

pub fn call(kernel: &mut Kernel, frame: &mut TrapFrame, fpu: &FpuState, a: [u64; 6]) -> Outcome {
    let [op, arg, resource, ..] = a;
    match op {
        SNAPSHOT | SYNC => Outcome::Return(checkpoint_now(kernel, frame, fpu)),
        STATUS => {
            let status = persist::status();
            Outcome::Return(
                probe::copy_to_user(arg, &status.encode()).map(|()| PersistStatus::LEN as u64),
            )
        }
        SET_PERIOD => Outcome::Return(set_period(kernel, arg, resource)),
        _ => Outcome::Return(Err(Error::InvalidArgument)),
    }
}

/// Takes a checkpoint in which the caller's call has already returned the
/// new generation's number: resumed from it, the caller sees the same
/// success it sees now (everything it did before is in that generation).
fn checkpoint_now(
    kernel: &mut Kernel,
    frame: &mut TrapFrame,
    fpu: &FpuState,
) -> Result<u64, Error> {
    let next = persist::next_generation().ok_or(Error::Unavailable)?;
    set_result(frame, Ok(next));
    let running = kernel.current.map(|id| (id, &*frame, fpu));
    match persist::checkpoint(kernel, running) {
        Ok(generation) => Ok(generation),
        Err(CheckpointError::NoStore) => Err(Error::Unavailable),
        Err(CheckpointError::Store) => Err(Error::Unavailable),
    }
}

fn set_period(kernel: &mut Kernel, period_ms: u64, resource: u64) -> Result<u64, Error> {
    let table = caller_table(kernel)?;
    let id = kernel.object_of(table, handle_arg(resource)?, Rights::MANAGE)?;
    if !matches!(kernel.objects.get(id), Some(Object::HardwareResource)) {
        return Err(Error::WrongType);
    }
    if period_ms > MAX_PERIOD_MS {
        return Err(Error::InvalidArgument);
    }
    persist::set_period(period_ms).map_err(|_| Error::Unavailable)?;
    Ok(0)
}
