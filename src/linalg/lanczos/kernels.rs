//! The vector kernels of one Lanczos step, fused so that each step streams its vectors as few
//! times as possible: after `w = A v`, one pass for `α = ⟨v, w⟩` and one that forms
//! `w − α v − β v_prev` and its norm together (the unfused `axpy`, `dot`, `axpy`, `norm`
//! sequence reads or writes a vector eleven times). Deterministic: partial sums over fixed
//! chunks are added in index order, whatever the thread count.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::scalar::{Scalar, C64};

/// Fixed chunks of a reduction.
const PARTS: usize = 64;
/// Below this length the kernels run on one thread.
const SERIAL_BELOW: usize = 1 << 15;
/// Amplitudes per independently seeded block of a random vector.
const RANDOM_BLOCK: usize = 1 << 14;

/// `w ← w − α v − β v_prev` (the three-term recurrence; no `v_prev` on the first step),
/// returning `‖w‖²` of the result, in one pass.
///
/// # Panics
/// If the lengths differ.
pub(super) fn recurrence<T: Scalar>(
    w: &mut [T],
    v: &[T],
    alpha: f64,
    prev: Option<(f64, &[T])>,
) -> f64 {
    assert_eq!(w.len(), v.len(), "length mismatch");
    if let Some((_, p)) = prev {
        assert_eq!(p.len(), v.len(), "length mismatch");
    }
    let a = T::from_f64(alpha);
    let len = w.len();
    let work = |start: usize, wc: &mut [T]| -> f64 {
        let vc = &v[start..start + wc.len()];
        let mut acc = [0.0f64; 4];
        match prev {
            Some((beta, p)) => {
                let b = T::from_f64(beta);
                let pc = &p[start..start + wc.len()];
                for (k, ((x, &y), &z)) in wc.iter_mut().zip(vc).zip(pc).enumerate() {
                    *x = *x - a * y - b * z;
                    acc[k & 3] += x.abs2();
                }
            }
            None => {
                for (k, (x, &y)) in wc.iter_mut().zip(vc).enumerate() {
                    *x -= a * y;
                    acc[k & 3] += x.abs2();
                }
            }
        }
        (acc[0] + acc[1]) + (acc[2] + acc[3])
    };
    if len < SERIAL_BELOW {
        return work(0, w);
    }
    let chunk = len.div_ceil(PARTS);
    let mut parts = [0.0f64; PARTS];
    w.par_chunks_mut(chunk)
        .zip(parts.par_iter_mut())
        .enumerate()
        .for_each(|(i, (wc, p))| *p = work(i * chunk, wc));
    parts.iter().sum()
}

/// Fills `v` with seeded standard Gaussian amplitudes (complex ones for complex `T`) and
/// normalises it. Each block of [`RANDOM_BLOCK`] amplitudes draws from its own generator
/// (seeded by `seed` and the block's index), so the blocks fill in parallel and the vector is
/// the same whatever the thread count.
pub(super) fn random_fill<T: Scalar>(v: &mut [T], seed: u64) {
    let fill = |(i, c): (usize, &mut [T])| {
        let s = seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut rng = ChaCha8Rng::seed_from_u64(s);
        for x in c.iter_mut() {
            let (re, im) = gaussian_pair(&mut rng);
            *x = if T::IS_COMPLEX {
                T::from_c64(C64::new(re, im)).unwrap_or_default()
            } else {
                T::from_f64(re)
            };
        }
    };
    if v.len() < SERIAL_BELOW {
        v.chunks_mut(RANDOM_BLOCK).enumerate().for_each(fill);
    } else {
        v.par_chunks_mut(RANDOM_BLOCK).enumerate().for_each(fill);
    }
    crate::state::normalize(v);
}

/// Two standard normal deviates (Box–Muller, both of the pair).
fn gaussian_pair<R: Rng>(rng: &mut R) -> (f64, f64) {
    let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
    let u2: f64 = rng.random::<f64>();
    let r = (-2.0 * u1.ln()).sqrt();
    let (s, c) = (std::f64::consts::TAU * u2).sin_cos();
    (r * c, r * s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recurrence_matches_the_unfused_steps() {
        let n = 1 << 16;
        let mut w = vec![0.0f64; n];
        let mut v = vec![0.0f64; n];
        let mut p = vec![0.0f64; n];
        random_fill(&mut w, 1);
        random_fill(&mut v, 2);
        random_fill(&mut p, 3);
        let (a, b) = (0.3, -1.7);
        let mut expect = w.clone();
        for i in 0..n {
            expect[i] -= a * v[i] + b * p[i];
        }
        let n2: f64 = expect.iter().map(|x| x * x).sum();
        let got = recurrence(&mut w, &v, a, Some((b, &p)));
        assert!((got - n2).abs() <= 1e-12 * n2, "{got} vs {n2}");
        let diff = w
            .iter()
            .zip(&expect)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max);
        assert!(diff <= 1e-15, "{diff}");
    }

    #[test]
    fn random_fill_is_normalised_and_seeded() {
        let mut a = vec![C64::new(0.0, 0.0); 1 << 16];
        let mut b = a.clone();
        random_fill(&mut a, 5);
        random_fill(&mut b, 5);
        assert_eq!(a, b);
        let n: f64 = a.iter().map(|x| x.norm_sqr()).sum();
        assert!((n - 1.0).abs() < 1e-12);
        // Blocks are independent draws: two blocks do not repeat each other.
        assert_ne!(a[..RANDOM_BLOCK], a[RANDOM_BLOCK..2 * RANDOM_BLOCK]);
        // The real parts carry half the norm (complex Gaussian, normalised).
        let m: f64 = a.iter().map(|x| x.re * x.re).sum::<f64>();
        assert!((m - 0.5).abs() < 0.05, "{m}");
    }
}
