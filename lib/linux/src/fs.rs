//! Linux x86_64 file-system ABI: the `open`/`*at` flags, file types and
//! modes, `fcntl` commands, `poll` events, and the byte layouts of
//! `struct stat`, `struct statfs`, `struct timespec` and `linux_dirent64`,
//! so the Unix personality and `lib/vfs` write exactly what glibc reads.

/// `openat` access modes and flags (`asm-generic/fcntl.h`, x86_64 values).
pub mod open {
    pub const O_RDONLY: u32 = 0;
    pub const O_WRONLY: u32 = 1;
    pub const O_RDWR: u32 = 2;
    /// The bits of the access mode.
    pub const O_ACCMODE: u32 = 3;
    pub const O_CREAT: u32 = 0o100;
    pub const O_EXCL: u32 = 0o200;
    pub const O_NOCTTY: u32 = 0o400;
    pub const O_TRUNC: u32 = 0o1000;
    pub const O_APPEND: u32 = 0o2000;
    pub const O_NONBLOCK: u32 = 0o4000;
    pub const O_DSYNC: u32 = 0o10000;
    pub const O_ASYNC: u32 = 0o20000;
    pub const O_DIRECT: u32 = 0o40000;
    pub const O_LARGEFILE: u32 = 0o100000;
    pub const O_DIRECTORY: u32 = 0o200000;
    pub const O_NOFOLLOW: u32 = 0o400000;
    pub const O_NOATIME: u32 = 0o1000000;
    pub const O_CLOEXEC: u32 = 0o2000000;
    pub const O_SYNC: u32 = 0o4010000;
    pub const O_PATH: u32 = 0o10000000;
    pub const O_TMPFILE: u32 = 0o20200000;
}

/// The `dirfd` and `flags` arguments of the `*at` calls.
pub mod at {
    /// `dirfd` meaning "the current directory".
    pub const AT_FDCWD: i32 = -100;
    pub const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
    /// `unlinkat`: remove a directory.
    pub const AT_REMOVEDIR: u32 = 0x200;
    /// `faccessat2`: check with the effective ids (same bit as `AT_REMOVEDIR`).
    pub const AT_EACCESS: u32 = 0x200;
    pub const AT_SYMLINK_FOLLOW: u32 = 0x400;
    pub const AT_NO_AUTOMOUNT: u32 = 0x800;
    pub const AT_EMPTY_PATH: u32 = 0x1000;
    /// `renameat2` flags.
    pub const RENAME_NOREPLACE: u32 = 1;
    pub const RENAME_EXCHANGE: u32 = 2;
    pub const RENAME_WHITEOUT: u32 = 4;
    /// `utimensat`: a `tv_nsec` meaning "now" / "leave unchanged".
    pub const UTIME_NOW: i64 = (1 << 30) - 1;
    pub const UTIME_OMIT: i64 = (1 << 30) - 2;
    /// `faccessat` modes.
    pub const F_OK: u32 = 0;
    pub const X_OK: u32 = 1;
    pub const W_OK: u32 = 2;
    pub const R_OK: u32 = 4;
}

/// File types and permission bits of `st_mode`.
pub mod mode {
    pub const S_IFMT: u32 = 0o170000;
    pub const S_IFSOCK: u32 = 0o140000;
    pub const S_IFLNK: u32 = 0o120000;
    pub const S_IFREG: u32 = 0o100000;
    pub const S_IFBLK: u32 = 0o060000;
    pub const S_IFDIR: u32 = 0o040000;
    pub const S_IFCHR: u32 = 0o020000;
    pub const S_IFIFO: u32 = 0o010000;
    pub const S_ISUID: u32 = 0o4000;
    pub const S_ISGID: u32 = 0o2000;
    pub const S_ISVTX: u32 = 0o1000;
    /// Every bit `chmod` may set.
    pub const S_IALLUGO: u32 = 0o7777;
}

