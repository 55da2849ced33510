//! How much a model load may read: the size of the model file and of a CSV dataset (bytes,
//! rows, columns, line length), and how deeply the YAML may nest. Files are opened only if they
//! are regular files ([`crate::input`]), so that a dataset naming `/dev/zero` or a FIFO fails at
//! once instead of being read until the machine runs out of memory (or waiting for a writer
//! forever).

/// Deepest nesting of mappings and sequences a model file may have. The deepest valid model
/// nests 7 levels (`lindblad.jumps[0].op[0].coeff` as `[re, im]`), so 64 leaves room for every
/// valid file, and checking it before deserializing keeps a 50 000-level file from taking
/// seconds (the YAML deserializer stops at 128 levels itself, but only after reading them all).
pub const MAX_DEPTH: usize = 64;

/// Size limits of [`load_with`](super::load_with) and [`parse_str_with`](super::parse_str_with);
/// [`load`](super::load) and [`parse_str`](super::parse_str) use [`Limits::default`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest model file, in bytes (default 16 MiB; inline datasets larger than that belong
    /// in a CSV file).
    pub max_model_bytes: u64,
    /// Largest CSV dataset file, in bytes (default 1 GiB).
    pub max_dataset_bytes: u64,
    /// Most data rows of a CSV dataset (default 10⁷).
    pub max_rows: usize,
    /// Most columns of a CSV dataset (default 10 000).
    pub max_columns: usize,
    /// Longest line of a CSV dataset, in bytes (default 1 MiB).
    pub max_line_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_model_bytes: 16 << 20,
            max_dataset_bytes: 1 << 30,
            max_rows: 10_000_000,
            max_columns: 10_000,
            max_line_bytes: 1 << 20,
        }
    }
}

pub(crate) use crate::input::{open_regular, OpenError};
