//! The Lindblad right-hand side (matrix-free) and its adaptive Dormand–Prince 5(4) integration.

use rayon::prelude::*;

use super::density::{self, check_density_alloc, DensityMatrix, GroupedOperator, PAR_FROM};
use super::dopri::{initial_step, stages, StepControl, D, E};
use super::EvolveError;
use crate::operator::LinearOperator;
use crate::pauli::PauliSum;
use crate::state::StateError;
use crate::C64;

/// Coefficients with `|c| ≤` this are dropped when `Σ γ_k L_k† L_k` is simplified.
const SIMPLIFY_TOL: f64 = 1e-15;

/// The Lindbladian `L(ρ) = −i[H, ρ] + Σ_k γ_k (L_k ρ L_k† − ½{L_k† L_k, ρ})` (docs/DESIGN.md rate
/// convention), applied matrix-free as `L(ρ) = Gρ + ρG† + Σ_k γ_k L_k ρ L_k†` with the
/// effective non-Hermitian generator `G = −iH − ½ Σ_k γ_k L_k† L_k` (the `L_k† L_k` are
/// precomputed as Pauli sums). Every operator is grouped by X-mask ([`GroupedOperator`]); no
/// `4^n × 4^n` superoperator is formed.
#[derive(Clone, Debug)]
pub struct Lindbladian {
    n: usize,
    /// `G` grouped, with `conj(D_x)` for the right action `ρG†`.
    g: GroupedOperator,
    g_conj: Vec<(usize, Vec<C64>)>,
    /// `(γ_k, L_k grouped, conj(D_x) of L_k)`.
    jumps: Vec<JumpGroups>,
    /// Per jump, the right factors `L_k†` as [`RightGroup`]s (for the Hermitian path).
    right: Vec<Vec<RightGroup>>,
    /// `2 Σ|h| + 2 Σ_k γ_k (Σ|l_k|)²`, a bound on `‖L‖` in the Frobenius norm of `ρ`.
    norm_bound: f64,
}

/// `(γ, L grouped, conj(D_x) of L)` for one jump operator.
type JumpGroups = (f64, GroupedOperator, Vec<(usize, Vec<C64>)>);

/// The right action `M ↦ M L†` restricted to one X-mask `y`: `w = conj(D_y)`, applied on
/// aligned blocks of `2^{tz(y)}` columns (where `c ↦ c ⊕ y` is a shift), skipping blocks where
/// `w` vanishes (half of them for σ±).
#[derive(Clone, Debug)]
struct RightGroup {
    y: usize,
    w: Vec<C64>,
    bsz: usize,
    starts: Vec<usize>,
}

impl RightGroup {
    fn new(y: usize, w: Vec<C64>) -> Self {
        let len = w.len();
        let bsz = if y == 0 {
            len
        } else {
            (1usize << y.trailing_zeros()).min(len)
        };
        let starts = (0..len)
            .step_by(bsz)
            .filter(|&b| w[b..b + bsz].iter().any(|v| v.norm_sqr() != 0.0))
            .collect();
        Self { y, w, bsz, starts }
    }

    /// `dst[c] += f · w[c] · src[c ⊕ y]` over the non-zero blocks.
    fn axpy(&self, dst: &mut [C64], src: &[C64], f: C64) {
        let (y, bsz) = (self.y, self.bsz);
        for &b in &self.starts {
            let s = &src[b ^ y..(b ^ y) + bsz];
            let w = &self.w[b..b + bsz];
            for ((o, &v), &ww) in dst[b..b + bsz].iter_mut().zip(s).zip(w) {
                *o += f * ww * v;
            }
        }
    }
}

fn conj_groups(g: &GroupedOperator) -> Vec<(usize, Vec<C64>)> {
    g.groups()
        .iter()
        .map(|(x, d)| (*x, d.iter().map(|v| v.conj()).collect()))
        .collect()
}

