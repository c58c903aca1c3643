//! Small helpers shared across layers.

pub mod civil_date;
pub mod duration;
pub mod open_files;
pub mod start_at;
pub mod url_secrets;
