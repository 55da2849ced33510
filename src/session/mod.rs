//! Sessions: one request in, one report out. The whole reports of the EP engines, shared by
//! the CLI and the Python binding: the one
//! gradient of `qep grad` ([`grad_report`]), the training run of `qep run` ([`run_report`])
//! and the free phase of a model without a dataset ([`free_report`]).
//!
//! Each returns a serialisable value that is the command's JSON object without its
//! `provenance` (which names the file and the caller's settings), plus the seed and settings
//! that provenance records; callers only build the request, call, and print.
//!
//! This layer sits above [`crate::ep`], [`crate::report`] and the crate-wide [`crate::Error`]
//! (which its [`ReportError::Lib`] carries), so that the EP engines below never depend on the
//! error type that gathers them.

mod grad;
mod run;

pub use grad::{
    grad_report, ClassicalReport, ClassicalThermalReport, EigenReport, GradOutput, GradReport,
    GradRequest, ThermalReport, TypicalReport, DEFAULT_SEED,
};
pub use run::{free_report, run_report, FreeReport, RunEvent, RunReport, RunRequest};

use std::path::PathBuf;

/// Why a report could not be made. The variants that depend on how the caller names its
/// options (flags, keyword arguments) carry the numbers, so that each caller can phrase them.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A library error from the computation itself (boxed: the crate's error is large).
    #[error(transparent)]
    Lib(Box<crate::Error>),
    /// Shots of a Gibbs state asked for above the dense limit.
    #[error(
        "{qubits} qubits: shots of the Gibbs state need its dense diagonal (≤ {max} qubits); \
         drop the shots"
    )]
    ShotsNeedDense {
        /// The model's qubits.
        qubits: usize,
        /// The largest dense Gibbs state.
        max: usize,
    },
    /// An engine whose gradient carries another engine's details (a library defect).
    #[error("the {engine} engine returned another engine's evidence")]
    Evidence {
        /// The engine asked.
        engine: &'static str,
    },
    /// A resume from a folder without a checkpoint.
    #[error("{}: no checkpoint.json to resume from", dir.display())]
    NoCheckpoint {
        /// The run folder.
        dir: PathBuf,
    },
    /// A resume whose model or settings differ from the checkpoint's, without force.
    #[error(
        "{}: made with other settings: {}; expected the model and settings of the \
         checkpointed run",
        checkpoint.display(),
        changes.join("; ")
    )]
    Changed {
        /// The checkpoint file.
        checkpoint: PathBuf,
        /// What differs, one entry per setting.
        changes: Vec<String>,
    },
    /// A resume from a checkpoint already beyond the epochs asked for.
    #[error(
        "{}: the checkpoint is at epoch {epoch}, beyond {epochs} epochs; expected {epoch} or more",
        checkpoint.display()
    )]
    BeyondEpochs {
        /// The checkpoint file.
        checkpoint: PathBuf,
        /// The checkpoint's epoch.
        epoch: usize,
        /// The epochs asked for.
        epochs: usize,
    },
    /// Settings that do not serialise to JSON for the provenance.
    #[error("{}: cannot record the settings: {message}", file.display())]
    Settings {
        /// The model file.
        file: PathBuf,
        /// The serialiser's message.
        message: String,
    },
    /// A resume without a run folder to resume from.
    #[error("a resume needs the run folder to resume from")]
    ResumeWithoutDir,
    /// A training run stopped by its cancellation flag; the last completed epoch is in
    /// `theta` (and saved in `dir` when there is one).
    #[error("interrupted at epoch {epoch}")]
    Interrupted {
        /// The last completed epoch.
        epoch: usize,
        /// The run folder holding its checkpoint, if any.
        dir: Option<PathBuf>,
        /// The parameters after that epoch.
        theta: Vec<f64>,
    },
}

impl From<crate::Error> for ReportError {
    fn from(e: crate::Error) -> Self {
        ReportError::Lib(Box::new(e))
    }
}

/// `e` as a [`ReportError::Lib`].
fn lib<E: Into<crate::Error>>(e: E) -> ReportError {
    ReportError::Lib(Box::new(e.into()))
}
