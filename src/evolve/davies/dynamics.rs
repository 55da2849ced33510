//! The fixed point and the time evolution of a [`Davies`] generator: the null vector of the
//! population sector, and adaptive Dormand–Prince on the dense eigenbasis vector.

use faer::linalg::solvers::Solve;
use faer::Mat;

use super::Davies;
use crate::evolve::density::DensityMatrix;
use crate::evolve::dopri::{initial_step, stages, StepControl, E};
use crate::evolve::gibbs::{half_trace_norm, Relaxation};
use crate::evolve::lindblad::{Options, StepStats};
use crate::evolve::EvolveError;
use crate::operator::XMaskOperator;
use crate::pauli::PauliSum;
use crate::state::memory::check_alloc_u128;
use crate::state::StateError;
use crate::C64;

impl Davies {
    /// The fixed point `L(ρ) = 0`, `Tr ρ = 1`, computed directly in the `ν = 0` Bohr sector
    /// (block-diagonal matrices in the eigenbasis, dimension `m = Σ_ε d_ε²`): there `−i[H, ·]`
    /// vanishes and `L₀(X)_a = −½{K_a, X_a} + Σ_α Σ_b γ(ε_b − ε_a) A^α_{ab} X_b A^α_{ab}†`. The
    /// `m × m` matrix of `L₀` is formed, one diagonal row replaced by the trace condition and
    /// the system solved by LU with full pivoting. Its eigenvalues give the sector's spectral
    /// gap (the slowest relaxation of populations), checked to be non-zero (uniqueness).
    /// Cost `O(m³)`, memory `16 m²` bytes (checked).
    ///
    /// # Errors
    /// [`EvolveError::FixedPointNotUnique`] if the sector has a second (numerically) zero
    /// eigenvalue; [`StateError::Memory`]; [`StateError::Solver`] if the eigenvalue
    /// solver fails.
    pub fn fixed_point(&self) -> Result<FixedPoint, EvolveError> {
        let d = self.dim;
        let nb = self.blocks.len();
        let offs: Vec<usize> = self
            .blocks
            .iter()
            .scan(0, |acc, &(_, l)| {
                let o = *acc;
                *acc += l * l;
                Some(o)
            })
            .collect();
        let m: usize = self.blocks.iter().map(|&(_, l)| l * l).sum();
        check_alloc_u128(
            3 * 16 * (m as u128) * (m as u128),
            "Davies fixed point (population-sector matrix)",
        )?;
        let mut lm = Mat::<C64>::zeros(m, m);
        for (kb, &(sk, lk)) in self.blocks.iter().enumerate() {
            for i in 0..lk {
                for j in 0..lk {
                    let col = offs[kb] + i * lk + j;
                    // −½ (K_k E_ij + E_ij K_k)
                    for r in 0..lk {
                        lm[(offs[kb] + r * lk + j, col)] -= self.k[(sk + r) * d + sk + i] * 0.5;
                        lm[(offs[kb] + i * lk + r, col)] -= self.k[(sk + j) * d + sk + r] * 0.5;
                    }
                    // Σ_α γ(ε_k − ε_a) A_ak E_ij A_ak†
                    for (ab, &(sa, la)) in self.blocks.iter().enumerate() {
                        let g = self.gamma[ab * nb + kb];
                        for am in &self.a {
                            for r in 0..la {
                                let x = am[(sa + r) * d + sk + i] * g;
                                if x.norm_sqr() == 0.0 {
                                    continue;
                                }
                                for c in 0..la {
                                    lm[(offs[ab] + r * la + c, col)] +=
                                        x * am[(sa + c) * d + sk + j].conj();
                                }
                            }
                        }
                    }
                }
            }
        }
        // Spectral gap of the sector.
        let eig = lm
            .eigenvalues()
            .map_err(|e| crate::linalg::SolverError::Dense {
                detail: format!("{e:?}"),
            })?;
        let mut rates: Vec<f64> = eig.iter().map(|z| -z.re).collect();
        rates.sort_by(f64::total_cmp);
        let scale = self
            .k
            .iter()
            .fold(0.0f64, |acc, z| acc.max(z.norm()))
            .max(1e-300);
        let tol = 1e-10 * scale * m as f64;
        let gap = rates.get(1).copied().unwrap_or(f64::INFINITY);
        if m > 1 && gap <= tol {
            return Err(EvolveError::FixedPointNotUnique { gap, tol });
        }
        // Trace condition replaces the first diagonal row of the ground block.
        let mut sys = lm.clone();
        for c in 0..m {
            sys[(0, c)] = C64::new(0.0, 0.0);
        }
        for (kb, &(_, lk)) in self.blocks.iter().enumerate() {
            for i in 0..lk {
                sys[(0, offs[kb] + i * lk + i)] = C64::new(1.0, 0.0);
            }
        }
        let mut rhs = Mat::<C64>::zeros(m, 1);
        rhs[(0, 0)] = C64::new(1.0, 0.0);
        sys.full_piv_lu().solve_in_place(&mut rhs);
        let mut rho = vec![C64::new(0.0, 0.0); d * d];
        for (kb, &(sk, lk)) in self.blocks.iter().enumerate() {
            for i in 0..lk {
                for j in 0..lk {
                    rho[(sk + i) * d + sk + j] = rhs[(offs[kb] + i * lk + j, 0)];
                }
            }
        }
        let distance = self.gibbs_distance(&rho)?;
        Ok(FixedPoint {
            state: self.from_eigenbasis(&rho),
            trace_distance: distance,
            gap,
            sector_dim: m,
        })
    }

