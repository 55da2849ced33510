//! Progress reports of long library computations: the library calls a callback with a
//! [`Progress`] and never prints; the command line turns the reports into bars on stderr.

/// One progress report of a long computation.
#[derive(Clone, Debug, PartialEq)]
pub enum Progress {
    /// A phase of unknown length started (a dense eigensolve, a path scan); `what` names it.
    Phase {
        /// What is being computed, e.g. `Davies relaxation of 6 qubits`.
        what: String,
    },
    /// `done` of `total` units of a phase of known length.
    Steps {
        /// What is being computed, e.g. `cooling`.
        what: String,
        /// Units done so far.
        done: u64,
        /// Units in all.
        total: u64,
        /// What one unit is, e.g. `rounds`.
        unit: &'static str,
    },
}

/// A callback that receives [`Progress`] reports; it may be called from worker threads.
pub type OnProgress<'a> = &'a (dyn Fn(Progress) + Sync);

/// A callback that ignores every report (for callers without a display).
pub fn no_progress(_: Progress) {}
