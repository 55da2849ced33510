//! State preparation verified by Lanczos: start in an eigenstate of `H_start`, sweep,
//! and measure how close the result is to the target eigenstate — fidelity, energy error,
//! residual — with the gaps along the path that explain it.

use std::time::Instant;

use serde::Serialize;

use super::{
    local_profile, propagate, transverse_field, AdiabaticError, Krylov, KrylovParams, Method,
    Profile, Propagation, Sweep,
};
use crate::linalg::{eigenpairs, AnySpectrum, LanczosParams};
use crate::operator::{Pencil, XMaskOperator};
use crate::pauli::PauliSum;
use crate::scalar::C64;
use crate::state::{dot, memory};

/// The schedule family of a preparation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScheduleKind {
    /// `s = t/T`.
    #[default]
    Linear,
    /// `s = u³(10 − 15u + 6u²)`.
    Smooth,
    /// Locally adiabatic, `ds/dt ∝ g(s)²` with the coupled gap of the followed level
    /// measured along the path.
    Local,
}

/// Settings of a preparation.
#[derive(Clone, Debug, Serialize)]
pub struct PrepareSettings {
    /// Integrator.
    pub method: Method,
    /// Time steps of the integrator per sweep.
    pub steps: usize,
    /// Level followed: 0 = ground state.
    pub eigen: usize,
    /// Schedule family.
    pub schedule: ScheduleKind,
    /// Krylov propagator settings.
    pub krylov: KrylovParams,
    /// Lanczos settings for the verification and the path scan (`k` is set per use).
    pub lanczos: LanczosParams,
    /// A profile that replaces `schedule` (e.g. a table from the model file).
    pub profile: Option<Profile>,
    /// Points `s = 0, 1/(m−1), …, 1` at which the spectrum along the path is computed
    /// (0 = no path scan; the local schedule needs ≥ 3 and uses at least 21).
    pub gap_points: usize,
}

/// The buffers a [`Preparer`] on `n` qubits holds at its peak with `settings`: the pencil's
/// diagonals, the eigensolver of the reference levels (complex, the conservative case), the
/// start, target, evolving and work states, and the Krylov basis.
pub fn prepare_memory(n: usize, settings: &PrepareSettings) -> crate::state::MemoryPlan {
    use crate::state::memory::state_bytes;
    let vec = state_bytes(n, 16);
    let mut plan = crate::state::MemoryPlan::part("adiabatic preparation");
    let lanczos = LanczosParams {
        k: settings.eigen + 1,
        gap: true,
        ..settings.lanczos.clone()
    };
    plan.add_n("pencil diagonals", 3, vec)
        .extend(&crate::linalg::lanczos_memory(n, 16, &lanczos))
        .add_n("start, reference, evolving and work states", 5, vec)
        .extend(&super::krylov_memory(n, &settings.krylov));
    plan
}

impl Default for PrepareSettings {
    fn default() -> Self {
        Self {
            method: Method::Magnus,
            steps: 100,
            eigen: 0,
            schedule: ScheduleKind::Linear,
            krylov: KrylovParams::default(),
            lanczos: LanczosParams {
                tol: 1e-9,
                ..LanczosParams::default()
            },
            gap_points: 21,
            profile: None,
        }
    }
}

/// The spectrum near the followed level at one point of the path.
#[derive(Clone, Debug, Serialize)]
pub struct PathPoint {
    /// Interpolation parameter.
    pub s: f64,
    /// The lowest `eigen + 3` energies of `H(s)`.
    pub energies: Vec<f64>,
    /// Distance from the followed level to its nearest computed neighbour.
    pub gap: f64,
    /// Distance to the nearest computed level coupled to the followed one by `∂H/∂s`
    /// (`|⟨j|∂_sH|k⟩| > 1e-8 ‖∂_sH‖`): levels in another symmetry sector cannot be reached
    /// and do not limit the sweep. `None` if no computed level is coupled.
    pub coupled_gap: Option<f64>,
    /// `max_j |⟨j|∂_sH|k⟩| / (E_j − E_k)²` over coupled levels: the adiabatic-theorem time
    /// scale at this `s`.
    pub adiabatic_time: Option<f64>,
}

