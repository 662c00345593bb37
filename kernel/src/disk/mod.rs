//! The store disk: the virtio-blk device the kernel keeps its persistent
//! store on, driven by the kernel itself through virtio-drivers' PCI
//! transport.
//!
//! [`probe`] finds the first virtio-blk PCI function (vendor 0x1af4,
//! device 0x1001 transitional or 0x1042 modern; `cargo run` attaches one
//! with `disable-legacy=on`), brings it up and returns a [`StoreDisk`],
//! which implements [`abide_store::Disk`] in 4 KiB blocks.
//!
//! Requests are polled, one at a time: kernel code runs with interrupts
//! off on one CPU, so the device's interrupt is never used (it is
//! suppressed in the queue). A read or write of up to [`MAX_REQUEST_BYTES`]
//! is one virtio request through a DMA buffer of that size (larger ones are
//! split); the caller's buffer may be anywhere. A request the device does
//! not complete within [`REQUEST_TIMEOUT_NS`] fails with
//! [`DiskError::Timeout`] and retires the disk: its buffers may still be
//! the device's, so they are leaked rather than reused.
//!
//! The device's PCI function is the kernel's: once [`probe`] finds it,
//! user space may no longer write its configuration space ([`pci::guard`]).
//! Before each request the PCI command register is still checked: a request
//! notified while memory decoding is off would be lost, so it fails with
//! [`DiskError::Unavailable`] instead, and may be retried.

mod hal;
pub mod pci;

pub use hal::{overlaps_store_registers, store_register_windows};
pub use pci::{overlaps_ecam, user_write_allowed as user_port_write_allowed};

use alloc::boxed::Box;
use core::fmt;
use core::mem::ManuallyDrop;
use core::sync::atomic::{AtomicBool, Ordering};

use abide_store::BLOCK_SIZE;
use virtio_drivers::device::blk::{BlkReq, BlkResp, VirtIOBlk, SECTOR_SIZE};
use virtio_drivers::transport::pci::bus::{DeviceFunction, PciRoot};
use virtio_drivers::transport::pci::PciTransport;

use hal::{DmaRegion, KernelHal};
use pci::PortCam;

/// The largest read or write sent to the device as one request.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// How long one request may take before the disk is given up on.
pub const REQUEST_TIMEOUT_NS: u64 = 30_000_000_000;

const SECTORS_PER_BLOCK: u64 = (BLOCK_SIZE / SECTOR_SIZE) as u64;

/// Set while a [`StoreDisk`] exists: the device has one driver at a time.
static IN_USE: AtomicBool = AtomicBool::new(false);

/// Why a disk operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskError {
    /// The buffer is not a whole number of blocks.
    PartialBlock { len: usize },
    /// The blocks asked for lie (partly) beyond the end of the disk.
    OutOfRange {
        block: u64,
        count: u64,
        disk_blocks: u64,
    },
    /// The device is read-only.
    ReadOnly,
    /// The device does not decode its registers right now; nothing was
    /// sent, try again later.
    Unavailable,
    /// The device answered the request with an error, or virtio-drivers
    /// refused it.
    Device(virtio_drivers::Error),
    /// The device did not complete a request in time; the disk is retired.
    Timeout,
    /// An earlier timeout or protocol error retired the disk.
    Retired,
}

impl fmt::Display for DiskError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            DiskError::PartialBlock { len } => {
                write!(
                    f,
                    "{len} bytes is not a whole number of {BLOCK_SIZE}-byte blocks"
                )
            }
            DiskError::OutOfRange {
                block,
                count,
                disk_blocks,
            } => write!(
                f,
                "blocks {block}..+{count} lie beyond the disk's {disk_blocks} blocks"
            ),
            DiskError::ReadOnly => write!(f, "the disk is read-only"),
            DiskError::Unavailable => write!(f, "the device does not decode its registers now"),
            DiskError::Device(error) => write!(f, "device error: {error}"),
            DiskError::Timeout => write!(f, "the device did not complete a request in time"),
            DiskError::Retired => write!(f, "the disk was retired after an earlier failure"),
        }
    }
}

/// The request and status headers of the one request in flight.
#[derive(Default)]
struct Headers {
    request: BlkReq,
    response: BlkResp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Read,
    Write,
}

/// The store's virtio-blk disk, brought up by [`probe`].
pub struct StoreDisk {
    // Dropped by hand (see `Drop`): leaked if the device may still use them.
    blk: ManuallyDrop<VirtIOBlk<KernelHal, PciTransport>>,
    /// [`MAX_REQUEST_BYTES`] of DMA memory every transfer goes through.
    data: ManuallyDrop<DmaRegion>,
    /// In the heap, so in the direct map: physically contiguous.
    headers: ManuallyDrop<Box<Headers>>,
    root: PciRoot<PortCam>,
    function: DeviceFunction,
    blocks: u64,
    read_only: bool,
    /// A request failed in a way that leaves the device's state unknown.
    retired: bool,
}

