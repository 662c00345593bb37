//! Open file descriptions — what a descriptor names: a node, an offset
//! and the status flags, shared by `dup`ed descriptors and across `fork` —
//! and the I/O on them: `read`, `write`, `pread`/`pwrite`, `lseek`,
//! `getdents64`, `poll` readiness and `sendfile`.

use crate::caller::{Caller, ProcEntry};
use crate::dev::Device;
use crate::error::{fail, Error, Result};
use crate::fdtable::{FileId, Files};
use crate::inode::{Ino, Kind};
use crate::path::push_decimal;
use crate::vfs::{Node, Vfs};
use abide_linux::errno::{EBADF, EINVAL, EISDIR, ENOTDIR, ENXIO, ESPIPE};
use abide_linux::fs::dt::{DT_DIR, DT_LNK, DT_REG};
use abide_linux::fs::open::{O_ACCMODE, O_APPEND, O_NONBLOCK, O_PATH, O_RDONLY, O_WRONLY};
use abide_linux::fs::poll::{POLLIN, POLLNVAL, POLLOUT};
use abide_linux::fs::put_dirent64;
use abide_linux::fs::seek::{SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET};
use alloc::vec;
use alloc::vec::Vec;

/// The most bytes one `sendfile` step moves.
const SENDFILE_CHUNK: usize = 64 * 1024;

/// One `getdents64` record to write: inode, the position after it,
/// `d_type`, name.
type Listed = (u64, u64, u8, Vec<u8>);

/// One open file description.
#[derive(Debug)]
pub(crate) struct OpenFile {
    /// Descriptors naming it, in every process.
    pub refs: u32,
    pub node: Node,
    /// Access mode and status flags (`O_APPEND`, `O_NONBLOCK`, `O_PATH`, ...).
    pub flags: u32,
    pub offset: u64,
    /// A `/proc` file's contents as generated at `open`.
    pub snapshot: Option<Vec<u8>>,
    /// A pipe end: the peer's open counts when it was opened, so a FIFO
    /// waits for a peer that has not come yet instead of ending.
    pub reader_opens_seen: u64,
    pub writer_opens_seen: u64,
}

impl OpenFile {
    /// A description of `node` opened with `flags`.
    pub fn new(node: Node, flags: u32) -> OpenFile {
        OpenFile {
            refs: 0,
            node,
            flags,
            offset: 0,
            snapshot: None,
            reader_opens_seen: 0,
            writer_opens_seen: 0,
        }
    }

    pub fn readable(&self) -> bool {
        self.flags & O_PATH == 0 && self.flags & O_ACCMODE != O_WRONLY
    }

    pub fn writable(&self) -> bool {
        self.flags & O_PATH == 0 && self.flags & O_ACCMODE != O_RDONLY
    }

    fn nonblocking(&self) -> bool {
        self.flags & O_NONBLOCK != 0
    }
}

/// `WouldBlock` becomes `EAGAIN` on a non-blocking description.
fn blocking(result: Result<usize>, nonblocking: bool) -> Result<usize> {
    match result {
        Err(Error::WouldBlock) if nonblocking => Err(Error::Errno(abide_linux::errno::EAGAIN)),
        other => other,
    }
}

/// The inode number `stat` gives a `/proc` path (FNV-1a, above the RAM ones).
pub(crate) fn proc_ino(path: &[u8]) -> u64 {
    let hash = path.iter().fold(0xcbf2_9ce4_8422_2325u64, |hash, &byte| {
        (hash ^ byte as u64).wrapping_mul(0x0100_0000_01b3)
    });
    (1 << 32) | (hash & 0xffff_ffff)
}

impl Vfs {
    /// The open file description `id`.
    pub(crate) fn file(&self, id: FileId) -> Option<&OpenFile> {
        self.files.get(id).and_then(|file| file.as_ref())
    }

    pub(crate) fn file_mut(&mut self, id: FileId) -> Option<&mut OpenFile> {
        self.files.get_mut(id).and_then(|file| file.as_mut())
    }

    /// The open file description of `fd`.
    pub(crate) fn fd_file(&self, files: &Files, fd: i32) -> Result<&OpenFile> {
        self.file(files.get(fd)?).ok_or(Error::Errno(EBADF))
    }

