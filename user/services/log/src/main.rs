//! The log service: every component's log, and the kernel's, in one ring
//! that survives the service crashing.
//!
//! It serves [`abide_interfaces::Log`] on each route `uses log from log`.
//! The writer's component name is the route's client, never something the
//! writer says. The entries live in the service's stash, memory `init`
//! keeps across restarts, as an [`abide_logring::Ring`]: a new instance
//! opens what its predecessor left, losing nothing it acknowledged.
//!
//! Exactly once: a request's txid is its idempotency token (clients number
//! their requests upward, see `abide_rt::ipc::Client`), and the ring
//! refuses a token it has committed before, answering with the first
//! entry's number. Before serving a request the service notes it in the
//! ring's journal; a new instance answers the noted request `Restarted`,
//! and the client sends it again. A request taken from the channel but not
//! yet noted when the service died is lost to it: the client sends it
//! again when no reply comes ([`Client::resending_after`]).
//!
//! The kernel's own messages (`kernel_log_read`) are copied in too, as
//! component `kernel`, each line once: its byte position in the kernel's
//! log is its token. Reading them needs the `kernel-log` device (`uses
//! kernel-log from init`); without it the service serves its routes alone.
//! Lines a process wrote with `debug_write` arrive tagged by the kernel with
//! the process's id and name (`<3 hello> ...`), and keep their tag.
//!
//! [`Client::resending_after`]: abide_rt::ipc::Client::resending_after
#![no_std]
#![no_main]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;

use abide_abi::object::Signals;
use abide_abi::syscall::{Error, Handle};
use abide_datatable::{Table, Value};
use abide_interfaces::component::client_id;
use abide_interfaces::{Log, LogFilter, LOG_QUERY_MAX_ROWS};
use abide_ipc::{server, RemoteError};
use abide_logring::{
    Appended, Filter, Level, LevelFilter, NewEntry, Ring, MAX_COMPONENT_LEN, MAX_TEXT_LEN,
};
use abide_rt::component::Component;
use abide_rt::ipc::{next_request, Channel};
use abide_rt::{println, syscall};

abide_rt::entry!(main);

/// The client id of the kernel's lines; components get [`client_id`] of
/// their name, which is never 0.
const KERNEL_CLIENT: u32 = 0;
/// How often the kernel's log is copied in when no request wakes the service.
const KERNEL_POLL_NS: u64 = 250_000_000;
/// The most bytes of entries one query reply carries (messages are at most
/// 64 KiB).
const QUERY_MAX_BYTES: usize = 48 * 1024;

/// One route to the service.
struct Route {
    /// The component at its other end.
    name: String,
    /// Its client id in the ring.
    id: u32,
    channel: Channel,
}

struct Service {
    ring: Ring<&'static mut [u8]>,
    routes: Vec<Route>,
    port: Handle,
    /// The `kernel-log` device: the hardware resource with `READ`.
    kernel_log: Option<Handle>,
    /// Where the next kernel line starts in the kernel's log.
    kernel_cursor: u64,
}

fn main() -> i32 {
    abide_rt::exit_status("log", run())
}

