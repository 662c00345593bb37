//! The component's sessions: the console and the `Unix` interface the
//! Abide shell calls.
//!
//! - **The console** ([`Console`], [`console_reader`], [`console_writer`]):
//!   `unix` is a client of the serial driver's `Console` (`uses console
//!   from serial`). What the terminal ([`crate::tty`]) sends out is queued
//!   with [`write_console`] and written by the writer task, in order. The
//!   reader task asks the driver for input only while a Linux process
//!   waits for it ([`want_input`]): the serial driver gives input to the
//!   oldest waiting read, and the Abide shell does not read while a `run`
//!   it asked for goes on, so the keys go to the Linux side exactly while
//!   something there reads them. Each arrival goes to [`crate::tty::input`]
//!   (the line discipline: echo, signals, waking the blocked readers). A
//!   serial driver that restarts answers the waiting read `Restarted`;
//!   the client runtime asks again with the same txid, and the Linux
//!   process blocked in `read` notices nothing. A read that fails
//!   otherwise (the driver gone for a moment) is asked again after
//!   [`RETRY_NS`].
//! - **The `Unix` interface** ([`serve`]): `run` starts the command as a
//!   new session leader in the foreground of the console's terminal and
//!   answers, when it ends, with how ([`process_ended`]); `ps` and `stats`
//!   answer at once. A `run` being served is noted in the stash
//!   (`abide_inflight`, as the serial driver notes its reads): a crash of
//!   `unix` ends its Linux processes, and the next instance answers each
//!   noted `run` with an error that says so, so the shell does not wait
//!   forever.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::future::poll_fn;
use core::task::{Poll, Waker};

use abide_abi::syscall::Handle;
use abide_datatable::{Record, Table, Value};
use abide_inflight::{Kind, Requests, Slot, Stash};
use abide_interfaces::component::client_id;
use abide_interfaces::unix::{CallCount, Command, ExitStatus, Stats, PS_COLUMNS};
use abide_interfaces::{Console as ConsoleInterface, Unix as UnixInterface};
use abide_ipc::server;
use abide_ipc::wire::Header;
use abide_ipc::RemoteError;
use abide_rt::executor::sleep;
use abide_rt::ipc::{Channel, Client};
use abide_rt::println;
use abide_rt::syscall;
use abide_unix::status::Status;
use abide_unix::table::{Pid, State, INIT_PID};

use crate::process;
use crate::unix::Unix;

/// How long the reader waits before asking again after a read failed
/// (not `Restarted`, which the client runtime retries at once).
const RETRY_NS: u64 = 100_000_000;

/// The most bytes one console read asks for.
const READ_MAX: u32 = 256;

/// The most bytes one console write carries.
const WRITE_MAX: usize = 4096;

/// The console as the terminal sees it: output waiting to be written, and
/// whether a Linux process waits for input.
#[derive(Default)]
pub struct Console {
    /// Whether the component has a console route; without one, output
    /// goes to the debug console (the kernel's log, and the serial line
    /// when no driver holds it: `system/unix-hello.conf`).
    pub attached: bool,
    output: VecDeque<u8>,
    /// Bytes ever queued, and ever written (acknowledged by the driver).
    queued: u64,
    written: u64,
    /// Replies to `run`s that wait until the output queued before their
    /// command ended is written (so the shell's prompt comes after it):
    /// the byte count, the channel, the reply.
    replies: VecDeque<(u64, Handle, Vec<u8>)>,
    /// A Linux process waits for console input the terminal does not have.
    wanted: bool,
    /// The writer task, waiting for output.
    writer: Option<Waker>,
    /// The reader task, waiting for a reader.
    reader: Option<Waker>,
}

/// A `run` in progress: where to answer when its process ends.
struct Run {
    /// The route's channel.
    channel: Handle,
    header: Header,
    /// Its note in the stash (`None` if the table was full, or no stash).
    slot: Option<Slot>,
}

/// The sessions' state, a field of [`Unix`].
#[derive(Default)]
pub struct Sessions {
    pub console: Console,
    /// `run`s waiting for their process to end, by its pid.
    runs: BTreeMap<Pid, Run>,
    /// The `run`s being served, in the stash.
    notes: Option<Requests<Stash<'static>>>,
    /// Linux processes started by `run`, `fork` and `clone` since start.
    pub started: u64,
}

/// Queues `bytes` (already processed by the terminal) for the console.
pub fn write_console(unix: &mut Unix, bytes: &[u8]) {
    let console = &mut unix.session.console;
    if !console.attached {
        let _ = syscall::debug_write(bytes);
        return;
    }
    console.output.extend(bytes);
    console.queued += bytes.len() as u64;
    if let Some(writer) = console.writer.take() {
        writer.wake();
    }
}

/// A Linux process waits for console input the terminal does not have:
/// the reader asks the driver for some.
#[allow(dead_code)] // The terminal (`tty`) calls it once it reads.
pub fn want_input(unix: &mut Unix) {
    let console = &mut unix.session.console;
    console.wanted = true;
    if let Some(reader) = console.reader.take() {
        reader.wake();
    }
}