    /// Stores `file` (counting a user of its node), giving its slot.
    pub(crate) fn add_file(&mut self, file: OpenFile) -> FileId {
        self.hold(&file.node);
        match self.free_files.pop() {
            Some(id) => {
                if let Some(slot) = self.files.get_mut(id) {
                    *slot = Some(file);
                }
                id
            }
            None => {
                self.files.push(Some(file));
                self.files.len() - 1
            }
        }
    }

    /// Drops one descriptor's reference to `id`; the last one closes it
    /// (a pipe end goes, an unlinked inode may be freed).
    pub(crate) fn release_file(&mut self, id: FileId) {
        let Some(file) = self.file_mut(id) else {
            return;
        };
        file.refs = file.refs.saturating_sub(1);
        if file.refs > 0 {
            return;
        }
        let Some(file) = self.files.get_mut(id).and_then(|slot| slot.take()) else {
            return;
        };
        self.free_files.push(id);
        if let Node::Ram(ino) = file.node {
            if let Ok(inode) = self.inode_mut(ino) {
                if let Kind::Fifo(pipe) = &mut inode.kind {
                    if file.readable() {
                        pipe.readers = pipe.readers.saturating_sub(1);
                    }
                    if file.writable() {
                        pipe.writers = pipe.writers.saturating_sub(1);
                    }
                }
            }
        }
        self.unhold(&file.node);
    }

    /// `read`: from the description's offset, advancing it.
    pub fn read(
        &mut self,
        files: &Files,
        caller: &Caller,
        fd: i32,
        buf: &mut [u8],
    ) -> Result<usize> {
        let id = files.get(fd)?;
        let count = self.read_at(caller, id, buf, None)?;
        let seekable = self.file(id).is_some_and(|file| self.seekable(&file.node));
        if let Some(file) = self.file_mut(id).filter(|_| seekable) {
            file.offset += count as u64;
        }
        Ok(count)
    }

    /// `pread64`: at `offset`, leaving the description's offset.
    pub fn pread(
        &mut self,
        files: &Files,
        caller: &Caller,
        fd: i32,
        buf: &mut [u8],
        offset: i64,
    ) -> Result<usize> {
        let id = files.get(fd)?;
        let offset = u64::try_from(offset).or(fail(EINVAL))?;
        self.read_at(caller, id, buf, Some(offset))
    }

    /// Reads description `id` at `at` (or its offset, which the caller
    /// advances for seekable files; pipes and devices have none).
    fn read_at(
        &mut self,
        caller: &Caller,
        id: FileId,
        buf: &mut [u8],
        at: Option<u64>,
    ) -> Result<usize> {
        let file = self.file(id).ok_or(Error::Errno(EBADF))?;
        if !file.readable() {
            return fail(EBADF);
        }
        let (node, nonblocking, writer_seen_at) = (
            file.node.clone(),
            file.nonblocking(),
            file.writer_opens_seen,
        );
        let offset = at.unwrap_or(file.offset);
        let ino = match node {
            Node::Proc(_) => {
                let Some(bytes) = file.snapshot.as_deref() else {
                    return fail(EISDIR);
                };
                return Ok(copy_from(bytes, offset, buf));
            }
            Node::Ram(ino) => ino,
        };
        let inode = self.inode_mut(ino)?;
        match &mut inode.kind {
            Kind::Dir(_) => fail(EISDIR),
            Kind::File(content) => Ok(copy_from(content.bytes(), offset, buf)),
            Kind::Symlink(_) => fail(EBADF),
            Kind::Fifo(pipe) => {
                if at.is_some() {
                    return fail(ESPIPE);
                }
                let writer_seen = pipe.writer_opens > writer_seen_at;
                blocking(pipe.read(buf, writer_seen), nonblocking)
            }
            Kind::Device(device) => device.read(buf, caller.random),
        }
    }

    /// Whether reads and writes of `node` move an offset (not pipes or devices).
    fn seekable(&self, node: &Node) -> bool {
        match node {
            Node::Proc(_) => true,
            Node::Ram(ino) => {
                matches!(self.inode(*ino), Ok(inode) if matches!(inode.kind, Kind::File(_) | Kind::Dir(_)))
            }
        }
    }

    /// `write`: at the description's offset (the end with `O_APPEND`).
    pub fn write(&mut self, files: &Files, caller: &Caller, fd: i32, buf: &[u8]) -> Result<usize> {
        let id = files.get(fd)?;
        self.write_at(caller, id, buf, None)
    }

