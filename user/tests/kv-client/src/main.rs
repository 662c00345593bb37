//! Checks the async runtime and typed IPC end to end against `kv-server`: it
//! starts the server with a listener channel, hands it client channels over
//! the listener, then runs concurrent client tasks, several outstanding calls
//! on one channel, a garbage message (which must get a `Malformed` reply and
//! leave the server answering) and a timer. Prints each check; exits 0 only
//! if all held, after killing the server so the system can end.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use abide_interfaces::{Entry, KeyValue};
use abide_ipc::{CallError, RemoteError};
use abide_rt::executor::{join_all, sleep, spawn, timeout_at, wait_signals};
use abide_rt::ipc::{Channel, Client, ClientError};
use abide_rt::syscall::{self, clock_ns};
use abide_rt::{println, Handle, ProcessState, Signals};

abide_rt::async_entry!(main);

/// Client tasks running at once, each on its own channel.
const CLIENTS: usize = 3;
/// set/get rounds per client task.
const ROUNDS: usize = 8;
/// One second in nanoseconds.
const SECOND: u64 = 1_000_000_000;
/// How long the `sleep` check sleeps.
const SLEEP_NS: u64 = 10_000_000;
/// Seed of the garbage message (printed, so a failure replays).
const SEED: u64 = 0x5eed_6b76_0000_0001;

async fn main() -> i32 {
    // Started by the kernel: the hardware resource (startup handle 0)
    // carries the SPAWN right its children need.
    if let Some(hardware) = abide_rt::startup_handle(0) {
        abide_rt::syscall::set_spawn_authority(hardware);
    }
    let (listener, server_end) = match Channel::create() {
        Ok(pair) => pair,
        Err(error) => {
            println!("kv-client: channel_create FAILED: {error}");
            return 1;
        }
    };
    let server = match syscall::process_spawn("kv-server", &[server_end.into_handle()]) {
        Ok(server) => server,
        Err(error) => {
            println!("kv-client: spawn kv-server FAILED: {error}");
            return 1;
        }
    };
    println!("kv-client: spawned kv-server ok");

    // Every check has to finish in time: a lost reply must fail the run,
    // not hang it.
    let mut ok = match timeout_at(clock_ns().saturating_add(120 * SECOND), checks(&listener)).await
    {
        Ok(Ok(())) => true,
        Ok(Err(reason)) => {
            println!("kv-client: FAILED: {reason}");
            false
        }
        Err(_) => {
            println!("kv-client: FAILED: the checks timed out");
            false
        }
    };
    ok &= stop(server).await;
    if ok {
        println!("kv-client: all checks passed");
        0
    } else {
        println!("kv-client: some checks FAILED");
        1
    }
}

/// The checks against the server listening on the peer of `listener`.
async fn checks(listener: &Channel) -> Result<(), String> {
    // One message on the listener per client channel, carrying the server's
    // end of it.
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (ours, theirs) = Channel::create().map_err(|e| format!("channel_create: {e}"))?;
        listener
            .send(b"client", &[theirs.into_handle()])
            .await
            .map_err(|e| format!("sending a client channel: {e}"))?;
        clients.push(Client::new(ours));
    }
    println!("kv-client: {CLIENTS} client channels sent over the listener ok");

    // Concurrent tasks: their requests interleave at the server.
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(task, client)| spawn(client_task(task, client)))
        .collect();
    let mut clients = Vec::new();
    for result in join_all(tasks).await {
        clients.push(result?);
    }
    println!("kv-client: {CLIENTS} concurrent clients, {ROUNDS} set/get rounds each ok");

    let Some(client) = clients.first() else {
        return Err(String::from("no client left"));
    };

    // Several calls outstanding on one channel; each takes its own reply.
    let gets = join_all((0..ROUNDS).map(|round| {
        client.call(
            move |txid| KeyValue::get::encode(txid, key(0, round)),
            KeyValue::get::decode_reply,
        )
    }))
    .await;
    for (round, got) in gets.into_iter().enumerate() {
        expect(
            &format!("get {}", key(0, round)),
            got,
            Some(value(0, round)),
        )?;
    }
    println!("kv-client: {ROUNDS} outstanding calls on one channel ok");

    // Garbage: the header is unreadable, so the reply is a Malformed error
    // with txid 0.
    let garbage = garbage(SEED, 64);
    let reply = client
        .exchange(0, &garbage)
        .await
        .map_err(|e| format!("garbage message: {e}"))?;
    match KeyValue::get::decode_reply(&reply, Some(0)) {
        Err(CallError::Remote(RemoteError::Malformed)) => {}
        other => return Err(format!("garbage (seed {SEED:#x}) answered {other:?}")),
    }
    println!("kv-client: garbage (seed {SEED:#x}) got Malformed ok");

    // The server still answers, on that channel, with everything stored.
    let entries = client
        .call(KeyValue::list::encode, KeyValue::list::decode_reply)
        .await;
    let expected: Vec<Entry> = {
        let mut keys: Vec<String> = (0..CLIENTS)
            .flat_map(|task| (0..ROUNDS).map(move |round| key(task, round)))
            .collect();
        keys.sort();
        keys.into_iter().map(|key| Entry { key, len: 2 }).collect()
    };
    expect("list after the garbage", entries, expected)?;
    println!("kv-client: server still answers after the garbage ok");

    let before = clock_ns();
    sleep(SLEEP_NS).await;
    let slept = clock_ns().saturating_sub(before);
    if slept < SLEEP_NS {
        return Err(format!("sleep of {SLEEP_NS} ns woke after {slept} ns"));
    }
    println!("kv-client: sleep {} ms ok", SLEEP_NS / 1_000_000);
    Ok(())
}