/// Writes the terminal's output to the console, in order, as it comes.
pub async fn console_writer(unix: &RefCell<Unix>, console: &Client) {
    loop {
        let bytes = poll_fn(|cx| {
            let mut unix = unix.borrow_mut();
            let console = &mut unix.session.console;
            if console.output.is_empty() {
                console.writer = Some(cx.waker().clone());
                return Poll::Pending;
            }
            let count = console.output.len().min(WRITE_MAX);
            Poll::Ready(console.output.drain(..count).collect::<Vec<u8>>())
        })
        .await;
        let count = bytes.len() as u64;
        // A failed write (the driver gone for good) loses its bytes: there
        // is nowhere else to show them.
        let _ = console
            .call(
                |txid| ConsoleInterface::write::encode(txid, bytes),
                ConsoleInterface::write::decode_reply,
            )
            .await;
        let mut unix = unix.borrow_mut();
        unix.session.console.written += count;
        send_due_replies(&mut unix.session.console);
    }
}

/// Sends the `run` replies whose command's output is all written.
fn send_due_replies(console: &mut Console) {
    while let Some((mark, channel, reply)) = console.replies.front() {
        if *mark > console.written {
            break;
        }
        let _ = syscall::channel_write(*channel, reply, &[]);
        console.replies.pop_front();
    }
}