    /// `pwrite64`: at `offset`, leaving the description's offset.
    pub fn pwrite(
        &mut self,
        files: &Files,
        caller: &Caller,
        fd: i32,
        buf: &[u8],
        offset: i64,
    ) -> Result<usize> {
        let id = files.get(fd)?;
        let offset = u64::try_from(offset).or(fail(EINVAL))?;
        self.write_at(caller, id, buf, Some(offset))
    }

    fn write_at(
        &mut self,
        caller: &Caller,
        id: FileId,
        buf: &[u8],
        at: Option<u64>,
    ) -> Result<usize> {
        let file = self.file(id).ok_or(Error::Errno(EBADF))?;
        if !file.writable() {
            return fail(EBADF);
        }
        let (node, flags, offset, reader_seen_at) = (
            file.node.clone(),
            file.flags,
            file.offset,
            file.reader_opens_seen,
        );
        let Node::Ram(ino) = node else {
            return fail(EBADF);
        };
        let inode = self.inode_mut(ino)?;
        let written = match &mut inode.kind {
            Kind::Dir(_) => return fail(EISDIR),
            Kind::Symlink(_) => return fail(EBADF),
            Kind::Fifo(pipe) => {
                if at.is_some() {
                    return fail(ESPIPE);
                }
                let reader_seen = pipe.reader_opens > reader_seen_at;
                return blocking(pipe.write(buf, reader_seen), flags & O_NONBLOCK != 0);
            }
            Kind::Device(device) => return device.write(buf),
            Kind::File(content) => {
                let bytes = content.to_mut();
                let start = match at {
                    _ if flags & O_APPEND != 0 && at.is_none() => bytes.len(),
                    Some(at) => usize::try_from(at).or(fail(EINVAL))?,
                    None => usize::try_from(offset).or(fail(EINVAL))?,
                };
                let end = start.checked_add(buf.len()).ok_or(Error::Errno(EINVAL))?;
                if bytes.len() < end {
                    bytes.resize(end, 0);
                }
                if let Some(target) = bytes.get_mut(start..end) {
                    target.copy_from_slice(buf);
                }
                (buf.len(), end)
            }
        };
        if !buf.is_empty() {
            inode.mtime = caller.now;
            inode.ctime = caller.now;
        }
        if at.is_none() {
            if let Some(file) = self.file_mut(id) {
                file.offset = written.1 as u64;
            }
        }
        Ok(written.0)
    }

    /// `lseek`: moves the offset; gives the new one.
    pub fn lseek(&mut self, files: &Files, fd: i32, offset: i64, whence: u32) -> Result<u64> {
        let id = files.get(fd)?;
        let file = self.file(id).ok_or(Error::Errno(EBADF))?;
        if file.flags & O_PATH != 0 {
            return fail(EBADF);
        }
        let (size, is_dir) = match &file.node {
            Node::Proc(_) => match &file.snapshot {
                Some(bytes) => (bytes.len() as u64, false),
                None => (0, true),
            },
            Node::Ram(ino) => match &self.inode(*ino)?.kind {
                Kind::File(content) => (content.bytes().len() as u64, false),
                Kind::Dir(_) => (0, true),
                Kind::Fifo(_) => return fail(ESPIPE),
                Kind::Device(device) if device.served_by_component() => return fail(ESPIPE),
                Kind::Device(_) => return Ok(0),
                Kind::Symlink(_) => return fail(EBADF),
            },
        };
        let base = match whence {
            SEEK_SET => 0,
            SEEK_CUR => file.offset as i64,
            SEEK_END if !is_dir => size as i64,
            SEEK_DATA | SEEK_HOLE if !is_dir => {
                if offset < 0 || offset as u64 >= size {
                    return fail(ENXIO);
                }
                let at = if whence == SEEK_DATA {
                    offset as u64
                } else {
                    size
                };
                if let Some(file) = self.file_mut(id) {
                    file.offset = at;
                }
                return Ok(at);
            }
            _ => return fail(EINVAL),
        };
        let new = base
            .checked_add(offset)
            .filter(|&new| new >= 0)
            .ok_or(Error::Errno(EINVAL))?;
        if let Some(file) = self.file_mut(id) {
            file.offset = new as u64;
        }
        Ok(new as u64)
    }

