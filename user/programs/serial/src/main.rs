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
#![no_std]
#![no_main]

extern crate alloc;

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use abide_abi::object::Signals;
use abide_abi::syscall::{Error, Handle};
use abide_interfaces::Console;
use abide_ipc::server;
use abide_ipc::wire::Header;
use abide_rt::component::Component;
use abide_rt::ipc::{read_message, Channel};
use abide_rt::{println, syscall};

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
/// The most input kept before the oldest is dropped.
const INPUT_CAPACITY: usize = 64 * 1024;
/// Port key of the interrupt; client `i` has key `i + 1`.
const IRQ_KEY: u64 = 0;

/// A read waiting for input.
struct PendingRead {
    client: usize,
    header: Header,
    max: u32,
}

struct Driver {
    ports: Handle,
    interrupt: Handle,
    port: Handle,
    clients: Vec<Channel>,
    input: VecDeque<u8>,
    pending: VecDeque<PendingRead>,
}

fn main() -> i32 {
    match run() {
        Ok(()) => 0,
        Err(error) => {
            println!("serial: {error}");
            1
        }
    }
}

fn run() -> Result<(), Error> {
    let component = Component::get()?;
    let ports = component.device("com1-ports").ok_or(Error::BadHandle)?;
    let interrupt = component.device("com1-irq").ok_or(Error::BadHandle)?;
    let clients = component
        .serves("console")
        .into_iter()
        .map(|(_, channel)| channel)
        .collect();
    let mut driver = Driver {
        ports,
        interrupt,
        port: syscall::port_create()?,
        clients,
        input: VecDeque::new(),
        pending: VecDeque::new(),
    };
    driver.start()?;
    loop {
        let packet = syscall::port_wait(driver.port, u64::MAX)?;
        if packet.key == IRQ_KEY {
            driver.receive()?;
            syscall::interrupt_ack(driver.interrupt)?;
            syscall::port_bind(driver.port, driver.interrupt, IRQ_KEY, Signals::INTERRUPT)?;
        } else if let Ok(index) = usize::try_from(packet.key - 1) {
            driver.serve(index)?;
        }
        driver.answer_reads();
    }
}

impl Driver {
    /// Turns the receive interrupt on and waits for the first events.
    fn start(&mut self) -> Result<(), Error> {
        self.receive()?;
        syscall::ioport_write(self.ports, MODEM_CONTROL, 1, MCR_IRQ_ON)?;
        syscall::ioport_write(self.ports, INTERRUPT_ENABLE, 1, IER_RECEIVED_DATA)?;
        syscall::port_bind(self.port, self.interrupt, IRQ_KEY, Signals::INTERRUPT)?;
        for index in 0..self.clients.len() {
            self.bind(index)?;
        }
        // Input that arrived before the interrupt was on.
        self.receive()
    }

    fn bind(&self, index: usize) -> Result<(), Error> {
        let channel = self.clients[index].handle();
        syscall::port_bind(self.port, channel, index as u64 + 1, Signals::READABLE)
    }

    /// Moves every received byte into the input buffer.
    fn receive(&mut self) -> Result<(), Error> {
        while syscall::ioport_read(self.ports, LINE_STATUS, 1)? & LSR_DATA_READY != 0 {
            let byte = syscall::ioport_read(self.ports, DATA, 1)? as u8;
            if self.input.len() == INPUT_CAPACITY {
                self.input.pop_front();
            }
            self.input.push_back(byte);
        }
        Ok(())
    }

    fn write_byte(&self, byte: u8) -> Result<(), Error> {
        while syscall::ioport_read(self.ports, LINE_STATUS, 1)? & LSR_TRANSMIT_EMPTY == 0 {
            core::hint::spin_loop();
        }
        syscall::ioport_write(self.ports, DATA, 1, u32::from(byte))
    }

    fn write(&self, bytes: &[u8]) -> Result<(), Error> {
        for &byte in bytes {
            if byte == b'\n' {
                self.write_byte(b'\r')?;
            }
            self.write_byte(byte)?;
        }
        Ok(())
    }

    /// Handles the requests queued by client `index`.
    fn serve(&mut self, index: usize) -> Result<(), Error> {
        let Some(channel) = self.clients.get(index) else {
            return Ok(());
        };
        let handle = channel.handle();
        while let Ok(message) = read_message(handle) {
            for extra in &message.handles {
                let _ = syscall::handle_close(*extra);
            }
            let (header, payload) = match server::request_header(&message.bytes) {
                Ok(parts) => parts,
                Err(reply) => {
                    let _ = syscall::channel_write(handle, &reply, &[]);
                    continue;
                }
            };
            let reply = match Console::Request::decode_args(header.ordinal, payload) {
                Ok(Console::Request::write { bytes }) => {
                    let result = self.write(&bytes).map_err(Into::into);
                    server::reply(&header, result)
                }
                Ok(Console::Request::read { max }) => {
                    self.pending.push_back(PendingRead {
                        client: index,
                        header,
                        max: max.max(1),
                    });
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
        while !self.input.is_empty() {
            let Some(read) = self.pending.pop_front() else {
                return;
            };
            let count = (read.max as usize).min(self.input.len());
            let bytes: Vec<u8> = self.input.drain(..count).collect();
            let reply = server::reply(&read.header, Ok::<_, abide_ipc::RemoteError>(bytes));
            if let Some(channel) = self.clients.get(read.client) {
                let _ = syscall::channel_write(channel.handle(), &reply, &[]);
            }
        }
    }
}
