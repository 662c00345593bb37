//! `persist(op, arg, resource)`: checkpoints on demand, output commit,
//! the engine's status, and its period.
//!
//! What each operation needs (a process's authority is its handle table):
//!
//! - `SNAPSHOT`, `SYNC`: `resource` names the hardware resource with
//!   `WRITE` (init grants such a handle as `uses checkpoint from init`).
//!   Without it nothing happens — no generation is reserved, no result is
//!   set, nothing is written — and the call fails `BadHandle`,
//!   `AccessDenied` or `WrongType`. The authority is checked first: only
//!   a caller that holds it learns that there is no store (`Unavailable`).
//! - `SET_PERIOD`: `MANAGE` on the hardware resource, checked the same
//!   way, then the period's range, then the store.
//! - `STATUS`: nothing; read-only figures, public like the clock.

use abide_abi::persist::{PersistStatus, SET_PERIOD, SNAPSHOT, STATUS, SYNC};
use abide_abi::record::Record;
use abide_abi::syscall::{Error, Rights};

use super::{hardware_resource, set_result, Outcome};
use crate::arch::context::FpuState;
use crate::arch::idt::TrapFrame;
use crate::arch::probe;
use crate::object::Kernel;
use crate::persist::{self, CheckpointError};

// The longest period `SET_PERIOD` accepts (one hour, like the
// configuration) is `abide_abi::persist::MAX_PERIOD_MS`.
use abide_abi::persist::MAX_PERIOD_MS;

pub fn call(kernel: &mut Kernel, frame: &mut TrapFrame, fpu: &FpuState, a: [u64; 6]) -> Outcome {
    let [op, arg, resource, ..] = a;
    match op {
        SNAPSHOT | SYNC => Outcome::Return(checkpoint_now(kernel, frame, fpu, resource)),
        STATUS => {
            let status = persist::status();
            Outcome::Return(
                probe::copy_to_user(arg, status.encode()).map(|()| PersistStatus::LEN as u64),
            )
        }
        SET_PERIOD => Outcome::Return(set_period(kernel, arg, resource)),
        _ => Outcome::Return(Err(Error::InvalidArgument)),
    }
}

/// Takes a checkpoint in which the caller's call has already returned the
/// new generation's number: resumed from it, the caller sees the same
/// success it sees now (everything it did before is in that generation).
/// The number is the one this checkpoint commits: a write-out in progress
/// commits first, under an earlier number.
///
/// The caller's authority, `WRITE` on the hardware resource `resource`, is
/// checked before anything else: a refused call reserves no generation,
/// leaves its registers alone and does not say whether there is a store.
fn checkpoint_now(
    kernel: &mut Kernel,
    frame: &mut TrapFrame,
    fpu: &FpuState,
    resource: u64,
) -> Result<u64, Error> {
    hardware_resource(kernel, resource, Rights::WRITE)?;
    let current = kernel.sched.current;
    let reply = |frame: &mut TrapFrame, generation| set_result(frame, Ok(generation));
    match persist::checkpoint(kernel, current, frame, fpu, reply) {
        Ok(generation) => Ok(generation),
        Err(CheckpointError::NoStore) => Err(Error::Unavailable),
        Err(CheckpointError::Store) => Err(Error::Unavailable),
    }
}

fn set_period(kernel: &mut Kernel, period_ms: u64, resource: u64) -> Result<u64, Error> {
    hardware_resource(kernel, resource, Rights::MANAGE)?;
    if period_ms > MAX_PERIOD_MS {
        return Err(Error::InvalidArgument);
    }
    persist::set_period(period_ms).map_err(|_| Error::Unavailable)?;
    Ok(0)
}
