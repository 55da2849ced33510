//! How much a model load may read: the size of the model file and of a CSV dataset (bytes,
//! rows, columns, line length), and how deeply the YAML may nest. Files are opened only if they
//! are regular files, so that a dataset naming `/dev/zero` or a FIFO fails at once instead of
//! being read until the machine runs out of memory (or waiting for a writer forever).

use std::fs::{File, FileType};
use std::io;
use std::path::Path;

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

/// Why a file was not opened.
pub(crate) enum OpenError {
    /// The path exists but is a directory, device, FIFO or socket (its kind, with article).
    NotRegular(&'static str),
    /// Opening or inspecting it failed.
    Io(io::Error),
}

/// Opens `path` for reading if it is a regular file (after following symbolic links), and
/// returns it with its length. The kind is checked before opening (opening a FIFO would block
/// until a writer appears) and again on the open handle (the path may have changed in between).
pub(crate) fn open_regular(path: &Path) -> Result<(File, u64), OpenError> {
    let meta = std::fs::metadata(path).map_err(OpenError::Io)?;
    if let Some(kind) = special_kind(&meta.file_type()) {
        return Err(OpenError::NotRegular(kind));
    }
    let mut options = File::options();
    options.read(true);
    #[cfg(unix)]
    {
        // Never block in `open`, whatever replaced the file since the check above.
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(OpenError::Io)?;
    let meta = file.metadata().map_err(OpenError::Io)?;
    if let Some(kind) = special_kind(&meta.file_type()) {
        return Err(OpenError::NotRegular(kind));
    }
    Ok((file, meta.len()))
}

/// The kind of a file that is not a regular file, with its article (`"a character device"`);
/// `None` for a regular file.
fn special_kind(t: &FileType) -> Option<&'static str> {
    if t.is_file() {
        return None;
    }
    if t.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_char_device() {
            return Some("a character device");
        }
        if t.is_block_device() {
            return Some("a block device");
        }
        if t.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if t.is_socket() {
            return Some("a socket");
        }
    }
    Some("a special file")
}
