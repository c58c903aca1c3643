//! Small helpers shared across layers.

pub mod duration;
pub mod open_files;