/// The path scan: spectrum at sampled `s` with the minimal gaps and where they occur.
#[derive(Clone, Debug, Serialize)]
pub struct PathScan {
    /// One entry per sampled `s`.
    pub points: Vec<PathPoint>,
    /// Smallest [`PathPoint::gap`].
    pub min_gap: f64,
    /// Where it occurs.
    pub min_gap_s: f64,
    /// Smallest [`PathPoint::coupled_gap`] (if any level is coupled).
    pub min_coupled_gap: Option<f64>,
    /// Where it occurs.
    pub min_coupled_gap_s: Option<f64>,
    /// Largest [`PathPoint::adiabatic_time`]: sweeps much longer than this are adiabatic.
    pub adiabatic_time: Option<f64>,
}

/// How close a prepared state is to the target's eigenstates.
#[derive(Clone, Debug, Serialize)]
pub struct Verification {
    /// Projection onto the eigenspace of the requested level (its degenerate partners among
    /// the computed levels included).
    pub fidelity: f64,
    /// `⟨ψ|H_target|ψ⟩`.
    pub energy: f64,
    /// The exact energy of the requested level (Lanczos).
    pub target_energy: f64,
    /// `energy − target_energy`.
    pub energy_error: f64,
    /// `‖Hψ − ⟨H⟩ψ‖`: zero exactly for an eigenstate, whichever.
    pub residual: f64,
    /// The computed level with the largest overlap (a level crossing may lead elsewhere).
    pub level: usize,
    /// `|⟨ψ_level|ψ⟩|²`.
    pub level_fidelity: f64,
}

/// One preparation: the verification plus cost and checks.
#[derive(Clone, Debug, Serialize)]
pub struct Prepared {
    /// Sweep time `T`.
    pub time: f64,
    /// Verification against the target.
    #[serde(flatten)]
    pub verification: Verification,
    /// Counters and unitarity check of the propagation.
    pub propagation: Propagation,
    /// Wall time of the propagation alone.
    pub seconds: f64,
}

/// A reusable preparation of one eigenstate of `H_target` from one of `H_start`: holds the
/// start state, the target spectrum, the pencil and the Krylov workspace, so a scan over `T`
/// pays for them once.
pub struct Preparer {
    start: PauliSum,
    target: PauliSum,
    settings: PrepareSettings,
    profile: Profile,
    pencil: Pencil,
    krylov: Option<Krylov>,
    target_op: XMaskOperator,
    psi0: Vec<C64>,
    start_energy: f64,
    spectrum: AnySpectrum,
    path: Option<PathScan>,
    scratch: Vec<C64>,
}

