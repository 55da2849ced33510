//! Provenance recorded in every result: qep version, input file hash, seed and settings.

use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

/// Where a result came from, embedded in every JSON output and result file.
#[derive(Clone, Debug, Serialize)]
pub struct Provenance {
    /// `qep` version (Cargo package version).
    pub qep_version: &'static str,
    /// The input file as given.
    pub input: Option<String>,
    /// SHA-256 of the input file's bytes, hex.
    pub input_sha256: Option<String>,
    /// The seed of every random draw of this result.
    pub seed: Option<u64>,
    /// The settings used (free-form, serialised from the command's parameters).
    pub settings: serde_json::Value,
    /// Threads in rayon's pool.
    pub threads: usize,
    /// MPI ranks the result was computed on (1 without MPI).
    pub ranks: usize,
    /// When the result was made (seconds since the Unix epoch).
    pub unix_time: u64,
}

impl Provenance {
    /// Provenance for a result computed from `input` (hash given) with `seed` and `settings`.
    pub fn new(
        input: Option<&Path>,
        input_sha256: Option<String>,
        seed: Option<u64>,
        settings: serde_json::Value,
    ) -> Self {
        Self {
            qep_version: env!("CARGO_PKG_VERSION"),
            input: input.map(|p| p.display().to_string()),
            input_sha256,
            seed,
            settings,
            threads: rayon::current_num_threads(),
            ranks: crate::dist::world().size(),
            unix_time: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        }
    }
}

/// SHA-256 of bytes, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}
