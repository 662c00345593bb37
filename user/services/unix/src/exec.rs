//! `execve`: a new program image for a process. The file comes from the
//! file system ([`crate::files::program`]); a `#!` script runs its
//! interpreter. The image goes into a new foreign process (segments from
//! `abide_unix::elf`'s plan, the stack from `abide_unix::stack`), the
//! calling thread moves there with the same Linux pid, and the old kernel
//! process ends. Close-on-exec files close and handled signals go back to
//! their defaults; a vfork parent runs on.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use abide_abi::trap::{TrapRegisters, PROT_EXEC, PROT_READ, PROT_WRITE};
use abide_linux::errno::{E2BIG, ELOOP, ENOEXEC, ENOMEM};
use abide_mm::PAGE_SIZE;
use abide_rt::println;
use abide_rt::syscall;
use abide_unix::elf::{self, ElfError, Plan, PF_R, PF_W, PF_X};
use abide_unix::stack::{self, at, StackInput};
use abide_unix::table::Pid;

use crate::call::{write_process, Call, Outcome, WaitOn};
use crate::files;
use crate::memory::{Memory, STACK_INITIAL, STACK_RESERVE, STACK_TOP};
use crate::process::kernel_name;
use crate::unix::{Kernel, Unix};

/// How many `#!` interpreters may chain.
const MAX_INTERPRETERS: usize = 4;

/// The most bytes argv and envp may take on the new stack.
const ARG_LIMIT: u64 = 2 << 20;

/// `execve(path, argv, envp)`.
pub fn execve(c: &mut Call) -> Outcome {
    let path = match c.read_path(c.arg(0)) {
        Ok(path) => path,
        Err(errno) => return Outcome::err(errno),
    };
    let (argv, envp) = match (c.read_strings(c.arg(1)), c.read_strings(c.arg(2))) {
        (Ok(argv), Ok(envp)) => (argv, envp),
        (Err(errno), _) | (_, Err(errno)) => return Outcome::err(errno),
    };
    match exec(c.unix, c.pid, c.tid, &path, &argv, &envp) {
        Ok(()) => Outcome::Silent,
        Err(errno) => Outcome::err(errno),
    }
}

/// `execveat(dirfd, path, argv, envp, flags)`: only the forms `execve`
/// has (an absolute path or `AT_FDCWD`).
pub fn execveat(c: &mut Call) -> Outcome {
    c.regs.rdi = c.regs.rsi;
    c.regs.rsi = c.regs.rdx;
    c.regs.rdx = c.regs.r10;
    execve(c)
}

/// Replaces process `pid`'s image, thread `tid` calling.
fn exec(
    unix: &mut Unix,
    pid: Pid,
    tid: Pid,
    path: &str,
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
) -> Result<(), i64> {
    let image = load(unix, pid, path, argv, envp)?;
    // The point of no return: the old image goes.
    let old = unix.kernel.get(&pid).map(|k| k.handle);
    // Other threads end (Linux kills them at exec).
    let others: Vec<Pid> = unix
        .table
        .process(pid)
        .map(|p| p.threads.iter().copied().filter(|t| *t != tid).collect())
        .unwrap_or_default();
    for other in others {
        unix.waits.take(other);
        unix.table.remove_thread(other);
        unix.threads.remove(&other);
    }
    if let Some(old) = old {
        let _ = syscall::process_kill(old);
        let _ = syscall::handle_close(old);
    }
    install(unix, pid, tid, path, argv, image)
}

/// Starts the first image of a new process `pid` (its thread = pid).
pub fn exec_new(
    unix: &mut Unix,
    pid: Pid,
    path: &str,
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
) -> Result<(), i64> {
    let image = load(unix, pid, path, argv, envp)?;
    unix.kernel.insert(
        pid,
        Kernel {
            handle: image.handle,
            memory: Memory::default(),
            files: files::Files::console(&mut unix.fs),
            vfork_parent: None,
            vfork_stack: 0,
            exe: String::new(),
        },
    );
    install(unix, pid, pid, path, argv, image)
}

/// A loaded image, not yet running.
struct Image {
    handle: abide_abi::syscall::Handle,
    plan: Plan,
    regs: TrapRegisters,
    exe: String,
}

