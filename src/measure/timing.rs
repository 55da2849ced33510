//! Timing of the shot sampler (`qep bench --shots`), the figure compared with numpy.

use std::time::Instant;

use serde::Serialize;

use crate::scalar::C64;
use crate::state::StateVector;

use super::{sample_state, MeasureError};

/// Measured speed of sampling shots from a state vector.
#[derive(Clone, Debug, Serialize)]
pub struct SamplingTiming {
    /// Qubits of the random state sampled.
    pub qubits: usize,
    /// Shots per sampling.
    pub shots: u64,
    /// Median seconds per sampling of `shots` shots (including |ψ|² and the prefix sum).
    pub sample_seconds: f64,
    /// Every timed sampling, seconds.
    pub sample_times: Vec<f64>,
    /// Distinct outcomes in the last sampling (a check value).
    pub distinct_outcomes: usize,
}

/// Times [`sample_state`] on a seeded random complex state of `qubits` qubits: one untimed
/// warm-up, then `reps` timed samplings with seeds `seed + r`.
///
/// # Errors
/// [`MeasureError`] if the state or the sampler's buffers do not fit in memory.
pub fn time_sampling(
    qubits: usize,
    shots: u64,
    reps: usize,
    seed: u64,
) -> Result<SamplingTiming, MeasureError> {
    let psi = StateVector::<C64>::random(qubits, seed)?;
    let mut counts = sample_state(psi.as_slice(), shots, seed)?;
    let reps = reps.max(1);
    let mut times = Vec::with_capacity(reps);
    for r in 0..reps {
        let t0 = Instant::now();
        counts = sample_state(psi.as_slice(), shots, seed.wrapping_add(r as u64 + 1))?;
        times.push(t0.elapsed().as_secs_f64());
    }
    let median = crate::report::median(&times);
    Ok(SamplingTiming {
        qubits,
        shots,
        sample_seconds: median,
        sample_times: times,
        distinct_outcomes: counts.outcomes().len(),
    })
}
