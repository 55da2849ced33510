//! Seeded shot sampling in `O(2^N + S)`: the cumulative distribution is built once (parallel
//! prefix sums over fixed chunks, added in index order), then `S` sorted uniforms are generated
//! directly in increasing order by exponential spacings and merged against it.
//!
//! Sorted uniforms: with `E_1, …, E_{S+1}` i.i.d. exponential, `U_(k) = (E_1 + … + E_k) /
//! (E_1 + … + E_{S+1})`, `k = 1..S`, has the law of the order statistics of `S` uniforms on
//! `[0, 1)`. The exponentials are drawn in fixed blocks of 2^16, block `j` from ChaCha8 seeded
//! with `seed` on stream `j`; a first parallel pass draws them and forms each block's prefix
//! sums (one `8·(S + 1)`-byte buffer), a serial pass adds the block sums in order, a second
//! parallel pass walks each block's uniforms along the cumulative distribution from a
//! binary-searched start. Every number depends on the seed and the block
//! layout only, so the counts are the same for any rayon thread count.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::MeasureError;
use crate::state::memory::{check_alloc, zeroed};
use crate::C64;

/// Basis indices per chunk of the parallel prefix sum.
const CDF_CHUNK: usize = 1 << 14;
/// Exponential draws per block (one ChaCha8 stream each).
const SHOT_BLOCK: u64 = 1 << 16;

/// Shot counts: the outcomes that occurred, as `(basis index, count)` in increasing index order.
#[derive(Clone, Debug, PartialEq, Eq, Default, serde::Serialize)]
pub struct Counts {
    shots: u64,
    outcomes: Vec<(u64, u64)>,
}

impl Counts {
    /// Total number of shots.
    pub fn shots(&self) -> u64 {
        self.shots
    }

    /// The observed `(basis index, count)` pairs, increasing index, counts ≥ 1.
    pub fn outcomes(&self) -> &[(u64, u64)] {
        &self.outcomes
    }

    /// Count of basis index `b` (0 if never observed); binary search.
    pub fn get(&self, b: u64) -> u64 {
        self.outcomes
            .binary_search_by_key(&b, |&(i, _)| i)
            .map_or(0, |k| self.outcomes[k].1)
    }

    /// The counts as an ordered map keyed by basis index.
    pub fn to_map(&self) -> BTreeMap<u64, u64> {
        self.outcomes.iter().copied().collect()
    }

    /// The counts keyed by bitstring of `n` qubits, qubit 0 rightmost (docs/DESIGN.md, Qiskit).
    pub fn to_bitstring_map(&self, n: usize) -> BTreeMap<String, u64> {
        self.outcomes
            .iter()
            .map(|&(b, c)| (Self::bitstring(b, n), c))
            .collect()
    }

    /// Basis index `b` as `n` characters, qubit 0 rightmost: `bitstring(1, 3) = "001"`.
    pub fn bitstring(b: u64, n: usize) -> String {
        (0..n)
            .rev()
            .map(|q| if (b >> q) & 1 == 1 { '1' } else { '0' })
            .collect()
    }

    /// The individual shots in increasing index order (allocates `shots` words: only when the
    /// caller really wants a list).
    ///
    /// # Errors
    /// [`MeasureError::Memory`] if the list does not fit.
    pub fn expand(&self) -> Result<Vec<u64>, MeasureError> {
        check_alloc((self.shots as usize).saturating_mul(8), "shot list")?;
        let mut v = Vec::with_capacity(self.shots as usize);
        for &(b, c) in &self.outcomes {
            v.extend(std::iter::repeat_n(b, c as usize));
        }
        Ok(v)
    }
}

/// Samples `shots` basis indices from `|ψ_b|² / ‖ψ‖²` (a computational-basis measurement of
/// every qubit; rotate first to measure a group, [`super::MeasurementGroup::rotate`]).
/// `O(2^N + S)` time and memory (`8·2^N + 8·(S + 1)` bytes), parallel, deterministic for a
/// seed whatever the thread count (module docs).
///
/// # Errors
/// [`MeasureError::Memory`] if the cumulative distribution or the uniforms do not fit;
/// [`MeasureError::BadTotal`] if `‖ψ‖²` is zero or not finite.
/// # Examples
/// The Bell state `(|00⟩ + |11⟩)/√2` gives `00` and `11`, each about half the time.
/// ```
/// use qep::measure::{sample_state, Counts};
/// use qep::C64;
/// let a = C64::new(std::f64::consts::FRAC_1_SQRT_2, 0.0);
/// let z = C64::new(0.0, 0.0);
/// let counts = sample_state(&[a, z, z, a], 10_000, 7)?;
/// assert_eq!(counts.shots(), 10_000);
/// assert_eq!(counts.get(0b01) + counts.get(0b10), 0);
/// // Binomial: σ = √(10⁴ · ¼) = 50; allow 5σ.
/// assert!((counts.get(0b11) as f64 - 5_000.0).abs() < 250.0);
/// assert_eq!(Counts::bitstring(0b01, 2), "01"); // qubit 0 rightmost
/// # Ok::<(), qep::measure::MeasureError>(())
/// ```
pub fn sample_state(psi: &[C64], shots: u64, seed: u64) -> Result<Counts, MeasureError> {
    let cdf = cumulative(psi.len(), |s, out| {
        out.iter_mut()
            .zip(&psi[s..])
            .for_each(|(o, a)| *o = a.norm_sqr());
        Ok(())
    })?;
    sample_cdf(&cdf, shots, seed)
}

