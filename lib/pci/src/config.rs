//! How configuration space is reached: the [`ConfigSpace`] trait the rest of
//! the crate works against, and its implementation over configuration
//! mechanism #1 (ports 0xCF8 and 0xCFC) for the real driver, and the
//! layout of the address register, which the kernel shares.

use crate::Address;

/// The I/O port that selects a configuration dword (mechanism #1).
pub const CONFIG_ADDRESS_PORT: u16 = 0xCF8;
/// The I/O port through which the selected dword is read or written.
pub const CONFIG_DATA_PORT: u16 = 0xCFC;

/// The enable bit of the configuration address register: the access is a
/// configuration cycle.
pub const ADDRESS_ENABLE: u32 = 1 << 31;
/// The bits of the configuration address register that name the bus,
/// device and function.
pub const ADDRESS_FUNCTION: u32 = 0x00FF_FF00;
/// The bits of the configuration address register that select a dword in
/// the function.
pub const ADDRESS_OFFSET: u32 = 0xFC;

/// The dword to write to [`CONFIG_ADDRESS_PORT`] to select `offset` of the
/// function at `addr`: the enable bit, the bus, device and function numbers,
/// and the offset aligned down to 4. Out-of-range device and function
/// numbers are masked to their 5 and 3 bits.
pub fn config_address(addr: Address, offset: u8) -> u32 {
    ADDRESS_ENABLE
        | u32::from(addr.bus) << 16
        | u32::from(addr.device & 0x1F) << 11
        | u32::from(addr.function & 0x07) << 8
        | (u32::from(offset) & ADDRESS_OFFSET)
}

/// A configuration write the system refused: on Abide, a write to a
/// function the kernel drives itself (the persistent store's disk). Nothing
/// was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteRefused;

/// Access to PCI configuration space, one aligned dword at a time.
///
/// `offset` is a byte offset into the function's 256-byte space; the
/// implementation may assume it is a multiple of 4 (the crate only passes
/// such offsets). Reading a function that does not exist returns all ones.
pub trait ConfigSpace {
    /// The dword at `offset` of the function at `addr`.
    fn read32(&mut self, addr: Address, offset: u8) -> u32;

    /// Writes the dword at `offset` of the function at `addr`, unless the
    /// system refuses writes to that function.
    fn write32(&mut self, addr: Address, offset: u8, value: u32) -> Result<(), WriteRefused>;

    /// The 16-bit half of the dword at `offset & !3` that holds `offset`.
    fn read16(&mut self, addr: Address, offset: u8) -> u16 {
        let shift = u32::from(offset & 2) * 8;
        (self.read32(addr, offset & 0xFC) >> shift) as u16
    }

    /// The byte of the dword at `offset & !3` that holds `offset`.
    fn read8(&mut self, addr: Address, offset: u8) -> u8 {
        let shift = u32::from(offset & 3) * 8;
        (self.read32(addr, offset & 0xFC) >> shift) as u8
    }
}

/// 32-bit port input and output, as the driver's I/O port capability
/// provides them.
pub trait PortIo {
    /// Reads the dword at `port`.
    fn inl(&mut self, port: u16) -> u32;
    /// Writes the dword `value` to `port`, unless the system refuses it.
    fn outl(&mut self, port: u16, value: u32) -> Result<(), WriteRefused>;
}

/// Configuration mechanism #1: select a dword through [`CONFIG_ADDRESS_PORT`],
/// then read or write it through [`CONFIG_DATA_PORT`].
///
/// The two port accesses must not be interleaved with another user of the
/// ports; the PCI driver is their only user.
#[derive(Debug)]
pub struct Mechanism1<P> {
    ports: P,
}

impl<P: PortIo> Mechanism1<P> {
    /// Configuration space through `ports`.
    pub fn new(ports: P) -> Self {
        Self { ports }
    }

    /// The port access, back.
    pub fn into_inner(self) -> P {
        self.ports
    }
}

impl<P: PortIo> ConfigSpace for Mechanism1<P> {
    fn read32(&mut self, addr: Address, offset: u8) -> u32 {
        // Selecting a register is never refused; if it were, the data read
        // below would read some other register, so read as absent instead.
        match self
            .ports
            .outl(CONFIG_ADDRESS_PORT, config_address(addr, offset))
        {
            Ok(()) => self.ports.inl(CONFIG_DATA_PORT),
            Err(WriteRefused) => u32::MAX,
        }
    }

    fn write32(&mut self, addr: Address, offset: u8, value: u32) -> Result<(), WriteRefused> {
        self.ports
            .outl(CONFIG_ADDRESS_PORT, config_address(addr, offset))?;
        self.ports.outl(CONFIG_DATA_PORT, value)
    }
}