/// Reads console input while a Linux process wants it and hands it to the
/// terminal.
pub async fn console_reader(unix: &RefCell<Unix>, console: &Client) {
    loop {
        poll_fn(|cx| {
            let mut unix = unix.borrow_mut();
            let console = &mut unix.session.console;
            if console.wanted {
                Poll::Ready(())
            } else {
                console.reader = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await;
        // `Restarted` from a restarting driver is asked again inside the
        // call, with the same txid: the blocked reader sees nothing of it.
        let read = console
            .call(
                |txid| ConsoleInterface::read::encode(txid, READ_MAX),
                ConsoleInterface::read::decode_reply,
            )
            .await;
        match read {
            Ok(bytes) => {
                let mut unix = unix.borrow_mut();
                unix.session.console.wanted = false;
                crate::tty::input(&mut unix, &bytes);
                // The readers it woke run now, and may want more.
                crate::trap::settle(&mut unix);
            }
            Err(_) => sleep(RETRY_NS).await,
        }
    }
}

/// Opens the stash's table of `run`s and answers those a crashed
/// predecessor was serving on `routes`: their processes ended with it.
pub fn recover(unix: &mut Unix, stash: Option<&'static mut [u8]>, routes: &[(String, Channel)]) {
    let Some(mut notes) = stash.and_then(|stash| Requests::open(Stash::new(stash))) else {
        return;
    };
    notes.answer_predecessors(|noted| {
        let route = routes
            .iter()
            .find(|(name, _)| client_id(name) == noted.client);
        if let Some((_, channel)) = route {
            let header = Header::request(UnixInterface::run::ORDINAL, noted.txid);
            let error = RemoteError::app(
                "the Unix personality restarted: the command's processes ended with it",
            );
            let _ = syscall::channel_write(channel.handle(), &server::error(&header, &error), &[]);
        }
    });
    unix.session.notes = Some(notes);
}

/// Serves the `Unix` interface on `channel`, the route of client `name`,
/// until the channel fails.
pub async fn serve(unix: &RefCell<Unix>, name: String, channel: Channel) {
    let client = client_id(&name);
    loop {
        let message = match channel.recv().await {
            Ok(message) => message,
            Err(_) => return,
        };
        for handle in &message.handles {
            let _ = syscall::handle_close(*handle);
        }
        let (header, request) = match UnixInterface::Request::decode(&message.bytes) {
            Ok(decoded) => decoded,
            Err(error) => {
                let reply = match Header::decode(&message.bytes) {
                    Ok((header, _)) => server::error(&header, &error),
                    Err(_) => server::unreadable(),
                };
                let _ = channel.send(&reply, &[]).await;
                continue;
            }
        };
        let reply = {
            let mut unix = unix.borrow_mut();
            match request {
                UnixInterface::Request::run { command } => {
                    match run(&mut unix, client, channel.handle(), header, command) {
                        Ok(()) => None,
                        Err(error) => Some(server::error(&header, &error)),
                    }
                }
                UnixInterface::Request::ps {} => Some(server::reply(&header, Ok(ps(&unix)))),
                UnixInterface::Request::stats {} => Some(server::reply(&header, Ok(stats(&unix)))),
            }
        };
        if let Some(reply) = reply {
            let _ = channel.send(&reply, &[]).await;
        }
    }
}

/// Starts `command` as a new session leader in the foreground of the
/// console's terminal; the answer comes when it ends.
fn run(
    unix: &mut Unix,
    client: u32,
    channel: Handle,
    header: Header,
    command: Command,
) -> Result<(), RemoteError> {
    let Some(program) = command.argv.first() else {
        return Err(RemoteError::app("run: an empty command"));
    };
    let pid = start(unix, &command)
        .map_err(|errno| RemoteError::app(format!("{program}: {}", errno_text(errno))))?;
    let slot = unix
        .session
        .notes
        .as_mut()
        .and_then(|notes| notes.note(client, header.txid, Kind::Read))
        .map(|noted| noted.slot);
    unix.session.runs.insert(
        pid,
        Run {
            channel,
            header,
            slot,
        },
    );
    Ok(())
}

/// Starts `command` as a new session leader on the console's terminal.
fn start(unix: &mut Unix, command: &Command) -> Result<Pid, i64> {
    let bytes = |words: &[String]| -> Vec<Vec<u8>> {
        words.iter().map(|word| word.as_bytes().to_vec()).collect()
    };
    let pid = process::start(unix, &bytes(&command.argv), &bytes(&command.env))?;
    unix.session.started += 1;
    // A directory that is not there leaves it where new processes start.
    if !command.cwd.is_empty() {
        let _ = crate::files::start_in(unix, pid, &command.cwd);
    }
    crate::tty::attach(unix, pid);
    Ok(pid)
}

/// Process `pid`, child of `parent` and a session leader or not, ended
/// with `status`: a `run` waiting for it answers.
pub fn process_ended(unix: &mut Unix, pid: Pid, parent: Pid, session_leader: bool, status: Status) {
    let Some(run) = unix.session.runs.remove(&pid) else {
        if parent == INIT_PID && session_leader {
            // A session nobody waits for (`args` at start): the log says.
            println!("unix: pid {pid} ended: status {}", status.shell_code());
        }
        return;
    };
    let status = match status {
        Status::Exited(code) => ExitStatus::Exited(code),
        Status::Signaled { signal, .. } => ExitStatus::Signaled(signal as u8),
        // Not an end: nothing else reaches here.
        Status::Stopped(_) | Status::Continued => return,
    };
    let reply = server::reply(&run.header, Ok::<_, RemoteError>(status));
    // After the output the command left queued, so the shell's prompt
    // comes after it.
    let console = &mut unix.session.console;
    console
        .replies
        .push_back((console.queued, run.channel, reply));
    send_due_replies(console);
    if let (Some(notes), Some(slot)) = (unix.session.notes.as_mut(), run.slot) {
        notes.forget(slot);
    }
}

/// Counts a Linux process started by `fork` or `clone` (for `stats`).
pub fn process_started(unix: &mut Unix) {
    unix.session.started += 1;
}

/// The `ps` table: one row per Linux process, by pid.
fn ps(unix: &Unix) -> Table {
    let mut table = Table::new(PS_COLUMNS);
    for process in unix.table.processes() {
        let state = match process.state {
            State::Running
                if !process.threads.is_empty()
                    && process.threads.iter().all(|&tid| unix.waits.is_parked(tid)) =>
            {
                "S"
            }
            State::Running => "R",
            State::Stopped(_) => "T",
            State::Zombie(_) => "Z",
        };
        let pages = unix
            .handle(process.pid)
            .and_then(|handle| syscall::process_status(handle).ok())
            .map_or(0, |status| status.memory_pages);
        let record = Record::new()
            .with("pid", Value::Int(i64::from(process.pid)))
            .with("ppid", Value::Int(i64::from(process.ppid)))
            .with("pgid", Value::Int(i64::from(process.pgid)))
            .with("sid", Value::Int(i64::from(process.sid)))
            .with("state", Value::text(state))
            .with("mem", Value::Bytes(pages.saturating_mul(4096)))
            .with("command", Value::text(&process.cmdline.join(" ")));
        // The record has exactly the table's columns.
        let _ = table.push_record(record);
    }
    table
}

/// The `stats` figures.
fn stats(unix: &Unix) -> Stats {
    let mut enosys: Vec<CallCount> = unix
        .stats
        .enosys
        .iter()
        .map(|(&number, &count)| CallCount {
            name: abide_linux::syscalls::name(number)
                .map_or_else(|| format!("#{number}"), String::from),
            count,
        })
        .collect();
    enosys.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    Stats {
        calls: unix.stats.calls,
        processes: unix
            .table
            .processes()
            .filter(|p| !matches!(p.state, State::Zombie(_)))
            .count() as u64,
        started: unix.session.started,
        enosys,
    }
}

/// Why a program could not start, as a shell says it.
fn errno_text(errno: i64) -> String {
    use abide_linux::errno::{EACCES, ENOENT, ENOEXEC, ENOMEM};
    match errno {
        ENOENT => "not found".into(),
        EACCES => "permission denied".into(),
        ENOEXEC => "not an executable".into(),
        ENOMEM => "out of memory".into(),
        _ => format!("cannot run it (errno {errno})"),
    }
}

/// Runs `args` (a program and its arguments), if any, as a new session at
/// start (a test configuration's `args`, `system/unix-hello.conf`); logs
/// its pid.
pub fn start_args(unix: &RefCell<Unix>, args: &[String]) {
    if args.is_empty() {
        return;
    }
    match start(&mut unix.borrow_mut(), &Command::new(args)) {
        Ok(pid) => println!("unix: started {} as pid {pid}", args.join(" ")),
        Err(errno) => println!(
            "unix: cannot start {}: {}",
            args.join(" "),
            errno_text(errno)
        ),
    }
}
