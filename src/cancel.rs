//! Cooperative cancellation: a flag that long computations (training, studies, exports) check
//! at safe points, so that an interrupted run stops where its state is consistent and can be
//! saved. The library never installs a signal handler nor exits the process; the binary sets
//! the flag from its Ctrl-C handler.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A shared cancellation flag. Clones share the flag; [`Cancel::default`] is a fresh flag that
/// nothing sets, so code that takes a `&Cancel` runs to completion unless someone cancels it.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

/// The error a computation returns when it stopped because its [`Cancel`] flag was set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("interrupted")]
pub struct Cancelled;

impl Cancel {
    /// A fresh, unset flag.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the flag: every holder sees it at its next safe point. Safe to call from a signal
    /// handler's thread (one atomic store).
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether the flag is set.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// `Err(Cancelled)` once the flag is set: the check made at each safe point.
    ///
    /// # Errors
    /// [`Cancelled`] when the flag is set.
    pub fn check(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }
}