    /// `getdents64`: fills `out` with `linux_dirent64` records from the
    /// directory's offset on; gives the bytes written (0 at the end).
    pub fn getdents64(
        &mut self,
        files: &Files,
        caller: &Caller,
        fd: i32,
        out: &mut [u8],
    ) -> Result<usize> {
        let id = files.get(fd)?;
        let file = self.file(id).ok_or(Error::Errno(EBADF))?;
        if file.flags & O_PATH != 0 {
            return fail(EBADF);
        }
        let (node, position) = (file.node.clone(), file.offset);
        if !self.is_dir(caller, &node) {
            return fail(ENOTDIR);
        }
        let parent = self.parent_of(&node);
        let entries = self.listing(caller, &node, &parent, position)?;
        let mut written = 0;
        let mut next = position;
        for (ino, next_off, kind, name) in entries {
            let Some(rest) = out.get_mut(written..) else {
                break;
            };
            match put_dirent64(rest, ino, next_off as i64, kind, &name) {
                Some(len) => {
                    written += len;
                    next = next_off;
                }
                None if written == 0 => return fail(EINVAL),
                None => break,
            }
        }
        if let Some(file) = self.file_mut(id) {
            file.offset = next;
        }
        Ok(written)
    }

    /// The entries of directory `node` from `position` on: inode, the
    /// position after it, `d_type`, name.
    fn listing(
        &self,
        caller: &Caller,
        node: &Node,
        parent: &Node,
        position: u64,
    ) -> Result<Vec<Listed>> {
        let mut entries = Vec::new();
        let dots = [
            (self.node_ino(node), b".".to_vec()),
            (self.node_ino(parent), b"..".to_vec()),
        ];
        for (at, (ino, name)) in dots.into_iter().enumerate() {
            if position <= at as u64 {
                entries.push((ino, at as u64 + 1, DT_DIR, name));
            }
        }
        match node {
            Node::Ram(ino) => {
                for (seq, name, child) in self.dir(*ino)?.entries_from(position.saturating_sub(2)) {
                    let kind = self
                        .inode(child)
                        .map(|inode| inode.kind.dirent_type())
                        .unwrap_or(0);
                    entries.push((child, seq + 3, kind, name.to_vec()));
                }
            }
            Node::Proc(path) => {
                let mut names = caller.proc.list(path);
                if path.is_empty() {
                    names.insert(0, (b"self".to_vec(), ProcEntry::Symlink(Vec::new())));
                }
                for (index, (name, entry)) in names.into_iter().enumerate() {
                    let at = index as u64 + 2;
                    if at < position {
                        continue;
                    }
                    let kind = match entry {
                        ProcEntry::Dir => DT_DIR,
                        ProcEntry::File => DT_REG,
                        ProcEntry::Symlink(_) => DT_LNK,
                    };
                    let mut full = path.clone();
                    if !full.is_empty() {
                        full.push(b'/');
                    }
                    full.extend_from_slice(&name);
                    entries.push((proc_ino(&full), at + 1, kind, name));
                }
            }
        }
        Ok(entries)
    }

    /// The inode number `stat` gives `node`.
    pub(crate) fn node_ino(&self, node: &Node) -> u64 {
        match node {
            Node::Ram(ino) => *ino,
            Node::Proc(path) => proc_ino(path),
        }
    }

    /// `poll` readiness of `fd` (`POLLIN`, `POLLOUT`, `POLLHUP`, `POLLERR`,
    /// `POLLNVAL` for a closed descriptor); a terminal or console answers
    /// `Error::Device`.
    pub fn poll(&self, files: &Files, fd: i32) -> Result<u16> {
        let Ok(file) = self.fd_file(files, fd) else {
            return Ok(POLLNVAL);
        };
        let Node::Ram(ino) = file.node else {
            return Ok(POLLIN | POLLOUT);
        };
        let mut events = 0;
        match &self.inode(ino)?.kind {
            Kind::Fifo(pipe) => {
                if file.readable() {
                    events |= pipe.poll_reader(pipe.writer_opens > file.writer_opens_seen);
                }
                if file.writable() {
                    events |= pipe.poll_writer(pipe.reader_opens > file.reader_opens_seen);
                }
            }
            Kind::Device(device) if device.served_by_component() => {
                return Err(Error::Device(*device))
            }
            _ => events = POLLIN | POLLOUT,
        }
        Ok(events)
    }

