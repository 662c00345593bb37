//! Signals as Linux x86_64 programs see them (from `asm/signal.h`,
//! `asm-generic/signal-defs.h` and `asm-generic/siginfo.h`): the numbers and
//! their default actions, the 8-byte `sigset_t` of the `rt_` calls, the
//! kernel's `struct sigaction` and `stack_t`, the `SA_*` flags, and the
//! 128-byte `siginfo_t`. The frame a handler runs on is in
//! [`crate::sigframe`].

use abide_abi::record::{Immutable, IntoBytes, KnownLayout, Record, TryFromBytes};

pub const SIGHUP: u32 = 1;
pub const SIGINT: u32 = 2;
pub const SIGQUIT: u32 = 3;
pub const SIGILL: u32 = 4;
pub const SIGTRAP: u32 = 5;
pub const SIGABRT: u32 = 6;
pub const SIGBUS: u32 = 7;
pub const SIGFPE: u32 = 8;
pub const SIGKILL: u32 = 9;
pub const SIGUSR1: u32 = 10;
pub const SIGSEGV: u32 = 11;
pub const SIGUSR2: u32 = 12;
pub const SIGPIPE: u32 = 13;
pub const SIGALRM: u32 = 14;
pub const SIGTERM: u32 = 15;
pub const SIGSTKFLT: u32 = 16;
pub const SIGCHLD: u32 = 17;
pub const SIGCONT: u32 = 18;
pub const SIGSTOP: u32 = 19;
pub const SIGTSTP: u32 = 20;
pub const SIGTTIN: u32 = 21;
pub const SIGTTOU: u32 = 22;
pub const SIGURG: u32 = 23;
pub const SIGXCPU: u32 = 24;
pub const SIGXFSZ: u32 = 25;
pub const SIGVTALRM: u32 = 26;
pub const SIGPROF: u32 = 27;
pub const SIGWINCH: u32 = 28;
pub const SIGIO: u32 = 29;
pub const SIGPWR: u32 = 30;
pub const SIGSYS: u32 = 31;
/// The first real-time signal the kernel knows (glibc reserves 32 and 33
/// and shows `SIGRTMIN` as 34).
pub const SIGRTMIN: u32 = 32;
/// The last signal.
pub const SIGRTMAX: u32 = 64;
/// The number of signals (`_NSIG`): valid signals are `1..=NSIG`.
pub const NSIG: u32 = 64;

/// Whether `sig` names a signal (`1..=64`).
pub const fn is_valid(sig: u32) -> bool {
    sig >= 1 && sig <= NSIG
}

/// What a signal does when its disposition is `SIG_DFL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultAction {
    /// The process ends, killed by the signal.
    Terminate,
    /// The process ends, killed by the signal, "core dumped" (status bit
    /// 0x80).
    CoreDump,
    /// Nothing happens.
    Ignore,
    /// The process stops (job control).
    Stop,
    /// A stopped process continues (and nothing else happens).
    Continue,
}

/// The default action of `sig` (as `signal(7)` lists them; real-time
/// signals terminate).
pub const fn default_action(sig: u32) -> DefaultAction {
    match sig {
        SIGQUIT | SIGILL | SIGTRAP | SIGABRT | SIGBUS | SIGFPE | SIGSEGV | SIGXCPU | SIGXFSZ
        | SIGSYS => DefaultAction::CoreDump,
        SIGCHLD | SIGURG | SIGWINCH => DefaultAction::Ignore,
        SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU => DefaultAction::Stop,
        SIGCONT => DefaultAction::Continue,
        _ => DefaultAction::Terminate,
    }
}

/// A set of signals: `sigset_t` as the `rt_` calls pass it (8 bytes, bit
/// `sig - 1` for `sig`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SigSet(pub u64);

