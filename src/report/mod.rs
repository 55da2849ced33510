//! Reports: provenance of every result (and, in later issues, CSV/SVG writers).

mod provenance;

pub use provenance::{sha256_hex, Provenance};
