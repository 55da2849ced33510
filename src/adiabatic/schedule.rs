//! Sweeps `H(t) = A(s) H_start + B(s) H_target` with `A = 1 − s`, `B = s` and `s = s(t/T)`:
//! linear, smooth (polynomial) or tabulated profiles (the locally adiabatic one is a table
//! built from gaps along the path, [`local_profile`]).

use serde::Serialize;

use super::AdiabaticError;
use crate::pauli::{PauliString, PauliSum};

/// Time steps for a sweep of time `time`. With a reference sweep `(time, steps)` (a model's
/// `preparation: adiabatic` settings) its step `dt = time/steps` is kept for every sweep time,
/// with at least the reference's count; without one, `max(100, ⌈5·time⌉)` (dt ≤ 0.2). The
/// integrators' error grows with dt (as dt⁴ per unit time for fourth-order Magnus), so one
/// count for every T would leave the longest sweeps the least resolved.
pub fn sweep_steps(time: f64, reference: Option<(f64, usize)>) -> usize {
    let scaled = |per_unit: f64| {
        let n = (per_unit * time).ceil();
        if n.is_finite() && n >= 1.0 {
            n.min(usize::MAX as f64) as usize
        } else {
            1
        }
    };
    match reference {
        Some((t0, n0)) if t0 > 0.0 && t0.is_finite() && n0 > 0 => n0.max(scaled(n0 as f64 / t0)),
        _ => 100usize.max(scaled(5.0)),
    }
}

/// The profile `s(u)`, `u = t/T ∈ [0, 1]`, `s(0) = 0`, `s(1) = 1`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// `s = u`.
    Linear,
    /// `s = u³(10 − 15u + 6u²)`: zero first and second derivatives at both ends, so the
    /// diabatic error falls faster with `T` than for the linear ramp (its `1/T` boundary terms
    /// vanish).
    Smooth,
    /// Piecewise-linear interpolation of `(u_i, s_i)`, both strictly increasing from 0 to 1.
    Table {
        /// `u = t/T` nodes.
        u: Vec<f64>,
        /// `s` at the nodes.
        s: Vec<f64>,
    },
}

impl Profile {
    /// `s(u)` for `u ∈ [0, 1]` (clamped outside).
    pub fn s(&self, u: f64) -> f64 {
        let u = u.clamp(0.0, 1.0);
        match self {
            Self::Linear => u,
            Self::Smooth => u * u * u * (10.0 - 15.0 * u + 6.0 * u * u),
            Self::Table { u: us, s } => {
                let j = us.partition_point(|&x| x <= u).clamp(1, us.len() - 1);
                let (u0, u1, s0, s1) = (us[j - 1], us[j], s[j - 1], s[j]);
                s0 + (s1 - s0) * (u - u0) / (u1 - u0)
            }
        }
    }

    /// A tabulated profile, validated.
    ///
    /// # Errors
    /// [`AdiabaticError::BadTable`] unless both lists have the same length ≥ 2, start at 0,
    /// end at 1 and increase strictly (`s` non-decreasing).
    pub fn table(u: Vec<f64>, s: Vec<f64>) -> Result<Self, AdiabaticError> {
        let bad = |why: &str| AdiabaticError::BadTable {
            why: why.to_string(),
        };
        if u.len() != s.len() || u.len() < 2 {
            return Err(bad("expected two lists of equal length ≥ 2"));
        }
        let ends = |v: &[f64]| v[0] == 0.0 && v[v.len() - 1] == 1.0;
        if !ends(&u) || !ends(&s) {
            return Err(bad("t/T and s must both run from 0 to 1"));
        }
        if u.windows(2).any(|w| w[1] <= w[0] || !w[1].is_finite()) {
            return Err(bad("t/T must increase strictly"));
        }
        if s.windows(2).any(|w| w[1] < w[0] || !w[1].is_finite()) {
            return Err(bad("s must not decrease"));
        }
        Ok(Self::Table { u, s })
    }
}

