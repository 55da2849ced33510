//! Reports: provenance of every result, run folders, output folders, SVG charts, and the one
//! atomic file writer every result file goes through ([`write_atomic`]).

mod atomic;
mod axis;
mod glyphs;
mod info;
mod output;
pub mod progress;
mod provenance;
pub mod run_dir;
pub mod svg;

pub use atomic::{free_space, write_atomic, write_atomic_with};
pub use info::{MemoryEstimate, ModelInfo};
pub use output::{check_fresh, default_out_dir};
pub use progress::{no_progress, OnProgress, Progress};
pub use provenance::{sha256_hex, Provenance};

/// The median of a non-empty sample (mean of the two middle values for an even count): what
/// every timing of qep reports.
///
/// # Panics
/// If `xs` is empty.
#[track_caller]
pub fn median(xs: &[f64]) -> f64 {
    assert!(!xs.is_empty(), "median of an empty sample");
    let mut s = xs.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        0.5 * (s[n / 2 - 1] + s[n / 2])
    }
}
