//! Exercises the handle system calls on the one handle every process starts
//! with (its own process): rights only shrink, revoke takes every derived
//! handle with it, a closed or forged handle is refused. Then the rights of
//! the hardware resource the kernel gives it (`init=handles`, no store):
//! a checkpoint (`persist` `SYNC`, `SNAPSHOT`) needs `WRITE` — `MANAGE`
//! alone is refused, before the kernel would say there is no store — and
//! the checkpoint period needs `MANAGE`, which `WRITE` alone does not give.
//! Prints each check; exits 0 only if all held.
#![no_std]
#![no_main]

use abide_abi::syscall::{Error, Handle, Rights};
use abide_rt::println;
use abide_rt::syscall::{
    handle_close, handle_duplicate, handle_revoke, persist_set_period, persist_snapshot,
    persist_sync,
};

abide_rt::entry!(main);

/// Compares an outcome with what the kernel must answer.
fn check<T: PartialEq + core::fmt::Debug>(
    what: &str,
    got: Result<T, Error>,
    expected: Result<T, Error>,
) -> bool {
    let ok = got == expected;
    println!(
        "handles: {what}: {got:?} ({})",
        if ok { "ok" } else { "WRONG" }
    );
    ok
}

fn main() -> i32 {
    let me = abide_rt::process_self();
    let mut all = me.0 != 0;
    let read_dup = Rights::READ.union(Rights::DUPLICATE);

    let narrowed = handle_duplicate(me, read_dup);
    all &= check("duplicate with fewer rights", narrowed.map(|_| ()), Ok(()));
    let narrowed = narrowed.unwrap_or(Handle(0));
    all &= check(
        "regain WRITE through a narrowed handle",
        handle_duplicate(narrowed, Rights::READ.union(Rights::WRITE)),
        Err(Error::AccessDenied),
    );
    let grandchild = handle_duplicate(narrowed, Rights::READ).unwrap_or(Handle(0));
    all &= check("duplicate of a duplicate", Ok(grandchild.0 != 0), Ok(true));
    all &= check(
        "duplicate without the DUPLICATE right",
        handle_duplicate(grandchild, Rights::READ),
        Err(Error::AccessDenied),
    );
    all &= check("revoke the narrowed handle", handle_revoke(narrowed), Ok(2));
    all &= check(
        "use a revoked descendant",
        handle_close(grandchild),
        Err(Error::BadHandle),
    );
    all &= check(
        "the original survives revoke",
        handle_duplicate(me, Rights::READ).map(|_| ()),
        Ok(()),
    );
    all &= check(
        "forged handle",
        handle_close(Handle(0x0bad_cafe)),
        Err(Error::BadHandle),
    );
    all &= hardware_rights(me);
    all &= check("close the original", handle_close(me), Ok(()));
    all &= check("close it twice", handle_close(me), Err(Error::BadHandle));

    if all {
        println!("handles: all checks passed");
        0
    } else {
        println!("handles: some checks FAILED");
        1
    }
}

/// What each right of the hardware resource (startup handle 0) allows the
/// checkpoint engine, on a machine without a store; `me` is a handle to
/// another kind of object.
fn hardware_rights(me: Handle) -> bool {
    let Some(hardware) = abide_rt::startup_handle(0) else {
        println!("handles: no hardware resource (not started by the kernel) (WRONG)");
        return false;
    };
    let manage_only = handle_duplicate(hardware, Rights::MANAGE).unwrap_or(Handle(0));
    let write_only = handle_duplicate(hardware, Rights::WRITE).unwrap_or(Handle(0));
    let mut all = check(
        "sync with MANAGE but not WRITE",
        persist_sync(manage_only),
        Err(Error::AccessDenied),
    );
    all &= check(
        "snapshot with MANAGE but not WRITE",
        persist_snapshot(manage_only),
        Err(Error::AccessDenied),
    );
    all &= check(
        "sync with the process handle",
        persist_sync(me),
        Err(Error::WrongType),
    );
    all &= check(
        "sync with a forged handle",
        persist_sync(Handle(0x0bad_cafe)),
        Err(Error::BadHandle),
    );
    // The authority holds; only then does the kernel say there is no store.
    all &= check(
        "sync with WRITE, no store",
        persist_sync(write_only),
        Err(Error::Unavailable),
    );
    all &= check(
        "set the period with WRITE but not MANAGE",
        persist_set_period(write_only, 1000),
        Err(Error::AccessDenied),
    );
    let _ = handle_close(manage_only);
    let _ = handle_close(write_only);
    all
}
