//! The Dormand–Prince 5(4) tableau (Hairer, Nørsett & Wanner, *Solving ODEs I*, Table 5.2),
//! its order-4 dense output (`CONTD5` of DOPRI5) and the step-size controller constants, shared
//! by the density-matrix ([`super::evolve_lindblad`]), trajectory and Davies integrators.

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
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct StepControl {
    last_rejected: bool,
}

impl StepControl {
    /// The next step after accepting a step `hs` (proposed `hstep`) with scaled error `err`;
    /// `hit` says the step was cut to land on a target time.
    pub(crate) fn accept(&mut self, hs: f64, hstep: f64, err: f64, hit: bool) -> f64 {
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

    /// The retry step after rejecting a step `hs` at time `t` with scaled error `err`.
    ///
    /// # Errors
    /// [`super::EvolveError::StepTooSmall`] below `h_min` (or for a NaN error).
    pub(crate) fn reject(
        &mut self,
        t: f64,
        hs: f64,
        err: f64,
        h_min: f64,
    ) -> Result<f64, super::EvolveError> {
        self.last_rejected = true;
        let h = hs * (SAFETY * err.powf(-0.2)).clamp(FAC_MIN, 1.0);
        if h.is_nan() || h < h_min {
            return Err(super::EvolveError::StepTooSmall { t, h, h_min, err });
        }
        Ok(h)
    }
}