/// `linux_dirent64.d_type` values.
pub mod dt {
    pub const DT_UNKNOWN: u8 = 0;
    pub const DT_FIFO: u8 = 1;
    pub const DT_CHR: u8 = 2;
    pub const DT_DIR: u8 = 4;
    pub const DT_BLK: u8 = 6;
    pub const DT_REG: u8 = 8;
    pub const DT_LNK: u8 = 10;
    pub const DT_SOCK: u8 = 12;
}

/// `fcntl` commands and the descriptor flag.
pub mod fcntl {
    pub const F_DUPFD: u32 = 0;
    pub const F_GETFD: u32 = 1;
    pub const F_SETFD: u32 = 2;
    pub const F_GETFL: u32 = 3;
    pub const F_SETFL: u32 = 4;
    pub const F_GETLK: u32 = 5;
    pub const F_SETLK: u32 = 6;
    pub const F_SETLKW: u32 = 7;
    pub const F_DUPFD_CLOEXEC: u32 = 1030;
    /// The one descriptor flag: close on `execve`.
    pub const FD_CLOEXEC: u32 = 1;
}

/// `lseek` origins.
pub mod seek {
    pub const SEEK_SET: u32 = 0;
    pub const SEEK_CUR: u32 = 1;
    pub const SEEK_END: u32 = 2;
    pub const SEEK_DATA: u32 = 3;
    pub const SEEK_HOLE: u32 = 4;
}

/// `poll` events (`asm-generic/poll.h`).
pub mod poll {
    pub const POLLIN: u16 = 0x1;
    pub const POLLPRI: u16 = 0x2;
    pub const POLLOUT: u16 = 0x4;
    pub const POLLERR: u16 = 0x8;
    pub const POLLHUP: u16 = 0x10;
    pub const POLLNVAL: u16 = 0x20;
    pub const POLLRDNORM: u16 = 0x40;
    pub const POLLRDBAND: u16 = 0x80;
    pub const POLLWRNORM: u16 = 0x100;
    pub const POLLWRBAND: u16 = 0x200;
}

/// Limits programs assume (`linux/limits.h`).
pub mod limits {
    /// Longest path, counting its terminating NUL.
    pub const PATH_MAX: usize = 4096;
    /// Longest file name.
    pub const NAME_MAX: usize = 255;
    /// Pipe writes up to this size are atomic.
    pub const PIPE_BUF: usize = 4096;
    /// Symbolic links followed in one lookup before `ELOOP`.
    pub const MAXSYMLINKS: u32 = 40;
}

/// `statfs.f_type` magic numbers.
pub mod magic {
    pub const TMPFS_MAGIC: i64 = 0x0102_1994;
    pub const PROC_SUPER_MAGIC: i64 = 0x9fa0;
}

/// Packs a device number the way glibc's `makedev` does.
pub const fn makedev(major: u32, minor: u32) -> u64 {
    let (major, minor) = (major as u64, minor as u64);
    ((major & 0xffff_f000) << 32)
        | ((major & 0xfff) << 8)
        | ((minor & 0xffff_ff00) << 12)
        | (minor & 0xff)
}

/// `struct timespec`: seconds and nanoseconds.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: i64,
}

impl Timespec {
    /// The structure as Linux lays it out (16 bytes).
    pub fn to_bytes(&self) -> [u8; 16] {
        let mut out = [0; 16];
        put(&mut out, 0, &self.sec.to_le_bytes());
        put(&mut out, 8, &self.nsec.to_le_bytes());
        out
    }

    /// Reads a `struct timespec` from its 16 bytes.
    pub fn from_bytes(bytes: &[u8; 16]) -> Self {
        let mut sec = [0; 8];
        let mut nsec = [0; 8];
        sec.copy_from_slice(&bytes[..8]);
        nsec.copy_from_slice(&bytes[8..]);
        Timespec {
            sec: i64::from_le_bytes(sec),
            nsec: i64::from_le_bytes(nsec),
        }
    }
}