fn run() -> Result<(), Error> {
    let component = Component::get()?;
    let region = component.map_stash().ok_or(Error::BadHandle)?;
    let routes = component
        .serves("log")
        .into_iter()
        .map(|(name, channel)| Route {
            id: client_id(&name),
            name,
            channel,
        })
        .collect();
    let mut service = Service {
        ring: Ring::open(region),
        routes,
        port: syscall::port_create()?,
        kernel_log: component.device("kernel-log"),
        kernel_cursor: 0,
    };
    if service.kernel_log.is_none() {
        println!("log: no kernel-log route: the kernel's lines are not copied in");
    }
    service.answer_predecessors_request();
    for index in 0..service.routes.len() {
        service.bind(index)?;
    }
    loop {
        service.copy_kernel_log();
        let deadline = syscall::clock_ns().saturating_add(KERNEL_POLL_NS);
        match syscall::port_wait(service.port, deadline) {
            Ok(packet) => {
                let index = usize::try_from(packet.key).map_err(|_| Error::InvalidArgument)?;
                service.serve(index);
                service.bind(index)?;
            }
            Err(Error::TimedOut) => {}
            Err(error) => return Err(error),
        }
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends on a
/// character boundary.
fn clip(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl Service {
    fn bind(&self, index: usize) -> Result<(), Error> {
        let channel = self.routes[index].channel.handle();
        syscall::port_bind(self.port, channel, index as u64, Signals::READABLE)
    }

    /// Answers `Restarted` to the request the crashed predecessor noted.
    fn answer_predecessors_request(&mut self) {
        let Some((client, txid)) = self.ring.take_in_flight() else {
            return;
        };
        if let Some(route) = self.routes.iter().find(|route| route.id == client) {
            let _ = syscall::channel_write(route.channel.handle(), &server::restarted(txid), &[]);
        }
    }

    /// Answers every request queued on route `index`.
    fn serve(&mut self, index: usize) {
        let Some(route) = self.routes.get(index) else {
            return;
        };
        let channel = route.channel.handle();
        let (client, name) = (route.id, route.name.clone());
        while let Some(request) = next_request(channel) {
            let (header, payload) = (request.header, request.payload());
            self.ring.begin(client, header.txid);
            let reply = match Log::Request::decode_args(header.ordinal, payload) {
                Ok(Log::Request::write { level, text }) => {
                    let result = self.append(&name, client, header.txid, level, &text);
                    server::reply(&header, result)
                }
                Ok(Log::Request::query { filter }) => server::reply(&header, self.query(&filter)),
                Err(error) => server::error(&header, &error),
            };
            let _ = syscall::channel_write(channel, &reply, &[]);
            self.ring.end();
        }
    }

    /// Appends one entry of `component` (once per `token`).
    fn append(
        &mut self,
        component: &str,
        client: u32,
        token: u64,
        level: u8,
        text: &str,
    ) -> Result<u64, RemoteError> {
        let level = Level::from_u8(level)
            .ok_or_else(|| RemoteError::app(alloc::format!("unknown log level {level}")))?;
        let entry = NewEntry {
            time_ns: syscall::clock_ns(),
            level,
            component: clip(component, MAX_COMPONENT_LEN),
            client,
            token,
            text: clip(text, MAX_TEXT_LEN),
        };
        match self.ring.append(&entry) {
            Ok(Appended::New(seq)) | Ok(Appended::Duplicate(Some(seq))) => Ok(seq),
            // Logged before, and overwritten since.
            Ok(Appended::Duplicate(None)) => Ok(u64::MAX),
            Err(error) => Err(RemoteError::app(alloc::format!("{error:?}"))),
        }
    }

    /// The entries `filter` selects, at most [`LOG_QUERY_MAX_ROWS`] and
    /// [`QUERY_MAX_BYTES`].
    fn query(&self, filter: &LogFilter) -> Result<Table, RemoteError> {
        let mut selection = Filter::new();
        selection.component = filter.component.as_deref();
        selection.text = filter.text.as_deref();
        selection.since_ns = filter.since_ns;
        if let Some(level) = filter.level {
            let level = Level::from_u8(level)
                .ok_or_else(|| RemoteError::app(alloc::format!("unknown log level {level}")))?;
            selection.level = LevelFilter::AtLeast(level);
        }
        let after = |seq: u64| filter.after_seq.is_none_or(|after| seq > after);
        let entries: Vec<abide_logring::Entry> = match filter.last {
            Some(last) => {
                let last = (last as usize).min(LOG_QUERY_MAX_ROWS);
                self.ring
                    .last_matching(selection, last)
                    .filter(|entry| after(entry.seq))
                    .collect()
            }
            None => self
                .ring
                .query(selection)
                .filter(|entry| after(entry.seq))
                .take(LOG_QUERY_MAX_ROWS)
                .collect(),
        };
        let mut table = Table::new(&["seq", "time", "component", "level", "text"]);
        let mut bytes = 0;
        for entry in entries {
            bytes += entry.component().len() + entry.text().len() + 48;
            if bytes > QUERY_MAX_BYTES {
                break;
            }
            table
                .push_row(alloc::vec![
                    Value::Int(entry.seq as i64),
                    Value::Duration(entry.time_ns),
                    Value::text(entry.component()),
                    Value::text(entry.level.as_str()),
                    Value::text(entry.text()),
                ])
                .map_err(|error| RemoteError::app(alloc::format!("{error:?}")))?;
        }
        Ok(table)
    }

    /// Copies the kernel's new whole lines in, as component `kernel`.
    fn copy_kernel_log(&mut self) {
        let Some(kernel_log) = self.kernel_log else {
            return;
        };
        let mut buffer = alloc::vec![0u8; 4096];
        loop {
            let mut cursor = self.kernel_cursor;
            let start = cursor;
            let Ok(count) = syscall::kernel_log_read(kernel_log, &mut cursor, &mut buffer) else {
                return;
            };
            if count == 0 {
                return;
            }
            // The kernel skips what its ring no longer holds.
            let skipped = cursor - count as u64 - start;
            let text = &buffer[..count];
            let Some(last_newline) = text.iter().rposition(|&byte| byte == b'\n') else {
                // A line longer than the buffer: take it as it is.
                self.kernel_line(start + skipped, text);
                self.kernel_cursor = cursor;
                continue;
            };
            let mut line_start = 0;
            for (at, &byte) in text[..=last_newline].iter().enumerate() {
                if byte == b'\n' {
                    let position = start + skipped + line_start as u64;
                    self.kernel_line(position, &text[line_start..at]);
                    line_start = at + 1;
                }
            }
            self.kernel_cursor = start + skipped + last_newline as u64 + 1;
        }
    }

    /// Appends one kernel line found at byte `position` of the kernel log.
    fn kernel_line(&mut self, position: u64, line: &[u8]) {
        let known = self.ring.client_record(KERNEL_CLIENT).map(|r| r.token);
        // Token 0 is the first line; tokens are positions plus one.
        let token = position + 1;
        if known.is_some_and(|known| token <= known) {
            return;
        }
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches('\r');
        if text.is_empty() {
            return;
        }
        let level = Level::of_kernel_line(text);
        let _ = self.ring.append(&NewEntry {
            time_ns: syscall::clock_ns(),
            level,
            component: "kernel",
            client: KERNEL_CLIENT,
            token,
            text: clip(text, MAX_TEXT_LEN),
        });
    }
}
