//! Job control and the ioctls: the controlling session, the foreground
//! group, background reads and writes, window size, and Linux's errors.

mod support;

use abide_abi::record::Record;
use abide_linux::errno::*;
use abide_linux::signal::*;
use abide_linux::termios::ioctl::*;
use abide_linux::termios::*;
use abide_tty::*;
use support::*;

fn get_int(t: &mut Terminal, caller: &Caller, request: u32) -> Result<i32, Refusal> {
    assert_eq!(arg_use(request), Some(ArgUse::Out(4)));
    let reply = t.ioctl(caller, &Table, request, Arg::Value(0))?;
    Ok(i32::from_le_bytes(reply.out.try_into().unwrap()))
}

fn set_pgrp(t: &mut Terminal, caller: &Caller, pgrp: i32) -> Result<Reply, Refusal> {
    t.ioctl(caller, &Table, TIOCSPGRP, Arg::Bytes(&pgrp.to_le_bytes()))
}

#[test]
fn tcgets_gives_linuxs_defaults_and_tcsets_changes_them() {
    let mut t = controlled();
    let reply = t.ioctl(&SHELL, &Table, TCGETS, Arg::Value(0)).unwrap();
    assert_eq!(reply.out.len(), 36);
    assert_eq!(Termios::decode(&reply.out), Some(Termios::linux_default()));
    let mut raw = Termios::linux_default();
    raw.c_lflag &= !ICANON;
    assert_eq!(arg_use(TCSETSW), Some(ArgUse::In(36)));
    t.ioctl(&SHELL, &Table, TCSETSW, Arg::Bytes(raw.encode()))
        .unwrap();
    assert_eq!(*t.termios(), raw);
    assert_eq!(
        t.ioctl(&SHELL, &Table, TCSETS, Arg::Bytes(&[0; 35])),
        Err(Refusal::Errno(EINVAL))
    );
}

#[test]
fn tcsetsf_flushes_pending_input() {
    let mut t = controlled();
    t.input(b"typed ahead\n");
    t.ioctl(
        &SHELL,
        &Table,
        TCSETSF,
        Arg::Bytes(Termios::linux_default().encode()),
    )
    .unwrap();
    assert!(!t.readable());
}

#[test]
fn window_size_changes_signal_the_foreground() {
    let mut t = controlled();
    let out = t
        .ioctl(&STRANGER, &Table, TIOCGWINSZ, Arg::Value(0))
        .unwrap()
        .out;
    assert_eq!(Winsize::decode(&out).unwrap().ws_col, 80);
    let size = Winsize {
        ws_row: 50,
        ws_col: 132,
        ..Winsize::default()
    };
    let reply = t
        .ioctl(&SHELL, &Table, TIOCSWINSZ, Arg::Bytes(size.encode()))
        .unwrap();
    assert_eq!(
        reply.signals,
        vec![GroupSignal {
            pgrp: 100,
            signal: SIGWINCH
        }]
    );
    assert_eq!(t.winsize(), size);
    let again = t
        .ioctl(&SHELL, &Table, TIOCSWINSZ, Arg::Bytes(size.encode()))
        .unwrap();
    assert!(again.signals.is_empty());
}

#[test]
fn the_shell_moves_jobs_to_the_foreground_and_back() {
    let mut t = controlled();
    assert_eq!(get_int(&mut t, &SHELL, TIOCGPGRP), Ok(100));
    assert_eq!(get_int(&mut t, &SHELL, TIOCGSID), Ok(100));
    set_pgrp(&mut t, &SHELL, 200).unwrap();
    assert_eq!(t.foreground(), Some(200));
    assert_eq!(
        t.input(b"\x03").signals,
        vec![GroupSignal {
            pgrp: 200,
            signal: SIGINT
        }]
    );
    // The shell is now in the background: taking the terminal back stops
    // it with SIGTTOU unless it ignores or blocks it (ash blocks it).
    assert_eq!(set_pgrp(&mut t, &SHELL, 100), Err(Refusal::Stop(SIGTTOU)));
    let ash = Caller {
        ignores_ttou: true,
        ..SHELL
    };
    set_pgrp(&mut t, &ash, 100).unwrap();
    assert_eq!(t.foreground(), Some(100));
}

#[test]
fn tiocspgrp_errors_are_linuxs() {
    let mut t = controlled();
    assert_eq!(set_pgrp(&mut t, &SHELL, -1), Err(Refusal::Errno(EINVAL)));
    assert_eq!(set_pgrp(&mut t, &SHELL, 999), Err(Refusal::Errno(ESRCH)));
    assert_eq!(set_pgrp(&mut t, &SHELL, 300), Err(Refusal::Errno(EPERM)));
    assert_eq!(
        set_pgrp(&mut t, &STRANGER, 300),
        Err(Refusal::Errno(ENOTTY))
    );
    assert_eq!(
        get_int(&mut t, &STRANGER, TIOCGPGRP),
        Err(Refusal::Errno(ENOTTY))
    );
    assert_eq!(
        get_int(&mut t, &STRANGER, TIOCGSID),
        Err(Refusal::Errno(ENOTTY))
    );
    // Orphaned background group: EIO becomes ENOTTY for TIOCSPGRP.
    set_pgrp(&mut t, &SHELL, 200).unwrap();
    let orphan = Caller {
        orphaned: true,
        ..SHELL
    };
    assert_eq!(set_pgrp(&mut t, &orphan, 100), Err(Refusal::Errno(ENOTTY)));
}

