//! The integrator of one trajectory: Dormand–Prince steps of `dψ/dt = −i H_eff ψ` in chunks,
//! the waiting-time jump on the step's dense output, and the observables and pair overlaps
//! recorded at the output times.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::{Problem, Record, TrajOut, Work, CHUNK};
use crate::evolve::dopri::{StepControl, A, D, E};
use crate::evolve::lindblad::StepStats;
use crate::evolve::EvolveError;
use crate::pauli::{PauliSum, Phase};
use crate::state::memory;
use crate::C64;

/// The first crossing of `p(θ) = r` on `[0, 1]` for the polynomial `p(θ) = Σ_m c_m θ^m`, with
/// `p(0) > r ≥ p(1)` expected: scan 64 cells for the first sign change, then bisect.
fn first_crossing(c: &[f64; 9], r: f64) -> f64 {
    let p = |th: f64| c.iter().rev().fold(0.0, |acc, &cm| acc * th + cm) - r;
    if p(0.0) <= 0.0 {
        return 0.0;
    }
    const CELLS: usize = 64;
    let mut lo = 0.0;
    let mut hi = 1.0;
    for i in 1..=CELLS {
        let th = i as f64 / CELLS as f64;
        if p(th) <= 0.0 {
            hi = th;
            break;
        }
        lo = th;
    }
    while hi - lo > 1e-15 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if p(mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

impl Problem<'_> {
    /// Allocates one worker's buffers.
    pub(super) fn work(&self) -> Work {
        let d = self.dim;
        Work {
            y: memory::zeroed(d),
            ynew: memory::zeroed(d),
            ystage: memory::zeroed(d),
            scratch: memory::zeroed(d),
            k: (0..7).map(|_| memory::zeroed(d)).collect(),
            partials: vec![[0.0; 16]; d.div_ceil(CHUNK)],
            snapshots: if self.opts.purity {
                memory::zeroed(d * self.times.len())
            } else {
                Vec::new()
            },
            weights: vec![0.0; self.channels.len()],
        }
    }

    /// `Σ_chunks f(lo, hi)` over fixed chunks of `CHUNK` amplitudes, added in chunk order
    /// (parallel over chunks if `self.par`): the same bits either way.
    fn reduce(
        &self,
        partials: &mut [[f64; 16]],
        f: impl Fn(usize, usize) -> [f64; 16] + Sync,
    ) -> [f64; 16] {
        let d = self.dim;
        let body = |(ci, p): (usize, &mut [f64; 16])| {
            let lo = ci * CHUNK;
            *p = f(lo, (lo + CHUNK).min(d));
        };
        if self.par && partials.len() > 1 {
            partials.par_iter_mut().enumerate().for_each(body);
        } else {
            partials.iter_mut().enumerate().for_each(body);
        }
        let mut acc = [0.0; 16];
        for p in partials.iter() {
            for (a, v) in acc.iter_mut().zip(p) {
                *a += v;
            }
        }
        acc
    }

    /// `dst = y − i h Σ_j a_j k_j` (a Runge–Kutta stage of `dψ/dt = −i H_eff ψ`), chunk by
    /// chunk: copy `y`, then one vectorisable update per stage while the chunk stays in cache.
    fn stage(&self, dst: &mut [C64], y: &[C64], h: f64, a: &[f64], ks: &[Vec<C64>]) {
        let body = |(ci, chunk): (usize, &mut [C64])| {
            let lo = ci * CHUNK;
            let hi = lo + chunk.len();
            stage_chunk(chunk, &y[lo..hi], h, a, ks, lo);
        };
        if self.par && dst.len() > CHUNK {
            dst.par_chunks_mut(CHUNK).enumerate().for_each(body);
        } else {
            dst.chunks_mut(CHUNK).enumerate().for_each(body);
        }
    }

    /// `dst[b] = f(b)` for every amplitude, parallel over chunks if `self.par`.
    fn fill(&self, dst: &mut [C64], f: impl Fn(usize) -> C64 + Sync) {
        let body = |(ci, chunk): (usize, &mut [C64])| {
            let lo = ci * CHUNK;
            for (i, o) in chunk.iter_mut().enumerate() {
                *o = f(lo + i);
            }
        };
        if self.par && dst.len() > CHUNK {
            dst.par_chunks_mut(CHUNK).enumerate().for_each(body);
        } else {
            dst.chunks_mut(CHUNK).enumerate().for_each(body);
        }
    }

    /// `Re ⟨ψ|A|ψ⟩` for a Hermitian Pauli sum (ψ not normalised), one pass per term.
    fn expectation(&self, psi: &[C64], a: &PauliSum, partials: &mut [[f64; 16]]) -> f64 {
        let mut total = 0.0;
        for &(p, coef) in a.terms() {
            let (x, z) = (p.x() as usize, p.z() as usize);
            // ⟨ψ|P|ψ⟩ = e Σ_b conj(ψ_b) (−1)^{|z∧b|} ψ_{b⊕x}, e = i^{n_Y} (−1)^{|z∧x|}.
            let e = Phase((p.n_y() % 4) as u8).to_complex()
                * if (z & x).count_ones() % 2 == 1 {
                    -1.0
                } else {
                    1.0
                };
            let s = self.reduce(partials, |lo, hi| {
                let mut acc = C64::new(0.0, 0.0);
                for b in lo..hi {
                    let v = psi[b].conj() * psi[b ^ x];
                    if (z & b).count_ones() & 1 == 0 {
                        acc += v;
                    } else {
                        acc -= v;
                    }
                }
                let mut out = [0.0; 16];
                out[0] = acc.re;
                out[1] = acc.im;
                out
            });
            total += (coef * e * C64::new(s[0], s[1])).re;
        }
        total
    }

    /// `‖ψ‖²`.
    fn norm2(&self, psi: &[C64], partials: &mut [[f64; 16]]) -> f64 {
        self.reduce(partials, |lo, hi| {
            let mut out = [0.0; 16];
            out[0] = psi[lo..hi].iter().map(|v| v.norm_sqr()).sum();
            out
        })[0]
    }

    /// Runs trajectory `j` from ψ₀ to the last output time.
    pub(super) fn run(
        &self,
        w: &mut Work,
        j: usize,
        record: Record,
    ) -> Result<TrajOut, EvolveError> {
        let opts = self.opts;
        let times = self.times;
        let nt = times.len();
        let nobs = self.observables.len();
        let mut out = TrajOut {
            obs: Vec::with_capacity(nt * nobs),
            overlaps: Vec::with_capacity(if record == Record::Overlap { nt } else { 0 }),
            jumps: vec![0; self.n_channels],
            first_jump: None,
            stats: StepStats::default(),
        };
        let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
        rng.set_stream(j as u64);
        // r ∈ (0, 1]: jump when ‖ψ‖² falls to r.
        let draw = |rng: &mut ChaCha8Rng| 1.0 - rng.random::<f64>();
        let mut r = draw(&mut rng);
        let Work {
            y,
            ynew,
            ystage,
            scratch,
            k,
            partials,
            snapshots,
            weights,
        } = w;
        y.copy_from_slice(&self.psi0);
        let mut t = 0.0f64;
        let mut next = 0usize;
        while next < nt && times[next] <= 0.0 {
            self.record(y, next, record, snapshots, partials, &mut out);
            next += 1;
        }
        if next == nt {
            return Ok(out);
        }
        let tend = times[nt - 1];
        let (atol, rtol) = (opts.atol, opts.rtol);
        self.heff.apply_into(y, &mut k[0]);
        out.stats.rhs_evals += 1;
        let mut hstep = {
            let d0 = scaled_rms(y, y, atol, rtol);
            let d1 = scaled_rms(&k[0], y, atol, rtol);
            if d0 < 1e-5 || d1 < 1e-5 {
                1e-6
            } else {
                0.01 * d0 / d1
            }
        };
        let mut control = StepControl::default();
        while next < nt {
            if out.stats.steps + out.stats.rejected >= opts.max_steps {
                return Err(EvolveError::TooManySteps {
                    steps: out.stats.steps + out.stats.rejected,
                    t,
                    target: times[next],
                });
            }
            let remaining = tend - t;
            let hit = hstep >= remaining * (1.0 - 1e-12);
            let hs = if hit { remaining } else { hstep };
            for (s, a_s) in A.iter().enumerate().skip(1) {
                let (done, rest) = k.split_at_mut(s);
                let dst: &mut [C64] = if s == 6 { &mut *ynew } else { &mut *ystage };
                // dst = y + Σ_j (−i h a_j) k_j with k_j = H_eff · stage_j.
                self.stage(dst, y, hs, a_s, done);
                self.heff.apply_into(dst, &mut rest[0]);
                out.stats.rhs_evals += 1;
            }
            // Scaled RMS error and ‖y_new‖² in one pass.
            let (yr, ynr, kr): (&[C64], &[C64], &[Vec<C64>]) = (y, ynew, k);
            let s = self.reduce(partials, |lo, hi| {
                const SUB: usize = 256;
                let (mut e2, mut n2) = (0.0, 0.0);
                let mut e = [C64::new(0.0, 0.0); SUB];
                for sb in (lo..hi).step_by(SUB) {
                    let sh = (sb + SUB).min(hi);
                    let e = &mut e[..sh - sb];
                    e.fill(C64::new(0.0, 0.0));
                    for (ej, kj) in E.iter().zip(kr) {
                        if *ej != 0.0 {
                            for (x, v) in e.iter_mut().zip(&kj[sb..sh]) {
                                *x += v * *ej;
                            }
                        }
                    }
                    for ((x, yv), nv) in e.iter().zip(&yr[sb..sh]).zip(&ynr[sb..sh]) {
                        let nn = nv.norm_sqr();
                        let sc = atol + rtol * yv.norm_sqr().max(nn).sqrt();
                        e2 += x.norm_sqr() / (sc * sc);
                        n2 += nn;
                    }
                }
                let mut o = [0.0; 16];
                o[0] = e2;
                o[1] = n2;
                o
            });
            let err = (s[0] * hs * hs / self.dim as f64).sqrt();
            let n1 = s[1];
            if err <= 1.0 {
                out.stats.steps += 1;
                let t1 = if hit { tend } else { t + hs };
                hstep = control.accept(hs, hstep, err, hit);
                if n1 <= r {
                    // A jump inside this step: locate ‖ψ(t + θh)‖² = r on the dense output.
                    let c = self.gram(y, ynew, k, hs, partials);
                    let th = first_crossing(&c, r);
                    let tj = t + th * hs;
                    while next < nt && times[next] <= tj {
                        let tht = ((times[next] - t) / hs).min(th);
                        self.interpolate(scratch, y, ynew, k, hs, tht);
                        self.record(scratch, next, record, snapshots, partials, &mut out);
                        next += 1;
                    }
                    self.interpolate(scratch, y, ynew, k, hs, th);
                    std::mem::swap(y, scratch);
                    // Channel k with probability ∝ γ_k ⟨ψ|L_k†L_k|ψ⟩.
                    let mut total = 0.0;
                    for (wk, ch) in weights.iter_mut().zip(&self.channels) {
                        *wk = ch.rate * self.expectation(y, &ch.ldl, partials).max(0.0);
                        total += *wk;
                    }
                    if total > 0.0 {
                        let u = rng.random::<f64>() * total;
                        let mut acc = 0.0;
                        let mut pick = weights.iter().rposition(|&wk| wk > 0.0).unwrap_or(0);
                        for (i, wk) in weights.iter().enumerate() {
                            acc += wk;
                            if u < acc && *wk > 0.0 {
                                pick = i;
                                break;
                            }
                        }
                        let ch = &self.channels[pick];
                        ch.op.apply_into(y, scratch);
                        let nn = self.norm2(scratch, partials).sqrt();
                        let inv = 1.0 / nn;
                        let src: &[C64] = scratch;
                        self.fill(y, |b| src[b] * inv);
                        out.jumps[ch.index] += 1;
                        if out.first_jump.is_none() {
                            out.first_jump = Some(tj);
                        }
                    } else {
                        // No channel can fire (rounding at the edge): renormalise, redraw.
                        let inv = 1.0 / self.norm2(y, partials).sqrt();
                        y.iter_mut().for_each(|v| *v *= inv);
                    }
                    r = draw(&mut rng);
                    t = tj;
                    self.heff.apply_into(y, &mut k[0]);
                    out.stats.rhs_evals += 1;
                } else {
                    while next < nt && times[next] <= t1 {
                        let tht = (times[next] - t) / hs;
                        if tht >= 1.0 {
                            self.record(ynew, next, record, snapshots, partials, &mut out);
                        } else {
                            self.interpolate(scratch, y, ynew, k, hs, tht);
                            self.record(scratch, next, record, snapshots, partials, &mut out);
                        }
                        next += 1;
                    }
                    std::mem::swap(y, ynew);
                    k.swap(0, 6);
                    t = t1;
                }
            } else {
                out.stats.rejected += 1;
                hstep = control.reject(t, hs, err, opts.h_min)?;
            }
        }
        Ok(out)
    }

    /// `dst = ψ(t + θh)` from the step's fourth-order dense output (Hairer's `CONTD5`):
    /// `y₀ + θ(r₂ + (1−θ)(r₃ + θ(r₄ + (1−θ) r₅)))`, `f_j = −i k_j`.
    fn interpolate(
        &self,
        dst: &mut [C64],
        y0: &[C64],
        y1: &[C64],
        k: &[Vec<C64>],
        h: f64,
        th: f64,
    ) {
        let mi = C64::new(0.0, -h);
        let th1 = 1.0 - th;
        self.fill(dst, |b| {
            let [r1, r2, r3, r4, r5] = rcont(y0, y1, k, mi, b);
            r1 + (r2 + (r3 + (r4 + r5 * th1) * th) * th1) * th
        });
    }

    /// Coefficients `P_m` of `‖ψ(t + θh)‖² = Σ_{m ≤ 8} P_m θ^m` on the dense output, from the
    /// Gram matrix `Re⟨c_i|c_j⟩` of its vector coefficients `ψ(θ) = Σ_{i ≤ 4} c_i θ^i`.
    fn gram(
        &self,
        y0: &[C64],
        y1: &[C64],
        k: &[Vec<C64>],
        h: f64,
        partials: &mut [[f64; 16]],
    ) -> [f64; 9] {
        let mi = C64::new(0.0, -h);
        let g = self.reduce(partials, |lo, hi| {
            let mut o = [0.0; 16];
            for b in lo..hi {
                let [r1, r2, r3, r4, r5] = rcont(y0, y1, k, mi, b);
                let c = [r1, r2 + r3, r4 + r5 - r3, -r4 - r5 * 2.0, r5];
                let mut idx = 0;
                for i in 0..5 {
                    for j in i..5 {
                        o[idx] += (c[i].conj() * c[j]).re;
                        idx += 1;
                    }
                }
            }
            o
        });
        let mut p = [0.0; 9];
        let mut idx = 0;
        for i in 0..5 {
            for j in i..5 {
                p[i + j] += if i == j { g[idx] } else { 2.0 * g[idx] };
                idx += 1;
            }
        }
        p
    }

    /// Records output time `i` for the (unnormalised) state `psi`.
    fn record(
        &self,
        psi: &[C64],
        i: usize,
        record: Record,
        snapshots: &mut [C64],
        partials: &mut [[f64; 16]],
        out: &mut TrajOut,
    ) {
        let n2 = self.norm2(psi, partials);
        for a in self.observables {
            out.obs.push(self.expectation(psi, a, partials) / n2);
        }
        let d = self.dim;
        match record {
            Record::Nothing => {}
            Record::Store => {
                let inv = 1.0 / n2.sqrt();
                self.fill(&mut snapshots[i * d..(i + 1) * d], |b| psi[b] * inv);
            }
            Record::Overlap => {
                let s = &snapshots[i * d..(i + 1) * d];
                let ov = self.reduce(partials, |lo, hi| {
                    let mut acc = C64::new(0.0, 0.0);
                    for b in lo..hi {
                        acc += s[b].conj() * psi[b];
                    }
                    let mut o = [0.0; 16];
                    o[0] = acc.re;
                    o[1] = acc.im;
                    o
                });
                out.overlaps.push((ov[0] * ov[0] + ov[1] * ov[1]) / n2);
            }
        }
    }
}

/// One chunk of [`Problem::stage`]: `o = y − i h Σ_j a_j k_j[lo..]`, with AVX2/FMA code where
/// the CPU has it (the crate targets baseline x86-64; the result is the same to rounding).
fn stage_chunk(o: &mut [C64], y: &[C64], h: f64, a: &[f64], ks: &[Vec<C64>], lo: usize) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the features were just detected on this CPU.
        unsafe { stage_chunk_avx2(o, y, h, a, ks, lo) };
        return;
    }
    stage_chunk_base(o, y, h, a, ks, lo);
}