impl Preparer {
    /// Sets up a preparation (`start = None` means `−Σ X_i`): solves `H_start` for the start
    /// state (exactly `|+…+⟩` for the default ground state), `H_target` for the reference
    /// levels `0..=eigen+1`, and, if asked or needed by the local schedule, scans the path.
    ///
    /// # Errors
    /// Solver and memory errors; [`AdiabaticError::DegenerateStart`] if the followed level of
    /// `H_start` is degenerate (the start state would be ambiguous);
    /// [`AdiabaticError::QubitMismatch`], [`AdiabaticError::NotHermitian`].
    pub fn new(
        start: Option<PauliSum>,
        target: PauliSum,
        settings: PrepareSettings,
    ) -> Result<Self, AdiabaticError> {
        let n = target.qubits();
        let default_start = start.is_none();
        let start = start.unwrap_or_else(|| transverse_field(n));
        // Validates qubits and Hermiticity once (the time is a placeholder).
        Sweep::new(start.clone(), target.clone(), 1.0, Profile::Linear)?;
        if settings.steps == 0 {
            return Err(AdiabaticError::BadSteps);
        }
        let dim = 1usize << n;
        let k_ref = (settings.eigen + 2).min(dim);
        if settings.eigen >= dim {
            return Err(AdiabaticError::BadLevel {
                eigen: settings.eigen,
                dim,
            });
        }
        let mut pencil = Pencil::new(&start, &target)?;
        // Start state.
        let (psi0, start_energy) = if default_start && settings.eigen == 0 {
            memory::check_alloc(dim * 16, "start state")?;
            let amp = C64::new((dim as f64).powf(-0.5), 0.0);
            (vec![amp; dim], -(n as f64))
        } else {
            pencil.set_weights(1.0, 0.0);
            let params = LanczosParams {
                k: (settings.eigen + 1).min(dim),
                gap: settings.eigen + 1 < dim,
                ..settings.lanczos.clone()
            };
            let sp = eigenpairs(pencil.operator(), &params, None)?;
            let e = sp.energies();
            let k = settings.eigen;
            let below = if k > 0 {
                e[k] - e[k - 1]
            } else {
                f64::INFINITY
            };
            let above = sp.next_energy().map_or(f64::INFINITY, |x| x - e[k]);
            if below.min(above) < 1e-8 * e[k].abs().max(1.0) {
                return Err(AdiabaticError::DegenerateStart {
                    eigen: k,
                    energy: e[k],
                    gap: below.min(above),
                });
            }
            (sp.vector_c64(k), e[k])
        };
        let target_op = XMaskOperator::new(&target)?;
        let params = LanczosParams {
            k: k_ref,
            gap: false,
            ..settings.lanczos.clone()
        };
        let spectrum = eigenpairs(&target_op, &params, None)?;
        let krylov = match settings.method {
            Method::Trotter { .. } => None,
            _ => Some(Krylov::new(dim, settings.krylov)?),
        };
        memory::check_alloc(dim * 16, "residual workspace")?;
        let mut me = Self {
            start,
            target,
            profile: Profile::Linear,
            pencil,
            krylov,
            target_op,
            psi0,
            start_energy,
            spectrum,
            path: None,
            scratch: memory::zeroed(dim),
            settings,
        };
        let points = match me.settings.schedule {
            ScheduleKind::Local => me.settings.gap_points.max(21),
            _ => me.settings.gap_points,
        };
        if points >= 2 {
            me.path = Some(me.scan_path(points)?);
        }
        me.profile = match (&me.settings.profile, me.settings.schedule) {
            (Some(p), _) => p.clone(),
            (None, ScheduleKind::Linear) => Profile::Linear,
            (None, ScheduleKind::Smooth) => Profile::Smooth,
            (None, ScheduleKind::Local) => {
                let scan = me.path.as_ref().ok_or(AdiabaticError::BadSteps)?;
                let samples: Vec<(f64, f64)> = scan
                    .points
                    .iter()
                    .map(|p| (p.s, p.coupled_gap.unwrap_or(p.gap)))
                    .collect();
                local_profile(&samples)?
            }
        };
        Ok(me)
    }

    /// The path scan, if one was made.
    pub fn path(&self) -> Option<&PathScan> {
        self.path.as_ref()
    }

    /// The schedule profile in use.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The energy of the start state under `H_start`.
    pub fn start_energy(&self) -> f64 {
        self.start_energy
    }

    /// The reference spectrum of `H_target` (levels `0..=eigen+1`).
    pub fn target_spectrum(&self) -> &AnySpectrum {
        &self.spectrum
    }

    /// The settings.
    pub fn settings(&self) -> &PrepareSettings {
        &self.settings
    }

    /// The sweep of total time `time` with this preparation's Hamiltonians and profile.
    ///
    /// # Errors
    /// [`AdiabaticError::BadTime`] unless `time` is positive and finite.
    pub fn sweep(&self, time: f64) -> Result<Sweep, AdiabaticError> {
        Sweep::new(
            self.start.clone(),
            self.target.clone(),
            time,
            self.profile.clone(),
        )
    }