impl SigSet {
    /// No signal.
    pub const EMPTY: SigSet = SigSet(0);
    /// The signals no mask can hold back nor handler catch.
    pub const UNBLOCKABLE: SigSet = SigSet(1 << (SIGKILL - 1) | 1 << (SIGSTOP - 1));
    /// The size of a `sigset_t` in the `rt_` calls' `sigsetsize` argument.
    pub const SIZE: usize = 8;

    /// The set holding only `sig` (empty for an invalid number).
    pub const fn of(sig: u32) -> SigSet {
        if is_valid(sig) {
            SigSet(1 << (sig - 1))
        } else {
            SigSet(0)
        }
    }

    pub const fn contains(self, sig: u32) -> bool {
        self.0 & SigSet::of(sig).0 != 0
    }

    pub const fn with(self, sig: u32) -> SigSet {
        SigSet(self.0 | SigSet::of(sig).0)
    }

    pub const fn without(self, sig: u32) -> SigSet {
        SigSet(self.0 & !SigSet::of(sig).0)
    }

    pub const fn union(self, other: SigSet) -> SigSet {
        SigSet(self.0 | other.0)
    }

    pub const fn minus(self, other: SigSet) -> SigSet {
        SigSet(self.0 & !other.0)
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The set as a mask may hold it: `SIGKILL` and `SIGSTOP` removed.
    pub const fn blockable(self) -> SigSet {
        self.minus(SigSet::UNBLOCKABLE)
    }

    /// The lowest-numbered signal in the set (the one Linux delivers first
    /// among standard signals).
    pub const fn first(self) -> Option<u32> {
        if self.0 == 0 {
            None
        } else {
            Some(self.0.trailing_zeros() + 1)
        }
    }
}

/// `rt_sigprocmask`'s `how`.
pub const SIG_BLOCK: u64 = 0;
pub const SIG_UNBLOCK: u64 = 1;
pub const SIG_SETMASK: u64 = 2;

/// Dispositions in [`SigAction::handler`].
pub const SIG_DFL: u64 = 0;
pub const SIG_IGN: u64 = 1;

/// `sa_flags` bits.
pub const SA_NOCLDSTOP: u64 = 0x1;
pub const SA_NOCLDWAIT: u64 = 0x2;
pub const SA_SIGINFO: u64 = 0x4;
pub const SA_UNSUPPORTED: u64 = 0x400;
pub const SA_EXPOSE_TAGBITS: u64 = 0x800;
pub const SA_RESTORER: u64 = 0x0400_0000;
pub const SA_ONSTACK: u64 = 0x0800_0000;
pub const SA_RESTART: u64 = 0x1000_0000;
pub const SA_NODEFER: u64 = 0x4000_0000;
pub const SA_RESETHAND: u64 = 0x8000_0000;

/// The kernel's `struct sigaction` as `rt_sigaction` reads and writes it on
/// x86_64 (not glibc's, whose mask is 128 bytes). 32 bytes.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, TryFromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct SigAction {
    /// [`SIG_DFL`], [`SIG_IGN`] or the handler's address.
    pub handler: u64,
    /// `SA_*` bits.
    pub flags: u64,
    /// Where the handler returns ([`SA_RESTORER`]): glibc's `__restore_rt`,
    /// which calls `rt_sigreturn`.
    pub restorer: u64,
    /// Signals blocked while the handler runs (besides the signal itself,
    /// unless [`SA_NODEFER`]).
    pub mask: u64,
}

impl Record for SigAction {}

impl SigAction {
    /// Whether the handler is a function (not `SIG_DFL` or `SIG_IGN`).
    pub const fn is_handler(&self) -> bool {
        self.handler != SIG_DFL && self.handler != SIG_IGN
    }

    /// The mask while the handler for `sig` runs, from the mask before.
    pub const fn handler_mask(&self, sig: u32, old: SigSet) -> SigSet {
        let mut mask = old.union(SigSet(self.mask));
        if self.flags & SA_NODEFER == 0 {
            mask = mask.with(sig);
        }
        mask.blockable()
    }
}

