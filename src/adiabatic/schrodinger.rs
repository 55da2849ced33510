//! Schrödinger evolution of a state vector under a constant Hamiltonian, `ψ(t) = e^{−iHt}ψ(0)`,
//! sampled at output times by the Krylov propagator: the pure-state path of `qep evolve`, and
//! the operation benchmarked against scipy's `expm_multiply`.

use serde::Serialize;

use super::{AdiabaticError, Krylov, KrylovParams, KrylovStats};
use crate::operator::XMaskOperator;
use crate::pauli::PauliSum;
use crate::scalar::C64;
use crate::state::{expectation_sum, norm};

/// Observables along a Schrödinger evolution.
#[derive(Clone, Debug, Serialize)]
pub struct SchrodingerRun {
    /// The output times.
    pub times: Vec<f64>,
    /// `observables[j][i] = ⟨ψ(t_i)|A_j|ψ(t_i)⟩` (real part).
    pub observables: Vec<Vec<f64>>,
    /// `‖ψ(t_i)‖ − ‖ψ(0)‖`: unitarity to round-off.
    pub norm_error: Vec<f64>,
    /// Krylov counters over the whole evolution.
    pub krylov: KrylovStats,
    /// The state at the last output time.
    #[serde(skip)]
    pub final_state: Vec<C64>,
}

/// Evolves `psi0` under `h` and records `observables` at `times` (non-decreasing, ≥ 0).
///
/// # Errors
/// [`AdiabaticError::BadTime`] for a negative, non-finite or decreasing time;
/// [`AdiabaticError::NotHermitian`]; operator, memory and Krylov errors.
///
/// # Panics
/// If `psi0` does not have `2^n` amplitudes (a caller bug).
pub fn evolve_schrodinger(
    h: &PauliSum,
    psi0: &[C64],
    times: &[f64],
    observables: &[PauliSum],
    params: KrylovParams,
) -> Result<SchrodingerRun, AdiabaticError> {
    let n = h.qubits();
    assert_eq!(psi0.len(), 1usize << n, "state has the wrong length");
    if let Some((p, imag)) = h.worst_imaginary() {
        return Err(AdiabaticError::NotHermitian {
            which: "target",
            term: p.label(),
            imag,
        });
    }
    let mut prev = 0.0;
    for &t in times {
        if !(t.is_finite() && t >= prev) {
            return Err(AdiabaticError::BadTime { time: t });
        }
        prev = t;
    }
    let op = XMaskOperator::new(h)?;
    let mut krylov = Krylov::new(psi0.len(), params)?;
    let mut psi = psi0.to_vec();
    let n0 = norm(&psi);
    let mut stats = KrylovStats::default();
    let mut out = SchrodingerRun {
        times: times.to_vec(),
        observables: vec![Vec::with_capacity(times.len()); observables.len()],
        norm_error: Vec::with_capacity(times.len()),
        krylov: stats,
        final_state: Vec::new(),
    };
    let mut t_now = 0.0;
    rayon::scope(|_| -> Result<(), AdiabaticError> {
        for &t in times {
            if t > t_now {
                krylov.step(&op, &mut psi, t - t_now, &mut stats)?;
                t_now = t;
            }
            let nrm2 = n0 * n0;
            for (j, a) in observables.iter().enumerate() {
                out.observables[j].push(expectation_sum(&psi, a).re / nrm2);
            }
            out.norm_error.push(norm(&psi) - n0);
        }
        Ok(())
    })?;
    out.krylov = stats;
    out.final_state = psi;
    Ok(out)
}
