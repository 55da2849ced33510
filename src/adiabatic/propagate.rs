//! Time evolution along a sweep: `ψ(T) = 𝒯 exp(−i ∫₀ᵀ H(t) dt) ψ(0)`.
//!
//! * [`Method::Magnus`] (default): the fourth-order commutator-free Magnus step CF4 of
//!   Blanes & Moan (2006), `ψ ← exp(−ih(α₁H₁ + α₂H₂)) exp(−ih(α₂H₁ + α₁H₂)) ψ` with
//!   `H_j = H(t + c_j h)`, `c = ½ ∓ √3/6`, `α = (3 ∓ 2√3)/12`; each exponential by the Krylov
//!   propagator. Because `H(t)` is a combination of two fixed operators, every exponent is
//!   again such a combination, so one [`Pencil`] serves all of them.
//! * [`Method::Krylov`]: the exponential midpoint rule `ψ ← exp(−ih H(t + h/2)) ψ` (second
//!   order in `h` for the time dependence; exact, to the Krylov tolerance, when `H` is
//!   constant).
//! * [`Method::Trotter`]: the product formula of order 1 or 2 as a gate circuit
//!   ([`super::trotter_circuit`]), run by the state-vector executor.

use serde::Serialize;

use super::{trotter_circuit, AdiabaticError, Krylov, KrylovStats, Sweep};
use crate::circuit;
use crate::operator::Pencil;
use crate::scalar::C64;
use crate::state::norm;

/// How the time-dependent Schrödinger equation is integrated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Exponential midpoint rule with Krylov exponentials (order 2).
    Krylov,
    /// Commutator-free Magnus CF4 with Krylov exponentials (order 4).
    Magnus,
    /// Trotter–Suzuki circuit of the given order (1 or 2).
    Trotter {
        /// 1 or 2.
        order: u8,
    },
}

/// Counters and checks of one propagation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Propagation {
    /// Time steps of the method.
    pub steps: usize,
    /// Krylov counters (zero for Trotter).
    pub krylov: KrylovStats,
    /// Gates executed (Trotter only).
    pub gates: usize,
    /// `|‖ψ(T)‖ − ‖ψ(0)‖|`: unitarity to round-off.
    pub norm_error: f64,
}

/// The weights `(A, B)` of `H_start` and `H_target` in each exponential
/// `exp(−ih(A·H_start + B·H_target))` of a sweep in `steps` steps of `method`, in the order they
/// are applied, each of length `h = T/steps`: one per step at its midpoint (Krylov), two per
/// step (Magnus CF4, see the module doc), none for Trotter. One list for every propagator of a
/// sweep (one process or a state split over ranks), so they take the same exponentials.
pub fn exponent_weights(
    sweep: &Sweep,
    method: Method,
    steps: usize,
) -> impl Iterator<Item = (f64, f64)> + '_ {
    let h = sweep.time / steps.max(1) as f64;
    let r = 3f64.sqrt();
    let (c1, c2) = (0.5 - r / 6.0, 0.5 + r / 6.0);
    let (a1, a2) = ((3.0 - 2.0 * r) / 12.0, (3.0 + 2.0 * r) / 12.0);
    let n = match method {
        Method::Trotter { .. } => 0,
        Method::Krylov | Method::Magnus => steps,
    };
    (0..n).flat_map(move |j| {
        let pair = if method == Method::Magnus {
            let t = j as f64 * h;
            let (p1, q1) = sweep.weights(t + c1 * h);
            let (p2, q2) = sweep.weights(t + c2 * h);
            [
                Some((a2 * p1 + a1 * p2, a2 * q1 + a1 * q2)),
                Some((a1 * p1 + a2 * p2, a1 * q1 + a2 * q2)),
            ]
        } else {
            [Some(sweep.weights((j as f64 + 0.5) * h)), None]
        };
        pair.into_iter().flatten()
    })
}

/// Evolves `psi` along `sweep` in `steps` steps of `method`. For Krylov-based methods `pencil`
/// must be `Pencil::new(&sweep.start, &sweep.target)` (reused across calls to save its
/// diagonals) and `krylov` a workspace of the state's dimension.
///
/// # Errors
/// [`AdiabaticError::BadSteps`] for zero steps; the Krylov propagator's errors;
/// [`AdiabaticError::NotUnitary`] if the norm drifts by more than `1e-8`.
pub fn propagate(
    sweep: &Sweep,
    method: Method,
    steps: usize,
    pencil: &mut Pencil,
    krylov: &mut Krylov,
    psi: &mut [C64],
) -> Result<Propagation, AdiabaticError> {
    if steps == 0 {
        return Err(AdiabaticError::BadSteps);
    }
    // Run on a pool thread: every parallel vector operation of the step loop then forks from
    // inside the pool instead of waking it from outside (a futex round trip per operation,
    // which dominated 12-qubit sweeps).
    rayon::scope(|_| {
        let n0 = norm(psi);
        let h = sweep.time / steps as f64;
        let mut out = Propagation {
            steps,
            ..Default::default()
        };
        match method {
            Method::Krylov | Method::Magnus => {
                for (a, b) in exponent_weights(sweep, method, steps) {
                    pencil.set_weights(a, b);
                    krylov.step(pencil.operator(), psi, h, &mut out.krylov)?;
                }
            }
            Method::Trotter { order } => {
                let c = trotter_circuit(sweep, steps, order)?;
                out.gates = c.ops.len();
                // A circuit without measurements draws no random numbers; the seed is inert.
                let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
                circuit::run(&c, psi, &mut rng);
            }
        }
        out.norm_error = (norm(psi) - n0).abs();
        if out.norm_error > 1e-8 * n0.max(1.0) {
            return Err(AdiabaticError::NotUnitary {
                drift: out.norm_error,
            });
        }
        Ok(out)
    })
}
