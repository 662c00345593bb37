//! Object ids: the one number every layer of the kernel names a kernel
//! object by. It lives below all of them, so the scheduler and the process
//! records can name threads and processes without importing the object
//! table that holds them.

/// A kernel object's id (never reused; see `object::ObjectTable`).
pub type ObjectId = u64;
