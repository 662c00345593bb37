//! The process table: pids, fork's inheritance, zombies and wait4,
//! orphans going to init, process groups and sessions.

use abide_linux::errno::{EPERM, ESRCH};
use abide_unix::status::Status;
use abide_unix::table::{NoChild, Reaped, State, Table, WaitFor, INIT_PID};

#[test]
fn a_started_process_leads_its_session_and_group() {
    let mut table = Table::default();
    let pid = table.create(INIT_PID, "sh").unwrap();
    assert_eq!(pid, 2);
    let p = table.process(pid).unwrap();
    assert_eq!((p.ppid, p.pgid, p.sid), (INIT_PID, pid, pid));
    assert_eq!(p.threads, [pid]);
    assert_eq!(table.thread(pid).unwrap().pid, pid);
}

#[test]
fn a_child_inherits_group_session_and_actions() {
    let mut table = Table::default();
    let parent = table.create(INIT_PID, "sh").unwrap();
    let child = table.create(parent, "sh").unwrap();
    let c = table.process(child).unwrap();
    assert_eq!((c.ppid, c.pgid, c.sid), (parent, parent, parent));
    assert_eq!(table.children(parent), [child]);
}

#[test]
fn wait_reaps_a_zombie_once() {
    let mut table = Table::default();
    let parent = table.create(INIT_PID, "sh").unwrap();
    let child = table.create(parent, "true").unwrap();
    assert_eq!(
        table.wait(parent, WaitFor::Any, false, false, false),
        Ok(None)
    );
    let (threads, told) = table.exit(child, Status::Exited(3));
    assert_eq!((threads, told), (vec![child], parent));
    assert!(matches!(
        table.process(child).unwrap().state,
        State::Zombie(_)
    ));
    assert_eq!(
        table.wait(parent, WaitFor::Pid(child), false, false, false),
        Ok(Some(Reaped {
            pid: child,
            status: Status::Exited(3)
        }))
    );
    assert!(table.process(child).is_none());
    assert_eq!(
        table.wait(parent, WaitFor::Any, false, false, false),
        Err(NoChild)
    );
}

#[test]
fn orphans_go_to_init_and_their_zombies_vanish() {
    let mut table = Table::default();
    let a = table.create(INIT_PID, "a").unwrap();
    let b = table.create(a, "b").unwrap();
    let c = table.create(a, "c").unwrap();
    table.exit(c, Status::Exited(0));
    table.exit(a, Status::Exited(0));
    // a's parent is init: a is gone at once; c (a zombie) too; b moves.
    assert!(table.process(a).is_none());
    assert!(table.process(c).is_none());
    assert_eq!(table.process(b).unwrap().ppid, INIT_PID);
}

#[test]
fn stops_are_reported_only_when_asked() {
    let mut table = Table::default();
    let parent = table.create(INIT_PID, "sh").unwrap();
    let child = table.create(parent, "cat").unwrap();
    table.process_mut(child).unwrap().unreported = Some(Status::Stopped(20));
    assert_eq!(
        table.wait(parent, WaitFor::Any, false, false, false),
        Ok(None)
    );
    let seen = table
        .wait(parent, WaitFor::Any, true, false, false)
        .unwrap();
    assert_eq!(seen.unwrap().status, Status::Stopped(20));
    assert_eq!(
        table.wait(parent, WaitFor::Any, true, false, false),
        Ok(None)
    );
}

#[test]
fn setpgid_follows_linux_rules() {
    let mut table = Table::default();
    let sh = table.create(INIT_PID, "sh").unwrap();
    let job = table.create(sh, "cat").unwrap();
    // A child into its own group, then a sibling into that group.
    assert_eq!(table.setpgid(sh, job, job), Ok(()));
    let second = table.create(sh, "wc").unwrap();
    assert_eq!(table.setpgid(second, 0, job), Ok(()));
    assert_eq!(table.group(job), [job, second]);
    // A session leader cannot move; a stranger is not found.
    assert_eq!(table.setpgid(sh, 0, job), Err(EPERM));
    assert_eq!(table.setpgid(job, 999, 0), Err(ESRCH));
    // A group in another session cannot be joined.
    assert_eq!(table.setsid(job), Err(EPERM));
    let other = table.create(INIT_PID, "other").unwrap();
    assert_eq!(table.setpgid(other, 0, job), Err(EPERM));
}

#[test]
fn threads_share_the_process() {
    let mut table = Table::default();
    let pid = table.create(INIT_PID, "bench").unwrap();
    let tid = table
        .add_thread(pid, abide_linux::signal::SigSet::EMPTY)
        .unwrap();
    assert_ne!(tid, pid);
    assert_eq!(table.process(pid).unwrap().threads, [pid, tid]);
    assert!(!table.remove_thread(tid));
    assert!(table.remove_thread(pid));
}
