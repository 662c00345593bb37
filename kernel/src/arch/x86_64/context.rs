//! Saved user contexts and the one way into user mode.
//!
//! The kernel is event-driven with one kernel stack per CPU: a thread that is
//! not running exists only as a [`UserContext`] (its registers and FPU/SSE
//! state). Every entry to the kernel — `syscall`, interrupt, exception — saves
//! the interrupted context into the frame the entry path built, and every exit
//! restores a frame; switching threads is copying one saved context out and
//! another in. Kernel threads and kernel stacks per thread do not exist, which
//! keeps the kernel's state small enough to checkpoint.
//!
//! The `syscall` instruction enters through [`syscall_entry`]: it switches to
//! the CPU's syscall stack, pushes the same frame an interrupt would (vector
//! [`SYSCALL_VECTOR`]) and joins the common interrupt path in `idt`, so there is
//! a single exit path (`iretq`).
//!
//! What user code controls in RFLAGS never reaches the kernel's own flags:
//! `syscall` clears IF, TF, DF, AC, NT and IOPL (SFMASK, see
//! [`init_syscalls`]; RF it clears itself), interrupt and exception gates
//! clear IF, TF, NT and RF, and the common entry path clears DF and AC
//! (`idt`). NT matters most: `iretq` with NT set in the *kernel's* RFLAGS is
//! a task return, which long mode refuses with a #GP. The flags saved for
//! the user are the user's own (IOPL and VM cannot be set from ring 3), and
//! the one path that builds user RFLAGS from data — a restore — keeps only
//! [`USER_FLAGS`].
//!
//! The exit is always `iretq`, which refuses a non-canonical RIP in ring 0
//! (a #GP the kernel would take as its own). A user RIP is canonical
//! because nothing user-controlled ends in the top user page: it is never
//! mapped (`mm::USER_END`), so no `syscall` can sit at its end and return to
//! 2^47. A future `sysret` exit must still check that RCX is canonical (below
//! `USER_END`) and fall back to `iretq` otherwise: on Intel CPUs `sysret` to a
//! non-canonical RIP faults in ring 0 on the user's stack.

use core::arch::global_asm;

use x86_64::registers::model_specific::{Efer, EferFlags, FsBase, GsBase, LStar, SFMask, Star};
use x86_64::registers::rflags::RFlags;
use x86_64::VirtAddr;

use super::gdt::{self, GuardedStack};
use super::idt::TrapFrame;

/// The pseudo-vector the syscall entry records in the frame.
pub const SYSCALL_VECTOR: u64 = 0x100;

/// The highest user address (exclusive): the lower canonical half but its
/// last page. That page is never mapped: an instruction ending at 2^47 (a
/// `syscall` in its last bytes) would leave a non-canonical return address,
/// and returning there faults in ring 0 (`iretq`, or `sysret` on Intel).
/// Everything that maps user memory checks against this.
pub const USER_END: u64 = 0x0000_8000_0000_0000 - 4096;
/// Length of the `syscall` instruction (to re-issue a restarted call).
pub const SYSCALL_INSTRUCTION_LEN: u64 = 2;

/// FXSAVE area: x87, MMX and SSE state.
#[repr(C, align(64))]
#[derive(Clone)]
pub struct FpuState(pub [u8; 512]);

impl FpuState {
    /// The state after `fninit` with all SIMD exceptions masked.
    pub fn initial() -> Self {
        let mut area = [0u8; 512];
        area[0..2].copy_from_slice(&0x037fu16.to_le_bytes()); // x87 control word
        area[24..28].copy_from_slice(&0x1f80u32.to_le_bytes()); // MXCSR
        area[28..32].copy_from_slice(&0xffffu32.to_le_bytes()); // MXCSR mask
        FpuState(area)
    }
}

/// The RFLAGS bits user code may choose for itself: the arithmetic flags
/// (CF PF AF ZF SF OF), DF, TF, AC and ID. Never IF (always on), IOPL, NT, RF,
/// VM, VIF or VIP.
pub const USER_FLAGS: u64 =
    0x0000_0cd5 | RFlags::TRAP_FLAG.bits() | RFlags::ALIGNMENT_CHECK.bits() | RFlags::ID.bits();

/// The RFLAGS a user thread resumes with when they come from data (a
/// restored image, or any future call that sets a thread's registers):
/// `raw`'s [`USER_FLAGS`], interrupts on, and the always-one bit 1.
pub fn user_rflags(raw: u64) -> u64 {
    (raw & USER_FLAGS) | RFlags::INTERRUPT_FLAG.bits() | 0x2
}

/// How many registers [`UserContext::saved_registers`] keeps.
pub const SAVED_REGISTERS: usize = 18;

/// Everything needed to resume a thread.
#[derive(Clone)]
pub struct UserContext {
    pub regs: TrapFrame,
    pub fpu: FpuState,
    /// The FS and GS segment bases (thread-local storage of a foreign ABI;
    /// Abide's own threads keep 0). Below [`USER_END`], so canonical.
    pub fs_base: u64,
    pub gs_base: u64,
}

