//! Reports: provenance of every result (and, in later issues, CSV/SVG writers).

mod info;
mod provenance;
pub mod run_dir;
pub mod svg;

pub use info::{MemoryEstimate, ModelInfo};
pub use provenance::{sha256_hex, Provenance};