/// Reads `path` (following `#!`), and builds its image in a new foreign
/// process.
fn load(
    unix: &mut Unix,
    pid: Pid,
    path: &str,
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
) -> Result<Image, i64> {
    let mut path = String::from(path);
    let mut argv: Vec<Vec<u8>> = argv.to_vec();
    let mut bytes;
    let mut depth = 0;
    loop {
        let (resolved, file) = files::program(unix, pid, &path)?;
        bytes = file;
        if let Some((interpreter, arg)) = shebang(&bytes) {
            depth += 1;
            if depth > MAX_INTERPRETERS {
                return Err(ELOOP);
            }
            let mut new_argv = vec![interpreter.clone()];
            if let Some(arg) = arg {
                new_argv.push(arg);
            }
            new_argv.push(path.clone().into_bytes());
            new_argv.extend(argv.iter().skip(1).cloned());
            argv = new_argv;
            path = String::from_utf8_lossy(&interpreter).into_owned();
            continue;
        }
        path = resolved;
        break;
    }
    let plan = elf::plan(&bytes).map_err(|error| match error {
        ElfError::NotExecutable | ElfError::Dynamic => ENOEXEC,
    })?;
    let name = basename(&path);
    let handle = syscall::process_create(&kernel_name(pid, &name), unix.trap_peer, &unix.options)
        .map_err(|error| {
        println!("unix: process_create for {path} failed: {error:?}");
        ENOMEM
    })?;
    match build(unix, handle, &plan, &bytes, &path, &argv, envp) {
        Ok(regs) => Ok(Image {
            handle,
            plan,
            regs,
            exe: path,
        }),
        Err(errno) => {
            let _ = syscall::process_kill(handle);
            let _ = syscall::handle_close(handle);
            Err(errno)
        }
    }
}

/// Maps the segments and the stack of `plan` in `handle`; the registers
/// the program starts with.
fn build(
    unix: &mut Unix,
    handle: abide_abi::syscall::Handle,
    plan: &Plan,
    bytes: &[u8],
    path: &str,
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
) -> Result<TrapRegisters, i64> {
    // Segments, page by page: a page two segments share is mapped once,
    // with both protections.
    let mut mapped_to = 0u64;
    let mut last_prot = 0u64;
    for segment in &plan.segments {
        let (start, end) = segment.pages();
        let prot = prot_of(segment.flags);
        let from = start.max(mapped_to);
        if start < mapped_to {
            let shared = mapped_to - PAGE_SIZE;
            syscall::process_protect(handle, shared, PAGE_SIZE, prot | last_prot)
                .map_err(|_| ENOMEM)?;
        }
        if end > from {
            syscall::process_map(handle, from, end - from, prot).map_err(|_| ENOMEM)?;
        }
        let data = usize::try_from(segment.offset)
            .ok()
            .zip(usize::try_from(segment.offset + segment.filesz).ok())
            .and_then(|(a, b)| bytes.get(a..b))
            .ok_or(ENOEXEC)?;
        write_process(handle, segment.vaddr, data)?;
        mapped_to = mapped_to.max(end);
        last_prot = prot;
    }
    // The stack: reserved below STACK_TOP, the top mapped now, the rest on
    // faults (memory::grow_stack).
    syscall::process_map(
        handle,
        STACK_TOP - STACK_INITIAL,
        STACK_INITIAL,
        PROT_READ | PROT_WRITE,
    )
    .map_err(|_| ENOMEM)?;
    let mut random = [0u8; 16];
    random[..8].copy_from_slice(&unix.next_random().to_le_bytes());
    random[8..].copy_from_slice(&unix.next_random().to_le_bytes());
    let argv_refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
    let envp_refs: Vec<&[u8]> = envp.iter().map(|e| e.as_slice()).collect();
    let auxv = [
        (at::PHDR, plan.phdr),
        (at::PHENT, plan.phent),
        (at::PHNUM, plan.phnum),
        (at::PAGESZ, PAGE_SIZE),
        (at::BASE, 0),
        (at::FLAGS, 0),
        (at::ENTRY, plan.entry),
        (at::UID, 0),
        (at::EUID, 0),
        (at::GID, 0),
        (at::EGID, 0),
        (at::SECURE, 0),
        (at::HWCAP, HWCAP),
        (at::HWCAP2, 0),
        (at::CLKTCK, 100),
        (at::MINSIGSTKSZ, 2048),
    ];
    let image = stack::build(
        STACK_TOP,
        &StackInput {
            argv: &argv_refs,
            envp: &envp_refs,
            execfn: path.as_bytes(),
            random,
            auxv: &auxv,
        },
        ARG_LIMIT.min(STACK_INITIAL),
    )
    .ok_or(E2BIG)?;
    write_process(handle, image.sp, &image.bytes)?;
    Ok(TrapRegisters {
        rip: plan.entry,
        rsp: image.sp,
        rflags: 0x202,
        ..TrapRegisters::default()
    })
}