impl UserContext {
    /// A fresh context at `rip` with stack `rsp`, interrupts enabled, in the
    /// privilege level of the `code`/`data` selectors.
    fn starting_at(rip: u64, rsp: u64, code: u64, data: u64) -> Self {
        let regs = TrapFrame {
            rip,
            cs: code,
            rflags: (RFlags::INTERRUPT_FLAG | RFlags::from_bits_truncate(0x2)).bits(),
            rsp,
            ss: data,
            ..TrapFrame::default()
        };
        UserContext {
            regs,
            fpu: FpuState::initial(),
            fs_base: 0,
            gs_base: 0,
        }
    }

    /// A context that starts user code at `entry` with stack pointer `stack`.
    pub fn new_user(entry: u64, stack: u64) -> Self {
        let selectors = gdt::selectors();
        let (code, data) = selectors.map_or((0x23, 0x1b), |s| {
            (s.user_code.0 as u64, s.user_data.0 as u64)
        });
        Self::starting_at(entry, stack, code, data)
    }

    /// The context of the idle loop: kernel mode, interrupts on, own stack.
    pub fn idle() -> Self {
        let selectors = gdt::selectors();
        let (code, data) = selectors.map_or((0x08, 0x10), |s| {
            (s.kernel_code.0 as u64, s.kernel_data.0 as u64)
        });
        let rip = core::ptr::addr_of!(abide_idle_loop) as u64;
        let stack = core::ptr::addr_of!(IDLE_STACK) as u64 + IDLE_STACK_SIZE as u64;
        Self::starting_at(rip, stack, code, data)
    }

    /// The registers a checkpoint keeps, in [`UserContext::from_saved`] order.
    pub fn saved_registers(&self) -> [u64; SAVED_REGISTERS] {
        let r = &self.regs;
        [
            r.r15, r.r14, r.r13, r.r12, r.r11, r.r10, r.r9, r.r8, r.rbp, r.rdi, r.rsi, r.rdx,
            r.rcx, r.rbx, r.rax, r.rip, r.rflags, r.rsp,
        ]
    }

    /// A user context from [`UserContext::saved_registers`] and an FXSAVE
    /// area read back from the store. Nothing read from disk can lift it
    /// out of ring 3: the selectors are the user ones, RFLAGS keeps only
    /// [`USER_FLAGS`] (interrupts stay on; no IOPL, VM, NT or RF), and
    /// MXCSR's reserved bits are cleared so FXRSTOR cannot fault. `None`
    /// for a `rip` or `rsp` outside user space (`mm::USER_END`).
    pub fn from_saved(words: &[u64; SAVED_REGISTERS], fpu: &[u8; 512]) -> Option<Self> {
        let [r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax, rip, rflags, rsp] =
            *words;
        // Below USER_END: a RIP on the never-mapped top page could only come
        // from a forged image, and `iretq` would fault on it in ring 0.
        let user = |addr: u64| addr < USER_END;
        if !user(rip) || !user(rsp) {
            return None;
        }
        let mut context = Self::new_user(rip, rsp);
        context.regs.rflags = user_rflags(rflags);
        let r = &mut context.regs;
        (r.r15, r.r14, r.r13, r.r12, r.r11, r.r10, r.r9, r.r8) =
            (r15, r14, r13, r12, r11, r10, r9, r8);
        (r.rbp, r.rdi, r.rsi, r.rdx, r.rcx, r.rbx, r.rax) = (rbp, rdi, rsi, rdx, rcx, rbx, rax);
        let mut area = *fpu;
        let mxcsr = u32::from_le_bytes([area[24], area[25], area[26], area[27]]) & 0xffbf;
        area[24..28].copy_from_slice(&mxcsr.to_le_bytes());
        context.fpu = FpuState(area);
        Some(context)
    }

    /// Reads the CPU's FS and GS bases into the context (the thread leaves
    /// the CPU; a segment load in user code may have changed them).
    pub fn save_segment_bases(&mut self) {
        self.fs_base = FsBase::read().as_u64();
        self.gs_base = GsBase::read().as_u64();
    }

    /// Loads the context's FS and GS bases into the CPU (the thread is
    /// about to run). The kernel never uses either base itself (no
    /// `swapgs`), and every path that sets them checks they lie below
    /// [`USER_END`], so `wrmsr` cannot fault on a non-canonical value.
    pub fn load_segment_bases(&self) {
        let canonical = |base: u64| if base < USER_END { base } else { 0 };
        FsBase::write(VirtAddr::new_truncate(canonical(self.fs_base)));
        GsBase::write(VirtAddr::new_truncate(canonical(self.gs_base)));
    }

    /// True for the idle loop's context (kernel mode).
    pub fn is_kernel_mode(&self) -> bool {
        self.regs.cs & 3 == 0
    }
}

const SYSCALL_STACK_SIZE: usize = 64 * 1024;
const IDLE_STACK_SIZE: usize = 4096;

#[repr(C, align(4096))]
struct Stack<const N: usize>([u8; N]);

