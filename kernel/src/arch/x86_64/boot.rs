//! The first instructions: from a 32-bit boot loader to 64-bit Rust.
//!
//! Both boot protocols enter `_start32` in 32-bit protected mode with paging
//! off: PVH (QEMU `-kernel`, Firecracker) through the `Xen` ELF note below, with
//! `ebx` pointing at `hvm_start_info`; Multiboot2 (GRUB) through the header
//! below, with `eax` = 0x36d76289 and `ebx` pointing at the boot information.
//!
//! The stub checks for long mode, builds boot page tables that map the first
//! 4 GiB three times (identity, the direct map at `DIRECT_MAP_BASE`, and the
//! kernel image window at `KERNEL_VMA`) with 2 MiB pages, enables PAE, NX, SSE
//! and paging, enters 64-bit mode, jumps to the higher half, switches to the
//! kernel stack and calls [`crate::kernel_entry`]. The Rust side later replaces
//! these tables with precise ones (see `mm::kernel_map`).
//!
//! The TSC is read first thing so the banner can report the boot time.

use core::arch::global_asm;

global_asm!(
    r#"
    /* ---- Multiboot2 header (GRUB): must be in the first 32 KiB, 8-aligned ---- */
    .section .multiboot2, "a"
    .balign 8
mb2_header_start:
    .long 0xe85250d6                       /* magic */
    .long 0                                /* architecture: i386 protected mode */
    .long mb2_header_end - mb2_header_start
    .long 0x100000000 - (0xe85250d6 + (mb2_header_end - mb2_header_start))
    .balign 8                              /* entry address tag: start at _start32 */
    .short 3
    .short 0
    .long 12
    .long _start32
    .balign 8                              /* end tag */
    .short 0
    .short 0
    .long 8
mb2_header_end:

    /* ---- PVH entry note (QEMU -kernel, Firecracker): XEN_ELFNOTE_PHYS32_ENTRY ---- */
    .section .note.Xen, "a", @note
    .balign 4
    .long 4                                /* name size: "Xen\0" */
    .long 8                                /* descriptor size */
    .long 18                               /* type: PHYS32_ENTRY */
    .asciz "Xen"
    .balign 4
    .quad _start32
    .balign 4

    /* ---- boot data, identity-mapped at its link address ---- */
    .section .boot.data, "aw"
    .balign 8
boot_tsc:
    .quad 0
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff               /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff               /* 0x10: data */
boot_gdt_end:
boot_gdt_ptr:
    .short boot_gdt_end - boot_gdt - 1
    .long boot_gdt
no_long_mode_msg:
    .asciz "abide: this CPU has no 64-bit long mode; cannot boot\r\n"

    .section .boot.bss, "aw", @nobits
    .balign 4096
boot_pml4:      .skip 4096
boot_pdpt_low:  .skip 4096
boot_pdpt_high: .skip 4096
boot_pd:        .skip 4 * 4096             /* 4 GiB of 2 MiB pages */
boot_tables_end:

    /* ---- 32-bit entry ---- */
    .section .boot.text, "ax"
    .code32
    .global _start32
_start32:
    cli
    cld
    mov %eax, %ebp                         /* boot protocol magic (Multiboot2) */
    mov %ebx, %esi                         /* boot information, physical */
    rdtsc
    mov %eax, boot_tsc
    mov %edx, boot_tsc + 4

    /* Long mode present? (CPUID 0x80000001 EDX bit 29) */
    mov $0x80000000, %eax
    cpuid
    cmp $0x80000001, %eax
    jb no_long_mode
    mov $0x80000001, %eax
    cpuid
    bt $29, %edx
    jnc no_long_mode
    mov %edx, %ebx                         /* keep the feature bits: NX is bit 20 */

    /* Zero the boot page tables (no loader is trusted to clear them). */
    mov $boot_pml4, %edi
    mov $((boot_tables_end - boot_pml4) / 4), %ecx
    xor %eax, %eax
    rep stosl

    /* PML4: [0] identity, [256] direct map, [511] kernel window. */
    mov $boot_pdpt_low, %eax
    or $0x3, %eax
    mov %eax, boot_pml4
    mov %eax, boot_pml4 + 256 * 8
    mov $boot_pdpt_high, %eax
    or $0x3, %eax
    mov %eax, boot_pml4 + 511 * 8

    /* PDPT low: 4 x 1 GiB -> boot_pd[0..4]; PDPT high: [510] -> 0 GiB, [511] -> 1 GiB. */
    mov $boot_pd, %eax
    or $0x3, %eax
    mov %eax, boot_pdpt_low
    mov %eax, boot_pdpt_high + 510 * 8
    add $4096, %eax
    mov %eax, boot_pdpt_low + 8
    mov %eax, boot_pdpt_high + 511 * 8
    add $4096, %eax
    mov %eax, boot_pdpt_low + 16
    add $4096, %eax
    mov %eax, boot_pdpt_low + 24

    /* 2048 PD entries: phys = i * 2 MiB, present | writable | huge. */
    mov $boot_pd, %edi
    xor %ecx, %ecx
1:
    mov %ecx, %eax
    shl $21, %eax
    or $0x83, %eax
    mov %eax, (%edi, %ecx, 8)
    mov %ecx, %eax
    shr $11, %eax                          /* high dword: phys bits 32.. */
    mov %eax, 4(%edi, %ecx, 8)
    inc %ecx
    cmp $2048, %ecx
    jb 1b

    /* CR4: PAE | PGE | OSFXSR | OSXMMEXCPT */
    mov %cr4, %eax
    or $((1 << 5) | (1 << 7) | (1 << 9) | (1 << 10)), %eax
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3

    /* EFER: LME, and NXE when the CPU has NX. */
    mov $0xc0000080, %ecx
    rdmsr
    or $(1 << 8), %eax
    bt $20, %ebx
    jnc 2f
    or $(1 << 11), %eax
2:
    wrmsr

    /* CR0: PG | WP | MP | PE; clear EM and TS so SSE works. */
    mov %cr0, %eax
    and $~((1 << 2) | (1 << 3)), %eax
    or $((1 << 31) | (1 << 16) | (1 << 1) | 1), %eax
    mov %eax, %cr0

    lgdt boot_gdt_ptr
    ljmp $0x08, $start64

no_long_mode:
    mov $no_long_mode_msg, %esi
3:
    lodsb
    test %al, %al
    jz 4f
    mov $0x3f8, %dx
    out %al, %dx
    jmp 3b
4:
    hlt
    jmp 4b

    .code64
start64:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs
    mov %ebp, %edi                         /* arg 0: boot magic (zero-extended) */
    mov %esi, %esi                         /* arg 1: boot information, physical */
    mov boot_tsc, %rdx                     /* arg 2: TSC at entry */
    movabs $kernel_entry_high, %rax
    jmp *%rax

    /* ---- higher half ---- */
    .section .text.entry, "ax"
    .type kernel_entry_high, @function
kernel_entry_high:
    movabs $__stack_top, %rsp
    xor %ebp, %ebp                         /* ends every backtrace */
    fninit
    push $0x1f80                           /* MXCSR default: all exceptions masked */
    ldmxcsr (%rsp)
    add $8, %rsp
    call kernel_entry
    ud2
    .size kernel_entry_high, . - kernel_entry_high
"#,
    options(att_syntax)
);
