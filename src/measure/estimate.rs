//! Estimates of Pauli expectation values from shots, with standard errors.
//!
//! After a group's basis rotation every member `P` is `Z` on its support, so a shot `b` gives
//! `P` the value `v = (−1)^{|b ∧ supp P|} = ±1`. From `S` shots with `n₋` odd parities the
//! estimate is `m = (S − 2n₋)/S`; the unbiased sample variance of the `±1` values is
//! `s² = S (1 − m²)/(S − 1)`, so the standard error of `m` is `√(s²/S) = √((1 − m²)/(S − 1))`.
//! The exact per-shot variance is `1 − ⟨P⟩²`.

use serde::Serialize;

use super::grouping::best_grouping;
use super::shots::{sample_state, Counts};
use super::MeasureError;
use crate::pauli::PauliString;
use crate::scalar::Scalar;
use crate::state::memory::{check_alloc, zeroed};
use crate::state::StateVector;
use crate::C64;

/// A shot-based estimate of one expectation value.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ShotEstimate {
    /// Sample mean of the `±1` outcomes, the estimate of `⟨P⟩`.
    pub mean: f64,
    /// Standard error of the mean, `√((1 − m²)/(S − 1))` (unbiased sample variance).
    pub std_err: f64,
    /// Number of shots `S` it comes from.
    pub shots: u64,
}

impl ShotEstimate {
    /// The estimate from `shots` outcomes of which `odd` were `−1`.
    ///
    /// # Errors
    /// [`MeasureError::TooFewShots`] if `shots < 2`.
    pub fn from_parities(shots: u64, odd: u64) -> Result<Self, MeasureError> {
        if shots < 2 {
            return Err(MeasureError::TooFewShots { shots });
        }
        let s = shots as f64;
        let mean = (s - 2.0 * odd as f64) / s;
        let std_err = ((1.0 - mean * mean).max(0.0) / (s - 1.0)).sqrt();
        Ok(Self {
            mean,
            std_err,
            shots,
        })
    }
}

/// Estimates `⟨P⟩` for each string from the counts of shots taken in a basis where every string
/// is Z on its support (i.e. after [`super::MeasurementGroup::rotate`] for a group containing
/// them): `v(b) = (−1)^{|b ∧ supp P|}`. One pass over the observed outcomes per string.
///
/// # Errors
/// [`MeasureError::TooFewShots`] if `counts.shots() < 2`.
pub fn estimate_group(
    counts: &Counts,
    strings: &[PauliString],
) -> Result<Vec<ShotEstimate>, MeasureError> {
    strings
        .iter()
        .map(|p| {
            let mask = p.support();
            let odd: u64 = counts
                .outcomes()
                .iter()
                .filter(|&&(b, _)| (b & mask).count_ones() % 2 == 1)
                .map(|&(_, c)| c)
                .sum();
            ShotEstimate::from_parities(counts.shots(), odd)
        })
        .collect()
}

/// Shot-based `⟨P⟩` for every string, `shots` shots per measurement group: groups the strings
/// (the better of the EP natural grouping and greedy colouring), then per group rotates a copy
/// of the state into the group's basis, samples and estimates. Strings in the same group share
/// shots (their estimates are correlated). One copy of the state (`16·2^N` bytes) plus one
/// cumulative distribution (`8·2^N`) at a time. Group `g` samples with seed
/// `seed + g·0x9E37_79B9_7F4A_7C15` (wrapping); the result is deterministic for `seed`.
/// The output is in the order of `strings`.
///
/// # Errors
/// [`MeasureError::StringTooWide`] if a string acts beyond the state's qubits;
/// [`MeasureError::TooFewShots`] if `shots < 2`; [`MeasureError::Memory`]; [`MeasureError::BadTotal`]
/// for a zero state.
/// # Examples
/// On `|+⟩|0⟩`, `⟨X0⟩ = 1` and `⟨Z1⟩ = 1` exactly (every shot agrees), `⟨Z0⟩ = 0` within its
/// standard error `1/√S`.
/// ```
/// use qep::measure::estimate_paulis;
/// use qep::pauli::PauliString;
/// use qep::state::StateVector;
/// use qep::C64;
/// let a = C64::new(std::f64::consts::FRAC_1_SQRT_2, 0.0);
/// let z = C64::new(0.0, 0.0);
/// let psi = StateVector::from_amplitudes(2, vec![a, a, z, z]);
/// let strings = [PauliString::parse("X0")?, PauliString::parse("Z1")?, PauliString::parse("Z0")?];
/// let e = estimate_paulis(&psi, &strings, 4_000, 1)?;
/// assert_eq!((e[0].mean, e[1].mean), (1.0, 1.0));
/// assert!((e[2].std_err - 1.0 / 4_000f64.sqrt()).abs() < 1e-3);
/// assert!(e[2].mean.abs() < 5.0 * e[2].std_err);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn estimate_paulis<T: Scalar>(
    state: &StateVector<T>,
    strings: &[PauliString],
    shots: u64,
    seed: u64,
) -> Result<Vec<ShotEstimate>, MeasureError> {
    let n = state.qubits();
    if let Some(p) = strings.iter().find(|p| p.min_qubits() > n) {
        return Err(MeasureError::StringTooWide {
            string: p.label(),
            qubits: n,
        });
    }
    if shots < 2 {
        return Err(MeasureError::TooFewShots { shots });
    }
    let mut out = vec![
        ShotEstimate {
            mean: f64::NAN,
            std_err: f64::NAN,
            shots: 0
        };
        strings.len()
    ];
    for_each_group(state, strings, shots, seed, |group, counts| {
        let est = estimate_group(counts, group.strings())?;
        for (&i, e) in group.members().iter().zip(est) {
            out[i] = e;
        }
        Ok(())
    })?;
    Ok(out)
}

