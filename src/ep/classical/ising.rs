//! Ising ground states of Z-only models by enumeration: the oracle quantum EP on a diagonal
//! model is checked against (Eq. 28 on these states).

use serde::Serialize;

use super::*;
use crate::hamiltonian::{Example, Model};

/// Energy gaps below this make an Ising ground state degenerate (an error).
pub const ISING_GAP_THRESHOLD: f64 = 1e-8;

/// Largest `N` [`ising_ground_state`] enumerates (`2^20` configurations).
pub const MAX_ISING_SPINS: usize = 20;

/// A ground configuration of the diagonal Hamiltonian, with its evidence.
#[derive(Clone, Debug, Serialize)]
pub struct IsingGround {
    /// `s_i = ±1` (`+1` ⟺ bit `i` = 0).
    pub spins: Vec<i8>,
    /// The basis index `b = Σ_i b_i 2^i`.
    pub bits: u64,
    /// `E(s) = ⟨b|H(β, θ, u, d)|b⟩`.
    pub energy: f64,
    /// Distance to the next configuration's energy (`≥` [`ISING_GAP_THRESHOLD`]).
    pub gap: f64,
}

/// `H(β, θ, u, d)` (Eq. 16) of a Z-only model as `(Z-mask, coefficient)` pairs.
fn diagonal_terms(
    model: &Model,
    theta: &[f64],
    example: &Example,
    beta: f64,
) -> Result<Vec<(u64, f64)>, ClassicalError> {
    if model.qubits > MAX_ISING_SPINS {
        return Err(ClassicalError::TooManySpins {
            qubits: model.qubits,
            limit: MAX_ISING_SPINS,
        });
    }
    if theta.len() != model.params.len() {
        return Err(ClassicalError::ThetaLength {
            got: theta.len(),
            expected: model.params.len(),
        });
    }
    if example.inputs.len() != model.inputs.len() {
        return Err(ClassicalError::InputsLength {
            got: example.inputs.len(),
            expected: model.inputs.len(),
        });
    }
    if !example.targets.is_empty() && example.targets.len() != model.outputs.len() {
        return Err(ClassicalError::TargetsLength {
            got: example.targets.len(),
            expected: model.outputs.len(),
        });
    }
    if !beta.is_finite() {
        return Err(ClassicalError::BadParam {
            name: "beta",
            value: beta,
            expected: "a finite number",
        });
    }
    if beta != 0.0 && example.targets.is_empty() {
        return Err(ClassicalError::NoTargets);
    }
    let mut terms = Vec::new();
    for &(p, c) in model.fixed.terms() {
        if p.x() != 0 {
            return Err(ClassicalError::NotDiagonal {
                term: p.label(),
                place: "fixed term".into(),
            });
        }
        terms.push((p.z(), c.re));
    }
    for (k, (p, &t)) in model.params.iter().zip(theta).enumerate() {
        for &(s, c) in &p.strings {
            if s.x() != 0 {
                return Err(ClassicalError::NotDiagonal {
                    term: s.label(),
                    place: format!("param {k}"),
                });
            }
            terms.push((s.z(), t * c));
        }
    }
    for (&q, &u) in model.inputs.iter().zip(&example.inputs) {
        terms.push((1u64 << q, u));
    }
    if beta != 0.0 {
        // β ½ (s − d)² = β [½(1 + d²) − d s] for s = ±1.
        for (&q, &d) in model.outputs.iter().zip(&example.targets) {
            terms.push((0, 0.5 * beta * (1.0 + d * d)));
            terms.push((1u64 << q, -beta * d));
        }
    }
    Ok(terms)
}

/// The ground configuration of a Z-only model's `H(β, θ, u, d)` (Eq. 16) by exhaustive
/// enumeration of the `2^N` basis states, `E(s) = ⟨b|H|b⟩ = H_fixed(s) + Σ θ_k P_k(s)
/// + Σ_in u_i s_i + β ½ Σ_out (s_i − d_i)²`, with `s_i = +1` ⟺ bit `i` = 0 (`Z|0⟩ = +|0⟩`).
/// Cost `O(2^N · terms)`, no allocation per state.
///
/// # Errors
/// [`ClassicalError::TooManySpins`] above [`MAX_ISING_SPINS`], [`ClassicalError::NotDiagonal`]
/// for a term with X or Y, the length errors of [`ClassicalNet::check`],
/// [`ClassicalError::NoTargets`] for `β ≠ 0` without targets, and
/// [`ClassicalError::Degenerate`] when the two lowest energies are closer than
/// [`ISING_GAP_THRESHOLD`] (never broken by accident).
pub fn ising_ground_state(
    model: &Model,
    theta: &[f64],
    example: &Example,
    beta: f64,
) -> Result<IsingGround, ClassicalError> {
    let terms = diagonal_terms(model, theta, example, beta)?;
    let n = model.qubits;
    let energy = |b: u64| -> f64 {
        terms
            .iter()
            .map(|&(m, c)| {
                if (b & m).count_ones().is_multiple_of(2) {
                    c
                } else {
                    -c
                }
            })
            .sum()
    };
    let (mut e0, mut b0) = (energy(0), 0u64);
    let (mut e1, mut b1) = (f64::INFINITY, 0u64);
    for b in 1..(1u64 << n) {
        let e = energy(b);
        if e < e0 {
            (e1, b1) = (e0, b0);
            (e0, b0) = (e, b);
        } else if e < e1 {
            (e1, b1) = (e, b);
        }
    }
    let gap = e1 - e0;
    if gap < ISING_GAP_THRESHOLD {
        return Err(ClassicalError::Degenerate {
            beta,
            gap,
            threshold: ISING_GAP_THRESHOLD,
            first: format!("{b0:0n$b}"),
            second: format!("{b1:0n$b}"),
        });
    }
    Ok(IsingGround {
        spins: (0..n)
            .map(|i| if (b0 >> i) & 1 == 0 { 1 } else { -1 })
            .collect(),
        bits: b0,
        energy: e0,
        gap,
    })
}
