//! Linux errno values (from `asm-generic/errno*.h`): a failed call returns
//! `-errno` in `rax`.

/// Operation not permitted.
pub const EPERM: i64 = 1;
/// No such file or directory.
pub const ENOENT: i64 = 2;
/// No such process.
pub const ESRCH: i64 = 3;
/// Interrupted system call.
pub const EINTR: i64 = 4;
/// I/O error.
pub const EIO: i64 = 5;
/// No such device or address.
pub const ENXIO: i64 = 6;
/// Argument list too long.
pub const E2BIG: i64 = 7;
/// Exec format error.
pub const ENOEXEC: i64 = 8;
/// Bad file number.
pub const EBADF: i64 = 9;
/// No child processes.
pub const ECHILD: i64 = 10;
/// Try again.
pub const EAGAIN: i64 = 11;
/// Out of memory.
pub const ENOMEM: i64 = 12;
/// Permission denied.
pub const EACCES: i64 = 13;
/// Bad address.
pub const EFAULT: i64 = 14;
/// Block device required.
pub const ENOTBLK: i64 = 15;
/// Device or resource busy.
pub const EBUSY: i64 = 16;
/// File exists.
pub const EEXIST: i64 = 17;
/// Cross-device link.
pub const EXDEV: i64 = 18;
/// No such device.
pub const ENODEV: i64 = 19;
/// Not a directory.
pub const ENOTDIR: i64 = 20;
/// Is a directory.
pub const EISDIR: i64 = 21;
/// Invalid argument.
pub const EINVAL: i64 = 22;
/// File table overflow.
pub const ENFILE: i64 = 23;
/// Too many open files.
pub const EMFILE: i64 = 24;
/// Not a typewriter.
pub const ENOTTY: i64 = 25;
/// Text file busy.
pub const ETXTBSY: i64 = 26;
/// File too large.
pub const EFBIG: i64 = 27;
/// No space left on device.
pub const ENOSPC: i64 = 28;
/// Illegal seek.
pub const ESPIPE: i64 = 29;
/// Read-only file system.
pub const EROFS: i64 = 30;
/// Too many links.
pub const EMLINK: i64 = 31;
/// Broken pipe.
pub const EPIPE: i64 = 32;
/// Math argument out of domain of func.
pub const EDOM: i64 = 33;
/// Math result not representable.
pub const ERANGE: i64 = 34;
/// Resource deadlock would occur.
pub const EDEADLK: i64 = 35;
/// File name too long.
pub const ENAMETOOLONG: i64 = 36;
/// No record locks available.
pub const ENOLCK: i64 = 37;
/// Invalid system call number.
pub const ENOSYS: i64 = 38;
/// Directory not empty.
pub const ENOTEMPTY: i64 = 39;
/// Too many symbolic links encountered.
pub const ELOOP: i64 = 40;
/// No message of desired type.
pub const ENOMSG: i64 = 42;
/// Identifier removed.
pub const EIDRM: i64 = 43;
/// Channel number out of range.
pub const ECHRNG: i64 = 44;
/// Level 2 not synchronized.
pub const EL2NSYNC: i64 = 45;
/// Level 3 halted.
pub const EL3HLT: i64 = 46;
/// Level 3 reset.
pub const EL3RST: i64 = 47;
/// Link number out of range.
pub const ELNRNG: i64 = 48;
/// Protocol driver not attached.
pub const EUNATCH: i64 = 49;
/// No CSI structure available.
pub const ENOCSI: i64 = 50;
/// Level 2 halted.
pub const EL2HLT: i64 = 51;
/// Invalid exchange.
pub const EBADE: i64 = 52;
/// Invalid request descriptor.
pub const EBADR: i64 = 53;
/// Exchange full.
pub const EXFULL: i64 = 54;
/// No anode.
pub const ENOANO: i64 = 55;
/// Invalid request code.
pub const EBADRQC: i64 = 56;
/// Invalid slot.
pub const EBADSLT: i64 = 57;
/// Bad font file format.
pub const EBFONT: i64 = 59;
/// Device not a stream.
pub const ENOSTR: i64 = 60;
/// No data available.
pub const ENODATA: i64 = 61;
/// Timer expired.
pub const ETIME: i64 = 62;
/// Out of streams resources.
pub const ENOSR: i64 = 63;
/// Machine is not on the network.
pub const ENONET: i64 = 64;
/// Package not installed.
pub const ENOPKG: i64 = 65;
/// Object is remote.
pub const EREMOTE: i64 = 66;
/// Link has been severed.
pub const ENOLINK: i64 = 67;
/// Advertise error.
pub const EADV: i64 = 68;
/// Srmount error.
pub const ESRMNT: i64 = 69;
/// Communication error on send.
pub const ECOMM: i64 = 70;
/// Protocol error.
pub const EPROTO: i64 = 71;
/// Multihop attempted.
pub const EMULTIHOP: i64 = 72;
/// RFS specific error.
pub const EDOTDOT: i64 = 73;
/// Not a data message.
pub const EBADMSG: i64 = 74;
/// Value too large for defined data type.
pub const EOVERFLOW: i64 = 75;
/// Name not unique on network.
pub const ENOTUNIQ: i64 = 76;
/// File descriptor in bad state.
pub const EBADFD: i64 = 77;
/// Remote address changed.
pub const EREMCHG: i64 = 78;
/// Can not access a needed shared library.
pub const ELIBACC: i64 = 79;
/// Accessing a corrupted shared library.
pub const ELIBBAD: i64 = 80;
/// .lib section in a.out corrupted.
pub const ELIBSCN: i64 = 81;
/// Attempting to link in too many shared libraries.
pub const ELIBMAX: i64 = 82;
/// Cannot exec a shared library directly.
pub const ELIBEXEC: i64 = 83;
/// Illegal byte sequence.
pub const EILSEQ: i64 = 84;
/// Interrupted system call should be restarted.
pub const ERESTART: i64 = 85;
/// Streams pipe error.
pub const ESTRPIPE: i64 = 86;
/// Too many users.
pub const EUSERS: i64 = 87;
/// Socket operation on non-socket.
pub const ENOTSOCK: i64 = 88;
/// Destination address required.
pub const EDESTADDRREQ: i64 = 89;
/// Message too long.
pub const EMSGSIZE: i64 = 90;
/// Protocol wrong type for socket.
pub const EPROTOTYPE: i64 = 91;
/// Protocol not available.
pub const ENOPROTOOPT: i64 = 92;
/// Protocol not supported.
pub const EPROTONOSUPPORT: i64 = 93;
/// Socket type not supported.
pub const ESOCKTNOSUPPORT: i64 = 94;
/// Operation not supported on transport endpoint.
pub const EOPNOTSUPP: i64 = 95;
/// Protocol family not supported.
pub const EPFNOSUPPORT: i64 = 96;
/// Address family not supported by protocol.
pub const EAFNOSUPPORT: i64 = 97;
/// Address already in use.
pub const EADDRINUSE: i64 = 98;
/// Cannot assign requested address.
pub const EADDRNOTAVAIL: i64 = 99;
/// Network is down.
pub const ENETDOWN: i64 = 100;
/// Network is unreachable.
pub const ENETUNREACH: i64 = 101;
/// Network dropped connection because of reset.
pub const ENETRESET: i64 = 102;
/// Software caused connection abort.
pub const ECONNABORTED: i64 = 103;
/// Connection reset by peer.
pub const ECONNRESET: i64 = 104;
/// No buffer space available.
pub const ENOBUFS: i64 = 105;
/// Transport endpoint is already connected.
pub const EISCONN: i64 = 106;
/// Transport endpoint is not connected.
pub const ENOTCONN: i64 = 107;
/// Cannot send after transport endpoint shutdown.
pub const ESHUTDOWN: i64 = 108;
/// Too many references: cannot splice.
pub const ETOOMANYREFS: i64 = 109;
/// Connection timed out.
pub const ETIMEDOUT: i64 = 110;
/// Connection refused.
pub const ECONNREFUSED: i64 = 111;
/// Host is down.
pub const EHOSTDOWN: i64 = 112;
/// No route to host.
pub const EHOSTUNREACH: i64 = 113;
/// Operation already in progress.
pub const EALREADY: i64 = 114;
/// Operation now in progress.
pub const EINPROGRESS: i64 = 115;
/// Stale file handle.
pub const ESTALE: i64 = 116;
/// Structure needs cleaning.
pub const EUCLEAN: i64 = 117;
/// Not a XENIX named type file.
pub const ENOTNAM: i64 = 118;
/// No XENIX semaphores available.
pub const ENAVAIL: i64 = 119;
/// Is a named type file.
pub const EISNAM: i64 = 120;
/// Remote I/O error.
pub const EREMOTEIO: i64 = 121;
/// Quota exceeded.
pub const EDQUOT: i64 = 122;
/// No medium found.
pub const ENOMEDIUM: i64 = 123;
/// Wrong medium type.
pub const EMEDIUMTYPE: i64 = 124;
/// Operation Canceled.
pub const ECANCELED: i64 = 125;
/// Required key not available.
pub const ENOKEY: i64 = 126;
/// Key has expired.
pub const EKEYEXPIRED: i64 = 127;
/// Key has been revoked.
pub const EKEYREVOKED: i64 = 128;
/// Key was rejected by service.
pub const EKEYREJECTED: i64 = 129;
/// Owner died.
pub const EOWNERDEAD: i64 = 130;
/// State not recoverable.
pub const ENOTRECOVERABLE: i64 = 131;
/// Operation not possible due to RF-kill.
pub const ERFKILL: i64 = 132;
/// Memory page has hardware error.
pub const EHWPOISON: i64 = 133;

/// The value a failed call leaves in `rax`: `-errno`.
pub const fn fail(errno: i64) -> u64 {
    (-errno) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_linuxs() {
        assert_eq!(ENOENT, 2);
        assert_eq!(ENOSYS, 38);
        assert_eq!(fail(EINTR), (-4i64) as u64);
    }
}