impl Lindbladian {
    /// Builds the generator from a Hermitian `H` and jump operators `(L_k, γ_k)`, on
    /// `h.qubits()` qubits. Allocates `2^n` entries per X-mask of `G` and of each `L_k`.
    ///
    /// # Errors
    /// [`StateError::NonHermitianHamiltonian`] if `H` has an imaginary coefficient
    /// (> 1e-12 after merging), [`StateError::QubitMismatch`] if a jump acts on more qubits,
    /// [`EvolveError::BadRate`] for a negative or non-finite rate.
    pub fn new(h: &PauliSum, jumps: &[(PauliSum, f64)]) -> Result<Self, EvolveError> {
        let n = h.qubits();
        super::check_hamiltonian(h)?;
        // G = −iH − ½ Σ γ L†L
        let mut g = PauliSum::new(n);
        g.add_sum(h, C64::new(0.0, -1.0));
        let mut grouped = Vec::with_capacity(jumps.len());
        let mut norm_bound = 2.0 * h.norm_bound();
        for (k, (l, rate)) in jumps.iter().enumerate() {
            super::check_jump(k, l, *rate, n)?;
            let mut l = l.clone();
            if l.qubits() < n {
                let mut wide = PauliSum::new(n);
                for &(p, c) in l.terms() {
                    wide.add(p, c);
                }
                l = wide;
            }
            norm_bound += 2.0 * rate * l.norm_bound().powi(2);
            let ldl = l.adjoint().product(&l).simplified(SIMPLIFY_TOL);
            g.add_sum(&ldl, C64::new(-0.5 * rate, 0.0));
            if *rate > 0.0 {
                let gl = GroupedOperator::new(&l.simplified(0.0), n);
                let cj = conj_groups(&gl);
                grouped.push((*rate, gl, cj));
            }
        }
        g.simplify(SIMPLIFY_TOL);
        let g = GroupedOperator::new(&g, n);
        let g_conj = conj_groups(&g);
        let right = grouped
            .iter()
            .map(|(_, _, cj)| {
                cj.iter()
                    .map(|(y, w)| RightGroup::new(*y, w.clone()))
                    .collect()
            })
            .collect();
        Ok(Self {
            n,
            g,
            g_conj,
            jumps: grouped,
            right,
            norm_bound,
        })
    }

    /// Number of qubits.
    pub fn qubits(&self) -> usize {
        self.n
    }

    /// `out = L(ρ)` on row-major `4^n` slices. One fused pass per row (parallel over rows with
    /// rayon above 4096 entries): `Σ_x D^G_x[r] ρ[r⊕x][·] + Σ_x ρ[r][·⊕x] conj(D^G_x[·]) +
    /// Σ_k γ_k Σ_{x,y} D^{L_k}_x[r] conj(D^{L_k}_y[·]) ρ[r⊕x][·⊕y]`. Allocates nothing.
    ///
    /// # Panics
    /// If the slices are not `4^n` long.
    #[track_caller]
    pub fn apply(&self, rho: &[C64], out: &mut [C64]) {
        let d = 1usize << self.n;
        assert!(rho.len() == d * d && out.len() == d * d, "need 4^n entries");
        let row = |(r, orow): (usize, &mut [C64])| {
            orow.fill(C64::new(0.0, 0.0));
            let own = &rho[r * d..r * d + d];
            // Gρ and ρG†
            for ((x, dx), (_, cx)) in self.g.groups().iter().zip(&self.g_conj) {
                let f = dx[r];
                let src = &rho[(r ^ x) * d..(r ^ x) * d + d];
                if *x == 0 {
                    for ((o, &v), &cc) in orow.iter_mut().zip(src).zip(cx) {
                        *o += (f + cc) * v;
                    }
                } else {
                    for (o, &v) in orow.iter_mut().zip(src) {
                        *o += f * v;
                    }
                    for (c, (o, &cc)) in orow.iter_mut().zip(cx).enumerate() {
                        *o += own[c ^ x] * cc;
                    }
                }
            }
            // γ L ρ L†
            for (rate, gl, cj) in &self.jumps {
                for (x, dx) in gl.groups() {
                    let f = dx[r] * *rate;
                    if f.norm_sqr() == 0.0 {
                        continue;
                    }
                    let src = &rho[(r ^ x) * d..(r ^ x) * d + d];
                    for (y, cy) in cj {
                        if *y == 0 {
                            for ((o, &v), &cc) in orow.iter_mut().zip(src).zip(cy) {
                                *o += f * cc * v;
                            }
                        } else {
                            for (c, (o, &cc)) in orow.iter_mut().zip(cy).enumerate() {
                                *o += f * cc * src[c ^ y];
                            }
                        }
                    }
                }
            }
        };
        if d * d >= PAR_FROM {
            out.par_chunks_mut(d).enumerate().for_each(row);
        } else {
            out.chunks_mut(d).enumerate().for_each(row);
        }
    }