/// Groups `strings` ([`best_grouping`]) and hands each group with its `shots` counts to
/// `visit`: the state is copied, rotated into the group's basis and sampled with seed
/// `seed + g·0x9E37_79B9_7F4A_7C15` (wrapping) for group `g`.
fn for_each_group<T: Scalar>(
    state: &StateVector<T>,
    strings: &[PauliString],
    shots: u64,
    seed: u64,
    mut visit: impl FnMut(&super::MeasurementGroup, &Counts) -> Result<(), MeasureError>,
) -> Result<(), MeasureError> {
    let grouping = best_grouping(strings);
    let mut copy: Vec<C64> = Vec::new();
    for (g, group) in grouping.groups().iter().enumerate() {
        if copy.is_empty() {
            check_alloc(state.len().saturating_mul(16), "state copy for measurement")?;
            copy = zeroed(state.len());
        }
        copy.iter_mut()
            .zip(state.as_slice())
            .for_each(|(c, a)| *c = a.to_c64());
        group.rotate(&mut copy);
        let seed_g = seed.wrapping_add((g as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let counts = sample_state(&copy, shots, seed_g)?;
        visit(group, &counts)?;
    }
    Ok(())
}

/// Shot-based `⟨O_k⟩` of weighted sums `O_k = Σ_j c_kj P_kj` (the operators of tied EP
/// parameters), `shots` shots per measurement group of all the strings together: the strings
/// are grouped as by [`estimate_paulis`] (so X-, Y- and Z-type strings of every operator share
/// one basis each) with the same seeds. In group `g` a shot `b` gives `O_k` the partial value
/// `w_kg(b) = Σ_{j ∈ g} c_kj (−1)^{|b ∧ supp P_kj|}`; the estimate is `Σ_g mean(w_kg)` and its
/// standard error `√(Σ_g s²(w_kg)/S)` (unbiased sample variances; groups are independent
/// shots, strings of one group share them, so their covariance is inside `s²(w_kg)`).
///
/// When every operator is one string with coefficient 1 this is [`estimate_paulis`], number
/// for number.
///
/// # Errors
/// As [`estimate_paulis`].
pub fn estimate_weighted<T: Scalar>(
    state: &StateVector<T>,
    ops: &[Vec<(PauliString, f64)>],
    shots: u64,
    seed: u64,
) -> Result<Vec<ShotEstimate>, MeasureError> {
    let strings: Vec<PauliString> = ops.iter().flatten().map(|&(p, _)| p).collect();
    if ops.iter().all(|o| matches!(o[..], [(_, c)] if c == 1.0)) {
        return estimate_paulis(state, &strings, shots, seed);
    }
    let n = state.qubits();
    if let Some(p) = strings.iter().find(|p| p.min_qubits() > n) {
        return Err(MeasureError::StringTooWide {
            string: p.label(),
            qubits: n,
        });
    }
    if shots < 2 {
        return Err(MeasureError::TooFewShots { shots });
    }
    // Flat string index → (operator, coefficient).
    let owner: Vec<(usize, f64)> = ops
        .iter()
        .enumerate()
        .flat_map(|(k, o)| o.iter().map(move |&(_, c)| (k, c)))
        .collect();
    let s = shots as f64;
    let (mut mean, mut var) = (vec![0.0; ops.len()], vec![0.0; ops.len()]);
    for_each_group(state, &strings, shots, seed, |group, counts| {
        for k in 0..ops.len() {
            let parts: Vec<(u64, f64)> = group
                .members()
                .iter()
                .zip(group.strings())
                .filter(|(&i, _)| owner[i].0 == k)
                .map(|(&i, p)| (p.support(), owner[i].1))
                .collect();
            if parts.is_empty() {
                continue;
            }
            let w = |b: u64| -> f64 {
                parts
                    .iter()
                    .map(|&(m, c)| if (b & m).count_ones() % 2 == 1 { -c } else { c })
                    .sum()
            };
            let outcomes = counts.outcomes();
            let m = outcomes.iter().map(|&(b, c)| c as f64 * w(b)).sum::<f64>() / s;
            let v = outcomes
                .iter()
                .map(|&(b, c)| c as f64 * (w(b) - m).powi(2))
                .sum::<f64>()
                / (s - 1.0);
            mean[k] += m;
            var[k] += v / s;
        }
        Ok(())
    })?;
    Ok(mean
        .into_iter()
        .zip(var)
        .map(|(mean, v)| ShotEstimate {
            mean,
            std_err: v.max(0.0).sqrt(),
            shots,
        })
        .collect())
}
