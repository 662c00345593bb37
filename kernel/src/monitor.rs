//! The kernel's built-in console: a minimal command line on the serial port
//! so a person (or a pipe) can talk to a freshly booted kernel. The user-space
//! shell replaces it once processes exist.

use alloc::string::String;

use crate::arch::{cpu, power};
use crate::{mm, print, println, serial, time};

const MAX_LINE: usize = 256;

struct Command {
    name: &'static str,
    help: &'static str,
    run: fn(&str),
}

const COMMANDS: &[Command] = &[
    Command {
        name: "help",
        help: "list the commands",
        run: help,
    },
    Command {
        name: "echo",
        help: "print the arguments",
        run: echo,
    },
    Command {
        name: "uptime",
        help: "time since boot and timer ticks",
        run: uptime,
    },
    Command {
        name: "mem",
        help: "physical memory and kernel heap",
        run: mem,
    },
    Command {
        name: "version",
        help: "kernel version",
        run: version,
    },
    Command {
        name: "poweroff",
        help: "power the machine off",
        run: poweroff,
    },
];

/// Reads and runs commands forever.
pub fn run() -> ! {
    println!("Type 'help' for commands.");
    let mut line = String::new();
    loop {
        print!("{}", abide_abi::host::KERNEL_CONSOLE_PROMPT);
        read_line(&mut line);
        execute(line.trim());
    }
}

fn execute(line: &str) {
    let (name, args) = line.split_once(' ').unwrap_or((line, ""));
    if name.is_empty() {
        return;
    }
    match COMMANDS.iter().find(|command| command.name == name) {
        Some(command) => (command.run)(args.trim()),
        None => println!("unknown command '{name}'; type 'help' for the list"),
    }
}

/// Waits for one line, echoing and handling backspace.
fn read_line(line: &mut String) {
    line.clear();
    loop {
        let Some(byte) = next_byte() else { continue };
        match byte {
            b'\r' | b'\n' => {
                println!();
                return;
            }
            0x08 | 0x7f if line.pop().is_some() => print!("\x08 \x08"),
            0x20..=0x7e if line.len() < MAX_LINE => {
                line.push(byte as char);
                serial::write_byte(byte);
            }
            _ => {}
        }
    }
}

/// The next input byte, sleeping until one arrives.
fn next_byte() -> Option<u8> {
    cpu::disable_interrupts();
    let byte = serial::read_byte();
    if byte.is_none() {
        cpu::wait_for_interrupt();
    }
    cpu::enable_interrupts();
    byte
}

fn help(_: &str) {
    for command in COMMANDS {
        println!("  {:10} {}", command.name, command.help);
    }
}

fn echo(args: &str) {
    println!("{args}");
}

fn uptime(_: &str) {
    let ns = time::now_ns();
    println!(
        "up {}.{:03} s, {} timer ticks at {} Hz",
        ns / 1_000_000_000,
        (ns % 1_000_000_000) / 1_000_000,
        time::ticks(),
        time::TICK_HZ
    );
}

fn mem(_: &str) {
    let (frames, heap) = mm::stats();
    println!(
        "physical: {} KiB free of {} KiB usable; kernel heap: {} KiB in use of {} KiB",
        frames.free_bytes / 1024,
        frames.total_bytes / 1024,
        heap.allocated_bytes / 1024,
        heap.claimed_bytes / 1024
    );
}

fn version(_: &str) {
    println!("Abide {} (x86_64)", abide_abi::VERSION);
}

fn poweroff(_: &str) {
    println!("powering off");
    power::power_off();
}
