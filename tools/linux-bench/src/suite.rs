//! The benchmarks, measured the way Abide's suite (`user/bench/bench`)
//! measures its own: a warm-up of 1% of the iterations (dropped), then one
//! fenced-TSC sample per iteration, summarized as nearest-rank median and
//! p99 (`abide_benchfmt::Summary`). What each one does is in
//! `abide_benchfmt::linux` and docs/perf.md.

use std::ffi::CString;
use std::os::raw::c_char;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use abide_benchfmt::{self as report, linux, Record, Summary};

use crate::sys::{futex_wait, futex_wake, getppid_raw, os_error, tsc};

/// A benchmark: gets the number of rounds (warm-up included) and fills one
/// sample list per name it reports; the error is a `reason=` word.
type Benchmark = fn(u32, &mut [Samples]) -> Result<(), String>;

/// How many measured rounds a benchmark runs in a run of `iterations`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Length {
    /// `iterations`.
    Full,
    /// [`linux::slow_iterations`]: each round starts a shell.
    Slow,
}

/// The suite, in the order of `linux::NAMES`.
const SUITE: &[(&[&str], Length, Benchmark)] = &[
    (&[report::TSC_READ], Length::Full, tsc_read),
    (&[linux::GETPPID], Length::Full, getppid),
    (&[linux::PIPE_ROUND_TRIP], Length::Full, pipe_round_trip),
    (&[linux::FUTEX_ROUND_TRIP], Length::Full, futex_round_trip),
    (&[report::CONTEXT_SWITCH], Length::Full, context_switch),
    (
        &[linux::POSIX_SPAWN_CALL, linux::POSIX_SPAWN],
        Length::Full,
        posix_spawn,
    ),
    (&[linux::FORK_EXEC], Length::Full, fork_exec),
    (&[linux::SHELL_LOOP], Length::Slow, shell_loop),
    (&[linux::TRUE_100], Length::Slow, true_100),
];

/// The samples of one benchmark; the first `warmup` pushed are dropped.
struct Samples {
    warmup: u32,
    pushed: u32,
    cycles: Vec<u64>,
}

impl Samples {
    fn push(&mut self, cycles: u64) {
        if self.pushed >= self.warmup {
            self.cycles.push(cycles);
        }
        self.pushed = self.pushed.saturating_add(1);
    }
}

/// Runs the benchmarks with `iterations` measured iterations (the shell
/// benchmarks fewer, [`Length::Slow`]) and prints the report, `bench: done`
/// last. `only`, when not empty, names the benchmarks to run (a benchmark
/// that reports several names runs if one is named; unknown names are
/// ignored): the host runs the rest again after one hung. False if any
/// failed.
pub fn run(iterations: u32, only: &[String]) -> bool {
    if let Some(hz) = tsc_rate_hz() {
        println!("{}", Record::Tsc { hz });
    }
    let mut ok = true;
    for (names, length, benchmark) in SUITE {
        if !only.is_empty() && !names.iter().any(|name| only.iter().any(|o| o == name)) {
            continue;
        }
        let measured = match length {
            Length::Full => iterations,
            Length::Slow => linux::slow_iterations(iterations),
        };
        let warmup = report::warmup(measured);
        let rounds = warmup.saturating_add(measured);
        let mut samples: Vec<Samples> = names
            .iter()
            .map(|_| Samples {
                warmup,
                pushed: 0,
                cycles: Vec::with_capacity(measured as usize),
            })
            .collect();
        let outcome = benchmark(rounds, &mut samples);
        for (name, samples) in names.iter().zip(&mut samples) {
            let summary = outcome.clone().and_then(|()| {
                Summary::of(&mut samples.cycles).ok_or_else(|| "no-samples".to_string())
            });
            match summary {
                Ok(summary) => println!("{}", Record::Result { name, summary }),
                Err(reason) => {
                    ok = false;
                    print_failed(name, &reason);
                }
            }
        }
    }
    println!("{}", Record::Done);
    ok
}

/// Prints the `bench: failed` line of `name`.
pub fn print_failed(name: &str, reason: &str) {
    println!("{}", Record::Failed { name, reason });
}

/// TSC ticks per second against `CLOCK_MONOTONIC` over 100 ms.
fn tsc_rate_hz() -> Option<u64> {
    let (clock_start, tsc_start) = (Instant::now(), tsc());
    std::thread::sleep(Duration::from_millis(100));
    let (ns, cycles) = (clock_start.elapsed().as_nanos(), tsc() - tsc_start);
    u64::try_from(u128::from(cycles) * 1_000_000_000 / ns.max(1))
        .ok()
        .filter(|&hz| hz > 0)
}

/// The one sample list of a single-figure benchmark.
fn single(samples: &mut [Samples]) -> Result<&mut Samples, String> {
    match samples {
        [samples] => Ok(samples),
        _ => Err("sample-lists".into()),
    }
}

