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

#[test]
fn a_limited_process_stays_charged_for_its_child_and_messages_after_a_power_cut() {
    let store = fresh_store("quota-persist");
    let options = || BootOptions::with_cmdline("config=quota-persist").with_store(&store);
    let mut session = step(Session::boot(options()));
    step(session.expect("quota-persist: limit", BOOT));
    step(session.expect("cut the power", BOOT));
    let output = session.output();
    assert!(!output.contains("FAILED"), "before the cut:\n{output}");
    assert_contains(
        &output,
        "quota-persist: the child's budget is set aside: ok",
    );
    power_cut(&mut session);

    let mut session = step(Session::boot(options()));
    step(session.expect("quota-persist: resumed from generation", BOOT));
    let finished = session.expect("checks", BOOT);
    let output = session.output();
    step(finished.map_err(|error| format!("{error}\n{output}")));
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
    assert_contains(&output, "quota-persist: all checks passed");
    power_cut(&mut session);
}
