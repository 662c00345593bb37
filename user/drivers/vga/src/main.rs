//! The VGA text console driver: the screen and the PS/2 keyboard, in user
//! space.
//!
//! It serves the console interface ([`abide_interfaces::Console`]) as the
//! serial driver does, to every client its routes name, for a person at
//! the machine's screen instead of a serial line (the default system
//! calls the service `vga-console`: `console` is the serial driver's).
//! `write` draws the bytes on the 80 × 25 text screen as a terminal would
//! (scrolling, the line editor's escape sequences, colours, the hardware
//! cursor); `read` answers with what was typed, waiting until something
//! was. Input is interrupt-driven: each IRQ 1 moves the keyboard's
//! scancodes, turned into the bytes a terminal sends (`\r` for Enter,
//! `ESC [ A` for Up, ...), into a buffer. `init` grants the devices (`uses
//! ps2 from init`, `uses vga-text from init`).
//!
//! The logic is `abide_textscreen`'s; this program moves bytes between it
//! and the hardware ([`display`], [`ps2`]). It notes every request it takes
//! in its stash (an `abide_textscreen::Journal`): after a crash the new
//! instance keeps the screen and the cursor where they were and answers
//! the requests its predecessor held (a client's waiting `read`) with
//! `Restarted`, and the clients ask again.
//!
//! Arguments: `--layout NAME` picks the keyboard layout (`us`, the default,
//! `uk`, `de`, `fr`, ...; `abide_textscreen::layout_names`).
#![no_std]
#![no_main]

extern crate alloc;

mod display;
mod ps2;

use alloc::vec::Vec;

use abide_abi::object::Signals;
use abide_abi::syscall::{Error, Handle};
use abide_console::Input;
use abide_interfaces::component::client_id;
use abide_interfaces::component::Grant;
use abide_interfaces::Console;
use abide_ipc::wire::Header;
use abide_ipc::{server, RemoteError};
use abide_rt::component::Component;
use abide_rt::ipc::{next_request, Channel};
use abide_rt::{println, syscall};
use abide_textscreen::{layout_names, Journal, Keyboard, Noted, Screen};

use crate::display::{Display, COLUMNS, ROWS};
use crate::ps2::Controller;

abide_rt::entry!(main);

/// The most reads waiting at once; more are refused.
const MAX_PENDING_READS: usize = 1024;
/// Port key of the interrupt; client `i` has key `i + 1`.
const IRQ_KEY: u64 = 0;

/// One route to the console.
struct Client {
    /// Its id in the journal ([`client_id`] of its component's name).
    id: u32,
    channel: Channel,
}

/// A read waiting for input.
struct PendingRead {
    client: usize,
    header: Header,
}

struct Driver {
    keyboard: Keyboard,
    controller: Controller,
    interrupt: Handle,
    display: Display,
    screen: Screen,
    journal: Journal<'static>,
    port: Handle,
    clients: Vec<Client>,
    /// What was typed, and the reads waiting for it.
    input: Input<PendingRead>,
}

fn main() -> i32 {
    abide_rt::exit_status("vga", run())
}

fn run() -> Result<(), Error> {
    let component = Component::get()?;
    let device = |name| component.device(name).ok_or(Error::BadHandle);
    let display = Display::new(device("vga-text-memory")?, device("vga-crt-ports")?)?;
    let controller = Controller::new(device("ps2-data")?, device("ps2-status")?);
    let interrupt = device("ps2-irq")?;
    let keyboard = keyboard(component.args());
    let stash = component.map_stash().ok_or_else(|| {
        println!("vga: no stash: a component gets one when it provides a service");
        Error::BadHandle
    })?;
    let journal = Journal::open(stash).ok_or(Error::NoMemory)?;
    let clients = clients(&component);
    let mut driver = Driver {
        keyboard,
        controller,
        interrupt,
        display,
        screen: Screen::new(COLUMNS, ROWS),
        journal,
        port: syscall::port_create()?,
        clients,
        input: Input::new(),
    };
    driver.start()?;
    loop {
        let packet = syscall::port_wait(driver.port, syscall::FOREVER)?;
        if packet.key == IRQ_KEY {
            // Acknowledged before the controller is read: a byte arriving
            // meanwhile raises the line again instead of going unseen.
            syscall::interrupt_ack(driver.interrupt)?;
            driver.receive()?;
            syscall::port_bind(driver.port, driver.interrupt, IRQ_KEY, Signals::INTERRUPT)?;
        } else if let Ok(index) = usize::try_from(packet.key - 1) {
            driver.serve(index)?;
        }
        driver.answer_reads();
        driver.show()?;
    }
}

/// Every route to a service this component provides: they all speak
/// `Console`, whatever the configuration calls the service (`vga-console`:
/// a service has one provider, and `console` is the serial driver's).
fn clients(component: &Component) -> Vec<Client> {
    let mut services: Vec<&str> = component
        .manifest()
        .grants
        .iter()
        .filter_map(|grant| match grant {
            Grant::Serves { service, .. } => Some(service.as_str()),
            _ => None,
        })
        .collect();
    services.sort_unstable();
    services.dedup();
    services
        .into_iter()
        .flat_map(|service| component.serves(service))
        .map(|(name, channel)| Client {
            id: client_id(&name),
            channel,
        })
        .collect()
}