/// Two fenced TSC reads with nothing between.
fn tsc_read(rounds: u32, samples: &mut [Samples]) -> Result<(), String> {
    time_each(rounds, samples, || {})
}

/// `getppid` by a raw `syscall` instruction.
fn getppid(rounds: u32, samples: &mut [Samples]) -> Result<(), String> {
    time_each(rounds, samples, || {
        getppid_raw();
    })
}

/// Times `operation` alone, once per round.
fn time_each(
    rounds: u32,
    samples: &mut [Samples],
    mut operation: impl FnMut(),
) -> Result<(), String> {
    let samples = single(samples)?;
    for _ in 0..rounds {
        let start = tsc();
        operation();
        let end = tsc();
        samples.push(end.saturating_sub(start));
    }
    Ok(())
}

/// 8 bytes to a forked child through one pipe and back through another.
fn pipe_round_trip(rounds: u32, samples: &mut [Samples]) -> Result<(), String> {
    let samples = single(samples)?;
    let (to_child_read, to_child_write) = pipe()?;
    let (to_parent_read, to_parent_write) = pipe()?;
    let child = fork_child(|| {
        // Our copies of the parent's ends, closed so its close ends our loop.
        close(to_child_write);
        close(to_parent_read);
        let mut buffer = [0u8; 8];
        loop {
            // SAFETY: the buffer is ours and 8 bytes long.
            let n = unsafe { libc::read(to_child_read, buffer.as_mut_ptr().cast(), 8) };
            if n <= 0 {
                return if n == 0 { 0 } else { 1 };
            }
            // SAFETY: as above; n <= 8.
            if unsafe { libc::write(to_parent_write, buffer.as_ptr().cast(), n as usize) } != n {
                return 1;
            }
        }
    });
    close(to_child_read);
    close(to_parent_write);
    let child = child.inspect_err(|_| {
        close(to_child_write);
        close(to_parent_read);
    })?;
    let mut result = Ok(());
    for round in 0..rounds {
        let sent = u64::from(round).to_le_bytes();
        let mut answer = [0u8; 8];
        let start = tsc();
        // SAFETY: both buffers are ours and 8 bytes long.
        let written = unsafe { libc::write(to_child_write, sent.as_ptr().cast(), 8) };
        let read = unsafe { libc::read(to_parent_read, answer.as_mut_ptr().cast(), 8) };
        let end = tsc();
        if written != 8 || read != 8 || answer != sent {
            result = Err(if written != 8 {
                os_error("write")
            } else {
                "wrong-echo".into()
            });
            break;
        }
        samples.push(end.saturating_sub(start));
    }
    close(to_child_write);
    close(to_parent_read);
    let ended = wait_exit(child, "echo-child");
    result.and(ended)
}

/// Two threads handing a word back and forth: we set it to `PING` and wake
/// the other thread, which sets it back to `IDLE` and wakes us.
fn futex_round_trip(rounds: u32, samples: &mut [Samples]) -> Result<(), String> {
    const IDLE: u32 = 0;
    const PING: u32 = 1;
    const STOP: u32 = 2;
    let samples = single(samples)?;
    let word = Arc::new(AtomicU32::new(IDLE));
    let theirs = Arc::clone(&word);
    let partner = std::thread::spawn(move || loop {
        let mut value = theirs.load(Ordering::Acquire);
        while value == IDLE {
            futex_wait(&theirs, IDLE);
            value = theirs.load(Ordering::Acquire);
        }
        if value == STOP {
            return;
        }
        theirs.store(IDLE, Ordering::Release);
        futex_wake(&theirs);
    });
    for _ in 0..rounds {
        let start = tsc();
        word.store(PING, Ordering::Release);
        futex_wake(&word);
        while word.load(Ordering::Acquire) == PING {
            futex_wait(&word, PING);
        }
        let end = tsc();
        samples.push(end.saturating_sub(start));
    }
    word.store(STOP, Ordering::Release);
    futex_wake(&word);
    partner
        .join()
        .map_err(|_| "futex-partner-panicked".to_string())
}

/// Two processes alternating with `sched_yield`, like Abide's
/// `context-switch`: each sample is half a round; the child counts its turns
/// in a shared page, which shows it ran between our yields.
fn context_switch(rounds: u32, samples: &mut [Samples]) -> Result<(), String> {
    let samples = single(samples)?;
    // A host that deschedules the guest's CPU while the child runs charges
    // the child a long slice; CFS then keeps picking the parent until the
    // two even out, and many yields in a row switch nothing. Such a run
    // measures the wrong thing, so it is thrown away and measured again.
    let mut outcome = Ok(());
    for _attempt in 0..CONTEXT_SWITCH_ATTEMPTS {
        samples.cycles.clear();
        samples.pushed = 0;
        outcome = context_switch_once(rounds, samples);
        if outcome.is_ok() {
            break;
        }
    }
    outcome
}