impl fmt::Debug for StoreDisk {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.debug_struct("StoreDisk")
            .field("function", &self.function)
            .field("blocks", &self.blocks)
            .field("read_only", &self.read_only)
            .field("retired", &self.retired)
            .finish()
    }
}

/// Finds the store's virtio-blk device and brings it up. `None`, with a log
/// line saying why, when there is none (`cargo run -- --no-store`, most
/// system tests), when it cannot be driven, or while another [`StoreDisk`]
/// exists.
pub fn probe() -> Option<StoreDisk> {
    if IN_USE.swap(true, Ordering::Acquire) {
        log::warn!("disk: the store disk is already in use");
        return None;
    }
    let cam = PortCam;
    let Some(found) = pci::find_virtio_blk(&cam) else {
        IN_USE.store(false, Ordering::Release);
        pci::guard(None);
        log::info!("disk: no virtio-blk device: running without a store");
        return None;
    };
    pci::guard(Some(found.function));
    match bring_up(found) {
        Ok(disk) => {
            log::info!(
                "disk: store on virtio-blk {} ({:04x}:{:04x}): {} blocks of {BLOCK_SIZE} bytes ({} MiB){}",
                found.function,
                pci::VIRTIO_VENDOR,
                found.device_id,
                disk.blocks,
                disk.blocks >> (20 - BLOCK_SIZE.trailing_zeros()),
                if disk.read_only { ", read-only" } else { "" }
            );
            Some(disk)
        }
        Err(why) => {
            IN_USE.store(false, Ordering::Release);
            pci::guard(None);
            log::error!(
                "disk: cannot use virtio-blk {} ({:04x}:{:04x}): {why}; running without a store",
                found.function,
                pci::VIRTIO_VENDOR,
                found.device_id
            );
            None
        }
    }
}

fn bring_up(found: pci::Found) -> Result<StoreDisk, &'static str> {
    let function = found.function;
    let mut root = PciRoot::new(PortCam);
    pci::enable(&mut root, function);
    let regions =
        pci::virtio_regions(&root, function).ok_or("its PCI capability list does not end")?;
    hal::map_virtio_regions(&mut root, function, &regions)?;
    let transport = PciTransport::new::<KernelHal, _>(&mut root, function).map_err(|error| {
        log::debug!("disk: PCI transport: {error}");
        "it has no usable modern virtio interface (attach it with disable-legacy=on)"
    });
    if hal::take_unmapped_request() {
        // It holds a pointer to nothing; dropping it would reset the device
        // through that pointer.
        core::mem::forget(transport);
        return Err("cannot map its registers");
    }
    let mut blk = VirtIOBlk::<KernelHal, _>::new(transport?)
        .map_err(|_| "virtio-blk initialization failed")?;
    blk.disable_interrupts();
    let blocks = blk.capacity() / SECTORS_PER_BLOCK;
    if blocks == 0 {
        return Err("it holds less than one block");
    }
    let read_only = blk.readonly();
    let data = DmaRegion::new(MAX_REQUEST_BYTES / abide_mm::PAGE_SIZE as usize)
        .ok_or("no memory for its DMA buffer")?;
    Ok(StoreDisk {
        blk: ManuallyDrop::new(blk),
        data: ManuallyDrop::new(data),
        headers: ManuallyDrop::new(Box::default()),
        root,
        function,
        blocks,
        read_only,
        retired: false,
    })
}

impl StoreDisk {
    /// Where the device is on the PCI bus.
    pub fn function(&self) -> DeviceFunction {
        self.function
    }

    /// Checks a request of `len` bytes at `block` and returns its block
    /// count.
    fn check(&self, block: u64, len: usize) -> Result<u64, DiskError> {
        if self.retired {
            return Err(DiskError::Retired);
        }
        if !len.is_multiple_of(BLOCK_SIZE) {
            return Err(DiskError::PartialBlock { len });
        }
        let count = (len / BLOCK_SIZE) as u64;
        match block.checked_add(count) {
            Some(end) if end <= self.blocks => Ok(count),
            _ => Err(DiskError::OutOfRange {
                block,
                count,
                disk_blocks: self.blocks,
            }),
        }
    }

    /// The device is there to be talked to.
    fn reachable(&self) -> Result<(), DiskError> {
        if pci::decoding(&self.root, self.function) {
            Ok(())
        } else {
            Err(DiskError::Unavailable)
        }
    }