/// `stack_t`: an alternate signal stack (`sigaltstack`, and
/// `ucontext.uc_stack`). 24 bytes.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, TryFromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct SigStack {
    pub ss_sp: u64,
    /// [`SS_ONSTACK`], [`SS_DISABLE`], or 0.
    pub ss_flags: i32,
    pub _pad: u32,
    pub ss_size: u64,
}

impl Record for SigStack {}

/// `ss_flags`: the thread runs on the alternate stack.
pub const SS_ONSTACK: i32 = 1;
/// `ss_flags`: no alternate stack.
pub const SS_DISABLE: i32 = 2;
/// The smallest alternate stack `sigaltstack` accepts.
pub const MINSIGSTKSZ: u64 = 2048;

impl SigStack {
    /// No alternate stack.
    pub const DISABLED: SigStack = SigStack {
        ss_sp: 0,
        ss_flags: SS_DISABLE,
        _pad: 0,
        ss_size: 0,
    };

    /// Whether `sp` is on this stack (Linux's `on_sig_stack`).
    pub const fn contains(&self, sp: u64) -> bool {
        self.ss_size != 0 && sp > self.ss_sp && sp - self.ss_sp <= self.ss_size
    }

    /// What `sigaltstack` and `uc_stack` report as `ss_flags` for a thread
    /// whose stack pointer is `sp` (Linux's `sas_ss_flags`).
    pub const fn flags_at(&self, sp: u64) -> i32 {
        if self.ss_size == 0 {
            SS_DISABLE
        } else if self.contains(sp) {
            SS_ONSTACK
        } else {
            0
        }
    }
}

/// `si_code` values.
pub mod code {
    /// Sent by `kill`.
    pub const SI_USER: i32 = 0;
    /// Sent by the kernel.
    pub const SI_KERNEL: i32 = 0x80;
    /// Sent by `sigqueue`.
    pub const SI_QUEUE: i32 = -1;
    /// Sent by `tkill`/`tgkill`.
    pub const SI_TKILL: i32 = -6;
    /// `SIGCHLD`: the child exited.
    pub const CLD_EXITED: i32 = 1;
    /// `SIGCHLD`: the child was killed.
    pub const CLD_KILLED: i32 = 2;
    /// `SIGCHLD`: the child was killed and dumped core.
    pub const CLD_DUMPED: i32 = 3;
    /// `SIGCHLD`: the traced child trapped.
    pub const CLD_TRAPPED: i32 = 4;
    /// `SIGCHLD`: the child stopped.
    pub const CLD_STOPPED: i32 = 5;
    /// `SIGCHLD`: the stopped child continued.
    pub const CLD_CONTINUED: i32 = 6;
    /// `SIGSEGV`: address not mapped.
    pub const SEGV_MAPERR: i32 = 1;
    /// `SIGSEGV`: no permission for the mapped address.
    pub const SEGV_ACCERR: i32 = 2;
    /// `SIGBUS`: nonexistent physical address.
    pub const BUS_ADRERR: i32 = 2;
    /// `SIGILL`: illegal opcode.
    pub const ILL_ILLOPC: i32 = 1;
    /// `SIGILL`: illegal operand.
    pub const ILL_ILLOPN: i32 = 2;
    /// `SIGFPE`: integer divide by zero.
    pub const FPE_INTDIV: i32 = 1;
    /// `SIGTRAP`: breakpoint.
    pub const TRAP_BRKPT: i32 = 1;
}

/// `siginfo_t`: 128 bytes, the first three `int`s fixed and the rest a
/// union whose member depends on the signal and `si_code`. The
/// constructors fill the members Linux fills for each case.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, TryFromBytes, IntoBytes, KnownLayout, Immutable)]
pub struct SigInfo {
    pub si_signo: i32,
    pub si_errno: i32,
    pub si_code: i32,
    pub _pad: i32,
    /// The union (`_sifields`), at offset 16.
    pub fields: [u8; 112],
}

