//! Key paths into a model document (`params[2].pauli`) and the context that turns a path into a
//! [`Pos`] (file, line, column) when an error is reported.

use std::fmt;
use std::path::{Path, PathBuf};

use super::error::Pos;
use super::limits::Limits;
use super::yaml;

/// One step of a [`KeyPath`]: a mapping key or a sequence index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Seg {
    /// A mapping key.
    Key(String),
    /// A sequence index (from 0).
    Index(usize),
}

/// A path from the document root, displayed as `params[2].pauli` (`.` for the root), the same
/// form as `serde_path_to_error`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct KeyPath(pub(crate) Vec<Seg>);

impl KeyPath {
    /// The document root.
    pub(crate) fn root() -> Self {
        Self(Vec::new())
    }

    /// This path followed by mapping key `k`.
    pub(crate) fn key(&self, k: &str) -> Self {
        let mut v = self.0.clone();
        v.push(Seg::Key(k.to_string()));
        Self(v)
    }

    /// This path followed by sequence index `i`.
    pub(crate) fn index(&self, i: usize) -> Self {
        let mut v = self.0.clone();
        v.push(Seg::Index(i));
        Self(v)
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str(".");
        }
        for (i, s) in self.0.iter().enumerate() {
            match s {
                Seg::Key(k) if i == 0 => f.write_str(k)?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(j) => write!(f, "[{j}]")?,
            }
        }
        Ok(())
    }
}

/// The file being read: its name (for messages), text (to find the line of a key path) and
/// the limits on what it may make qep read (its CSV dataset).
pub(crate) struct Ctx<'a> {
    /// The file as given.
    pub(crate) file: PathBuf,
    /// Its text.
    pub(crate) text: &'a str,
    /// Size limits of the load.
    pub(crate) limits: Limits,
}

impl<'a> Ctx<'a> {
    /// A context for `text` read from `file` within `limits`.
    pub(crate) fn new(file: &Path, text: &'a str, limits: Limits) -> Self {
        Self {
            file: file.to_path_buf(),
            text,
            limits,
        }
    }

    /// The position of the value at `path` (or of the nearest enclosing node that exists, for
    /// a missing key). Re-reads the document: call it only to report an error.
    pub(crate) fn at(&self, path: &KeyPath) -> Pos {
        let (line, col) = yaml::locate(self.text, path);
        Pos {
            file: self.file.clone(),
            line,
            col,
            key: path.to_string(),
        }
    }
}