    /// Prepares the state with a sweep of time `time` and verifies it; returns the result and
    /// the state.
    ///
    /// # Errors
    /// [`AdiabaticError::BadTime`]; the propagator's errors.
    pub fn run(&mut self, time: f64) -> Result<(Prepared, Vec<C64>), AdiabaticError> {
        let sweep = self.sweep(time)?;
        let mut psi = self.psi0.clone();
        let t0 = Instant::now();
        // Each sweep starts its adaptive step from scratch, not from the step length the last
        // sweep ended with: a sweep's result then depends on its time alone, so a scan over
        // times split over ranks gives the same numbers as one process running them in turn.
        if let Some(k) = &mut self.krylov {
            let dim = self.psi0.len();
            let params = k.params();
            // Drop the old basis first: the memory peak stays one basis.
            *k = Krylov::new(2, params)?;
            *k = Krylov::new(dim, params)?;
        }
        let propagation = match &mut self.krylov {
            Some(k) => propagate(
                &sweep,
                self.settings.method,
                self.settings.steps,
                &mut self.pencil,
                k,
                &mut psi,
            )?,
            None => {
                // Trotter needs no Krylov workspace; a 2-vector dummy satisfies the signature.
                let mut dummy = Krylov::new(2, KrylovParams::default())?;
                propagate(
                    &sweep,
                    self.settings.method,
                    self.settings.steps,
                    &mut self.pencil,
                    &mut dummy,
                    &mut psi,
                )?
            }
        };
        let seconds = t0.elapsed().as_secs_f64();
        let verification = self.verify(&psi);
        Ok((
            Prepared {
                time,
                verification,
                propagation,
                seconds,
            },
            psi,
        ))
    }

    /// Verifies a (normalised) state against the target spectrum.
    pub fn verify(&mut self, psi: &[C64]) -> Verification {
        let overlaps: Vec<f64> = (0..self.spectrum.energies().len())
            .map(|j| dot(&self.spectrum.vector_c64(j), psi).norm_sqr())
            .collect();
        self.target_op.apply_into(psi, &mut self.scratch);
        verification(
            self.spectrum.energies(),
            &overlaps,
            self.settings.eigen,
            [
                dot(psi, psi).re,
                dot(psi, &self.scratch).re,
                dot(&self.scratch, &self.scratch).re,
            ],
        )
    }

    /// The spectrum of `H(s)` at `points` equally spaced `s`, with gaps and couplings of the
    /// followed level (warm-started from the previous point).
    fn scan_path(&mut self, points: usize) -> Result<PathScan, AdiabaticError> {
        let dim = self.psi0.len();
        let k = self.settings.eigen;
        let mut out = Vec::with_capacity(points);
        let mut warm: Option<Vec<C64>> = None;
        // ‖∂_sH‖ scale for the coupling threshold.
        let dh_scale = {
            let mut d = self.target.clone();
            d.add_sum(&self.start, C64::new(-1.0, 0.0));
            d.norm_bound().max(1e-300)
        };
        let n = self.target.qubits();
        for i in 0..points {
            let s = i as f64 / (points - 1) as f64;
            // First the levels next to k; if none of them is coupled (symmetry: e.g. the N
            // single flips above |+…+⟩ are odd under ∏X), once more with N more levels, enough
            // to pass a band of N degenerate uncoupled states.
            let (narrow, wide) = ((k + 3).min(dim), (k + 3 + n).min(dim).min(k + 35));
            let mut point = self.levels_at(s, k, narrow, warm.as_deref(), dh_scale)?;
            if point.0.coupled_gap.is_none() && wide > narrow {
                point = self.levels_at(s, k, wide, warm.as_deref(), dh_scale)?;
            }
            let (p, vk) = point;
            warm = Some(vk);
            out.push(p);
        }
        let (min_gap_s, min_gap) = out
            .iter()
            .map(|p| (p.s, p.gap))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or((0.0, f64::INFINITY));
        let coupled = out
            .iter()
            .filter_map(|p| p.coupled_gap.map(|g| (p.s, g)))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        let adiabatic_time = out
            .iter()
            .filter_map(|p| p.adiabatic_time)
            .max_by(|a, b| a.total_cmp(b));
        Ok(PathScan {
            points: out,
            min_gap,
            min_gap_s,
            min_coupled_gap: coupled.map(|c| c.1),
            min_coupled_gap_s: coupled.map(|c| c.0),
            adiabatic_time,
        })
    }
    /// The lowest `levels` levels of `H(s)` with the gap and couplings of level `k`; returns
    /// the point and level `k`'s vector (the next point's warm start).
    fn levels_at(
        &mut self,
        s: f64,
        k: usize,
        levels: usize,
        warm: Option<&[C64]>,
        dh_scale: f64,
    ) -> Result<(PathPoint, Vec<C64>), AdiabaticError> {
        self.pencil.set_weights(1.0 - s, s);
        let params = LanczosParams {
            k: levels,
            gap: false,
            ..self.settings.lanczos.clone()
        };
        let sp = eigenpairs(self.pencil.operator(), &params, warm)?;
        let e = sp.energies().to_vec();
        let mut gap = f64::INFINITY;
        if k + 1 < e.len() {
            gap = gap.min(e[k + 1] - e[k]);
        }
        if k > 0 {
            gap = gap.min(e[k] - e[k - 1]);
        }
        let vk = sp.vector_c64(k);
        // ∂_sH = H_target − H_start.
        self.pencil.set_weights(-1.0, 1.0);
        self.pencil.operator().apply_into(&vk, &mut self.scratch);
        let mut coupled_gap: Option<f64> = None;
        let mut adiabatic_time: Option<f64> = None;
        for (j, &ej) in e.iter().enumerate() {
            if j == k {
                continue;
            }
            let c = dot(&sp.vector_c64(j), &self.scratch).norm();
            if c > 1e-8 * dh_scale {
                let g = (ej - e[k]).abs();
                coupled_gap = Some(coupled_gap.map_or(g, |x: f64| x.min(g)));
                let ta = c / (g * g).max(1e-300);
                adiabatic_time = Some(adiabatic_time.map_or(ta, |x: f64| x.max(ta)));
            }
        }
        Ok((
            PathPoint {
                s,
                energies: e,
                gap,
                coupled_gap,
                adiabatic_time,
            },
            vk,
        ))
    }
}