impl Record for SigInfo {}

impl Default for SigInfo {
    fn default() -> Self {
        SigInfo {
            si_signo: 0,
            si_errno: 0,
            si_code: 0,
            _pad: 0,
            fields: [0; 112],
        }
    }
}

/// Offsets in `siginfo_t` of the union members used here.
pub mod siginfo_offset {
    /// `si_pid` (kill, sigqueue, SIGCHLD) and `si_addr` (faults, 8 bytes).
    pub const PID: usize = 16;
    /// `si_addr` (faults).
    pub const ADDR: usize = 16;
    /// `si_uid`.
    pub const UID: usize = 20;
    /// `si_status` (SIGCHLD) and `si_value` (sigqueue, 8 bytes).
    pub const STATUS: usize = 24;
    /// `si_utime` (SIGCHLD, clock ticks).
    pub const UTIME: usize = 32;
    /// `si_stime` (SIGCHLD, clock ticks).
    pub const STIME: usize = 40;
}

impl SigInfo {
    /// A signal with only its number and code.
    pub fn new(sig: u32, code: i32) -> SigInfo {
        SigInfo {
            si_signo: sig as i32,
            si_code: code,
            ..SigInfo::default()
        }
    }

    /// A signal sent by a process (`kill` with [`code::SI_USER`], `tgkill`
    /// with [`code::SI_TKILL`]).
    pub fn sent(sig: u32, code: i32, pid: i32, uid: u32) -> SigInfo {
        let mut info = SigInfo::new(sig, code);
        info.put(siginfo_offset::PID, &pid.to_le_bytes());
        info.put(siginfo_offset::UID, &uid.to_le_bytes());
        info
    }

    /// `SIGCHLD` for a child that changed state: `code` is a `CLD_*`,
    /// `status` the exit code or the signal, times in clock ticks.
    pub fn child(code: i32, pid: i32, uid: u32, status: i32, utime: i64, stime: i64) -> SigInfo {
        let mut info = SigInfo::sent(SIGCHLD, code, pid, uid);
        info.put(siginfo_offset::STATUS, &status.to_le_bytes());
        info.put(siginfo_offset::UTIME, &utime.to_le_bytes());
        info.put(siginfo_offset::STIME, &stime.to_le_bytes());
        info
    }

    /// A fault (`SIGSEGV`, `SIGBUS`, `SIGILL`, `SIGFPE`, `SIGTRAP`) at
    /// `address` (the faulting address, or the instruction's).
    pub fn fault(sig: u32, code: i32, address: u64) -> SigInfo {
        let mut info = SigInfo::new(sig, code);
        info.put(siginfo_offset::ADDR, &address.to_le_bytes());
        info
    }

    /// The signal number.
    pub fn signal(&self) -> u32 {
        self.si_signo as u32
    }

    /// `si_pid` (meaningful for signals a process sent, and `SIGCHLD`).
    pub fn pid(&self) -> i32 {
        i32::from_le_bytes(self.get(siginfo_offset::PID))
    }

    /// `si_status` (`SIGCHLD`).
    pub fn status(&self) -> i32 {
        i32::from_le_bytes(self.get(siginfo_offset::STATUS))
    }

    /// `si_addr` (faults).
    pub fn address(&self) -> u64 {
        u64::from_le_bytes(self.get(siginfo_offset::ADDR))
    }

    fn put(&mut self, offset: usize, bytes: &[u8]) {
        let at = offset - 16;
        if let Some(slot) = self.fields.get_mut(at..at + bytes.len()) {
            slot.copy_from_slice(bytes);
        }
    }

    fn get<const N: usize>(&self, offset: usize) -> [u8; N] {
        let at = offset - 16;
        let mut out = [0; N];
        if let Some(slot) = self.fields.get(at..at + N) {
            out.copy_from_slice(slot);
        }
        out
    }
}
