//! Helpers shared by the table's tests: a device that keeps what it is
//! given, and a write served as the driver serves it.
#![allow(dead_code)]

use abide_inflight::{Region, Requests, Transmitter, TABLE_LEN};

pub const LEN: usize = TABLE_LEN + 64;

/// A device that keeps what it was given.
#[derive(Default)]
pub struct Device(pub Vec<u8>);

impl Transmitter for Device {
    type Error = ();

    fn wait_ready(&mut self) -> Result<(), ()> {
        Ok(())
    }

    fn put(&mut self, byte: u8) -> Result<(), ()> {
        self.0.push(byte);
        Ok(())
    }
}

pub fn open(bytes: &mut [u8]) -> Requests<&mut [u8]> {
    Requests::open(bytes).expect("the region is large enough")
}

/// Serves a write as the driver does: send, reply, forget.
pub fn write<R: Region>(
    requests: &mut Requests<R>,
    client: u32,
    txid: u64,
    text: &[u8],
) -> Vec<u8> {
    let mut device = Device::default();
    let slot = requests.write(client, txid, text, &mut device).unwrap();
    if let Some(slot) = slot {
        requests.forget(slot);
    }
    device.0
}
