//! The 16550 UART on COM1: the kernel's console until user-space drivers take
//! over, and the channel every test reads.
//!
//! Output is polled (it must work in crash paths). Input is interrupt-driven:
//! the IRQ handler moves received bytes into a buffer that readers drain;
//! a full buffer leaves the rest in the UART (flow control) rather than
//! dropping any.
//! Initialization keeps any byte that arrived before it, so input a host
//! pipes in early is not thrown away. That is why the kernel never turns
//! the FIFOs on: switching them on resets the receiver, and a host may
//! deliver a byte at any moment, even between reading the last one out and
//! the switch (QEMU does: `tests/input.rs` lost the second byte of its
//! script that way). Without FIFOs the UART holds one byte, and QEMU hands
//! it the next only once the guest has read it; the receive interrupt fires
//! per byte, which costs nothing that matters for a console. FIFOs firmware
//! already enabled stay enabled.
//!
//! (Our own driver rather than the `uart_16550` crate: ~100 lines here against
//! several thousand in the trusted base, and that crate's init resets the
//! receive FIFO.)

use core::sync::atomic::{AtomicBool, Ordering};

use heapless::Deque;

use crate::arch::cpu::{inb, outb};
use crate::sync::IrqSpinLock;
use crate::time;

pub const COM1: u16 = 0x3f8;
const DATA: u16 = 0;
const INTERRUPT_ENABLE: u16 = 1;
const LINE_CONTROL: u16 = 3;
const MODEM_CONTROL: u16 = 4;
const LINE_STATUS: u16 = 5;
const SCRATCH: u16 = 7;

const LSR_DATA_READY: u8 = 0x01;
const LSR_TRANSMIT_EMPTY: u8 = 0x20;
const LSR_TRANSMITTER_IDLE: u8 = 0x40;
const TRANSMIT_TIMEOUT_NS: u64 = 200_000_000;
const UNCALIBRATED_SPIN_LIMIT: u64 = 50_000_000;
const IER_RECEIVED_DATA: u8 = 0x01;
/// The ISA IRQ line of COM1.
pub const IRQ: u8 = 4;

const INPUT_CAPACITY: usize = 1024;
static INPUT: IrqSpinLock<Deque<u8, INPUT_CAPACITY>> = IrqSpinLock::new(Deque::new());
/// Set when the input buffer filled up and the receive interrupt was turned
/// off ([`drain_receiver`]).
static INPUT_FULL: AtomicBool = AtomicBool::new(false);

/// Sets COM1 to 115200 8N1, leaving the FIFOs as they are (see the module
/// comment). Returns false if no UART answers.
pub fn init() -> bool {
    // The scratch register holds what we write only if a UART is there.
    outb(COM1 + SCRATCH, 0x5a);
    if inb(COM1 + SCRATCH) != 0x5a {
        return false;
    }
    outb(COM1 + INTERRUPT_ENABLE, 0);
    outb(COM1 + LINE_CONTROL, 0x80); // divisor latch access
    outb(COM1 + DATA, 1); // divisor 1: 115200 baud
    outb(COM1 + INTERRUPT_ENABLE, 0);
    outb(COM1 + LINE_CONTROL, 0x03); // 8 data bits, no parity, 1 stop bit
    outb(COM1 + MODEM_CONTROL, 0x0b); // DTR, RTS, OUT2 (routes the IRQ line)
    true
}

/// Waits until the line status has `bits`, for at most `TRANSMIT_TIMEOUT_NS`
/// (a host that stops reading must not hang the kernel; a slow one must not
/// lose output).
fn wait_for_line_status(bits: u8) {
    let start = time::now_ns();
    let mut spins = 0u64;
    while inb(COM1 + LINE_STATUS) & bits != bits {
        spins += 1;
        // Before the TSC is calibrated `now_ns` stays 0: bound by spins then.
        if time::now_ns() - start > TRANSMIT_TIMEOUT_NS || spins > UNCALIBRATED_SPIN_LIMIT {
            return;
        }
        core::hint::spin_loop();
    }
}

/// Sends one byte, waiting for room in the transmitter.
pub fn write_byte(byte: u8) {
    wait_for_line_status(LSR_TRANSMIT_EMPTY);
    outb(COM1 + DATA, byte);
}

/// Waits until every byte written has left the UART (before the machine ends).
pub fn flush() {
    wait_for_line_status(LSR_TRANSMIT_EMPTY | LSR_TRANSMITTER_IDLE);
}

/// Sends bytes, turning `\n` into `\r\n` for terminals.
pub fn write_bytes(bytes: &[u8]) {
    for &byte in bytes {
        if byte == b'\n' {
            write_byte(b'\r');
        }
        write_byte(byte);
    }
}

/// Moves the bytes the UART holds into the input buffer, as many as fit.
///
/// A full buffer takes no more and turns the receive interrupt off: the
/// rest waits in the UART, whose full FIFO makes the host wait (QEMU reads
/// its side only when the FIFO has room), until the buffer is read
/// ([`read_byte`]) or a driver takes the port. Dropping bytes instead lost
/// the start of input piped in during boot.
pub fn drain_receiver() {
    let mut input = INPUT.lock();
    while !input.is_full() && inb(COM1 + LINE_STATUS) & LSR_DATA_READY != 0 {
        let _ = input.push_back(inb(COM1 + DATA));
    }
    if input.is_full() {
        outb(COM1 + INTERRUPT_ENABLE, 0);
        INPUT_FULL.store(true, Ordering::Relaxed);
    }
}

/// Enables the receive interrupt; call once the IRQ is routed. Bytes that
/// arrived before are collected now.
pub fn enable_input_interrupt() {
    drain_receiver();
    outb(COM1 + INTERRUPT_ENABLE, IER_RECEIVED_DATA);
}

/// Takes the next received byte, if any.
pub fn read_byte() -> Option<u8> {
    let byte = INPUT.lock().pop_front();
    // Room again: take in what waited in the UART and listen again.
    if byte.is_some() && INPUT_FULL.swap(false, Ordering::Relaxed) && !handed_over() {
        enable_input_interrupt();
    }
    byte
}

/// Set once a driver owns the serial port.
static HANDED_OVER: AtomicBool = AtomicBool::new(false);

/// The port is handed to a driver: the kernel stops taking input (and the
/// console stops writing to it).
pub fn hand_over() {
    if !HANDED_OVER.swap(true, Ordering::SeqCst) {
        outb(COM1 + INTERRUPT_ENABLE, 0);
    }
}

/// True once a driver owns the serial port.
pub fn handed_over() -> bool {
    HANDED_OVER.load(Ordering::SeqCst)
}

/// Bytes the kernel received before it handed the port over are not lost:
/// the driver reads them through the registers, as if the UART still held
/// them. For a one-byte read of `port`: the line status with "data ready"
/// while any are left, or the next of them from the data register; `None`
/// when the real register is to be read.
pub fn replay_read(port: u16) -> Option<u8> {
    let input = INPUT.lock();
    if input.is_empty() {
        return None;
    }
    match port.checked_sub(COM1) {
        Some(LINE_STATUS) => Some(inb(port) | LSR_DATA_READY),
        Some(DATA) => {
            drop(input);
            INPUT.lock().pop_front()
        }
        _ => None,
    }
}

/// True when `base..base + count` includes a COM1 register.
pub fn covers_com1(base: u64, count: u64) -> bool {
    let com1 = u64::from(COM1);
    base < com1 + 8 && com1 < base.saturating_add(count)
}