#[test]
fn background_reads_get_sigttin_or_eio() {
    let t = controlled();
    assert_eq!(t.check_read(&SHELL), Ok(()));
    assert_eq!(t.check_read(&JOB), Err(Refusal::Stop(SIGTTIN)));
    assert_eq!(
        t.check_read(&Caller {
            ignores_ttin: true,
            ..JOB
        }),
        Err(Refusal::Errno(EIO))
    );
    assert_eq!(
        t.check_read(&Caller {
            orphaned: true,
            ..JOB
        }),
        Err(Refusal::Errno(EIO))
    );
    // Not its controlling terminal: no job control.
    assert_eq!(t.check_read(&STRANGER), Ok(()));
}

#[test]
fn background_writes_stop_only_under_tostop() {
    let mut t = controlled();
    assert_eq!(t.check_write(&JOB), Ok(()));
    let mut termios = *t.termios();
    termios.c_lflag |= TOSTOP;
    t.set_termios(termios);
    assert_eq!(t.check_write(&JOB), Err(Refusal::Stop(SIGTTOU)));
    assert_eq!(
        t.check_write(&Caller {
            ignores_ttou: true,
            ..JOB
        }),
        Ok(())
    );
    assert_eq!(t.check_write(&SHELL), Ok(()));
}

#[test]
fn a_session_leader_acquires_a_free_terminal() {
    let mut t = Terminal::new();
    assert_eq!(
        get_int(&mut t, &SHELL, TIOCGSID),
        Err(Refusal::Errno(ENOTTY))
    );
    assert_eq!(arg_use(TIOCSCTTY), Some(ArgUse::Value));
    assert_eq!(
        t.ioctl(&JOB, &Table, TIOCSCTTY, Arg::Value(0)),
        Err(Refusal::Errno(EPERM))
    );
    let has_one = Caller {
        other_ctty: true,
        ..SHELL
    };
    assert_eq!(
        t.ioctl(&has_one, &Table, TIOCSCTTY, Arg::Value(0)),
        Err(Refusal::Errno(EPERM))
    );
    t.ioctl(&SHELL, &Table, TIOCSCTTY, Arg::Value(0)).unwrap();
    assert_eq!((t.session(), t.foreground()), (Some(100), Some(100)));
    t.ioctl(&SHELL, &Table, TIOCSCTTY, Arg::Value(0)).unwrap();
    // Another session may take it only by force, and with privilege.
    let other = Caller {
        privileged: false,
        ..STRANGER
    };
    assert_eq!(
        t.ioctl(&other, &Table, TIOCSCTTY, Arg::Value(1)),
        Err(Refusal::Errno(EPERM))
    );
    assert_eq!(
        t.ioctl(&STRANGER, &Table, TIOCSCTTY, Arg::Value(0)),
        Err(Refusal::Errno(EPERM))
    );
    t.ioctl(&STRANGER, &Table, TIOCSCTTY, Arg::Value(1))
        .unwrap();
    assert_eq!(t.session(), Some(300));
}

#[test]
fn the_leader_giving_up_the_terminal_hangs_up_the_foreground() {
    let mut t = controlled();
    set_pgrp(&mut t, &SHELL, 200).unwrap();
    assert_eq!(
        t.ioctl(&STRANGER, &Table, TIOCNOTTY, Arg::Value(0)),
        Err(Refusal::Errno(ENOTTY))
    );
    let reply = t.ioctl(&SHELL, &Table, TIOCNOTTY, Arg::Value(0)).unwrap();
    assert_eq!(
        reply.signals,
        vec![
            GroupSignal {
                pgrp: 200,
                signal: SIGHUP
            },
            GroupSignal {
                pgrp: 200,
                signal: SIGCONT
            }
        ]
    );
    assert_eq!(t.session(), None);
    assert_eq!(t.session_ended(100), vec![]);
}

#[test]
fn fionread_counts_complete_lines_and_flush_drops_them() {
    let mut t = controlled();
    t.input(b"abc\nde");
    assert_eq!(get_int(&mut t, &SHELL, FIONREAD), Ok(4));
    assert_eq!(get_int(&mut t, &SHELL, TIOCOUTQ), Ok(0));
    assert_eq!(
        t.ioctl(&SHELL, &Table, TCFLSH, Arg::Value(7)),
        Err(Refusal::Errno(EINVAL))
    );
    t.ioctl(&SHELL, &Table, TCFLSH, Arg::Value(TCIFLUSH))
        .unwrap();
    assert_eq!(get_int(&mut t, &SHELL, FIONREAD), Ok(0));
    t.ioctl(&SHELL, &Table, TCXONC, Arg::Value(TCOOFF)).unwrap();
    assert!(t.output_stopped());
}

#[test]
fn other_requests_are_not_a_terminals() {
    let mut t = controlled();
    assert_eq!(arg_use(0x1234), None);
    assert_eq!(
        t.ioctl(&SHELL, &Table, 0x1234, Arg::Value(0)),
        Err(Refusal::Errno(ENOTTY))
    );
}