/// How often [`context_switch`] measures before it reports a failure.
const CONTEXT_SWITCH_ATTEMPTS: u32 = 5;

/// One measurement of [`context_switch`] with a forked yielding child.
fn context_switch_once(rounds: u32, samples: &mut Samples) -> Result<(), String> {
    // SAFETY: a new anonymous shared mapping of one page; checked below.
    let page = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if page == libc::MAP_FAILED {
        return Err(os_error("mmap"));
    }
    // SAFETY: the page is mapped, aligned and zeroed, and stays mapped (in
    // both processes) until the munmap below; both sides only use atomics.
    let words: &[AtomicU64; 2] = unsafe { &*page.cast::<[AtomicU64; 2]>() };
    let (stop, turns) = (&words[0], &words[1]);
    let result = fork_child(|| {
        while stop.load(Ordering::Relaxed) == 0 {
            turns.fetch_add(1, Ordering::Relaxed);
            // SAFETY: no arguments.
            unsafe { libc::sched_yield() };
        }
        0
    })
    .and_then(|child| {
        let measured = alternate(rounds, samples, turns);
        stop.store(1, Ordering::Relaxed);
        if measured.is_err() {
            // The child may not see the stop word (a system whose shared
            // mapping is not shared after fork): end it rather than wait
            // for it forever.
            // SAFETY: signals our own child, which has not been waited for.
            unsafe { libc::kill(child, libc::SIGKILL) };
            let _ = wait(child);
            return measured;
        }
        let ended = wait_exit(child, "yield-child");
        measured.and(ended)
    });
    // SAFETY: mapped above; nothing refers to it any more.
    unsafe { libc::munmap(page, 4096) };
    result
}

/// The measuring loop of [`context_switch`].
fn alternate(rounds: u32, samples: &mut Samples, turns: &AtomicU64) -> Result<(), String> {
    let give_up = Instant::now() + Duration::from_secs(10);
    while turns.load(Ordering::Relaxed) == 0 {
        if Instant::now() > give_up {
            return Err("child-never-ran".into());
        }
        // SAFETY: no arguments.
        unsafe { libc::sched_yield() };
    }
    let before = turns.load(Ordering::Relaxed);
    for _ in 0..rounds {
        let start = tsc();
        // SAFETY: no arguments.
        unsafe { libc::sched_yield() };
        let end = tsc();
        samples.push(end.saturating_sub(start) / 2);
    }
    // As in Abide's suite: a timer tick between the child's yield and its
    // count makes a few of our yields see no new count, so the check is
    // loose; yields that did not switch at all would leave it far behind.
    let child_turns = turns.load(Ordering::Relaxed).wrapping_sub(before);
    if child_turns < u64::from(rounds / 2) {
        return Err("child-did-not-run-between-yields".into());
    }
    Ok(())
}

/// `posix_spawn` of `busybox true`, then `waitpid`: the call alone into
/// `samples[0]`, until `waitpid` returns into `samples[1]`.
fn posix_spawn(rounds: u32, samples: &mut [Samples]) -> Result<(), String> {
    let [call_samples, total_samples] = samples else {
        return Err("sample-lists".into());
    };
    let target = SpawnTarget::new()?;
    for _ in 0..rounds {
        let (call, total) = spawn_and_wait(&target, "busybox-true")?;
        call_samples.push(call);
        total_samples.push(total);
    }
    Ok(())
}

/// `posix_spawn` of `target`, then `waitpid`; checks it exited with 0
/// (`what` names it in the error). The cycles of the call alone, and until
/// `waitpid` returned.
fn spawn_and_wait(target: &SpawnTarget, what: &str) -> Result<(u64, u64), String> {
    let mut pid: libc::pid_t = 0;
    let start = tsc();
    // SAFETY: path, argv and envp are NUL-terminated and outlive the
    // call; no file actions or attributes.
    let error = unsafe {
        libc::posix_spawn(
            &mut pid,
            target.path.as_ptr(),
            std::ptr::null(),
            std::ptr::null(),
            target.argv.as_ptr(),
            target.envp.as_ptr(),
        )
    };
    let spawned = tsc();
    if error != 0 {
        return Err(format!("posix_spawn:errno{error}"));
    }
    let status = wait(pid);
    let end = tsc();
    check_exit(status?, what)?;
    Ok((spawned.saturating_sub(start), end.saturating_sub(start)))
}

