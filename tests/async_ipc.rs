//! System test: the async runtime and typed IPC between processes. `kv-client`
//! (user/tests/kv-client) starts `kv-server` with a listener channel, hands
//! it client channels over the listener and checks concurrent calls,
//! outstanding calls on one channel, a garbage message, a timer, and that the
//! server still answers; then it kills the server so the system ends.
//!
//! Drives: `user/tests/kv-client`, which starts `user/tests/kv-server`.
//! Configs: none (`init=kv-client` on the command line).

mod support;

use support::*;

#[test]
fn key_value_clients_and_server_talk_concurrently() {
    let (output, status) = step(run_to_exit(
        BootOptions::with_cmdline("init=kv-client"),
        RUN,
    ));
    for line in [
        "kv-client: spawned kv-server ok",
        "kv-server: serving",
        "kv-client: 3 client channels sent over the listener ok",
        "kv-client: 3 concurrent clients, 8 set/get rounds each ok",
        "kv-client: 8 outstanding calls on one channel ok",
        "got Malformed ok",
        "kv-client: server still answers after the garbage ok",
        "kv-client: sleep 10 ms ok",
        "kv-client: kv-server killed ok",
        "kv-client: all checks passed",
        "(kv-server) was killed",
        "(kv-client) exited with status 0",
        host::ALL_PROCESSES_ENDED,
    ] {
        assert_contains(&output, line);
    }
    assert!(!output.contains("FAILED"), "output:\n{output}");
    assert_kernel_healthy(&output);
    assert_eq!(
        status,
        status_for(host::DEBUG_EXIT_SUCCESS),
        "output:\n{output}"
    );
}
