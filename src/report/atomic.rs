//! Atomic result files: every file qep writes goes through [`write_atomic`] (or
//! [`write_atomic_with`] for streamed output). The bytes go to a temporary file in the target's
//! own folder, which is renamed over the target in one step once it is complete, so a reader,
//! a killed or interrupted process or a full disk sees either the old file or the whole new
//! one, never a partial file; a failed write removes its temporary file.
//!
//! Under MPI only rank 0 writes: every rank computes the same result, and one writer keeps
//! the ranks from racing for the same file on a shared disk. Every rank calls the writer at
//! the same points (a barrier), so no file appears before all ranks have read their inputs.
//!
//! The files are not `fsync`ed: that costs about 6 ms per file on this kind of VM, 30 times
//! the epoch of the small models, and ext4, XFS and btrfs already order a replacing rename
//! after the data it renames.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::run_dir::ReportError;

/// Distinguishes the temporary files of one process.
static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A temporary file that is removed when dropped, unless renamed into place.
struct TempFile {
    path: PathBuf,
    file: Option<BufWriter<File>>,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        self.file = None;
        if !self.path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// The folder a file lives in (`.` for a bare file name).
fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Creates `.{name}.{pid}.{n}.tmp` next to `path`, with the ordinary permissions a new file
/// gets (so the renamed result is as readable as a file written in place).
fn create_temp(path: &Path) -> Result<TempFile, ReportError> {
    let io_err = |p: &Path| {
        let p = p.to_path_buf();
        move |source| ReportError::Io { path: p, source }
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| ReportError::Io {
            path: path.to_path_buf(),
            source: io::Error::new(io::ErrorKind::InvalidInput, "not a file name"),
        })?;
    let dir = parent_of(path);
    loop {
        let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => {
                return Ok(TempFile {
                    path: tmp,
                    file: Some(BufWriter::new(f)),
                })
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_err(path)(e)),
        }
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, renamed over
/// `path` when complete. Either the old content or all of `bytes` is there, at every
/// moment and after any interruption.
///
/// # Errors
/// [`ReportError::Io`] naming `path` (the folder must exist); the temporary file is removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// [`write_atomic`] for output produced as a stream: `write` fills a buffered writer on the
/// temporary file, which is renamed over `path` only if `write` and the flush succeed.
///
/// # Errors
/// [`ReportError::Io`] naming `path` with the first I/O error of `write`, the flush or the
/// rename; nothing is left behind but the old `path`, if it existed.
pub fn write_atomic_with<F>(path: &Path, write: F) -> Result<(), ReportError>
where
    F: FnOnce(&mut BufWriter<File>) -> io::Result<()>,
{
    // Every rank runs the same computation and reaches each write at the same point: waiting
    // for all of them keeps rank 0 from writing into a folder before another rank has checked
    // it (a run refuses a folder that holds an earlier run's files). The other ranks hold the
    // same result: rank 0's file is the run's.
    let world = crate::dist::world();
    world.barrier();
    if world.rank() != 0 {
        return Ok(());
    }
    let io_err = |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut tmp = create_temp(path)?;
    let mut w = tmp
        .file
        .take()
        .ok_or_else(|| io_err(io::Error::other("temporary file already consumed")))?;
    write(&mut w).map_err(io_err)?;
    drop(w.into_inner().map_err(|e| io_err(e.into_error()))?);
    fs::rename(&tmp.path, path).map_err(io_err)?;
    // Renamed: nothing to remove any more.
    tmp.path = PathBuf::new();
    Ok(())
}

/// Bytes free for an unprivileged user on the file system holding `dir` (`statvfs`), or `None`
/// where that cannot be asked.
pub fn free_space(dir: &Path) -> Option<u64> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
        let mut s = std::mem::MaybeUninit::<libc::statvfs>::uninit();
        // SAFETY: `c` is a NUL-terminated path and `s` points to writable memory for one
        // `statvfs`, which the call fills when it returns 0.
        let rc = unsafe { libc::statvfs(c.as_ptr(), s.as_mut_ptr()) };
        if rc != 0 {
            return None;
        }
        // SAFETY: filled by the successful call above.
        let s = unsafe { s.assume_init() };
        // The field types vary between platforms (u32 on some 32-bit ones).
        #[allow(clippy::unnecessary_cast)]
        Some((s.f_bavail as u64).saturating_mul(s.f_frsize as u64))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        None
    }
}
