//! `handle_close`, `handle_duplicate`, `handle_mint`, `handle_revoke`.

use abide_abi::syscall::{Error, Rights};

use super::{caller_table, handle_arg};
use crate::object::{self, Kernel};

/// A rights argument: only defined bits.
fn rights_arg(value: u64) -> Result<Rights, Error> {
    u32::try_from(value)
        .ok()
        .map(Rights)
        .filter(|rights| Rights::ALL.contains(*rights))
        .ok_or(Error::InvalidArgument)
}

pub fn close(kernel: &mut Kernel, handle: u64) -> Result<u64, Error> {
    let table = caller_table(kernel)?;
    let object = kernel.caps.close(table, handle_arg(handle)?)?;
    object::release(kernel, alloc::vec![object]);
    Ok(0)
}

pub fn duplicate(kernel: &mut Kernel, handle: u64, rights: u64) -> Result<u64, Error> {
    let table = caller_table(kernel)?;
    let new = kernel.duplicate(table, handle_arg(handle)?, rights_arg(rights)?)?;
    Ok(u64::from(new.0))
}

pub fn mint(kernel: &mut Kernel, handle: u64, rights: u64, badge: u64) -> Result<u64, Error> {
    let table = caller_table(kernel)?;
    if badge == 0 {
        return Err(Error::InvalidArgument);
    }
    let new = kernel.mint(table, handle_arg(handle)?, rights_arg(rights)?, badge)?;
    Ok(u64::from(new.0))
}

pub fn revoke(kernel: &mut Kernel, handle: u64) -> Result<u64, Error> {
    let table = caller_table(kernel)?;
    let removed = kernel.caps.revoke(table, handle_arg(handle)?)?;
    let count = removed.len() as u64;
    object::release(kernel, removed);
    Ok(count)
}