/// `fork`, `execve("/bin/busybox", ["busybox", "true"])` in the child, `waitpid` in the parent.
fn fork_exec(rounds: u32, samples: &mut [Samples]) -> Result<(), String> {
    let samples = single(samples)?;
    let target = SpawnTarget::new()?;
    for _ in 0..rounds {
        let start = tsc();
        // SAFETY: the child only calls execve and _exit (async-signal-safe)
        // with pointers prepared before the fork.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            unsafe {
                libc::execve(
                    target.path.as_ptr(),
                    target.argv.as_ptr().cast(),
                    target.envp.as_ptr().cast(),
                );
                libc::_exit(127);
            }
        }
        if pid < 0 {
            return Err(os_error("fork"));
        }
        let status = wait(pid);
        let end = tsc();
        check_exit(status?, "busybox-true")?;
        samples.push(end.saturating_sub(start));
    }
    Ok(())
}

/// `busybox sh -c` [`linux::SHELL_LOOP_SCRIPT`], `posix_spawn`ed, until
/// `waitpid` returns.
fn shell_loop(rounds: u32, samples: &mut [Samples]) -> Result<(), String> {
    run_script(rounds, samples, linux::SHELL_LOOP_SCRIPT)
}

/// `busybox sh -c` [`linux::TRUE_100_SCRIPT`], `posix_spawn`ed, until
/// `waitpid` returns.
fn true_100(rounds: u32, samples: &mut [Samples]) -> Result<(), String> {
    run_script(rounds, samples, linux::TRUE_100_SCRIPT)
}

/// Times `posix_spawn` of `busybox sh -c script` to `waitpid`, once per round.
fn run_script(rounds: u32, samples: &mut [Samples], script: &str) -> Result<(), String> {
    let samples = single(samples)?;
    let target = SpawnTarget::with_arguments(&["sh", "-c", script])?;
    for _ in 0..rounds {
        let (_, total) = spawn_and_wait(&target, "busybox-sh")?;
        samples.push(total);
    }
    Ok(())
}

/// The path, `argv` and `envp` to start `busybox true` with
/// (`linux::SPAWN_PATH`, `linux::SPAWN_ARGV`).
struct SpawnTarget {
    path: CString,
    /// Owns what `argv` points to.
    _arguments: Vec<CString>,
    argv: Vec<*mut c_char>,
    envp: [*mut c_char; 1],
}

impl SpawnTarget {
    fn new() -> Result<SpawnTarget, String> {
        Self::with_arguments(&linux::SPAWN_ARGV)
    }

    /// `linux::SPAWN_PATH` with `argv` `arguments` and an empty
    /// environment.
    fn with_arguments(arguments: &[&str]) -> Result<SpawnTarget, String> {
        let path = CString::new(linux::SPAWN_PATH).map_err(|_| "spawn-path".to_string())?;
        if !std::path::Path::new(linux::SPAWN_PATH).is_file() {
            return Err("no-/bin/busybox".into());
        }
        let arguments = arguments
            .iter()
            .map(|argument| CString::new(*argument).map_err(|_| "spawn-argv".to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        let argv = arguments
            .iter()
            .map(|argument| argument.as_ptr().cast_mut())
            .chain([std::ptr::null_mut()])
            .collect();
        Ok(SpawnTarget {
            path,
            _arguments: arguments,
            argv,
            envp: [std::ptr::null_mut()],
        })
    }
}

/// A new pipe: (read end, write end).
fn pipe() -> Result<(i32, i32), String> {
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err(os_error("pipe"));
    }
    Ok((fds[0], fds[1]))
}

fn close(fd: i32) {
    // SAFETY: closing a descriptor we own; errors are of no consequence here.
    unsafe { libc::close(fd) };
}

/// Forks; the child runs `body` and `_exit`s with what it returns.
fn fork_child(body: impl FnOnce() -> i32) -> Result<libc::pid_t, String> {
    // SAFETY: the suite has no other threads when it forks (the futex
    // partner has been joined), so the child may run ordinary code.
    match unsafe { libc::fork() } {
        0 => {
            let code = body();
            // SAFETY: ends the child without running the parent's atexit
            // handlers or flushing its buffers a second time.
            unsafe { libc::_exit(code) }
        }
        pid if pid > 0 => Ok(pid),
        _ => Err(os_error("fork")),
    }
}

/// `waitpid`, retried on EINTR: the raw status.
fn wait(pid: libc::pid_t) -> Result<i32, String> {
    let mut status = 0;
    loop {
        // SAFETY: status is ours.
        if unsafe { libc::waitpid(pid, &mut status, 0) } == pid {
            return Ok(status);
        }
        if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return Err(os_error("waitpid"));
        }
    }
}

/// Ok if the status is "exited with 0".
fn check_exit(status: i32, what: &str) -> Result<(), String> {
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        Ok(())
    } else {
        Err(format!("{what}-ended:status{status}"))
    }
}

/// Waits for `pid` and checks that it exited with 0.
fn wait_exit(pid: libc::pid_t, what: &str) -> Result<(), String> {
    check_exit(wait(pid)?, what)
}
