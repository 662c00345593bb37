//! The legacy programmable interval timer, used only as a known clock
//! (1.193182 MHz) to calibrate the TSC and the local APIC timer at boot.

use super::cpu::{inb, outb};

const PIT_HZ: u64 = 1_193_182;
const CHANNEL2_DATA: u16 = 0x42;
const COMMAND: u16 = 0x43;
const GATE_PORT: u16 = 0x61;
const GATE_ON: u8 = 0x01;
const SPEAKER_ON: u8 = 0x02;
const OUT2_HIGH: u8 = 0x20;

/// Longest interval channel 2 can time in one shot (16-bit counter).
pub const MAX_INTERVAL_US: u64 = 65_535 * 1_000_000 / PIT_HZ;

/// Runs `before`, waits `micros` microseconds by the PIT, then runs `after`.
/// Interrupts should be disabled so the measured window is tight.
pub fn timed_interval(micros: u64, before: impl FnOnce(), after: impl FnOnce()) {
    let count = (PIT_HZ * micros.min(MAX_INTERVAL_US) / 1_000_000).max(1) as u16;
    // Gate channel 2 off, speaker off.
    let gate = inb(GATE_PORT) & !(SPEAKER_ON | GATE_ON);
    outb(GATE_PORT, gate);
    // Channel 2, low then high byte, mode 0 (interrupt on terminal count), binary.
    outb(COMMAND, 0b1011_0000);
    outb(CHANNEL2_DATA, count as u8);
    outb(CHANNEL2_DATA, (count >> 8) as u8);
    before();
    // Rising gate edge starts the count; OUT2 goes high when it reaches zero.
    outb(GATE_PORT, gate | GATE_ON);
    while inb(GATE_PORT) & OUT2_HIGH == 0 {
        core::hint::spin_loop();
    }
    after();
    outb(GATE_PORT, gate);
}