/// The stack every system call runs on (interrupts are off in the kernel, so
/// one per CPU suffices), above an unmapped guard page.
static mut SYSCALL_STACK: GuardedStack<SYSCALL_STACK_SIZE> = GuardedStack::ZEROED;
/// The idle loop only halts; interrupts it takes go to IST stacks.
static mut IDLE_STACK: Stack<IDLE_STACK_SIZE> = Stack([0; IDLE_STACK_SIZE]);

/// The lowest address of the syscall stack: the page below it must stay
/// unmapped (see `mm::kernel_map`).
pub fn syscall_stack_bottom() -> u64 {
    gdt::stack_bottom(core::ptr::addr_of!(SYSCALL_STACK))
}

/// Per-CPU scratch used by the syscall entry before it has a stack.
#[no_mangle]
static mut SYSCALL_KERNEL_RSP: u64 = 0;
#[no_mangle]
static mut SYSCALL_USER_RSP: u64 = 0;

global_asm!(
    r#"
    .section .text.syscall, "ax"
    .global syscall_entry
    .type syscall_entry, @function
syscall_entry:
    /* IF, DF, TF, AC, NT and IOPL are clear (SFMASK). Build an interrupt
       frame; r11 holds the user's own RFLAGS, rcx its return address. */
    mov %rsp, SYSCALL_USER_RSP(%rip)
    mov SYSCALL_KERNEL_RSP(%rip), %rsp
    pushq ${user_ss}
    pushq SYSCALL_USER_RSP(%rip)
    push %r11                      /* rflags */
    pushq ${user_cs}
    push %rcx                      /* rip after syscall */
    pushq $0                       /* error code */
    pushq ${vector}
    jmp interrupt_common
    .size syscall_entry, . - syscall_entry

    .global abide_enter_context
    .type abide_enter_context, @function
abide_enter_context:                /* (frame: *const TrapFrame, fpu: *const FpuState) */
    fxrstor64 (%rsi)
    mov %rdi, %rsp
    jmp interrupt_return           /* idt.rs: pop the registers, iretq */
    .size abide_enter_context, . - abide_enter_context

    .global abide_idle_loop
    .type abide_idle_loop, @function
abide_idle_loop:
    sti
    hlt
    jmp abide_idle_loop
    .size abide_idle_loop, . - abide_idle_loop
"#,
    user_ss = const 0x1b,
    user_cs = const 0x23,
    vector = const SYSCALL_VECTOR,
    options(att_syntax)
);

extern "C" {
    fn syscall_entry();
    fn abide_enter_context(frame: *const TrapFrame, fpu: *const FpuState) -> !;
    static abide_idle_loop: u8;
}

/// Enables `syscall`: entry point, segments, and the flags cleared on entry.
pub fn init_syscalls() {
    let selectors = gdt::selectors();
    if let Some(s) = selectors {
        // The user selectors must match what the entry stub pushes.
        debug_assert_eq!((s.user_data.0, s.user_code.0), (0x1b, 0x23));
        if let Err(error) = Star::write(s.user_code, s.user_data, s.kernel_code, s.kernel_data) {
            super::upcalls::fail(format_args!(
                "the GDT layout does not suit syscall: {error}"
            ));
        }
    }
    // SAFETY: the stack is a static reserved for syscalls.
    unsafe {
        *core::ptr::addr_of_mut!(SYSCALL_KERNEL_RSP) =
            gdt::stack_top(core::ptr::addr_of!(SYSCALL_STACK));
    }
    LStar::write(VirtAddr::new(syscall_entry as *const () as u64));
    // Everything user code can set that changes how the kernel runs or
    // returns: NT would turn the exit `iretq` into a task return (#GP), AC
    // would switch SMAP off, TF would single-step the kernel, DF would run
    // string copies backwards. IOPL cannot be raised from ring 3; it is
    // cleared anyway, as Linux does.
    SFMask::write(
        RFlags::INTERRUPT_FLAG
            | RFlags::DIRECTION_FLAG
            | RFlags::TRAP_FLAG
            | RFlags::ALIGNMENT_CHECK
            | RFlags::NESTED_TASK
            | RFlags::IOPL_HIGH
            | RFlags::IOPL_LOW,
    );
    // SAFETY: turning on SYSCALL/SYSRET; LSTAR and STAR are set above.
    unsafe { Efer::update(|flags| *flags |= EferFlags::SYSTEM_CALL_EXTENSIONS) };
}

/// Leaves the kernel into `context` (user code, or the idle loop). The
/// context is copied to a per-CPU launch area first, so the caller's copy may
/// go away.
pub fn enter(context: &UserContext) -> ! {
    static mut LAUNCH: Option<UserContext> = None;
    // SAFETY: interrupts are off and this CPU owns LAUNCH; the frame and FPU
    // area it points at stay valid until `iretq` has consumed them. The
    // context's segments are user or kernel selectors from our GDT.
    unsafe {
        let launch = &mut *core::ptr::addr_of_mut!(LAUNCH);
        let ctx = launch.insert(context.clone());
        abide_enter_context(&ctx.regs, &ctx.fpu)
    }
}
