//! Sources: where telemetry comes from. Each source turns its input into
//! [`crate::observations`] records.

pub mod capture;
mod flows;
mod inputs;
pub mod partition;
pub mod timing;

pub use inputs::{InputFile, expand_inputs};
