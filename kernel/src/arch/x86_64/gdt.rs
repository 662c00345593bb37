//! The global descriptor table and the task-state segment.
//!
//! The TSS exists for its interrupt stack table: every interrupt and exception
//! switches to one of these stacks (see `idt`), because the precompiled `core`
//! uses the red zone below the stack pointer, which an interrupt pushing onto
//! the same stack would destroy. Separate stacks for double fault, NMI and
//! machine check keep those reportable even when the others are in use.
//!
//! The segment order (kernel code, kernel data, user data, user code) is the one
//! `syscall`/`sysret` require.

use spin::Once;
use x86_64::instructions::segmentation::{Segment, CS, DS, ES, SS};
use x86_64::instructions::tables::load_tss;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable, SegmentSelector};
use x86_64::structures::tss::TaskStateSegment;
use x86_64::VirtAddr;

/// Interrupt-stack-table slots (1-based, as the IDT encodes them).
pub mod ist {
    pub const DOUBLE_FAULT: u8 = 1;
    pub const NMI: u8 = 2;
    pub const MACHINE_CHECK: u8 = 3;
    pub const EXCEPTION: u8 = 4;
    pub const IRQ: u8 = 5;
}

const IST_STACK_SIZE: usize = 32 * 1024;
pub const IST_STACKS: usize = 5;
const GUARD_SIZE: usize = 4096;

/// A kernel stack with one page below it that `mm::kernel_map` leaves
/// unmapped: an overflow page-faults at once (and is reported, on the
/// exception stack) instead of overwriting whatever lies below.
#[repr(C, align(4096))]
pub struct GuardedStack<const N: usize> {
    guard: [u8; GUARD_SIZE],
    stack: [u8; N],
}

impl<const N: usize> GuardedStack<N> {
    /// All zeroes (it lands in `.bss`).
    pub const ZEROED: Self = GuardedStack {
        guard: [0; GUARD_SIZE],
        stack: [0; N],
    };
}

/// The lowest address of the stack in the guarded stack at `at`.
pub fn stack_bottom<const N: usize>(at: *const GuardedStack<N>) -> u64 {
    at as u64 + GUARD_SIZE as u64
}

/// The top (exclusive) of the stack in the guarded stack at `at`.
pub fn stack_top<const N: usize>(at: *const GuardedStack<N>) -> u64 {
    stack_bottom(at) + N as u64
}

static mut IST_MEMORY: [GuardedStack<IST_STACK_SIZE>; IST_STACKS] =
    [GuardedStack::ZEROED; IST_STACKS];

/// Segment selectors of the kernel's GDT.
#[derive(Debug, Clone, Copy)]
pub struct Selectors {
    pub kernel_code: SegmentSelector,
    pub kernel_data: SegmentSelector,
    pub user_data: SegmentSelector,
    pub user_code: SegmentSelector,
    pub tss: SegmentSelector,
}

static TSS: Once<TaskStateSegment> = Once::new();
static GDT: Once<(GlobalDescriptorTable<8>, Selectors)> = Once::new();

/// The guarded stack of interrupt stack `slot` (1-based).
fn ist_stack(slot: u8) -> *const GuardedStack<IST_STACK_SIZE> {
    let stacks = core::ptr::addr_of!(IST_MEMORY) as *const GuardedStack<IST_STACK_SIZE>;
    stacks.wrapping_add((slot as usize).saturating_sub(1) % IST_STACKS)
}

/// The top (highest address) of interrupt stack `slot` (1-based).
fn ist_top(slot: u8) -> VirtAddr {
    VirtAddr::new(stack_top(ist_stack(slot)))
}

/// The lowest address of each interrupt stack (slot 1 first): the page
/// below each stays unmapped (see `mm::kernel_map`).
pub fn ist_stack_bottoms() -> [u64; IST_STACKS] {
    core::array::from_fn(|index| stack_bottom(ist_stack(index as u8 + 1)))
}

/// Address range of all interrupt stacks, guard pages included (for
/// backtrace bounds).
pub fn ist_range() -> (u64, u64) {
    let base = core::ptr::addr_of!(IST_MEMORY) as u64;
    let size = core::mem::size_of::<[GuardedStack<IST_STACK_SIZE>; IST_STACKS]>();
    (base, base + size as u64)
}

/// The unmapped page below every kernel stack this module and `context`
/// own: the interrupt stacks and the syscall stack.
pub fn stack_guard_pages() -> impl Iterator<Item = u64> {
    ist_stack_bottoms()
        .into_iter()
        .chain(core::iter::once(super::context::syscall_stack_bottom()))
        .map(|bottom| bottom - GUARD_SIZE as u64)
}

/// Loads the GDT and TSS on this CPU and reloads the segment registers.
pub fn init() {
    let tss = TSS.call_once(|| {
        let mut tss = TaskStateSegment::new();
        // The TSS is packed: build the table aside and store it whole.
        let mut table = tss.interrupt_stack_table;
        for (entry, slot) in table.iter_mut().zip(1..=IST_STACKS as u8) {
            *entry = ist_top(slot);
        }
        tss.interrupt_stack_table = table;
        tss
    });
    let (gdt, selectors) = GDT.call_once(|| {
        let mut gdt = GlobalDescriptorTable::new();
        let selectors = Selectors {
            kernel_code: gdt.append(Descriptor::kernel_code_segment()),
            kernel_data: gdt.append(Descriptor::kernel_data_segment()),
            user_data: gdt.append(Descriptor::user_data_segment()),
            user_code: gdt.append(Descriptor::user_code_segment()),
            tss: gdt.append(Descriptor::tss_segment(tss)),
        };
        (gdt, selectors)
    });
    gdt.load();
    // SAFETY: the selectors come from the GDT just loaded, and the TSS lives
    // in a static for the kernel's lifetime.
    unsafe {
        CS::set_reg(selectors.kernel_code);
        SS::set_reg(selectors.kernel_data);
        DS::set_reg(selectors.kernel_data);
        ES::set_reg(selectors.kernel_data);
        load_tss(selectors.tss);
    }
}

/// The kernel's segment selectors (after [`init`]).
pub fn selectors() -> Option<Selectors> {
    GDT.get().map(|(_, selectors)| *selectors)
}
