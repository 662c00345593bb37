//! The serial console driver: the 16550 UART on COM1, in user space.
//!
//! `init` grants it COM1's I/O ports and IRQ 4 (`uses com1 from init`);
//! taking them hands the console over from the kernel, which from then on
//! writes to the serial port only when it panics. The driver serves the
//! `console` service ([`abide_interfaces::Console`]) to every client its
//! routes name: `write` sends bytes (polled, `\n` as `\r\n`), `read`
//! answers with what arrived, waiting until something did. Input is
//! interrupt-driven: each IRQ moves the received bytes into a buffer.
//! Bytes the kernel received before the hand-over are replayed through the
//! data register, so piped input is not lost.
//!
//! # Crashes
//!
//! The driver keeps its requests in its stash, memory `init` keeps across
//! its restarts, as an [`abide_inflight::Requests`] table: each request is
//! noted right after it is taken from its channel, and each write's
//! progress is stored byte by byte. A new instance answers every request
//! its predecessor noted `Restarted` (the client sends it again with the
//! same txid), resumes a write after the bytes already sent when it comes
//! again, acknowledges without printing a write the table says completed,
//! and finishes a write cut short before it prints anyone else's bytes.
//! So every acknowledged write is on the line exactly once — but for the
//! one byte being sent at the moment of the crash, which may be lost (see
//! [`Uart`] for why that almost never happens). A request taken but not
//! yet noted is unknown to the next instance: clients made with
//! `Client::resending_after` send it again. Received input that no read
//! has taken yet is lost with the instance.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;

use abide_abi::object::Signals;
use abide_abi::syscall::{decode_result, Error, Handle, Syscall};
use abide_console::Input;
use abide_inflight::{Kind, Requests, Slot, Stash, Transmitter};
use abide_interfaces::component::client_id;
use abide_interfaces::Console;
use abide_ipc::server;
use abide_ipc::wire::Header;
use abide_rt::component::Component;
use abide_rt::ipc::{next_request, Channel};
use abide_rt::syscall;

abide_rt::entry!(main);

const COM1: u16 = 0x3f8;
const DATA: u16 = COM1;
const INTERRUPT_ENABLE: u16 = COM1 + 1;
const MODEM_CONTROL: u16 = COM1 + 4;
const LINE_STATUS: u16 = COM1 + 5;
const LSR_DATA_READY: u32 = 0x01;
const LSR_TRANSMIT_EMPTY: u32 = 0x20;
const IER_RECEIVED_DATA: u32 = 0x01;
/// DTR, RTS and OUT2 (which routes the IRQ line).
const MCR_IRQ_ON: u32 = 0x0b;
/// Port key of the interrupt; client `i` has key `i + 1`.
const IRQ_KEY: u64 = 0;
/// How long a new instance serves only the clients whose writes its
/// predecessor left half printed, waiting for them to send those again
/// (they were answered `Restarted`, so they do at once if they run).
const HOLD_NS: u64 = 1_000_000_000;

/// A read waiting for input.
struct PendingRead {
    route: usize,
    header: Header,
    /// Its note in the stash (`None` if the table was full).
    slot: Option<Slot>,
}

/// A route to the console: a client.
struct Route {
    /// The client's id in the stash: a hash of its component name.
    id: u32,
    channel: Channel,
    /// Whether the port watches its channel.
    armed: bool,
}

struct Driver {
    ports: Handle,
    interrupt: Handle,
    port: Handle,
    routes: Vec<Route>,
    /// Received bytes, and the reads waiting for them.
    input: Input<PendingRead>,
    requests: Requests<Stash<'static>>,
    /// While set, only the clients of unfinished writes are served, until
    /// they are finished or this deadline passes.
    hold_until: Option<u64>,
}

