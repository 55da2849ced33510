//! Reports: provenance of every result (and, in later issues, CSV/SVG writers).

mod info;
mod provenance;

pub use info::{MemoryEstimate, ModelInfo};
pub use provenance::{sha256_hex, Provenance};
