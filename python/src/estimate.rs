//! Shot-based expectation values to a requested precision, for `qep.qiskit.EstimatorV2`:
//! the observable's terms are split into qubit-wise commuting groups by qep's EP grouping
//! (`qep::measure::best_grouping`), each group is measured in its product basis from
//! samples of the rotated state, and shots are allocated across groups by their variances.
//!
//! With `S_g` shots on group `g` whose observable `O_g = Σ_{k∈g} c_k P_k` has per-shot
//! standard deviation `σ_g`, the estimate's variance is `Σ_g σ_g² / S_g`. For a fixed
//! total it is smallest at `S_g ∝ σ_g` (Neyman allocation); `S_g = ⌈σ_g Σ_h σ_h / p²⌉`
//! makes it at most `p²`. The `σ_g` come from the state (a simulator knows them); the
//! reported value and standard error come from the samples alone.

use num_complex::Complex64 as C64;
use numpy::PyUntypedArrayMethods;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use rayon::prelude::*;

use qep::measure::{best_grouping, sample_state};
use qep::pauli::PauliString;

use crate::errors::{QepError, Result};
use crate::operator::{complex_array, Operator};

/// Most shots one estimate may take (beyond, the precision asked is unreasonable).
const MAX_TOTAL_SHOTS: u64 = 1 << 32;

/// Amplitudes per rayon task of the variance pass.
const CHUNK: usize = 1 << 14;

/// The ±1-weighted group observable at basis state `b`: `Σ_k c_k (−1)^{|b ∧ supp P_k|}`.
fn group_value(terms: &[(u64, f64)], b: u64) -> f64 {
    terms
        .iter()
        .map(|&(mask, c)| {
            if (b & mask).count_ones().is_multiple_of(2) {
                c
            } else {
                -c
            }
        })
        .sum()
}

/// `(mean, variance)` of a group's value under `|ψ_b|² / ‖ψ‖²`.
fn exact_moments(psi: &[C64], terms: &[(u64, f64)]) -> (f64, f64) {
    let (norm, s1, s2) = psi
        .par_chunks(CHUNK)
        .enumerate()
        .map(|(k, chunk)| {
            let mut acc = (0.0, 0.0, 0.0);
            for (i, a) in chunk.iter().enumerate() {
                let p = a.norm_sqr();
                if p == 0.0 {
                    continue;
                }
                let f = group_value(terms, (k * CHUNK + i) as u64);
                acc.0 += p;
                acc.1 += p * f;
                acc.2 += p * f * f;
            }
            acc
        })
        .collect::<Vec<_>>()
        .into_iter()
        .fold((0.0, 0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2));
    let mean = s1 / norm;
    (mean, (s2 / norm - mean * mean).max(0.0))
}

/// The sampled estimate of a Hermitian operator.
struct Sampled {
    ev: f64,
    std: f64,
    shots: Vec<u64>,
    bases: Vec<String>,
}