    /// Trace distance of an eigenbasis matrix to `ρ_G = diag(p)`.
    fn gibbs_distance(&self, rho_eig: &[C64]) -> Result<f64, EvolveError> {
        let d = self.dim;
        let mut diff = rho_eig.to_vec();
        for (i, p) in self.weights.iter().enumerate() {
            diff[i * d + i] -= p;
        }
        Ok(half_trace_norm(&diff, d)?)
    }

    /// Evolves `ρ₀` under the Davies generator with adaptive Dormand–Prince 5(4) (the
    /// tableau and step control of [`crate::evolve::evolve_lindblad`], `opts.atol`/`opts.rtol` per entry
    /// of the eigenbasis matrix) and records, at each time, the trace distance to the Gibbs
    /// state, `⟨H⟩ = Σ E_n ρ_nn` and `Tr ρA_j` for the Hermitian `observables`.
    ///
    /// # Errors
    /// [`StateError::QubitMismatch`], [`EvolveError::NonHermitianObservable`],
    /// [`EvolveError::BadTimes`], [`EvolveError::BadTolerance`], integrator and eigensolver
    /// errors.
    pub fn evolve(
        &self,
        rho0: &DensityMatrix,
        times: &[f64],
        observables: &[PauliSum],
        opts: &Options,
    ) -> Result<(Relaxation, StepStats), EvolveError> {
        self.evolve_with_progress(rho0, times, observables, opts, &|_| {})
    }

    /// As [`Davies::evolve`], calling `on_output(i)` after output time `i` is recorded (for a
    /// progress bar with the time left).
    ///
    /// # Errors
    /// As [`Davies::evolve`].
    pub fn evolve_with_progress(
        &self,
        rho0: &DensityMatrix,
        times: &[f64],
        observables: &[PauliSum],
        opts: &Options,
        on_output: &dyn Fn(usize),
    ) -> Result<(Relaxation, StepStats), EvolveError> {
        let d = self.dim;
        if rho0.qubits() != self.n {
            return Err(StateError::QubitMismatch {
                what: "initial state".into(),
                expected: self.n,
                found: rho0.qubits(),
            }
            .into());
        }
        let mut obs_eig = Vec::with_capacity(observables.len());
        crate::evolve::check_observables(observables, self.n)?;
        for o in observables {
            let wide = crate::evolve::cooling::widen(o, self.n);
            let dense = XMaskOperator::new(&wide)?.to_dense()?;
            obs_eig.push(self.to_eigenbasis(&DensityMatrix::from_entries(self.n, dense)));
        }
        let mut rec = Relaxation {
            steps: times.to_vec(),
            trace_distance: Vec::with_capacity(times.len()),
            energy: Vec::with_capacity(times.len()),
            observables: vec![Vec::with_capacity(times.len()); observables.len()],
            final_state: rho0.clone(),
            gibbs_energy: self
                .weights
                .iter()
                .zip(&self.energies)
                .map(|(p, e)| p * e)
                .sum(),
        };
        let y0 = self.to_eigenbasis(rho0);
        let (y, stats) = dopri5(
            |y, out| self.apply(y, out),
            y0,
            times,
            opts,
            |y| {
                rec.trace_distance.push(self.gibbs_distance(y)?);
                rec.energy
                    .push((0..d).map(|i| self.energies[i] * y[i * d + i].re).sum());
                for (j, o) in obs_eig.iter().enumerate() {
                    let t: C64 = (0..d)
                        .flat_map(|r| (0..d).map(move |c| (r, c)))
                        .map(|(r, c)| y[r * d + c] * o[c * d + r])
                        .sum();
                    rec.observables[j].push(t.re);
                }
                on_output(rec.energy.len());
                Ok(())
            },
        )?;
        rec.final_state = self.from_eigenbasis(&y);
        Ok((rec, stats))
    }
}