/// The locally adiabatic profile (Roland–Cerf): `ds/dt ∝ g(s)²`, from gaps `g` sampled at
/// increasing `s` (first 0, last 1), interpolated linearly in `s`; then
/// `u(s) = ∫₀ˢ g⁻² / ∫₀¹ g⁻²`, tabulated on 2000 points and inverted.
///
/// # Errors
/// [`AdiabaticError::BadTable`] if fewer than 2 samples are given, `s` does not run from 0
/// to 1, or a gap is not positive and finite.
pub fn local_profile(samples: &[(f64, f64)]) -> Result<Profile, AdiabaticError> {
    let bad = |why: String| AdiabaticError::BadTable { why };
    if samples.len() < 2 || samples[0].0 != 0.0 || samples[samples.len() - 1].0 != 1.0 {
        return Err(bad("gap samples must run from s = 0 to s = 1".into()));
    }
    if let Some(&(s, g)) = samples.iter().find(|(_, g)| !(g.is_finite() && *g > 0.0)) {
        return Err(bad(format!(
            "gap {g} at s = {s}: the local schedule needs positive gaps"
        )));
    }
    let gap = |s: f64| -> f64 {
        let j = samples
            .partition_point(|&(x, _)| x <= s)
            .clamp(1, samples.len() - 1);
        let ((s0, g0), (s1, g1)) = (samples[j - 1], samples[j]);
        g0 + (g1 - g0) * (s - s0) / (s1 - s0)
    };
    const M: usize = 2000;
    let mut u = vec![0.0; M + 1];
    let s: Vec<f64> = (0..=M).map(|i| i as f64 / M as f64).collect();
    for i in 1..=M {
        // Trapezoid on g⁻².
        let (a, b) = (gap(s[i - 1]), gap(s[i]));
        u[i] = u[i - 1] + 0.5 * (a.powi(-2) + b.powi(-2)) / M as f64;
    }
    let total = u[M];
    u.iter_mut().for_each(|x| *x /= total);
    u[M] = 1.0;
    Profile::table(u, s)
}

/// `−Σ_i X_i`, the default start Hamiltonian: its ground state is `|+…+⟩`.
pub fn transverse_field(n: usize) -> PauliSum {
    let mut h = PauliSum::new(n);
    for q in 0..n {
        h.add(PauliString::from_masks(1 << q, 0), -1.0);
    }
    h
}

/// A sweep of total time `T` from `H_start` to `H_target` along a [`Profile`].
#[derive(Clone, Debug)]
pub struct Sweep {
    /// `H(s = 0)`.
    pub start: PauliSum,
    /// `H(s = 1)`.
    pub target: PauliSum,
    /// Total time `T > 0`.
    pub time: f64,
    /// `s(t/T)`.
    pub profile: Profile,
}

impl Sweep {
    /// A validated sweep.
    ///
    /// # Errors
    /// [`AdiabaticError::QubitMismatch`] if the Hamiltonians act on different qubits,
    /// [`AdiabaticError::BadTime`] unless `T` is positive and finite,
    /// [`AdiabaticError::NotHermitian`] if either has a complex coefficient.
    pub fn new(
        start: PauliSum,
        target: PauliSum,
        time: f64,
        profile: Profile,
    ) -> Result<Self, AdiabaticError> {
        if start.qubits() != target.qubits() {
            return Err(AdiabaticError::QubitMismatch {
                start: start.qubits(),
                target: target.qubits(),
            });
        }
        if !(time.is_finite() && time > 0.0) {
            return Err(AdiabaticError::BadTime { time });
        }
        for (which, h) in [("start", &start), ("target", &target)] {
            if let Some((p, imag)) = h.worst_imaginary() {
                if imag != 0.0 {
                    return Err(AdiabaticError::NotHermitian {
                        which,
                        term: p.label(),
                        imag,
                    });
                }
            }
        }
        Ok(Self {
            start,
            target,
            time,
            profile,
        })
    }

    /// `s(t)`.
    pub fn s(&self, t: f64) -> f64 {
        self.profile.s(t / self.time)
    }

    /// The weights `(A, B) = (1 − s, s)` of `H_start` and `H_target` at time `t`.
    pub fn weights(&self, t: f64) -> (f64, f64) {
        let s = self.s(t);
        (1.0 - s, s)
    }

    /// Qubits.
    pub fn qubits(&self) -> usize {
        self.target.qubits()
    }
}
