//! Output folders of commands that write result files: where they go by default, and the
//! refusal to replace an earlier run's results unless asked.

use std::path::{Path, PathBuf};

use crate::hamiltonian::safe_label;

use super::run_dir::ReportError;

/// The default output folder `out/<label><suffix>` (e.g. `out/xor`, `out/xor-shots`). The
/// whole leaf is passed through [`safe_label`], so whatever a model's name holds, the folder is
/// one component directly under `out/`: never a parent, an absolute path or a hidden folder.
pub fn default_out_dir(label: &str, suffix: &str) -> PathBuf {
    PathBuf::from("out").join(safe_label(&format!("{label}{suffix}")))
}

/// Refuses to write into `dir` when it already holds one of `files` (the results of an earlier
/// run or study), unless `overwrite`. A missing folder, or one without those files, is fine.
///
/// # Errors
/// [`ReportError::Exists`] naming the folder and the first such file found.
pub fn check_fresh(
    dir: &Path,
    files: &[&str],
    overwrite: bool,
    remedy: &'static str,
) -> Result<(), ReportError> {
    if overwrite {
        return Ok(());
    }
    match files.iter().find(|f| dir.join(f).exists()) {
        Some(f) => Err(ReportError::Exists {
            dir: dir.to_path_buf(),
            file: (*f).to_string(),
            remedy,
        }),
        None => Ok(()),
    }
}
