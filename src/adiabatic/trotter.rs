//! Trotter–Suzuki product formulas for a sweep, compiled to a gate [`Circuit`] so the same
//! preparation can be exported as OpenQASM 2.0 and run elsewhere.
//!
//! Each step of length `h` uses the coefficients of `H(t + h/2)`; a term `c P` becomes
//! `exp(−i h c P)`: `rx/ry/rz(2hc)` for one-qubit strings, `rxx/ryy/rzz(2hc)` for XX, YY, ZZ,
//! and otherwise a basis change (`h` for X, `sdg; h` for Y), a CX ladder onto the last qubit of
//! the support, `rz(2hc)` and the ladder undone. First order applies the terms in order;
//! second order (Strang) applies half steps forward then backward.

use super::{AdiabaticError, Sweep};
use crate::circuit::{Circuit, Gate};
use crate::pauli::{Letter, PauliString, PauliSum};

/// Appends `exp(−iθP)` (up to a global phase) for one Pauli string.
pub fn push_pauli_rotation(c: &mut Circuit, p: PauliString, theta: f64) {
    let support: Vec<usize> = (0..64).filter(|q| (p.support() >> q) & 1 == 1).collect();
    let angle = 2.0 * theta;
    match support.as_slice() {
        [] => {}
        [q] => {
            let g = match p.letter(*q) {
                Letter::X => Gate::Rx(angle),
                Letter::Y => Gate::Ry(angle),
                _ => Gate::Rz(angle),
            };
            c.gate1(g, *q);
        }
        [a, b] if p.letter(*a) == p.letter(*b) => {
            let g = match p.letter(*a) {
                Letter::X => Gate::Rxx(angle),
                Letter::Y => Gate::Ryy(angle),
                _ => Gate::Rzz(angle),
            };
            c.gate2(g, *a, *b);
        }
        qs => {
            let change = |c: &mut Circuit, undo: bool| {
                for &q in qs {
                    match (p.letter(q), undo) {
                        (Letter::X, _) => {
                            c.gate1(Gate::H, q);
                        }
                        (Letter::Y, false) => {
                            c.gate1(Gate::Sdg, q);
                            c.gate1(Gate::H, q);
                        }
                        (Letter::Y, true) => {
                            c.gate1(Gate::H, q);
                            c.gate1(Gate::S, q);
                        }
                        _ => {}
                    }
                }
            };
            change(c, false);
            for w in qs.windows(2) {
                c.gate2(Gate::Cx, w[0], w[1]);
            }
            c.gate1(Gate::Rz(angle), qs[qs.len() - 1]);
            for w in qs.windows(2).rev() {
                c.gate2(Gate::Cx, w[0], w[1]);
            }
            change(c, true);
        }
    }
}

/// The terms of `w_a A + w_b B` with real coefficients (identity dropped: a global phase).
fn combined_terms(a: &PauliSum, b: &PauliSum, wa: f64, wb: f64) -> Vec<(PauliString, f64)> {
    let mut sum = PauliSum::new(a.qubits());
    sum.add_sum(a, wa.into());
    sum.add_sum(b, wb.into());
    sum.simplified(0.0)
        .terms()
        .iter()
        .filter(|(p, _)| !p.is_identity())
        .map(|&(p, c)| (p, c.re))
        .collect()
}

/// The Trotter circuit of a sweep: `steps` steps of order 1 or 2, coefficients at each step's
/// midpoint. The state it acts on is the caller's (prepare it first).
///
/// # Errors
/// [`AdiabaticError::BadSteps`] for zero steps, [`AdiabaticError::BadOrder`] unless the order
/// is 1 or 2.
pub fn trotter_circuit(sweep: &Sweep, steps: usize, order: u8) -> Result<Circuit, AdiabaticError> {
    if steps == 0 {
        return Err(AdiabaticError::BadSteps);
    }
    if !(1..=2).contains(&order) {
        return Err(AdiabaticError::BadOrder { order });
    }
    let n = sweep.qubits();
    let h = sweep.time / steps as f64;
    let mut c = Circuit::new(n, 0);
    for j in 0..steps {
        let (wa, wb) = sweep.weights((j as f64 + 0.5) * h);
        let terms = combined_terms(&sweep.start, &sweep.target, wa, wb);
        if order == 1 {
            for &(p, coef) in &terms {
                push_pauli_rotation(&mut c, p, h * coef);
            }
        } else {
            let last = terms.len().saturating_sub(1);
            for (i, &(p, coef)) in terms.iter().enumerate() {
                let f = if i == last { 1.0 } else { 0.5 };
                push_pauli_rotation(&mut c, p, f * h * coef);
            }
            for &(p, coef) in terms[..last].iter().rev() {
                push_pauli_rotation(&mut c, p, 0.5 * h * coef);
            }
        }
    }
    Ok(c)
}