    /// `sendfile`: copies up to `count` bytes from `in_fd` (at `offset`
    /// if given, else at and advancing its offset) to `out_fd`; gives the
    /// bytes copied and the new `offset`. When `out_fd` or `in_fd` is a
    /// device the component serves, answers `Error::Device` before
    /// consuming anything, so the component can copy with `read`/`write`.
    pub fn sendfile(
        &mut self,
        files: &Files,
        caller: &Caller,
        out_fd: i32,
        in_fd: i32,
        offset: Option<i64>,
        count: usize,
    ) -> Result<(usize, Option<i64>)> {
        let out = self.fd_file(files, out_fd)?;
        if !out.writable() {
            return fail(EBADF);
        }
        let (out_node, out_nonblocking) = (out.node.clone(), out.nonblocking());
        let input = self.fd_file(files, in_fd)?;
        if !input.readable() {
            return fail(EBADF);
        }
        let in_node = input.node.clone();
        let mut chunk = count.min(SENDFILE_CHUNK);
        for node in [&in_node, &out_node] {
            if let Some(device) = self.component_device(node) {
                return Err(Error::Device(device));
            }
        }
        if let Node::Ram(ino) = out_node {
            if let Kind::Fifo(pipe) = &self.inode(ino)?.kind {
                if pipe.readers > 0 && pipe.space() == 0 {
                    return blocking(Err(Error::WouldBlock), out_nonblocking).map(|_| (0, offset));
                }
                if pipe.readers > 0 {
                    chunk = chunk.min(pipe.space());
                }
            }
        }
        let mut data = vec![0; chunk];
        let got = match offset {
            Some(at) => self.pread(files, caller, in_fd, &mut data, at)?,
            None => self.read(files, caller, in_fd, &mut data)?,
        };
        let data = data.get(..got).unwrap_or_default();
        let put = match self.write(files, caller, out_fd, data) {
            Ok(put) => put,
            Err(error) => {
                self.unread(files, in_fd, offset, got);
                return Err(error);
            }
        };
        self.unread(files, in_fd, offset, got - put);
        Ok((put, offset.map(|at| at + put as i64)))
    }

    /// Gives back `count` bytes read from `fd` (its offset, if it has one).
    fn unread(&mut self, files: &Files, fd: i32, offset: Option<i64>, count: usize) {
        if offset.is_some() || count == 0 {
            return;
        }
        let Ok(id) = files.get(fd) else { return };
        let seekable = self.file(id).is_some_and(|file| self.seekable(&file.node));
        if let Some(file) = self.file_mut(id).filter(|_| seekable) {
            file.offset = file.offset.saturating_sub(count as u64);
        }
    }

    /// The device the component serves that `node` is, if it is one.
    fn component_device(&self, node: &Node) -> Option<Device> {
        let Node::Ram(ino) = node else { return None };
        match &self.inode(*ino).ok()?.kind {
            Kind::Device(device) if device.served_by_component() => Some(*device),
            _ => None,
        }
    }

    /// The device descriptor `fd` is open on, if any (for `ioctl`, and to
    /// route a terminal's reads and writes).
    pub fn device(&self, files: &Files, fd: i32) -> Result<Option<Device>> {
        let file = self.fd_file(files, fd)?;
        let Node::Ram(ino) = file.node else {
            return Ok(None);
        };
        Ok(match self.inode(ino)?.kind {
            Kind::Device(device) => Some(device),
            _ => None,
        })
    }

    /// What a blocked call on `fd` waits for: the inode, whose change (a
    /// read, write, open or close of the pipe) may let it go on.
    pub fn wait_key(&self, files: &Files, fd: i32) -> Result<Ino> {
        Ok(self.node_ino(&self.fd_file(files, fd)?.node))
    }

    /// The `/proc` entry's decimal inode, for tests.
    #[doc(hidden)]
    pub fn proc_ino_of(pid: u32) -> u64 {
        let mut path = Vec::new();
        push_decimal(&mut path, pid as u64);
        proc_ino(&path)
    }
}

/// Copies `bytes` from `offset` into `buf`; gives the count.
fn copy_from(bytes: &[u8], offset: u64, buf: &mut [u8]) -> usize {
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    let source = bytes.get(start..).unwrap_or_default();
    let count = source.len().min(buf.len());
    if let (Some(target), Some(source)) = (buf.get_mut(..count), source.get(..count)) {
        target.copy_from_slice(source);
    }
    count
}
