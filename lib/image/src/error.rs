//! Why an image is refused: one named reason, with the object, table or
//! address at fault, for the kernel's refusal message and for tests.

use core::fmt;

use abide_objects::caps::CapsError;
use abide_objects::queue::QueueError;

use crate::ObjectId;

/// Why a checkpoint image is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageError {
    /// The blob does not decode as an image.
    Decode(postcard::Error),
    /// The image has another layout version.
    Format(u32),
    /// A counter (`now_ns`, the last ids, the log position, the period)
    /// is beyond what a system reaches.
    Counter(&'static str),
    /// An object id is 0, past the last id issued, or listed twice.
    ObjectId(ObjectId),
    /// A page-set id is 0, past the last id issued, or listed twice.
    PageSetId(u64),
    /// An object names another that is missing or of the wrong kind.
    Reference {
        /// The object naming it.
        object: ObjectId,
        /// What it names.
        names: ObjectId,
        /// The kind it must be.
        expected: &'static str,
    },
    /// An object's field breaks the rules its system calls keep.
    Field {
        /// The object.
        object: ObjectId,
        /// What is wrong.
        what: &'static str,
    },
    /// An object's handle count is not the number of handles naming it.
    HandleCount {
        /// The object.
        object: ObjectId,
        /// The count saved.
        saved: u64,
        /// The handles found.
        found: u64,
    },
    /// The handle tables or the derivation tree.
    Caps(CapsError),
    /// A channel endpoint's queue.
    Queue(ObjectId, QueueError),
    /// A process page: unaligned, outside user space, twice, inside a
    /// mapping, or with flags a user page cannot have (W+X, cache modes,
    /// kernel bits).
    Page {
        /// The process.
        process: ObjectId,
        /// The page.
        virt: u64,
    },
    /// A memory-object mapping outside its window (the shared window; user
    /// space for a foreign process) or overlapping another.
    Mapping {
        /// The process.
        process: ObjectId,
        /// Its base.
        base: u64,
    },
    /// A page set's length, or device pages a driver may not map.
    PageSet(u64),
    /// An observer or a deadline names something impossible.
    Wait(ObjectId),
    /// The run queue holds something other than threads, or one twice.
    RunQueue,
}

impl From<CapsError> for ImageError {
    fn from(error: CapsError) -> Self {
        ImageError::Caps(error)
    }
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            ImageError::Decode(error) => write!(f, "the object state does not decode ({error})"),
            ImageError::Format(found) => write!(
                f,
                "image format {found} (this kernel reads {})",
                crate::IMAGE_FORMAT
            ),
            ImageError::Counter(what) => write!(f, "{what} is out of range"),
            ImageError::ObjectId(id) => write!(f, "object id {id} is impossible or repeated"),
            ImageError::PageSetId(id) => write!(f, "page set {id} is impossible or repeated"),
            ImageError::Reference {
                object,
                names,
                expected,
            } => write!(
                f,
                "object {object} names {names}, which is not a {expected}"
            ),
            ImageError::Field { object, what } => write!(f, "object {object}: {what}"),
            ImageError::HandleCount {
                object,
                saved,
                found,
            } => write!(
                f,
                "object {object} counts {saved} handles but {found} name it"
            ),
            ImageError::Caps(error) => write!(f, "{error}"),
            ImageError::Queue(id, error) => write!(f, "the queue of channel {id}: {error}"),
            ImageError::Page { process, virt } => {
                write!(f, "page {virt:#x} of process {process} is not a user page")
            }
            ImageError::Mapping { process, base } => write!(
                f,
                "the mapping at {base:#x} of process {process} is out of place"
            ),
            ImageError::PageSet(id) => write!(f, "page set {id} is impossible"),
            ImageError::Wait(id) => write!(f, "a wait on object {id} is impossible"),
            ImageError::RunQueue => f.write_str("the run queue holds what is not a ready thread"),
        }
    }
}