/// COM1's transmitter, one byte at a time, for [`Requests::write`].
///
/// For each byte the table polls the line status until the transmitter is
/// empty ([`wait_ready`](Transmitter::wait_ready)), then stores the write's
/// progress *counting the byte*, then hands it over
/// ([`put`](Transmitter::put)). A crash repeats no byte, and loses the byte
/// only if it falls between the store and the `syscall` instruction of
/// `ioport_write`. Both are inlined ([`Stash`], and `put` makes the system
/// call itself), so only the few instructions that load the call's
/// registers are between them: no branch, no call. (Under QEMU's TCG, which
/// takes interrupts only between translated blocks, that closes the window
/// entirely; a block ends at a branch.)
///
/// Why that is the rare case: a kill takes effect only while the driver is
/// not running, so it lands where the driver was preempted, and the timer
/// preempts it only in user mode. Almost all of the driver's time per byte
/// is in its system calls (the status polls and the data write), and a
/// timer interrupt that comes during a system call is delivered right
/// after the call returns. So the driver is almost always preempted right
/// after a poll (progress not yet counting the byte, nothing sent: exact)
/// or right after the data write (the byte sent and counted: exact). The
/// opposite order — send, then store — would put exactly that likeliest
/// point, right after the data write returns, inside the window, and
/// double the byte.
struct Uart {
    ports: Handle,
}

impl Transmitter for Uart {
    type Error = Error;

    fn wait_ready(&mut self) -> Result<(), Error> {
        while syscall::ioport_read(self.ports, LINE_STATUS, 1)? & LSR_TRANSMIT_EMPTY == 0 {
            core::hint::spin_loop();
        }
        Ok(())
    }

    #[inline(always)]
    fn put(&mut self, byte: u8) -> Result<(), Error> {
        // `syscall::ioport_write`, inlined to the instruction.
        // SAFETY: the call takes no pointers.
        let (status, value) = unsafe {
            syscall::syscall6(
                Syscall::IoPortWrite as u64,
                u64::from(self.ports.0),
                u64::from(DATA),
                1,
                u64::from(byte),
                0,
                0,
            )
        };
        decode_result(status, value).map(|_| ())
    }
}

fn main() -> i32 {
    abide_rt::exit_status("serial", run())
}

fn run() -> Result<(), Error> {
    let component = Component::get()?;
    let ports = component.device("com1-ports").ok_or(Error::BadHandle)?;
    let interrupt = component.device("com1-irq").ok_or(Error::BadHandle)?;
    let stash = component.map_stash().ok_or(Error::BadHandle)?;
    let requests = Requests::open(Stash::new(stash)).ok_or(Error::NoMemory)?;
    let routes = component
        .serves("console")
        .into_iter()
        .map(|(name, channel)| Route {
            id: client_id(&name),
            channel,
            armed: false,
        })
        .collect();
    let mut driver = Driver {
        ports,
        interrupt,
        port: syscall::port_create()?,
        routes,
        input: Input::new(),
        requests,
        hold_until: None,
    };
    driver.answer_predecessors();
    driver.start()?;
    loop {
        let deadline = driver.hold_until.unwrap_or(u64::MAX);
        match syscall::port_wait(driver.port, deadline) {
            Ok(packet) if packet.key == IRQ_KEY => {
                driver.receive()?;
                syscall::interrupt_ack(driver.interrupt)?;
                syscall::port_bind(driver.port, driver.interrupt, IRQ_KEY, Signals::INTERRUPT)?;
            }
            Ok(packet) => {
                if let Some(route) = usize::try_from(packet.key - 1)
                    .ok()
                    .filter(|&index| index < driver.routes.len())
                {
                    driver.routes[route].armed = false;
                    driver.serve(route);
                }
            }
            Err(Error::TimedOut) => {}
            Err(error) => return Err(error),
        }
        driver.end_hold();
        driver.arm()?;
        driver.answer_reads();
    }
}

/// The bytes the line carries for `bytes`: `\n` becomes `\r\n`.
fn line_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut output = Vec::with_capacity(bytes.len() + bytes.len() / 8);
    for &byte in bytes {
        if byte == b'\n' {
            output.push(b'\r');
        }
        output.push(byte);
    }
    output
}

impl Driver {
    /// Answers `Restarted` to every request the previous instance held,
    /// and holds the other clients back while a write of its is half
    /// printed.
    fn answer_predecessors(&mut self) {
        let routes = &self.routes;
        self.requests.answer_predecessors(|noted| {
            if let Some(route) = routes.iter().find(|route| route.id == noted.client) {
                let reply = server::restarted(noted.txid);
                let _ = syscall::channel_write(route.channel.handle(), &reply, &[]);
            }
        });
        if self.requests.unfinished().next().is_some() {
            self.hold_until = Some(syscall::clock_ns().saturating_add(HOLD_NS));
        }
    }