/// [`stage_chunk_base`] compiled for AVX2 + FMA.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn stage_chunk_avx2(
    o: &mut [C64],
    y: &[C64],
    h: f64,
    a: &[f64],
    ks: &[Vec<C64>],
    lo: usize,
) {
    stage_chunk_base(o, y, h, a, ks, lo)
}

#[inline(always)]
fn stage_chunk_base(o: &mut [C64], y: &[C64], h: f64, a: &[f64], ks: &[Vec<C64>], lo: usize) {
    let hi = lo + o.len();
    o.copy_from_slice(y);
    for (aj, kj) in a.iter().zip(ks) {
        if *aj != 0.0 {
            // −i s v = s·Im v − i s·Re v
            let s = h * aj;
            for (ov, v) in o.iter_mut().zip(&kj[lo..hi]) {
                ov.re += s * v.im;
                ov.im -= s * v.re;
            }
        }
    }
}

/// Hairer's `rcont1..5` at amplitude `b` (with `h f_j = mi · k_j`, `mi = −ih`).
#[inline(always)]
fn rcont(y0: &[C64], y1: &[C64], k: &[Vec<C64>], mi: C64, b: usize) -> [C64; 5] {
    let r1 = y0[b];
    let r2 = y1[b] - r1;
    let r3 = mi * k[0][b] - r2;
    let r4 = r2 - mi * k[6][b] - r3;
    let mut s = k[0][b] * D[0];
    for j in 2..7 {
        s += k[j][b] * D[j];
    }
    [r1, r2, r3, r4, mi * s]
}

fn scaled_rms(v: &[C64], y: &[C64], atol: f64, rtol: f64) -> f64 {
    let s: f64 = v
        .iter()
        .zip(y)
        .map(|(a, b)| (a.norm() / (atol + rtol * b.norm())).powi(2))
        .sum();
    (s / v.len() as f64).sqrt()
}
