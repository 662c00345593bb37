//! The i8042 PS/2 controller, for the keyboard on its first port.
//!
//! `init` grants the data port 0x60 (`ps2-data`), the status and command
//! port 0x64 (`ps2-status`) and IRQ 1 (`ps2-irq`). [`Controller::start`]
//! sets the controller up the way the driver reads it, whatever the
//! firmware (or a crashed predecessor) left: the keyboard's interrupt on,
//! translation to scancode set 1 on (the keyboard itself speaks set 2, the
//! default), the second (mouse) port off so that no mouse byte can block
//! the output buffer. [`Controller::receive`] then takes every byte the
//! controller holds; the keyboard raises IRQ 1 for each.

use abide_abi::syscall::{Error, Handle};
use abide_rt::syscall;

const DATA: u16 = 0x60;
const STATUS: u16 = 0x64;
const COMMAND: u16 = 0x64;

/// Status: a byte waits in the output buffer.
const OUTPUT_FULL: u32 = 0x01;
/// Status: the controller has not taken the last byte written yet.
const INPUT_FULL: u32 = 0x02;
/// Status: the byte in the output buffer came from the second port.
const FROM_AUX: u32 = 0x20;

const READ_CONFIG: u32 = 0x20;
const WRITE_CONFIG: u32 = 0x60;
const DISABLE_AUX: u32 = 0xa7;
const DISABLE_KEYBOARD: u32 = 0xad;
const ENABLE_KEYBOARD: u32 = 0xae;

/// Configuration: IRQ 1 for the first port.
const CONFIG_IRQ1: u32 = 0x01;
/// Configuration: IRQ 12 for the second port.
const CONFIG_IRQ12: u32 = 0x02;
/// Configuration: the first port's clock is off.
const CONFIG_KEYBOARD_OFF: u32 = 0x10;
/// Configuration: the second port's clock is off.
const CONFIG_AUX_OFF: u32 = 0x20;
/// Configuration: translate set 2 to set 1.
const CONFIG_TRANSLATE: u32 = 0x40;

/// How long the controller may take to answer (generous: TCG is slow).
const ANSWER_NS: u64 = 500_000_000;
/// The most stale bytes thrown away when starting.
const MAX_FLUSH: usize = 64;

/// The controller's ports.
pub struct Controller {
    data: Handle,
    status: Handle,
}

impl Controller {
    pub fn new(data: Handle, status: Handle) -> Controller {
        Controller { data, status }
    }

    /// Sets the controller up; `Err(TimedOut)` when it does not answer
    /// (no controller).
    pub fn start(&self) -> Result<(), Error> {
        self.command(DISABLE_KEYBOARD)?;
        self.command(DISABLE_AUX)?;
        self.flush()?;
        self.command(READ_CONFIG)?;
        let config = self.read_data()?;
        let config = (config | CONFIG_IRQ1 | CONFIG_TRANSLATE | CONFIG_AUX_OFF)
            & !(CONFIG_IRQ12 | CONFIG_KEYBOARD_OFF);
        self.command(WRITE_CONFIG)?;
        self.write_data(config)?;
        self.command(ENABLE_KEYBOARD)
    }

    /// Hands every byte the keyboard sent to `byte` (bytes from the second
    /// port are dropped).
    pub fn receive(&self, mut byte: impl FnMut(u8)) -> Result<(), Error> {
        loop {
            let status = syscall::ioport_read(self.status, STATUS, 1)?;
            if status & OUTPUT_FULL == 0 {
                return Ok(());
            }
            let data = syscall::ioport_read(self.data, DATA, 1)? as u8;
            if status & FROM_AUX == 0 {
                byte(data);
            }
        }
    }

    /// Throws away what waits in the output buffer.
    fn flush(&self) -> Result<(), Error> {
        for _ in 0..MAX_FLUSH {
            if syscall::ioport_read(self.status, STATUS, 1)? & OUTPUT_FULL == 0 {
                break;
            }
            syscall::ioport_read(self.data, DATA, 1)?;
        }
        Ok(())
    }

    fn command(&self, command: u32) -> Result<(), Error> {
        self.wait(INPUT_FULL, 0)?;
        syscall::ioport_write(self.status, COMMAND, 1, command)
    }

    fn write_data(&self, value: u32) -> Result<(), Error> {
        self.wait(INPUT_FULL, 0)?;
        syscall::ioport_write(self.data, DATA, 1, value)
    }

    fn read_data(&self) -> Result<u32, Error> {
        self.wait(OUTPUT_FULL, OUTPUT_FULL)?;
        syscall::ioport_read(self.data, DATA, 1)
    }

    /// Waits until the status bits `mask` are `want`.
    fn wait(&self, mask: u32, want: u32) -> Result<(), Error> {
        let deadline = syscall::clock_ns().saturating_add(ANSWER_NS);
        loop {
            if syscall::ioport_read(self.status, STATUS, 1)? & mask == want {
                return Ok(());
            }
            if syscall::clock_ns() >= deadline {
                return Err(Error::TimedOut);
            }
            syscall::yield_now();
        }
    }
}
