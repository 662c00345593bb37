//! A user-space driver: it takes the CMOS real-time clock's I/O ports and its
//! IRQ (8) through the hardware resource, turns on the clock's periodic
//! interrupt, and counts interrupts as port packets, acknowledging each one
//! (read register C, then `interrupt_ack`). It proves an IRQ reaches a
//! process and that a masked line comes back after the acknowledgement.
//! It also maps device memory (the VGA text buffer) through an MMIO object,
//! and checks that RAM and the interrupt controllers are refused.
#![no_std]
#![no_main]

use abide_abi::object::Signals;
use abide_abi::syscall::{Error, Handle};
use abide_rt::blocking::{after_ns, Waiter};
use abide_rt::println;
use abide_rt::syscall::{
    interrupt_ack, interrupt_create, ioport_read, ioport_write, ioports_create, memory_map,
    mmio_create, MAP_WRITE,
};

abide_rt::entry!(main);

const RTC_INDEX: u16 = 0x70;
const RTC_DATA: u16 = 0x71;
/// Register B (with NMIs kept disabled while we touch the index).
const REGISTER_B: u32 = 0x8b;
/// Register C: reading it acknowledges the clock's interrupt.
const REGISTER_C: u32 = 0x0c;
/// Register B's periodic-interrupt enable bit.
const PERIODIC: u32 = 0x40;
const RTC_IRQ: u8 = 8;
const INTERRUPTS: u32 = 5;

fn main() -> i32 {
    match run() {
        Ok(()) => 0,
        Err(error) => {
            println!("irq-driver: failed: {error}");
            1
        }
    }
}

fn read_register(ports: Handle, register: u32) -> Result<u32, Error> {
    ioport_write(ports, RTC_INDEX, 1, register)?;
    ioport_read(ports, RTC_DATA, 1)
}

fn run() -> Result<(), Error> {
    let resource = abide_rt::startup_handle(0).ok_or(Error::BadHandle)?;
    let ports = ioports_create(resource, RTC_INDEX, 2)?;
    let interrupt = interrupt_create(resource, RTC_IRQ)?;
    let again = interrupt_create(resource, RTC_IRQ);
    println!("irq-driver: a second owner for IRQ {RTC_IRQ} is refused: {again:?}");
    let denied = ioports_create(resource, 0x20, 2);
    println!("irq-driver: the kernel's interrupt controller is refused: {denied:?}");

    read_register(ports, REGISTER_C)?;
    let b = read_register(ports, REGISTER_B)?;
    ioport_write(ports, RTC_INDEX, 1, REGISTER_B)?;
    ioport_write(ports, RTC_DATA, 1, b | PERIODIC)?;

    let waiter = Waiter::new()?;
    for count in 1..=INTERRUPTS {
        waiter.wait(interrupt, Signals::INTERRUPT, after_ns(5_000_000_000))?;
        read_register(ports, REGISTER_C)?;
        interrupt_ack(interrupt)?;
        println!("irq-driver: interrupt {count} of {INTERRUPTS} handled");
    }
    ioport_write(ports, RTC_INDEX, 1, REGISTER_B)?;
    ioport_write(ports, RTC_DATA, 1, b & !PERIODIC)?;
    println!("irq-driver: IRQ {RTC_IRQ} reached user space {INTERRUPTS} times");
    device_memory(resource)
}

/// The VGA text buffer: device memory outside RAM.
const VGA_TEXT: u64 = 0xb8000;

fn device_memory(resource: Handle) -> Result<(), Error> {
    let ram = mmio_create(resource, 0x10_0000, 4096);
    println!("irq-driver: MMIO over RAM is refused: {ram:?}");
    let apic = mmio_create(resource, 0xfee0_0000, 4096);
    println!("irq-driver: MMIO over the local APIC is refused: {apic:?}");
    let vga = mmio_create(resource, VGA_TEXT, 4096)?;
    let base = memory_map(vga, MAP_WRITE)?.cast::<u16>();
    // 'A' in light grey on blue in the top-left cell.
    let cell = 0x1f41u16;
    // SAFETY: the kernel mapped the 4 KiB text buffer (uncached) at `base`;
    // device memory is accessed with volatile operations only.
    let read = unsafe {
        core::ptr::write_volatile(base, cell);
        core::ptr::read_volatile(base)
    };
    println!("irq-driver: VGA text memory mapped through MMIO reads back {read:#06x} (wrote {cell:#06x})");
    Ok(())
}
