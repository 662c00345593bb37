//! Foreign-ABI processes: the kernel side of a personality (the `unix`
//! component, docs/unix.md).
//!
//! A process made with [`crate::syscall::Syscall::ProcessCreate`] and a trap
//! channel runs a foreign ABI: its `syscall` instructions never enter
//! Abide's system-call table, and its CPU exceptions do not end it. Either
//! stops the thread and queues one [`TrapMessage`] (the thread's registers)
//! at the peer of the trap channel, where the handler reads it like any
//! message (it comes with no handles, badge 0). The thread stays stopped
//! until the handler answers with [`crate::syscall::Syscall::TrapResume`]:
//! new registers ([`RESUME`]) or the end of the thread ([`END_THREAD`]).
//! A thread that traps while the queue is full, or after the handler's end
//! of the trap channel closed, ends its process (`Killed`).
//!
//! Everything else the handler needs goes through its handle to the
//! process (with [`crate::syscall::Rights::MANAGE`]): mapping and unmapping
//! memory at fixed addresses, changing protections, reading and writing the
//! process's memory, copying the whole address space for `fork`, and
//! starting threads with given registers (the FS base, for TLS, included).
//!
//! A checkpoint keeps a stopped thread stopped: after a restore its trap
//! is where it was, once — still queued at the handler's end, or taken by
//! the handler (persistent, as its foreign processes need), which answers
//! it with `trap_resume` as it would have without the power cut.

use crate::record::{Immutable, IntoBytes, KnownLayout, Record, TryFromBytes};

/// A foreign thread's integer registers, its RIP, RFLAGS and FS base.
///
/// In a [`TrapMessage`] of kind [`TRAP_SYSCALL`], `rip` is the address
/// after the `syscall` instruction and `rcx`/`r11` hold what the
/// instruction left there (the return address and RFLAGS), as Linux sees
/// them. When registers come from the handler (`trap_resume`,
/// `thread_start`), the kernel keeps only the RFLAGS bits user code may
/// set, and refuses (`InvalidArgument`) a `rip`, `rsp`, `fs_base` or
/// `gs_base` at or above the end of user space. 160 bytes.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, TryFromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct TrapRegisters {
    pub rax: u64,
    pub rbx: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    pub rbp: u64,
    pub rsp: u64,
    pub r8: u64,
    pub r9: u64,
    pub r10: u64,
    pub r11: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
    pub rip: u64,
    pub rflags: u64,
    pub fs_base: u64,
    pub gs_base: u64,
}

impl Record for TrapRegisters {}

/// [`TrapMessage::kind`]: the thread executed `syscall`.
pub const TRAP_SYSCALL: u32 = 1;
/// [`TrapMessage::kind`]: the thread took a CPU exception (`vector`,
/// `error_code`, `address` = CR2 for a page fault). `rip` is the faulting
/// instruction's.
pub const TRAP_FAULT: u32 = 2;
/// [`TrapMessage::kind`]: the handler asked for the thread with
/// `trap_interrupt` (to deliver a signal to a thread that was running);
/// the registers are where it was stopped.
pub const TRAP_INTERRUPT: u32 = 3;

/// What the kernel queues on the trap channel when a foreign thread stops.
/// 200 bytes.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, TryFromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct TrapMessage {
    /// [`TRAP_SYSCALL`], [`TRAP_FAULT`] or [`TRAP_INTERRUPT`].
    pub kind: u32,
    /// The exception vector for [`TRAP_FAULT`]; 0 otherwise.
    pub vector: u32,
    /// The stopped thread's id (stable, never reused): what `trap_resume`
    /// and `trap_interrupt` name.
    pub thread: u64,
    /// The key the handler gave the thread in `thread_start`.
    pub key: u64,
    /// The exception's error code ([`TRAP_FAULT`]).
    pub error_code: u64,
    /// The faulting address for a page fault (CR2).
    pub address: u64,
    pub regs: TrapRegisters,
}

impl Record for TrapMessage {}

/// `trap_resume`'s action: load the registers at `regs` and run on.
pub const RESUME: u64 = 0;
/// `trap_resume`'s action: end the thread (`regs` is ignored). A process
/// whose last thread ends is ended, reported `Exited` with code 0.
pub const END_THREAD: u64 = 1;

/// `process_map` protection: readable.
pub const PROT_READ: u64 = 1 << 0;
/// `process_map` protection: writable.
pub const PROT_WRITE: u64 = 1 << 1;
/// `process_map` protection: executable.
pub const PROT_EXEC: u64 = 1 << 2;
/// Every protection bit.
pub const PROT_ALL: u64 = PROT_READ | PROT_WRITE | PROT_EXEC;

/// The most bytes one `process_read` or `process_write` copies.
pub const MAX_PROCESS_COPY: u64 = 1 << 20;
