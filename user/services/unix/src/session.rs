//! The component's sessions (engineer `session` fills this module): the
//! console (input to the terminal, output from it, a restarting serial
//! driver retried) and the `Unix` interface the Abide shell calls (`run`
//! a command line on the console and answer its status when it ends,
//! `ps`, `stats`).
//!
//! Until then, the component runs the command line of its configuration's
//! `args` at start (see `system/unix-hello.conf`), and logs how it ends.

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use abide_rt::println;
use abide_unix::status::Status;
use abide_unix::table::{Pid, INIT_PID};

use crate::process;
use crate::unix::Unix;

/// The environment of a command the session starts.
pub const ENVIRONMENT: &[&str] = &[
    "PATH=/bin:/sbin:/usr/bin:/usr/sbin",
    "HOME=/root",
    "TERM=vt100",
];

/// Runs `args` (a program and its arguments), if any, as a new session;
/// logs its pid.
pub fn start_args(unix: &RefCell<Unix>, args: &[String]) {
    if args.is_empty() {
        return;
    }
    let argv: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
    let envp: Vec<Vec<u8>> = ENVIRONMENT.iter().map(|e| e.as_bytes().to_vec()).collect();
    match process::start(&mut unix.borrow_mut(), &argv, &envp) {
        Ok(pid) => println!("unix: started {} as pid {pid}", args.join(" ")),
        Err(errno) => println!("unix: cannot start {}: errno {errno}", args.join(" ")),
    }
}

/// Process `pid`, child of `parent`, ended with `status` (a session
/// waiting for it answers). Logs how the processes it started end.
pub fn process_ended(unix: &mut Unix, pid: Pid, parent: Pid, status: Status) {
    let _ = unix;
    if parent == INIT_PID {
        println!("unix: pid {pid} ended: status {}", status.shell_code());
    }
}