    /// `out = L(ρ)` for a Hermitian `ρ`, about 40 % cheaper than [`Lindbladian::apply`]: it
    /// forms `B = Gρ + ½ Σ_k γ_k L_k ρ L_k†` (left actions only) in `scratch`, then
    /// `out = B + B†` (since `ρG† = (Gρ)†` and `L_k ρ L_k†` is Hermitian). The result is exactly
    /// Hermitian. For a non-Hermitian `ρ` the result is not `L(ρ)`: use
    /// [`Lindbladian::apply`] there. Allocates nothing.
    ///
    /// # Panics
    /// If the slices are not `4^n` long.
    #[track_caller]
    pub fn apply_hermitian(&self, rho: &[C64], out: &mut [C64], scratch: &mut [C64]) {
        let d = 1usize << self.n;
        assert!(
            rho.len() == d * d && out.len() == d * d && scratch.len() == d * d,
            "need 4^n entries"
        );
        let row = |(r, orow): (usize, &mut [C64])| {
            orow.fill(C64::new(0.0, 0.0));
            for (x, dx) in self.g.groups() {
                let f = dx[r];
                let src = &rho[(r ^ x) * d..(r ^ x) * d + d];
                // G = −iH − ½ΣγL†L: the off-diagonal groups of a real H have purely imaginary
                // coefficients, so a quarter of the multiplications of a complex axpy suffice.
                if f.re == 0.0 {
                    let b = f.im;
                    for (o, &v) in orow.iter_mut().zip(src) {
                        o.re -= b * v.im;
                        o.im += b * v.re;
                    }
                } else {
                    for (o, &v) in orow.iter_mut().zip(src) {
                        *o += f * v;
                    }
                }
            }
            for ((rate, gl, _), rg) in self.jumps.iter().zip(&self.right) {
                for (x, dx) in gl.groups() {
                    let f = dx[r] * (0.5 * *rate);
                    if f.norm_sqr() == 0.0 {
                        continue;
                    }
                    let src = &rho[(r ^ x) * d..(r ^ x) * d + d];
                    for g in rg {
                        g.axpy(orow, src, f);
                    }
                }
            }
        };
        if d * d >= PAR_FROM {
            scratch
                .par_chunks_mut(d)
                .enumerate()
                .with_min_len(16)
                .for_each(row);
        } else {
            scratch.chunks_mut(d).enumerate().for_each(row);
        }
        // out = B + B†, in T × T tiles so that the transposed reads stay in cache.
        const T: usize = 16;
        let b = &*scratch;
        let t = T.min(d);
        let sym = |(rb, oblk): (usize, &mut [C64])| {
            let r0 = rb * t;
            for c0 in (0..d).step_by(t) {
                for (i, orow) in oblk.chunks_mut(d).enumerate() {
                    let r = r0 + i;
                    for c in c0..c0 + t {
                        orow[c] = b[r * d + c] + b[c * d + r].conj();
                    }
                }
            }
        };
        if d * d >= PAR_FROM {
            out.par_chunks_mut(t * d).enumerate().for_each(sym);
        } else {
            out.chunks_mut(t * d).enumerate().for_each(sym);
        }
    }
}

/// The Lindbladian as a linear operator on vectorised density matrices (row-major `4^n`
/// entries): `apply` is [`Lindbladian::apply`], so generic solvers (Krylov, eigensolvers of
/// the steady state) can act on it. Not Hermitian, not real.
impl LinearOperator<C64> for Lindbladian {
    fn dim(&self) -> usize {
        1usize << (2 * self.n)
    }

    #[inline]
    fn apply(&self, x: &[C64], y: &mut [C64]) {
        Lindbladian::apply(self, x, y);
    }

    fn is_real(&self) -> bool {
        false
    }

    fn is_hermitian(&self) -> bool {
        false
    }

    fn norm_bound(&self) -> f64 {
        self.norm_bound
    }

    /// Entries read per application: per row of `ρ`, `2^n` per X-mask of `G` (twice) and per
    /// pair of X-masks of each jump.
    fn cost_hint(&self) -> usize {
        let d = 1usize << self.n;
        let jumps: usize = self
            .jumps
            .iter()
            .map(|(_, gl, cj)| gl.groups().len() * cj.len())
            .sum();
        (d * d).saturating_mul(2 * self.g.groups().len() + jumps)
    }
}

