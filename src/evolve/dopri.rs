//! The Dormand–Prince 5(4) tableau (Hairer, Nørsett & Wanner, *Solving ODEs I*, Table 5.2),
//! its order-4 dense output (`CONTD5` of DOPRI5) and the step-size controller constants, shared
//! by the density-matrix ([`super::evolve_lindblad`]), trajectory and Davies integrators.

use super::{EvolveError, StepStats};
use crate::C64;

/// Stage coefficients `a_{sj}`; row 6 is the fifth-order solution `b` (FSAL).
pub(crate) const A: [&[f64]; 7] = [
    &[],
    &[1.0 / 5.0],
    &[3.0 / 40.0, 9.0 / 40.0],
    &[44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0],
    &[
        19372.0 / 6561.0,
        -25360.0 / 2187.0,
        64448.0 / 6561.0,
        -212.0 / 729.0,
    ],
    &[
        9017.0 / 3168.0,
        -355.0 / 33.0,
        46732.0 / 5247.0,
        49.0 / 176.0,
        -5103.0 / 18656.0,
    ],
    &[
        35.0 / 384.0,
        0.0,
        500.0 / 1113.0,
        125.0 / 192.0,
        -2187.0 / 6784.0,
        11.0 / 84.0,
    ],
];

/// `b − b̂` (fifth minus embedded fourth order): the local error estimate.
pub(crate) const E: [f64; 7] = [
    71.0 / 57600.0,
    0.0,
    -71.0 / 16695.0,
    71.0 / 1920.0,
    -17253.0 / 339200.0,
    22.0 / 525.0,
    -1.0 / 40.0,
];

/// Dense output of order 4: the `d_j` of `rcont5` (`d₂ = 0`).
pub(crate) const D: [f64; 7] = [
    -12715105075.0 / 11282082432.0,
    0.0,
    87487479700.0 / 32700410799.0,
    -10690763975.0 / 1880347072.0,
    701980252875.0 / 199316789632.0,
    -1453857185.0 / 822651844.0,
    69997945.0 / 29380423.0,
];

/// Step factor `SAFETY · err^{−1/5}`, clipped to `[FAC_MIN, FAC_MAX]`.
pub(crate) const SAFETY: f64 = 0.9;
/// Smallest step factor.
pub(crate) const FAC_MIN: f64 = 0.2;
/// Largest step factor.
pub(crate) const FAC_MAX: f64 = 10.0;

/// The step-size controller of the three integrators: factor `SAFETY · err^{−1/5}` clipped to
/// `[FAC_MIN, FAC_MAX]`, no growth right after a rejection, and no shrinking of the proposed
/// step when the accepted one was only cut short to land on a target time.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StepControl {
    last_rejected: bool,
    /// A step rejected below it is an error.
    h_min: f64,
    /// Budget of attempted (accepted + rejected) steps.
    max_steps: usize,
}

/// Hairer's first step (*Solving ODEs I*, II.4) from `y₀` and its slope `f₀ = f(y₀)`:
/// `0.01 · d₀/d₁` with the scaled RMS norms `d₀ = ‖y₀‖`, `d₁ = ‖f₀‖` (weights
/// `atol + rtol·|y₀|`), or `1e-6` when either is below `1e-5`.
pub(crate) fn initial_step(y0: &[C64], f0: &[C64], atol: f64, rtol: f64) -> f64 {
    let (d0, d1) = (
        scaled_rms(y0, y0, atol, rtol),
        scaled_rms(f0, y0, atol, rtol),
    );
    if d0 < 1e-5 || d1 < 1e-5 {
        1e-6
    } else {
        0.01 * d0 / d1
    }
}

/// `√(Σ_b |v_b|²/(atol + rtol·|y_b|)² / len)`: the RMS of `v` in units of the error weights of
/// `y`.
fn scaled_rms(v: &[C64], y: &[C64], atol: f64, rtol: f64) -> f64 {
    let s: f64 = v
        .iter()
        .zip(y)
        .map(|(a, b)| (a.norm() / (atol + rtol * b.norm())).powi(2))
        .sum();
    (s / v.len() as f64).sqrt()
}

