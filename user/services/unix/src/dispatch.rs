//! The one table from a Linux system-call number to the module function
//! that answers it. Every call the conformance README lists is here (those
//! not written yet answer `ENOSYS` from their module); any other number is
//! `ENOSYS`. Every `ENOSYS` is counted by number (`Stats::enosys`).

use abide_linux::errno::ENOSYS;
use abide_linux::syscalls::nr;

use crate::call::{Call, Outcome};
use crate::{exec, files, futex, info, memory, process, signal, time};

/// Answers call `number` for `c`.
pub fn dispatch(c: &mut Call, number: u64) -> Outcome {
    let handler: fn(&mut Call) -> Outcome = match number {
        // Files and pipes (`files`, engineer vfs).
        nr::READ => files::read,
        nr::WRITE => files::write,
        nr::OPEN => files::open,
        nr::OPENAT => files::openat,
        nr::CREAT => files::creat,
        nr::CLOSE => files::close,
        nr::CLOSE_RANGE => files::close_range,
        nr::LSEEK => files::lseek,
        nr::PREAD64 => files::pread64,
        nr::PWRITE64 => files::pwrite64,
        nr::READV => files::readv,
        nr::WRITEV => files::writev,
        nr::PREADV => files::preadv,
        nr::PWRITEV => files::pwritev,
        nr::PIPE => files::pipe,
        nr::PIPE2 => files::pipe2,
        nr::DUP => files::dup,
        nr::DUP2 => files::dup2,
        nr::DUP3 => files::dup3,
        nr::FCNTL => files::fcntl,
        nr::IOCTL => files::ioctl,
        nr::POLL => files::poll,
        nr::PPOLL => files::ppoll,
        nr::SELECT => files::select,
        nr::PSELECT6 => files::pselect6,
        nr::GETDENTS => files::getdents,
        nr::GETDENTS64 => files::getdents64,
        nr::STAT => files::stat,
        nr::FSTAT => files::fstat,
        nr::LSTAT => files::lstat,
        nr::NEWFSTATAT => files::newfstatat,
        nr::STATX => files::statx,
        nr::STATFS => files::statfs,
        nr::FSTATFS => files::fstatfs,
        nr::ACCESS => files::access,
        nr::FACCESSAT => files::faccessat,
        nr::FACCESSAT2 => files::faccessat2,
        nr::READLINK => files::readlink,
        nr::READLINKAT => files::readlinkat,
        nr::MKDIR => files::mkdir,
        nr::MKDIRAT => files::mkdirat,
        nr::RMDIR => files::rmdir,
        nr::UNLINK => files::unlink,
        nr::UNLINKAT => files::unlinkat,
        nr::RENAME => files::rename,
        nr::RENAMEAT => files::renameat,
        nr::RENAMEAT2 => files::renameat2,
        nr::LINK => files::link,
        nr::LINKAT => files::linkat,
        nr::SYMLINK => files::symlink,
        nr::SYMLINKAT => files::symlinkat,
        nr::CHDIR => files::chdir,
        nr::FCHDIR => files::fchdir,
        nr::GETCWD => files::getcwd,
        nr::UMASK => files::umask,
        nr::CHMOD => files::chmod,
        nr::FCHMOD => files::fchmod,
        nr::FCHMODAT => files::fchmodat,
        nr::CHOWN => files::chown,
        nr::FCHOWN => files::fchown,
        nr::LCHOWN => files::lchown,
        nr::FCHOWNAT => files::fchownat,
        nr::TRUNCATE => files::truncate,
        nr::FTRUNCATE => files::ftruncate,
        nr::UTIME => files::utime,
        nr::UTIMES => files::utimes,
        nr::FUTIMESAT => files::futimesat,
        nr::UTIMENSAT => files::utimensat,
        nr::MKNOD => files::mknod,
        nr::MKNODAT => files::mknodat,
        nr::SENDFILE => files::sendfile,
        nr::COPY_FILE_RANGE => files::copy_file_range,
        nr::FSYNC => files::fsync,
        nr::FDATASYNC => files::fdatasync,
        nr::SYNC => files::sync,
        nr::SYNCFS => files::syncfs,
        nr::FLOCK => files::flock,
        nr::FADVISE64 => files::fadvise64,
        nr::FALLOCATE => files::fallocate,
        nr::SOCKET | nr::SOCKETPAIR => files::socket,
        nr::CONNECT
        | nr::SENDTO
        | nr::RECVFROM
        | nr::SETSOCKOPT
        | nr::GETSOCKOPT
        | nr::BIND
        | nr::LISTEN
        | nr::ACCEPT
        | nr::ACCEPT4
        | nr::SENDMSG
        | nr::RECVMSG
        | nr::SHUTDOWN
        | nr::GETSOCKNAME
        | nr::GETPEERNAME => files::socket,

        // Processes (`process`, `exec`).
        nr::CLONE => process::clone,
        nr::CLONE3 => process::clone3,
        nr::FORK => process::fork,
        nr::VFORK => process::vfork,
        nr::EXECVE => exec::execve,
        nr::EXECVEAT => exec::execveat,
        nr::EXIT => process::exit,
        nr::EXIT_GROUP => process::exit_group,
        nr::WAIT4 => process::wait4,
        nr::WAITID => process::waitid,
        nr::SET_TID_ADDRESS => process::set_tid_address,
        nr::SET_ROBUST_LIST | nr::GET_ROBUST_LIST | nr::RSEQ => process::not_supported,
        nr::FUTEX => futex::futex,

        // Memory (`memory`).
        nr::BRK => memory::brk,
        nr::MMAP => memory::mmap,
        nr::MUNMAP => memory::munmap,
        nr::MPROTECT => memory::mprotect,
        nr::MREMAP => memory::mremap,
        nr::MADVISE | nr::MSYNC | nr::MLOCK | nr::MUNLOCK | nr::MLOCKALL | nr::MUNLOCKALL => {
            memory::madvise
        }

        // Signals (`signal`).
        nr::RT_SIGACTION => signal::rt_sigaction,
        nr::RT_SIGPROCMASK => signal::rt_sigprocmask,
        nr::RT_SIGRETURN => signal::rt_sigreturn,
        nr::RT_SIGSUSPEND => signal::rt_sigsuspend,
        nr::RT_SIGPENDING => signal::rt_sigpending,
        nr::SIGALTSTACK => signal::sigaltstack,
        nr::PAUSE => signal::pause,
        nr::KILL => signal::kill,
        nr::TGKILL => signal::tgkill,
        nr::TKILL => signal::tkill,

        // Time (`time`).
        nr::CLOCK_GETTIME => time::clock_gettime,
        nr::CLOCK_GETRES => time::clock_getres,
        nr::GETTIMEOFDAY => time::gettimeofday,
        nr::TIME => time::time,
        nr::NANOSLEEP => time::nanosleep,
        nr::CLOCK_NANOSLEEP => time::clock_nanosleep,
        nr::TIMES => time::times,

        // Identity and information (`info`).
        nr::GETPID => info::getpid,
        nr::GETTID => info::gettid,
        nr::GETPPID => info::getppid,
        nr::GETUID | nr::GETEUID | nr::GETGID | nr::GETEGID => info::root_id,
        nr::SETUID
        | nr::SETGID
        | nr::SETREUID
        | nr::SETREGID
        | nr::SETRESUID
        | nr::SETRESGID
        | nr::SETFSUID
        | nr::SETFSGID
        | nr::SETGROUPS => info::set_id,
        nr::GETRESUID | nr::GETRESGID => info::getresid,
        nr::GETGROUPS => info::getgroups,
        nr::SETPGID => info::setpgid,
        nr::GETPGID => info::getpgid,
        nr::GETPGRP => info::getpgrp,
        nr::SETSID => info::setsid,
        nr::GETSID => info::getsid,
        nr::UNAME => info::uname,
        nr::GETRANDOM => info::getrandom,
        nr::SYSINFO => info::sysinfo,
        nr::PRLIMIT64 => info::prlimit64,
        nr::GETRLIMIT => info::getrlimit,
        nr::SETRLIMIT => info::setrlimit,
        nr::GETRUSAGE => info::getrusage,
        nr::PRCTL => info::prctl,
        nr::ARCH_PRCTL => info::arch_prctl,
        nr::SCHED_GETAFFINITY => info::sched_getaffinity,
        nr::SCHED_SETAFFINITY | nr::SCHED_YIELD | nr::SETPRIORITY => info::nothing,
        nr::GETPRIORITY => info::getpriority,
        nr::GETCPU => info::getcpu,
        nr::PERSONALITY => info::personality,

        _ => return unknown(c, number),
    };
    handler(c)
}

/// A call no module answers: `ENOSYS` (counted by the trap loop, like
/// every `ENOSYS`).
fn unknown(_c: &mut Call, _number: u64) -> Outcome {
    Outcome::err(ENOSYS)
}