/// Integrator settings for [`evolve_lindblad`].
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// Absolute tolerance per entry of ρ (default 1e-10).
    pub atol: f64,
    /// Relative tolerance per entry of ρ (default 1e-8).
    pub rtol: f64,
    /// Minimum step: a step rejected below it is an error (default 1e-12).
    pub h_min: f64,
    /// First step; `None` picks it from `‖ρ‖/‖L(ρ)‖` (Hairer's heuristic).
    pub h_init: Option<f64>,
    /// Budget of attempted steps (default 10⁷).
    pub max_steps: usize,
    /// Record the smallest eigenvalue of ρ (dense, n ≤ 8; default true) at up to 8 evenly
    /// spaced output times and the last (NaN at the others).
    pub positivity: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            atol: 1e-10,
            rtol: 1e-8,
            h_min: 1e-12,
            h_init: None,
            max_steps: 10_000_000,
            positivity: true,
        }
    }
}

/// Integrator statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StepStats {
    /// Accepted steps.
    pub steps: usize,
    /// Rejected steps.
    pub rejected: usize,
    /// Evaluations of `L(ρ)`.
    pub rhs_evals: usize,
}

/// Result of [`evolve_lindblad`]: per output time, the observables and the monitors.
#[derive(Clone, Debug)]
pub struct Trajectory {
    /// The output times.
    pub times: Vec<f64>,
    /// `observables[j][i] = Tr ρ(t_i) A_j` (real: the observables are Hermitian).
    pub observables: Vec<Vec<f64>>,
    /// `Re Tr ρ(t_i)`.
    pub trace: Vec<f64>,
    /// `Tr ρ(t_i)²`.
    pub purity: Vec<f64>,
    /// `‖ρ(t_i) − ρ(t_i)†‖_max`.
    pub hermiticity_defect: Vec<f64>,
    /// Smallest eigenvalue of ρ(t_i) if [`Options::positivity`] and n ≤ 8 (NaN at output times
    /// not checked, see [`Options::positivity`]).
    pub min_eigenvalue: Option<Vec<f64>>,
    /// Integrator statistics.
    pub stats: StepStats,
    /// ρ at the last output time (ρ₀ if `times` is empty).
    pub final_state: DensityMatrix,
}

const CHUNK: usize = 1 << 12;

/// Records the monitors and observables of `y` at the next output time.
fn record(
    traj: &mut Trajectory,
    y: &[C64],
    n: usize,
    observables: &[PauliSum],
    n_times: usize,
) -> Result<(), EvolveError> {
    let d = 1usize << n;
    for (j, a) in observables.iter().enumerate() {
        traj.observables[j].push(density::expectation(y, d, a).re);
    }
    traj.trace.push(density::trace(y, d).re);
    traj.purity.push(density::purity(y, d));
    traj.hermiticity_defect
        .push(density::hermiticity_defect(y, d));
    if let Some(e) = traj.min_eigenvalue.as_mut() {
        // A dense eigensolve per output time would cost more than the evolution for long
        // output lists: at most ~8 evenly spaced times plus the last are checked (NaN,
        // `null` in JSON, elsewhere).
        let i = e.len();
        let every = n_times.div_ceil(8).max(1);
        e.push(if i % every == 0 || i + 1 == n_times {
            density::min_eigenvalue(y, n)?
        } else {
            f64::NAN
        });
    }
    Ok(())
}

/// Dormand–Prince dense output (Hairer, Nørsett & Wanner, `CONTD5` of DOPRI5), order 4:
/// `y(t + θh) = y + θ(Δ + (1−θ)(b + θ(c + (1−θ) e)))` with `Δ = y_new − y`, `b = h k₁ − Δ`,
/// `c = Δ − h k₇ − b`, `e = h Σ d_j k_j`.
fn dense_output(dst: &mut [C64], y: &[C64], ynew: &[C64], ks: &[Vec<C64>], h: f64, theta: f64) {
    let th1 = 1.0 - theta;
    let body = |(ci, chunk): (usize, &mut [C64])| {
        let lo = ci * CHUNK;
        for (i, o) in chunk.iter_mut().enumerate() {
            let g = lo + i;
            let diff = ynew[g] - y[g];
            let b = ks[0][g] * h - diff;
            let c = diff - ks[6][g] * h - b;
            let mut e = C64::new(0.0, 0.0);
            for (dj, kj) in D.iter().zip(ks) {
                if *dj != 0.0 {
                    e += kj[g] * *dj;
                }
            }
            e *= h;
            *o = y[g] + (diff + (b + (c + e * th1) * theta) * th1) * theta;
        }
    };
    if dst.len() >= PAR_FROM {
        dst.par_chunks_mut(CHUNK).enumerate().for_each(body);
    } else {
        dst.chunks_mut(CHUNK).enumerate().for_each(body);
    }
}