/// `AT_HWCAP` as Linux gives it on x86_64: CPUID leaf 1's EDX. QEMU's
/// default CPU has FPU..SSE2 at least; glibc reads CPUID itself anyway.
const HWCAP: u64 = 0x078b_fbff;

/// Makes `image` the running image of process `pid`, its thread `tid`
/// starting there.
fn install(
    unix: &mut Unix,
    pid: Pid,
    tid: Pid,
    path: &str,
    argv: &[Vec<u8>],
    image: Image,
) -> Result<(), i64> {
    let vfork_parent = match unix.kernel.get_mut(&pid) {
        Some(k) => {
            k.handle = image.handle;
            k.memory = Memory::new(image.plan.end, STACK_TOP - STACK_RESERVE);
            k.exe = image.exe.clone();
            k.files.exec(&mut unix.fs);
            k.vfork_parent.take()
        }
        None => None,
    };
    if let Some(process) = unix.table.process_mut(pid) {
        process.actions.reset_for_exec();
        process.name = basename(path);
        process.name.truncate(15);
        process.cmdline = argv
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        process.execed = true;
    }
    if let Some(t) = unix.threads.get_mut(&tid) {
        t.alt_stack = Default::default();
        t.saved_mask = None;
        t.fault = None;
    }
    if vfork_parent.is_some() {
        unix.wake(WaitOn::Vfork(pid));
    }
    match syscall::thread_start(image.handle, &image.regs, u64::from(tid)) {
        Ok(id) => {
            if let Some(t) = unix.threads.get_mut(&tid) {
                t.id = id;
            }
            Ok(())
        }
        Err(error) => {
            println!("unix: starting {path} failed: {error:?}");
            crate::process::exit_process(
                unix,
                pid,
                abide_unix::status::Status::Signaled {
                    signal: abide_linux::signal::SIGKILL,
                    core: false,
                },
            );
            Err(ENOMEM)
        }
    }
}

/// The kernel protection for ELF segment flags.
fn prot_of(flags: u32) -> u64 {
    let mut prot = 0;
    if flags & PF_R != 0 {
        prot |= PROT_READ;
    }
    if flags & PF_W != 0 {
        prot |= PROT_WRITE;
    }
    if flags & PF_X != 0 {
        prot |= PROT_EXEC;
    }
    prot
}

/// The interpreter and optional argument of a `#!` line.
fn shebang(bytes: &[u8]) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
    let rest = bytes.strip_prefix(b"#!")?;
    let line_end = rest
        .iter()
        .position(|b| *b == b'\n')
        .unwrap_or(rest.len())
        .min(255);
    let line = rest.get(..line_end)?;
    let trimmed: &[u8] = line.trim_ascii();
    let split = trimmed.iter().position(|b| *b == b' ' || *b == b'\t');
    match split {
        None if trimmed.is_empty() => None,
        None => Some((trimmed.to_vec(), None)),
        Some(i) => {
            let (interpreter, arg) = trimmed.split_at(i);
            let arg = arg.trim_ascii();
            Some((
                interpreter.to_vec(),
                (!arg.is_empty()).then(|| arg.to_vec()),
            ))
        }
    }
}

/// The last component of `path`.
fn basename(path: &str) -> String {
    String::from(path.rsplit('/').next().unwrap_or(path))
}