/// The keyboard with the layout `--layout NAME` names (US by default).
fn keyboard(args: &[alloc::string::String]) -> Keyboard {
    let mut args = args.iter();
    let mut keyboard = Keyboard::new();
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--layout", Some(name)) => match Keyboard::with_layout(name) {
                Some(with_layout) => keyboard = with_layout,
                None => println!(
                    "vga: no keyboard layout `{name}` (known: {}); using us",
                    layout_names().join(", ")
                ),
            },
            _ => println!("vga: unknown argument `{arg}` (expected --layout NAME)"),
        }
    }
    keyboard
}

impl Driver {
    /// Takes the screen over (a predecessor's as it left it, or a blank
    /// one), answers the requests a predecessor held, sets the keyboard up
    /// and waits for the first events.
    fn start(&mut self) -> Result<(), Error> {
        if self.journal.is_formatted() {
            let (row, column) = self.journal.cursor();
            self.screen = Screen::restore(COLUMNS, ROWS, &self.display.cells(), row, column);
            for noted in self.journal.take_noted() {
                self.answer_restarted(noted);
            }
        } else {
            self.journal.format();
        }
        self.show()?;
        if let Err(error) = self.controller.start() {
            println!("vga: the PS/2 controller does not answer ({error}); no keyboard");
        }
        syscall::port_bind(self.port, self.interrupt, IRQ_KEY, Signals::INTERRUPT)?;
        for index in 0..self.clients.len() {
            self.bind(index)?;
        }
        // Keys pressed before the interrupt was bound.
        self.receive()
    }

    fn bind(&self, index: usize) -> Result<(), Error> {
        let channel = self.clients[index].channel.handle();
        syscall::port_bind(self.port, channel, index as u64 + 1, Signals::READABLE)
    }

    /// Moves what was typed into the input buffer.
    fn receive(&mut self) -> Result<(), Error> {
        let mut bytes = Vec::new();
        let keyboard = &mut self.keyboard;
        self.controller
            .receive(|scancode| keyboard.feed(scancode, &mut bytes))?;
        for byte in bytes {
            self.input.push(byte);
        }
        Ok(())
    }

    /// Copies what changed to the screen and notes where the cursor is.
    fn show(&mut self) -> Result<(), Error> {
        self.display.show(&mut self.screen)?;
        let (row, column) = self.screen.position();
        self.journal.set_cursor(row, column);
        Ok(())
    }

    /// Handles the requests queued by client `index`.
    fn serve(&mut self, index: usize) -> Result<(), Error> {
        let Some(client) = self.clients.get(index) else {
            return Ok(());
        };
        let (handle, id) = (client.channel.handle(), client.id);
        while let Some(request) = next_request(handle) {
            let header = request.header;
            let noted = Noted {
                client: id,
                ordinal: header.ordinal,
                txid: header.txid,
            };
            let reply = match Console::Request::decode_args(header.ordinal, request.payload()) {
                Ok(Console::Request::write { bytes }) => {
                    self.journal.note(noted);
                    self.screen.write(&bytes);
                    let result = self.show().map_err(Into::into);
                    let reply = server::reply(&header, result);
                    let _ = syscall::channel_write(handle, &reply, &[]);
                    self.journal.forget(id, header.txid);
                    continue;
                }
                Ok(Console::Request::read { .. }) if self.input.waiting() >= MAX_PENDING_READS => {
                    server::error(&header, &RemoteError::from(Error::Busy))
                }
                Ok(Console::Request::read { max }) => {
                    self.journal.note(noted);
                    let read = PendingRead {
                        client: index,
                        header,
                    };
                    self.input.wait(read, max);
                    continue;
                }
                Err(error) => server::error(&header, &error),
            };
            let _ = syscall::channel_write(handle, &reply, &[]);
        }
        self.bind(index)
    }

    /// Answers waiting reads, oldest first, while there is input.
    fn answer_reads(&mut self) {
        let (clients, journal) = (&self.clients, &mut self.journal);
        self.input.answer(|read, bytes| {
            let reply = server::reply(&read.header, Ok::<_, RemoteError>(bytes));
            if let Some(client) = clients.get(read.client) {
                let _ = syscall::channel_write(client.channel.handle(), &reply, &[]);
                journal.forget(client.id, read.header.txid);
            }
        });
    }

    /// Tells the client of a request a crashed predecessor held to send it
    /// again.
    fn answer_restarted(&self, noted: Noted) {
        let Some(client) = self.clients.iter().find(|client| client.id == noted.client) else {
            return;
        };
        let header = Header::request(noted.ordinal, noted.txid);
        let reply = server::error(&header, &RemoteError::from(Error::Restarted));
        let _ = syscall::channel_write(client.channel.handle(), &reply, &[]);
    }
}