/// `dst = y + h Σ_j a_j k_j`, parallel over fixed chunks.
fn lincomb(dst: &mut [C64], y: &[C64], h: f64, a: &[f64], ks: &[Vec<C64>]) {
    // Per chunk (64 KiB, cache-resident): copy y, then one vectorisable axpy per stage.
    let body = |(ci, chunk): (usize, &mut [C64])| {
        let lo = ci * CHUNK;
        let hi = lo + chunk.len();
        chunk.copy_from_slice(&y[lo..hi]);
        for (aj, kj) in a.iter().zip(ks) {
            if *aj != 0.0 {
                let f = aj * h;
                for (o, &v) in chunk.iter_mut().zip(&kj[lo..hi]) {
                    *o += v * f;
                }
            }
        }
    };
    if dst.len() >= PAR_FROM {
        dst.par_chunks_mut(CHUNK).enumerate().for_each(body);
    } else {
        dst.chunks_mut(CHUNK).enumerate().for_each(body);
    }
}

/// Scaled RMS error `sqrt(mean(|h Σ e_j k_j| / (atol + rtol max(|y|, |y_new|)))²)`; partial sums
/// per chunk are added in index order.
fn error_norm(y: &[C64], ynew: &[C64], ks: &[Vec<C64>], h: f64, atol: f64, rtol: f64) -> f64 {
    let part = |ci: usize| -> f64 {
        let lo = ci * CHUNK;
        let hi = (lo + CHUNK).min(y.len());
        (lo..hi)
            .map(|g| {
                let mut e = C64::new(0.0, 0.0);
                for (ej, kj) in E.iter().zip(ks) {
                    if *ej != 0.0 {
                        e += kj[g] * *ej;
                    }
                }
                // |z| as sqrt(norm_sqr): libm's hypot dominated the profile.
                let sc = atol + rtol * y[g].norm_sqr().max(ynew[g].norm_sqr()).sqrt();
                e.norm_sqr() * (h * h) / (sc * sc)
            })
            .sum()
    };
    let chunks = y.len().div_ceil(CHUNK);
    let parts: Vec<f64> = if y.len() >= PAR_FROM {
        (0..chunks).into_par_iter().map(part).collect()
    } else {
        (0..chunks).map(part).collect()
    };
    (parts.iter().sum::<f64>() / y.len() as f64).sqrt()
}

/// Evolves `ρ₀` under the Lindblad equation `dρ/dt = −i[H, ρ] + Σ_k γ_k (L_k ρ L_k† −
/// ½{L_k† L_k, ρ})` (docs/DESIGN.md rate convention; `jumps` are `(L_k, γ_k)`) from `t = 0` with an
/// adaptive Dormand–Prince 5(4) integrator (error per entry against `atol + rtol·|ρ_ij|`, RMS
/// norm, step factor `0.9·err^{−1/5}` clipped to [0.2, 10], no growth after a rejection,
/// values at the output times from the order-4 continuous extension). At each output time it records `Tr ρA_j` for the
/// Hermitian `observables`, the trace, purity, Hermiticity defect and (optionally, n ≤ 8) the
/// smallest eigenvalue; it does not store every ρ.
///
/// Memory: twelve density matrices (`12 · 16 · 4^n` bytes), checked before allocating.
///
/// # Errors
/// [`StateError::Memory`] if the workspace does not fit; [`StateError::QubitMismatch`],
/// [`StateError::NonHermitianHamiltonian`], [`EvolveError::NonHermitianObservable`],
/// [`EvolveError::NonHermitianState`] (defect > 1e-12), [`EvolveError::BadRate`],
/// [`EvolveError::BadTimes`], [`EvolveError::BadTolerance`] for invalid input;
/// [`EvolveError::StepTooSmall`] / [`EvolveError::TooManySteps`] if the integrator does not
/// converge.
pub fn evolve_lindblad(
    h: &PauliSum,
    jumps: &[(PauliSum, f64)],
    rho0: &DensityMatrix,
    times: &[f64],
    observables: &[PauliSum],
    opts: &Options,
) -> Result<Trajectory, EvolveError> {
    evolve_lindblad_with_progress(h, jumps, rho0, times, observables, opts, &|_, _| {})
}

