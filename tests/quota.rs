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
//! Drives: `user/tests/quota` (which starts `user/tests/{hello,nop,spinner}` as
//! children). Configs: none (`init=quota`).

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