/// `struct stat` for x86_64 (144 bytes), as `newfstatat` and `fstat` write it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stat {
    pub dev: u64,
    pub ino: u64,
    pub nlink: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub pad0: u32,
    pub rdev: u64,
    pub size: i64,
    pub blksize: i64,
    pub blocks: i64,
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
    pub unused: [i64; 3],
}

impl Stat {
    /// The structure's bytes, little-endian, in Linux's layout.
    pub fn to_bytes(&self) -> [u8; 144] {
        let mut out = [0; 144];
        put(&mut out, 0, &self.dev.to_le_bytes());
        put(&mut out, 8, &self.ino.to_le_bytes());
        put(&mut out, 16, &self.nlink.to_le_bytes());
        put(&mut out, 24, &self.mode.to_le_bytes());
        put(&mut out, 28, &self.uid.to_le_bytes());
        put(&mut out, 32, &self.gid.to_le_bytes());
        put(&mut out, 40, &self.rdev.to_le_bytes());
        put(&mut out, 48, &self.size.to_le_bytes());
        put(&mut out, 56, &self.blksize.to_le_bytes());
        put(&mut out, 64, &self.blocks.to_le_bytes());
        put(&mut out, 72, &self.atime.to_bytes());
        put(&mut out, 88, &self.mtime.to_bytes());
        put(&mut out, 104, &self.ctime.to_bytes());
        out
    }
}

/// `struct statfs` for x86_64 (120 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Statfs {
    pub fs_type: i64,
    pub bsize: i64,
    pub blocks: u64,
    pub bfree: u64,
    pub bavail: u64,
    pub files: u64,
    pub ffree: u64,
    pub fsid: [i32; 2],
    pub namelen: i64,
    pub frsize: i64,
    pub flags: i64,
    pub spare: [i64; 4],
}

impl Statfs {
    /// The structure's bytes, little-endian, in Linux's layout.
    pub fn to_bytes(&self) -> [u8; 120] {
        let mut out = [0; 120];
        put(&mut out, 0, &self.fs_type.to_le_bytes());
        put(&mut out, 8, &self.bsize.to_le_bytes());
        put(&mut out, 16, &self.blocks.to_le_bytes());
        put(&mut out, 24, &self.bfree.to_le_bytes());
        put(&mut out, 32, &self.bavail.to_le_bytes());
        put(&mut out, 40, &self.files.to_le_bytes());
        put(&mut out, 48, &self.ffree.to_le_bytes());
        put(&mut out, 56, &self.fsid[0].to_le_bytes());
        put(&mut out, 60, &self.fsid[1].to_le_bytes());
        put(&mut out, 64, &self.namelen.to_le_bytes());
        put(&mut out, 72, &self.frsize.to_le_bytes());
        put(&mut out, 80, &self.flags.to_le_bytes());
        out
    }
}

/// Bytes of a `linux_dirent64` before its name: `d_ino`, `d_off`,
/// `d_reclen`, `d_type`.
pub const DIRENT64_HEADER: usize = 19;

/// The record length of a `linux_dirent64` naming `name_len` bytes: the
/// header, the name, its NUL, rounded up to 8.
pub const fn dirent64_len(name_len: usize) -> usize {
    (DIRENT64_HEADER + name_len + 1 + 7) & !7
}

/// Writes one `linux_dirent64` at the start of `out`; returns its length,
/// or `None` when it does not fit.
pub fn put_dirent64(
    out: &mut [u8],
    ino: u64,
    next_off: i64,
    kind: u8,
    name: &[u8],
) -> Option<usize> {
    let len = dirent64_len(name.len());
    let record = out.get_mut(..len)?;
    record.fill(0);
    put(record, 0, &ino.to_le_bytes());
    put(record, 8, &next_off.to_le_bytes());
    put(record, 16, &(len as u16).to_le_bytes());
    put(record, 18, &[kind]);
    put(record, DIRENT64_HEADER, name);
    Some(len)
}

/// Copies `bytes` into `out` at `at` (callers keep it in bounds).
fn put(out: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(slot) = out.get_mut(at..at + bytes.len()) {
        slot.copy_from_slice(bytes);
    }
}