/// One client task: sets and reads back its own keys, one call at a time.
/// Gives the client back for the checks that follow.
async fn client_task(task: usize, client: Client) -> Result<Client, String> {
    for round in 0..ROUNDS {
        let set = client
            .call(
                |txid| KeyValue::set::encode(txid, key(task, round), value(task, round)),
                KeyValue::set::decode_reply,
            )
            .await;
        expect(&format!("set {}", key(task, round)), set, ())?;
        let got = client
            .call(
                |txid| KeyValue::get::encode(txid, key(task, round)),
                KeyValue::get::decode_reply,
            )
            .await;
        expect(
            &format!("get {}", key(task, round)),
            got,
            Some(value(task, round)),
        )?;
    }
    Ok(client)
}

/// Kills the server and checks that it ended as killed.
async fn stop(server: Handle) -> bool {
    if let Err(error) = syscall::process_kill(server) {
        println!("kv-client: killing kv-server FAILED: {error}");
        return false;
    }
    let deadline = clock_ns().saturating_add(10 * SECOND);
    match timeout_at(deadline, wait_signals(server, Signals::TERMINATED)).await {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => {
            println!("kv-client: waiting for kv-server to end FAILED: {error}");
            return false;
        }
        Err(_) => {
            println!("kv-client: kv-server did not end FAILED");
            return false;
        }
    }
    match syscall::process_status(server) {
        Ok(status) if status.state == ProcessState::Killed => {
            println!("kv-client: kv-server killed ok");
            true
        }
        other => {
            println!("kv-client: kv-server status after kill FAILED: {other:?}");
            false
        }
    }
}

/// The key task `task` uses in round `round`.
fn key(task: usize, round: usize) -> String {
    format!("task{task}/key{round}")
}

/// The value task `task` stores in round `round`.
fn value(task: usize, round: usize) -> Vec<u8> {
    vec![task as u8, round as u8]
}

/// `Ok` when a call returned `expected`, otherwise what went wrong.
fn expect<T: PartialEq + core::fmt::Debug>(
    what: &str,
    got: Result<T, ClientError>,
    expected: T,
) -> Result<(), String> {
    match got {
        Ok(value) if value == expected => Ok(()),
        Ok(value) => Err(format!("{what}: got {value:?}, expected {expected:?}")),
        Err(error) => Err(format!("{what}: {error}")),
    }
}

/// `len` pseudo-random bytes (xorshift64) from `seed`, not starting with the
/// wire magic, so no header can be read from them.
fn garbage(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed;
    let mut bytes: Vec<u8> = (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let magic = abide_ipc::wire::MAGIC.to_le_bytes();
    if bytes.first() == magic.first() {
        bytes[0] ^= 0xff;
    }
    bytes
}