/// Samples `shots` indices from a probability vector, e.g. the diagonal of a density matrix for
/// a thermal state. The vector is normalised by its sum; entries in `[−1e−12·Σ, 0)` (rounding)
/// count as 0. Same algorithm and determinism as [`sample_state`].
///
/// # Errors
/// [`MeasureError::BadProbability`] for a NaN, infinite or clearly negative entry;
/// [`MeasureError::BadTotal`] if the sum is not positive; [`MeasureError::Memory`].
pub fn sample_probabilities(p: &[f64], shots: u64, seed: u64) -> Result<Counts, MeasureError> {
    let total: f64 = p.iter().filter(|v| v.is_finite()).map(|v| v.abs()).sum();
    let cdf = cumulative(p.len(), |s, out| {
        for (k, (o, &v)) in out.iter_mut().zip(&p[s..]).enumerate() {
            if !v.is_finite() || v < -1e-12 * total {
                return Err(MeasureError::BadProbability {
                    index: s + k,
                    value: v,
                });
            }
            *o = v.max(0.0);
        }
        Ok(())
    })?;
    sample_cdf(&cdf, shots, seed)
}

/// The cumulative sums of the weights that `fill(start, out)` writes for indices
/// `start..start + out.len()`, in fixed chunks: chunk sums in parallel, offsets in order, then
/// in-chunk prefix sums in parallel. Checks the total is positive and finite.
fn cumulative<F>(len: usize, fill: F) -> Result<Vec<f64>, MeasureError>
where
    F: Fn(usize, &mut [f64]) -> Result<(), MeasureError> + Sync,
{
    check_alloc(len.saturating_mul(8), "cumulative distribution")?;
    let mut cdf: Vec<f64> = zeroed(len);
    let sums: Vec<Result<f64, MeasureError>> = cdf
        .par_chunks_mut(CDF_CHUNK)
        .enumerate()
        .map(|(c, out)| {
            fill(c * CDF_CHUNK, out)?;
            let mut acc = 0.0;
            for v in out.iter_mut() {
                acc += *v;
                *v = acc;
            }
            Ok(acc)
        })
        .collect();
    let mut offsets = Vec::with_capacity(sums.len());
    let mut total = 0.0;
    for s in sums {
        offsets.push(total);
        total += s?;
    }
    if !(total.is_finite() && total > 0.0) {
        return Err(MeasureError::BadTotal { total });
    }
    cdf.par_chunks_mut(CDF_CHUNK)
        .zip(offsets.par_iter())
        .for_each(|(out, &off)| out.iter_mut().for_each(|v| *v += off));
    Ok(cdf)
}

/// One exponential deviate `−ln(1 − u)`, `u ∈ [0, 1)` with 53 random bits (finite, > −0).
#[inline(always)]
fn exp1(rng: &mut ChaCha8Rng) -> f64 {
    let u = (rng.random::<u64>() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
    -(1.0 - u).ln()
}

fn block_rng(seed: u64, block: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(block);
    rng
}

/// Sorted-uniform sampling against a non-decreasing cumulative distribution with positive last
/// entry (module docs). Keeps the `S + 1` partial sums of exponentials in one buffer so each
/// deviate costs one logarithm.
fn sample_cdf(cdf: &[f64], shots: u64, seed: u64) -> Result<Counts, MeasureError> {
    if shots == 0 {
        return Ok(Counts::default());
    }
    let total = *cdf.last().expect("non-empty distribution");
    // Last index of positive probability: where rounding at the top end is sent.
    let last = cdf.partition_point(|&c| c < total).min(cdf.len() - 1);
    let draws = usize::try_from(shots + 1).unwrap_or(usize::MAX);
    check_alloc(draws.saturating_mul(8), "sorted uniforms for shot sampling")?;
    let mut partial: Vec<f64> = zeroed(draws);
    let block = SHOT_BLOCK as usize;
    // Pass 1: exponential deviates (independent calls, so the logarithms overlap), then the
    // in-block prefix sums; returns each block's sum.
    let sums: Vec<f64> = partial
        .par_chunks_mut(block)
        .enumerate()
        .map(|(j, out)| {
            let mut rng = block_rng(seed, j as u64);
            out.iter_mut().for_each(|v| *v = exp1(&mut rng));
            let mut acc = 0.0;
            for v in out.iter_mut() {
                acc += *v;
                *v = acc;
            }
            acc
        })
        .collect();
    let mut offsets = Vec::with_capacity(sums.len());
    let mut sum_all = 0.0;
    for s in &sums {
        offsets.push(sum_all);
        sum_all += s;
    }
    let scale = total / sum_all;
    let shots_us = draws - 1;
    // Pass 2: walk each block's sorted uniforms along the cumulative distribution.
    let parts: Vec<Vec<(u64, u64)>> = partial
        .par_chunks(block)
        .enumerate()
        .map(|(j, sums_j)| {
            // Only draws 1..=S are shots; the last one only normalises.
            let n = sums_j.len().min(shots_us - j * block);
            let off = offsets[j];
            let mut out: Vec<(u64, u64)> = Vec::new();
            let mut idx = usize::MAX;
            for &a in &sums_j[..n] {
                let u = (off + a) * scale;
                if idx == usize::MAX {
                    idx = cdf.partition_point(|&c| c <= u);
                } else {
                    while idx < cdf.len() && cdf[idx] <= u {
                        idx += 1;
                    }
                }
                let b = idx.min(last) as u64;
                match out.last_mut() {
                    Some((i, c)) if *i == b => *c += 1,
                    _ => out.push((b, 1)),
                }
            }
            out
        })
        .collect();
    drop(partial);
    let mut outcomes: Vec<(u64, u64)> = Vec::new();
    for part in parts {
        for (b, c) in part {
            match outcomes.last_mut() {
                Some((i, k)) if *i == b => *k += c,
                _ => outcomes.push((b, c)),
            }
        }
    }
    Ok(Counts { shots, outcomes })
}