fn sample_estimate(psi: &[C64], op: &Operator, precision: f64, seed: u64) -> Result<Sampled> {
    let sum = op.sum().simplified(0.0);
    let n = sum.qubits();
    let mut constant = 0.0;
    let mut strings: Vec<PauliString> = Vec::new();
    let mut coeffs: Vec<f64> = Vec::new();
    for &(p, c) in sum.terms() {
        if p.is_identity() {
            constant += c.re;
        } else {
            strings.push(p);
            coeffs.push(c.re);
        }
    }
    let grouping = best_grouping(&strings);
    let groups = grouping.groups();
    // Per group: its members as (support mask, coefficient), and its exact σ.
    let terms: Vec<Vec<(u64, f64)>> = groups
        .iter()
        .map(|g| {
            g.members()
                .iter()
                .map(|&k| (strings[k].support(), coeffs[k]))
                .collect()
        })
        .collect();
    qep::state::memory::check_alloc(psi.len().saturating_mul(16), "rotated state copy")?;
    let mut copy = psi.to_vec();
    let mut sigma = Vec::with_capacity(groups.len());
    for (g, t) in groups.iter().zip(&terms) {
        copy.copy_from_slice(psi);
        g.rotate(&mut copy);
        sigma.push(exact_moments(&copy, t).1.sqrt());
    }
    let total_sigma: f64 = sigma.iter().sum();
    let shots: Vec<u64> = sigma
        .iter()
        .map(|&s| {
            let want = (s * total_sigma / (precision * precision)).ceil();
            if want.is_finite() && want < MAX_TOTAL_SHOTS as f64 {
                (want as u64).max(2)
            } else {
                u64::MAX
            }
        })
        .collect();
    let total = shots.iter().fold(0u64, |a, &s| a.saturating_add(s));
    if total > MAX_TOTAL_SHOTS {
        return Err(QepError::new_err(format!(
            "precision {precision:e} needs {total} shots over {} groups; expected a \
             precision that takes at most {MAX_TOTAL_SHOTS} shots",
            groups.len()
        ))
        .into());
    }
    let mut ev = constant;
    let mut var = 0.0;
    for (g, ((group, t), &s)) in groups.iter().zip(&terms).zip(&shots).enumerate() {
        copy.copy_from_slice(psi);
        group.rotate(&mut copy);
        let seed_g = seed.wrapping_add((g as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let counts = sample_state(&copy, s, seed_g)?;
        let values: Vec<(f64, u64)> = counts
            .outcomes()
            .iter()
            .map(|&(b, c)| (group_value(t, b), c))
            .collect();
        let sf = s as f64;
        let mean = values.iter().map(|&(f, c)| f * c as f64).sum::<f64>() / sf;
        let ss = values
            .iter()
            .map(|&(f, c)| (f - mean) * (f - mean) * c as f64)
            .sum::<f64>();
        ev += mean;
        var += ss / (sf - 1.0) / sf;
    }
    let bases = groups
        .iter()
        .map(|g| {
            let b = g.basis();
            (0..n).rev().map(|q| b.letter(q).as_char()).collect()
        })
        .collect();
    Ok(Sampled {
        ev,
        std: var.sqrt(),
        shots,
        bases,
    })
}

/// `⟨ψ|O|ψ⟩/⟨ψ|ψ⟩` of a Hermitian operator estimated from samples with standard error at
/// most `precision`: a dict with `ev`, `std` (the standard error computed from the samples),
/// `shots` (per measurement group) and `bases` (each group's measurement basis as a Qiskit
/// label, qubit 0 rightmost).
#[pyfunction]
#[pyo3(signature = (psi, op, precision, seed=0))]
pub fn estimate_expectation<'py>(
    py: Python<'py>,
    psi: &Bound<'py, PyAny>,
    op: &Operator,
    precision: f64,
    seed: u64,
) -> PyResult<Bound<'py, PyDict>> {
    if !(precision > 0.0 && precision.is_finite()) {
        return Err(QepError::new_err(format!(
            "precision {precision} is not a positive number"
        )));
    }
    if !op.sum().is_hermitian(0.0) {
        return Err(QepError::new_err(
            "sampling estimates a Hermitian observable; the operator has complex coefficients",
        ));
    }
    let psi = complex_array(psi)?;
    let n = op.sum().qubits();
    if n >= usize::BITS as usize - 1 || psi.len() != 1usize << n {
        return Err(QepError::new_err(format!(
            "state has {} amplitudes; expected 2**{n} for the observable",
            psi.len()
        )));
    }
    let slice = psi.as_slice()?;
    let s = crate::compute(py, || sample_estimate(slice, op, precision, seed))?;
    let d = PyDict::new(py);
    d.set_item("ev", s.ev)?;
    d.set_item("std", s.std)?;
    d.set_item("shots", s.shots)?;
    d.set_item("bases", s.bases)?;
    Ok(d)
}
