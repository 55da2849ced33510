//! Reading input files within bounds: only regular files (a path naming `/dev/zero`, a FIFO
//! or a directory fails at once instead of being read forever or blocking), never more than a
//! stated number of bytes. Model files, CSV datasets and OpenQASM programs are read this way.

use std::fs::{File, FileType};
use std::io::{self, Read};
use std::path::Path;

/// Why a file was not opened.
pub enum OpenError {
    /// The path exists but is a directory, device, FIFO or socket (its kind, with article).
    NotRegular(&'static str),
    /// Opening or inspecting it failed.
    Io(io::Error),
}

/// Opens `path` for reading if it is a regular file (after following symbolic links), and
/// returns it with its length. The kind is checked before opening (opening a FIFO would block
/// until a writer appears) and again on the open handle (the path may have changed in between).
pub fn open_regular(path: &Path) -> Result<(File, u64), OpenError> {
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

/// Why a text file was not read ([`read_text`]).
#[derive(Debug)]
pub enum ReadError {
    /// The path exists but is a directory, device, FIFO or socket (its kind, with article).
    NotRegular(&'static str),
    /// The file holds more than the allowed number of bytes.
    TooLarge {
        /// The limit, in bytes.
        max: u64,
    },
    /// Opening or reading it failed, or it is not UTF-8 text.
    Io(io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotRegular(kind) => write!(f, "the path is {kind}, not a regular file"),
            Self::TooLarge { max } => write!(
                f,
                "the file is larger than {}",
                crate::state::memory::human_bytes(u128::from(*max))
            ),
            Self::Io(e) => write!(f, "{e}"),
        }
    }
}

/// Reads the regular file `path` as UTF-8 text of at most `max` bytes. The length is checked
/// before reading and again while reading (the file may grow in between): never more than
/// `max + 1` bytes are taken.
///
/// # Errors
/// [`ReadError::NotRegular`], [`ReadError::TooLarge`], [`ReadError::Io`] (not UTF-8 included,
/// as `InvalidData`).
pub fn read_text(path: &Path, max: u64) -> Result<String, ReadError> {
    let (file, len) = open_regular(path).map_err(|e| match e {
        OpenError::NotRegular(kind) => ReadError::NotRegular(kind),
        OpenError::Io(e) => ReadError::Io(e),
    })?;
    if len > max {
        return Err(ReadError::TooLarge { max });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > max {
        return Err(ReadError::TooLarge { max });
    }
    String::from_utf8(bytes)
        .map_err(|e| ReadError::Io(io::Error::new(io::ErrorKind::InvalidData, e.utf8_error())))
}