    /// One request moving `len` bytes (1..=[`MAX_REQUEST_BYTES`], whole
    /// blocks, already checked) between block `block` and the DMA buffer.
    fn transfer(&mut self, direction: Direction, block: u64, len: usize) -> Result<(), DiskError> {
        self.reachable()?;
        let sector =
            usize::try_from(block * SECTORS_PER_BLOCK).map_err(|_| DiskError::OutOfRange {
                block,
                count: (len / BLOCK_SIZE) as u64,
                disk_blocks: self.blocks,
            })?;
        // SAFETY: `data` is MAX_REQUEST_BYTES >= len bytes of DMA memory this
        // disk owns alone; nothing else refers to it while the slice lives,
        // and the device touches it only during this request, which ends
        // (or retires the disk, leaking the memory) before we return.
        let buffer = unsafe { core::slice::from_raw_parts_mut(self.data.virt(), len) };
        let headers = &mut **self.headers;
        // SAFETY: `request`, `buffer` and `response` stay valid and untouched
        // until `complete_*` below (or forever, if the disk is retired).
        let submitted = unsafe {
            match direction {
                Direction::Read => self.blk.read_blocks_nb(
                    sector,
                    &mut headers.request,
                    buffer,
                    &mut headers.response,
                ),
                Direction::Write => self.blk.write_blocks_nb(
                    sector,
                    &mut headers.request,
                    buffer,
                    &mut headers.response,
                ),
            }
        };
        let token = submitted.map_err(DiskError::Device)?;
        let deadline = crate::time::now_ns().saturating_add(REQUEST_TIMEOUT_NS);
        loop {
            match self.blk.peek_used() {
                Some(used) if used == token => break,
                Some(other) => {
                    self.retire(format_args!(
                        "the device completed request {other}, not {token}"
                    ));
                    return Err(DiskError::Device(virtio_drivers::Error::WrongToken));
                }
                None if crate::time::now_ns() > deadline => {
                    self.retire(format_args!(
                        "a {direction:?} of {len} bytes at block {block} took longer than {} s",
                        REQUEST_TIMEOUT_NS / 1_000_000_000
                    ));
                    return Err(DiskError::Timeout);
                }
                None => core::hint::spin_loop(),
            }
        }
        // SAFETY: the same buffers as submitted, and the device is done.
        let completed = unsafe {
            match direction {
                Direction::Read => self.blk.complete_read_blocks(
                    token,
                    &headers.request,
                    buffer,
                    &mut headers.response,
                ),
                Direction::Write => self.blk.complete_write_blocks(
                    token,
                    &headers.request,
                    buffer,
                    &mut headers.response,
                ),
            }
        };
        completed.map_err(DiskError::Device)
    }

    fn retire(&mut self, why: fmt::Arguments) {
        log::error!("disk: {why}; the store disk is retired");
        self.retired = true;
    }

    /// The DMA buffer's first `len` bytes (`len` <= [`MAX_REQUEST_BYTES`]).
    fn data(&mut self, len: usize) -> &mut [u8] {
        // SAFETY: as in `transfer`; no request is in flight now.
        unsafe { core::slice::from_raw_parts_mut(self.data.virt(), len.min(self.data.len())) }
    }
}

impl abide_store::Disk for StoreDisk {
    type Error = DiskError;

    fn block_count(&self) -> u64 {
        self.blocks
    }

    fn read(&mut self, block: u64, buf: &mut [u8]) -> Result<(), DiskError> {
        self.check(block, buf.len())?;
        let mut at = block;
        for chunk in buf.chunks_mut(MAX_REQUEST_BYTES) {
            self.transfer(Direction::Read, at, chunk.len())?;
            chunk.copy_from_slice(self.data(chunk.len()));
            at += (chunk.len() / BLOCK_SIZE) as u64;
        }
        Ok(())
    }

    fn write(&mut self, block: u64, buf: &[u8]) -> Result<(), DiskError> {
        self.check(block, buf.len())?;
        if self.read_only {
            return Err(DiskError::ReadOnly);
        }
        let mut at = block;
        for chunk in buf.chunks(MAX_REQUEST_BYTES) {
            self.data(chunk.len()).copy_from_slice(chunk);
            self.transfer(Direction::Write, at, chunk.len())?;
            at += (chunk.len() / BLOCK_SIZE) as u64;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), DiskError> {
        if self.retired {
            return Err(DiskError::Retired);
        }
        self.reachable()?;
        // A FLUSH request when the device has a write cache (it offers
        // VIRTIO_BLK_F_FLUSH); without one, writes are durable on completion
        // and virtio-drivers sends nothing.
        self.blk.flush().map_err(DiskError::Device)
    }
}

impl Drop for StoreDisk {
    fn drop(&mut self) {
        if self.retired {
            // The device may still own the queue and buffers: leak them.
            log::warn!("disk: leaking the retired store disk's DMA memory");
        } else {
            // SAFETY: each is dropped once, here, and never used again; the
            // device is reset (by the transport's drop) before the buffers go.
            unsafe {
                ManuallyDrop::drop(&mut self.blk);
                ManuallyDrop::drop(&mut self.data);
                ManuallyDrop::drop(&mut self.headers);
            }
        }
        IN_USE.store(false, Ordering::Release);
    }
}