/// The fixed point of a [`Davies`] generator and its evidence.
#[derive(Clone, Debug)]
pub struct FixedPoint {
    /// The stationary state (computational basis).
    pub state: DensityMatrix,
    /// Its trace distance to the exact Gibbs state `e^{−H/T}/Z` (should be ~1e-14).
    pub trace_distance: f64,
    /// Spectral gap of the population (`ν = 0`) sector: the smallest non-zero `−Re λ`.
    pub gap: f64,
    /// Dimension `Σ_ε d_ε²` of that sector.
    pub sector_dim: usize,
}

/// Adaptive Dormand–Prince 5(4) for `dy/dt = f(y)` on a small dense vector, with the step
/// control of [`crate::evolve::evolve_lindblad`]; calls `record(y)` at each output time.
fn dopri5(
    f: impl Fn(&[C64], &mut [C64]),
    y0: Vec<C64>,
    times: &[f64],
    opts: &Options,
    mut record: impl FnMut(&[C64]) -> Result<(), EvolveError>,
) -> Result<(Vec<C64>, StepStats), EvolveError> {
    let (atol, rtol) = (opts.atol, opts.rtol);
    crate::evolve::check_times_and_tolerance(times, atol, rtol)?;
    let len = y0.len();
    let mut y = y0;
    let mut ynew = vec![C64::new(0.0, 0.0); len];
    let mut ys = vec![C64::new(0.0, 0.0); len];
    let mut k: Vec<Vec<C64>> = (0..7).map(|_| vec![C64::new(0.0, 0.0); len]).collect();
    let mut stats = StepStats::default();
    f(&y, &mut k[0]);
    stats.rhs_evals += 1;
    let mut hstep = opts
        .h_init
        .unwrap_or_else(|| initial_step(&y, &k[0], atol, rtol));
    let mut t = 0.0f64;
    let mut control = StepControl::new(opts.h_min, opts.max_steps);
    for &tout in times {
        while t < tout {
            let (hs, hit) = control.attempt(&stats, hstep, t, tout, tout)?;
            stages(&mut k, &mut ys, &mut ynew, |dst, a_s, done, k_s| {
                for (i, o) in dst.iter_mut().enumerate() {
                    let mut acc = y[i];
                    for (aj, kj) in a_s.iter().zip(done.iter()) {
                        if *aj != 0.0 {
                            acc += kj[i] * (aj * hs);
                        }
                    }
                    *o = acc;
                }
                f(dst, k_s);
                stats.rhs_evals += 1;
            });
            let err = ((0..len)
                .map(|i| {
                    let mut e = C64::new(0.0, 0.0);
                    for (ej, kj) in E.iter().zip(&k) {
                        e += kj[i] * *ej;
                    }
                    let sc = atol + rtol * y[i].norm().max(ynew[i].norm());
                    (e.norm() * hs / sc).powi(2)
                })
                .sum::<f64>()
                / len as f64)
                .sqrt();
            if err <= 1.0 {
                t = if hit { tout } else { t + hs };
                std::mem::swap(&mut y, &mut ynew);
                k.swap(0, 6);
                hstep = control.accept(&mut stats, hs, hstep, err, hit);
            } else {
                hstep = control.reject(&mut stats, t, hs, err)?;
            }
        }
        record(&y)?;
    }
    Ok((y, stats))
}