/// As [`evolve_lindblad`], calling `on_step(t, t_end)` after every accepted step (for a
/// progress bar with the time left).
///
/// # Errors
/// As [`evolve_lindblad`].
pub fn evolve_lindblad_with_progress(
    h: &PauliSum,
    jumps: &[(PauliSum, f64)],
    rho0: &DensityMatrix,
    times: &[f64],
    observables: &[PauliSum],
    opts: &Options,
    on_step: &dyn Fn(f64, f64),
) -> Result<Trajectory, EvolveError> {
    let n = h.qubits();
    if rho0.qubits() != n {
        return Err(StateError::QubitMismatch {
            what: "initial state".into(),
            expected: n,
            found: rho0.qubits(),
        }
        .into());
    }
    super::check_observables(observables, n)?;
    super::check_times_and_tolerance(times, opts.atol, opts.rtol)?;
    let defect = rho0.hermiticity_defect();
    if defect > 1e-12 {
        return Err(EvolveError::NonHermitianState { defect });
    }
    let lind = Lindbladian::new(h, jumps)?;
    check_density_alloc(n, 12, "Lindblad integrator workspace")?;

    let d = 1usize << n;
    let len = d * d;
    let mut y = rho0.as_slice().to_vec();
    let mut ystage: Vec<C64> = crate::state::memory::zeroed(len);
    let mut ynew: Vec<C64> = crate::state::memory::zeroed(len);
    let mut scratch: Vec<C64> = crate::state::memory::zeroed(len);
    let mut k: Vec<Vec<C64>> = (0..7).map(|_| crate::state::memory::zeroed(len)).collect();
    let mut stats = StepStats::default();
    lind.apply_hermitian(&y, &mut k[0], &mut scratch);
    stats.rhs_evals += 1;

    let (atol, rtol) = (opts.atol, opts.rtol);
    let mut hstep = opts
        .h_init
        .unwrap_or_else(|| initial_step(&y, &k[0], atol, rtol));
    let with_eigs = opts.positivity && n <= super::MAX_EIGEN_QUBITS;
    let mut traj = Trajectory {
        times: times.to_vec(),
        observables: vec![Vec::with_capacity(times.len()); observables.len()],
        trace: Vec::with_capacity(times.len()),
        purity: Vec::with_capacity(times.len()),
        hermiticity_defect: Vec::with_capacity(times.len()),
        min_eigenvalue: with_eigs.then(Vec::new),
        stats,
        final_state: rho0.clone(),
    };
    let mut t = 0.0f64;
    let mut control = StepControl::new(opts.h_min, opts.max_steps);
    let mut yout: Vec<C64> = crate::state::memory::zeroed(len);
    let t_end = times.last().copied().unwrap_or(0.0);
    let mut next = 0;
    while next < times.len() && times[next] <= 0.0 {
        record(&mut traj, &y, n, observables, times.len())?;
        next += 1;
    }
    // Steps are not clipped to the output times: Hairer's continuous extension of order 4
    // interpolates inside a step (one pass over the stages per output time), so 101 output
    // times cost no extra right-hand sides.
    while next < times.len() {
        let (hs, hit) = control.attempt(&stats, hstep, t, times[next], t_end)?;
        stages(&mut k, &mut ystage, &mut ynew, |dst, a_s, done, k_s| {
            lincomb(dst, &y, hs, a_s, done);
            lind.apply_hermitian(dst, k_s, &mut scratch);
            stats.rhs_evals += 1;
        });
        let err = error_norm(&y, &ynew, &k, hs, atol, rtol);
        if err <= 1.0 {
            let t_new = if hit { t_end } else { t + hs };
            while next < times.len() && times[next] <= t_new {
                if times[next] >= t_new {
                    record(&mut traj, &ynew, n, observables, times.len())?;
                } else {
                    dense_output(&mut yout, &y, &ynew, &k, hs, (times[next] - t) / hs);
                    record(&mut traj, &yout, n, observables, times.len())?;
                }
                next += 1;
            }
            t = t_new;
            on_step(t, t_end);
            std::mem::swap(&mut y, &mut ynew);
            k.swap(0, 6);
            hstep = control.accept(&mut stats, hs, hstep, err, hit);
        } else {
            hstep = control.reject(&mut stats, t, hs, err)?;
        }
    }
    traj.stats = stats;
    traj.final_state = DensityMatrix::from_entries(n, y);
    Ok(traj)
}
