//! System tests: memory limits really limit, and spawning needs a
//! capability (docs/kernel.md, "Memory limits" and "Starting processes").
//!
//! `user/tests/quota` runs as the system's only program: a child limited
//! to 64 pages attacks its limit in every way (memory objects, mappings of
//! one object, mappings of closed objects, port observers, queued messages,
//! grandchildren) and must get `NoMemory` without ever holding more than 64
//! pages or growing the machine's memory use by more than that; once the
//! children are killed, free memory is back where it started; and spawning
//! without the `SPAWN` right is refused.
//!
//! `user/tests/quota-persist` (`system/quota-persist.conf`) checks that
//! the accounting survives a power cut: a limited process with a limited
//! persistent child and unread messages is charged exactly as before after
//! the restore, still cannot exceed its limit, and gets exactly the
//! child's budget, the messages' charge and the pages of a memory object
//! only the child still maps back when they go.
//!
//! Drives: `user/tests/quota` (which starts `user/tests/{hello,nop,spinner}` as
//! children). Configs: none (`init=quota`) and
//! `system/quota-persist.conf` (`user/tests/quota-persist`, which starts a
//! persistent child of itself).

mod support;

use support::*;

fn quota_run() -> String {
    run_to_success("init=quota")
}

#[test]
fn a_64_page_limit_holds_against_every_attack_and_memory_returns() {
    let output = quota_run();
    for attack in [
        "memory_create loop",
        "map one object many times",
        "map and close objects",
        "port observer flood",
        "message flood",
        "spawn grandchildren",
    ] {
        assert_contains(&output, &format!("quota: {attack}: ok"));
    }
    assert_contains(
        &output,
        "quota: free memory returns once the children are gone: ok",
    );
    assert_contains(&output, "quota: all checks passed");
    assert!(!output.contains("FAILED"), "output:\n{output}");
}

#[test]
fn spawning_without_the_capability_is_refused() {
    let output = quota_run();
    assert_contains(&output, "quota: spawning needs the SPAWN right: ok");
    assert_contains(&output, "quota: spawn without the capability: ok");
}

/// The checkpoint period `system/quota-persist.conf` sets: on demand only,
/// in effect, so the program's sync is the last generation before the cut.
const QUOTA_PERSIST_PERIOD_MS: u64 = 3_600_000;

#[test]
fn a_limited_process_stays_charged_for_its_child_and_messages_after_a_power_cut() {
    let store = fresh_store("quota-persist");
    let options = || BootOptions::with_cmdline("config=quota-persist").with_store(&store);
    let mut session = step(Session::boot(options()));
    // The program's last line before the cut: it prints it once its sync
    // has committed, after every check of this boot.
    let cut = whole_line(&mut session, "cut the power");
    let output = session.output();
    assert!(!output.contains("FAILED"), "before the cut:\n{output}");
    assert_contains(
        &output,
        "quota-persist: the child's budget is set aside: ok",
    );
    assert_eq!(
        number_after(&cut, "period"),
        QUOTA_PERSIST_PERIOD_MS,
        "the configuration's period is not in force: a periodic checkpoint may follow the sync:\n{output}"
    );
    let synced = number_after(&cut, "generation");
    power_cut(&mut session);

    let mut session = step(Session::boot(options()));
    let resumed = whole_line(&mut session, "quota-persist: resumed from generation ");
    assert_eq!(
        number_after(&resumed, "generation"),
        synced,
        "not resumed from the sync's generation:\n{}",
        session.output()
    );
    // The verdict, "all checks passed" or "some checks FAILED", is the
    // program's last line.
    let verdict = whole_line(&mut session, " checks ");
    let output = session.output();
    assert_kernel_healthy(&output);
    for check in [
        "charged as before the power cut",
        "after the restore a child beyond what is left is refused",
        "reading the restored messages gives their charge back",
        "killing the restored child gives its budget and the lingering pages back",
        "a child may then have everything left",
    ] {
        assert_contains(&output, &format!("quota-persist: {check}: ok"));
    }
    assert!(
        verdict.ends_with("quota-persist: all checks passed"),
        "verdict {verdict:?}:\n{output}"
    );
    power_cut(&mut session);
}
