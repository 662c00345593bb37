//! The QMP client of the host tool (`abide_tool::qmp`), for the tests that
//! press keys and read guest memory.

pub use abide_tool::qmp::Qmp;