/// The [`Verification`] of a state `ψ` against the target levels `energies` (followed level
/// `k`) from the numbers it needs: `overlaps[j] = |⟨ψ_j|ψ⟩|²` and `[⟨ψ|ψ⟩, Re⟨ψ|Hψ⟩, ‖Hψ‖²]`
/// with `H = H_target` — however they were summed (one process, or over the ranks that each
/// hold a block of the vectors).
pub fn verification(energies: &[f64], overlaps: &[f64], k: usize, sums: [f64; 3]) -> Verification {
    let e = energies;
    let [nrm2, e_psi, h2] = sums;
    let tol = 1e-9 * e[k].abs().max(1.0);
    let fidelity = (0..e.len())
        .filter(|&j| (e[j] - e[k]).abs() <= tol)
        .map(|j| overlaps[j])
        .sum();
    let (level, level_fidelity) = overlaps
        .iter()
        .copied()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((0, 0.0));
    let energy = e_psi / nrm2;
    // ‖Hψ − Eψ‖² = ‖Hψ‖² − 2E Re⟨ψ|Hψ⟩ + E²‖ψ‖².
    let residual = (h2 - energy * energy * nrm2).max(0.0).sqrt() / nrm2.sqrt();
    Verification {
        fidelity,
        energy,
        target_energy: e[k],
        energy_error: energy - e[k],
        residual,
        level,
        level_fidelity,
    }
}

/// Least-squares slope of `log(1 − F)` against `log T` over the runs with infidelity above
/// `1e-12` (round-off): the diabatic error's power law, to compare with the adiabatic theorem
/// (`T⁻²` for the linear ramp, `T⁻⁶` for the smooth one, until the exponentially small regime).
pub fn infidelity_slope(runs: &[Prepared]) -> Option<f64> {
    let pts: Vec<(f64, f64)> = runs
        .iter()
        .filter(|r| 1.0 - r.verification.fidelity > 1e-12)
        .map(|r| (r.time.ln(), (1.0 - r.verification.fidelity).ln()))
        .collect();
    if pts.len() < 2 {
        return None;
    }
    let m = pts.len() as f64;
    let (sx, sy) = pts.iter().fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    let (mx, my) = (sx / m, sy / m);
    let (sxy, sxx) = pts.iter().fold((0.0, 0.0), |(a, b), (x, y)| {
        (a + (x - mx) * (y - my), b + (x - mx) * (x - mx))
    });
    (sxx > 0.0).then(|| sxy / sxx)
}