/// The six stages of one Dormand–Prince step: for `s = 1..=6`, `stage(dst, a_s, done, k_s)`
/// builds the stage point in `dst` from `a_s` and the earlier slopes `done = k[..s]`, then
/// evaluates its slope into `k_s = k[s]`. The last stage point is the fifth-order solution
/// (FSAL) and lands in `ynew`; the others use `ystage`.
pub(crate) fn stages(
    k: &mut [Vec<C64>],
    ystage: &mut [C64],
    ynew: &mut [C64],
    mut stage: impl FnMut(&mut [C64], &[f64], &[Vec<C64>], &mut [C64]),
) {
    for (s, a_s) in A.iter().enumerate().skip(1) {
        let (done, rest) = k.split_at_mut(s);
        let dst: &mut [C64] = if s == 6 { &mut *ynew } else { &mut *ystage };
        stage(dst, a_s, done, &mut rest[0]);
    }
}

impl StepControl {
    /// A controller that refuses steps below `h_min` and more than `max_steps` attempts.
    pub(crate) fn new(h_min: f64, max_steps: usize) -> Self {
        Self {
            last_rejected: false,
            h_min,
            max_steps,
        }
    }

    /// The step to attempt from `t` towards the end time `t_end`: `hstep`, or the `t_end − t`
    /// that remains when `hstep` reaches it to within a relative `1e-12` (then `hit` is true
    /// and the step lands on `t_end` exactly).
    ///
    /// # Errors
    /// [`EvolveError::TooManySteps`] once `stats` counts `max_steps` attempted steps;
    /// `target` is the output time being integrated towards.
    pub(crate) fn attempt(
        &self,
        stats: &StepStats,
        hstep: f64,
        t: f64,
        target: f64,
        t_end: f64,
    ) -> Result<(f64, bool), EvolveError> {
        let steps = stats.steps + stats.rejected;
        if steps >= self.max_steps {
            return Err(EvolveError::TooManySteps { steps, t, target });
        }
        let remaining = t_end - t;
        let hit = hstep >= remaining * (1.0 - 1e-12);
        Ok((if hit { remaining } else { hstep }, hit))
    }

    /// The next step after accepting a step `hs` (proposed `hstep`) with scaled error `err`,
    /// counted in `stats`; `hit` says the step was cut to land on a target time.
    pub(crate) fn accept(
        &mut self,
        stats: &mut StepStats,
        hs: f64,
        hstep: f64,
        err: f64,
        hit: bool,
    ) -> f64 {
        stats.steps += 1;
        let mut fac = if err == 0.0 {
            FAC_MAX
        } else {
            (SAFETY * err.powf(-0.2)).clamp(FAC_MIN, FAC_MAX)
        };
        if self.last_rejected {
            fac = fac.min(1.0);
        }
        self.last_rejected = false;
        if hit && hs < hstep {
            hstep
        } else {
            hs * fac
        }
    }

    /// The retry step after rejecting a step `hs` at time `t` with scaled error `err`, counted
    /// in `stats`.
    ///
    /// # Errors
    /// [`EvolveError::StepTooSmall`] below `h_min` (or for a NaN error).
    pub(crate) fn reject(
        &mut self,
        stats: &mut StepStats,
        t: f64,
        hs: f64,
        err: f64,
    ) -> Result<f64, EvolveError> {
        stats.rejected += 1;
        self.last_rejected = true;
        let h = hs * (SAFETY * err.powf(-0.2)).clamp(FAC_MIN, 1.0);
        let h_min = self.h_min;
        if h.is_nan() || h < h_min {
            return Err(EvolveError::StepTooSmall { t, h, h_min, err });
        }
        Ok(h)
    }
}