    /// Turns the receive interrupt on and waits for the first events.
    fn start(&mut self) -> Result<(), Error> {
        self.receive()?;
        syscall::ioport_write(self.ports, MODEM_CONTROL, 1, MCR_IRQ_ON)?;
        syscall::ioport_write(self.ports, INTERRUPT_ENABLE, 1, IER_RECEIVED_DATA)?;
        syscall::port_bind(self.port, self.interrupt, IRQ_KEY, Signals::INTERRUPT)?;
        self.arm()?;
        // Input that arrived before the interrupt was on.
        self.receive()
    }

    /// Whether route `index` may be served now.
    fn may_serve(&self, index: usize) -> bool {
        self.hold_until.is_none()
            || self
                .requests
                .unfinished()
                .any(|noted| noted.client == self.routes[index].id)
    }

    /// Ends the hold once the unfinished writes are finished, or it lasted
    /// [`HOLD_NS`].
    fn end_hold(&mut self) {
        if let Some(until) = self.hold_until {
            if self.requests.unfinished().next().is_none() || syscall::clock_ns() >= until {
                self.hold_until = None;
            }
        }
    }

    /// Has the port watch every route it may serve and does not watch yet.
    fn arm(&mut self) -> Result<(), Error> {
        for index in 0..self.routes.len() {
            if self.routes[index].armed || !self.may_serve(index) {
                continue;
            }
            let channel = self.routes[index].channel.handle();
            syscall::port_bind(self.port, channel, index as u64 + 1, Signals::READABLE)?;
            self.routes[index].armed = true;
        }
        Ok(())
    }

    /// Moves every received byte into the input buffer.
    fn receive(&mut self) -> Result<(), Error> {
        while syscall::ioport_read(self.ports, LINE_STATUS, 1)? & LSR_DATA_READY != 0 {
            let byte = syscall::ioport_read(self.ports, DATA, 1)? as u8;
            self.input.push(byte);
        }
        Ok(())
    }

    /// Handles the requests queued by client `index`.
    fn serve(&mut self, index: usize) {
        let handle = self.routes[index].channel.handle();
        let client = self.routes[index].id;
        while let Some(request) = next_request(handle) {
            let header = request.header;
            match Console::Request::decode_args(header.ordinal, request.payload()) {
                Ok(Console::Request::write { bytes }) => {
                    let output = line_bytes(&bytes);
                    let mut uart = Uart { ports: self.ports };
                    let (result, slot) =
                        match self.requests.write(client, header.txid, &output, &mut uart) {
                            Ok(slot) => (Ok(()), slot),
                            Err(error) => {
                                let noted = self.requests.find(client, header.txid);
                                (Err(error.into()), noted.map(|noted| noted.slot))
                            }
                        };
                    let _ = syscall::channel_write(handle, &server::reply(&header, result), &[]);
                    // After the reply: a crash between the two makes the
                    // next instance answer `Restarted` to a request the
                    // client has its reply for, which it ignores.
                    if let Some(slot) = slot {
                        self.requests.forget(slot);
                    }
                }
                Ok(Console::Request::read { max }) => {
                    let slot = self
                        .requests
                        .note(client, header.txid, Kind::Read)
                        .map(|noted| noted.slot);
                    let read = PendingRead {
                        route: index,
                        header,
                        slot,
                    };
                    // One read waits per route: a client reads one request
                    // at a time. A second one is the same read sent again
                    // (same txid), or comes from a new instance of a client
                    // that restarted while its read waited, which nobody
                    // will take the answer of. Either way it replaces the
                    // waiting one, so no input goes to a reader that is gone.
                    let replaced = self
                        .input
                        .wait_replacing(read, max, |pending| pending.route == index);
                    if let Some(old) = replaced
                        .and_then(|old| old.slot)
                        .filter(|old| Some(*old) != slot)
                    {
                        self.requests.forget(old);
                    }
                }
                Err(error) => {
                    let _ = syscall::channel_write(handle, &server::error(&header, &error), &[]);
                }
            }
        }
    }

    /// Answers waiting reads, oldest first, while there is input.
    fn answer_reads(&mut self) {
        let (routes, requests) = (&self.routes, &mut self.requests);
        self.input.answer(|read, bytes| {
            let reply = server::reply(&read.header, Ok::<_, abide_ipc::RemoteError>(bytes));
            if let Some(route) = routes.get(read.route) {
                let _ = syscall::channel_write(route.channel.handle(), &reply, &[]);
            }
            if let Some(slot) = read.slot {
                requests.forget(slot);
            }
        });
    }
}
