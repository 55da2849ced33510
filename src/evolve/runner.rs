//! Evolving a model's state in time (`qep evolve`): the state vector under the Schrödinger
//! equation by the Krylov propagator, the density matrix under the Lindblad equation, or the
//! Lindblad equation unravelled into quantum trajectories, chosen by [`EvolveSettings`].

use std::collections::BTreeMap;

use serde::Serialize;

use crate::adiabatic::{evolve_schrodinger, krylov_memory, KrylovParams};
use crate::hamiltonian::Model;
use crate::linalg::{eigenpairs, eigenpairs_memory, operator_memory, LanczosParams};
use crate::operator::XMaskOperator;
use crate::pauli::PauliSum;
use crate::report::{OnProgress, Progress};
use crate::state::{memory, MemoryPlan};
use crate::{Error, C64};

use super::setup::{observables, StartState};
use super::{
    evolve_lindblad_with_progress, evolve_trajectories_with_progress, jump_list, lindblad_memory,
    trajectories_memory, DensityMatrix, EvolveError, Options, TrajectoryOptions,
};

/// Stored pair states above which the trajectory purity is not estimated.
const PURITY_MAX_BYTES: u128 = 1 << 30;

/// How [`evolve`] integrates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EvolveMethod {
    /// The state vector under the Schrödinger equation (Krylov propagator; models without
    /// jumps).
    Krylov,
    /// The density matrix under the Lindblad equation (exact).
    Rho,
    /// Quantum trajectories (Monte Carlo wave function): means ± standard errors.
    Trajectories,
}

/// Settings of [`evolve`].
#[derive(Clone, Debug)]
pub struct EvolveSettings {
    /// The method; `None`: Krylov for a model without jumps, else the density matrix.
    pub method: Option<EvolveMethod>,
    /// Start state: `plus`, `zero`, `ground` or `basis:B`.
    pub initial: String,
    /// Output times (non-decreasing, ≥ 0).
    pub times: Vec<f64>,
    /// Pauli labels of the observables recorded.
    pub observe: Vec<String>,
    /// Krylov error per unit time (Krylov).
    pub krylov_tol: f64,
    /// Trajectories run (trajectories).
    pub trajectories: usize,
    /// Seed of the trajectories: trajectory `j` uses ChaCha8 stream `j`.
    pub seed: u64,
    /// Absolute tolerance (default: 1e-10 for rho, the trajectories' own default for them).
    pub atol: Option<f64>,
    /// Relative tolerance (default: 1e-8 for rho, the trajectories' own default for them).
    pub rtol: Option<f64>,
    /// Rho: check the smallest eigenvalue of ρ at some output times.
    pub positivity: bool,
}

impl Default for EvolveSettings {
    fn default() -> Self {
        Self {
            method: None,
            initial: "plus".into(),
            times: vec![1.0],
            observe: vec!["Z0".into()],
            krylov_tol: 1e-10,
            trajectories: 100,
            seed: 0,
            atol: None,
            rtol: None,
            positivity: true,
        }
    }
}

/// The density matrix's record (the JSON of `qep evolve --method rho`).
#[derive(Clone, Debug, Serialize)]
pub struct RhoEvolution {
    /// Qubits.
    pub qubits: usize,
    /// `rho`.
    pub method: &'static str,
    /// Jump operators.
    pub jumps: usize,
    /// Output times.
    pub times: Vec<f64>,
    /// `Tr ρ(t) A` per label.
    pub observables: BTreeMap<String, Vec<f64>>,
    /// `Tr ρ²`.
    pub purity: Vec<f64>,
    /// `Tr ρ`.
    pub trace: Vec<f64>,
    /// The smallest eigenvalue of ρ where it was computed, `null` at the other times.
    pub min_eigenvalue: Option<Vec<Option<f64>>>,
    /// Integrator steps.
    pub steps: usize,
    /// Rejected integrator steps.
    pub rejected_steps: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// The trajectories' record (the JSON of `qep evolve --method trajectories`): the keys of the
/// density matrix's where they apply, plus the statistics of the trajectories.
#[derive(Clone, Debug, Serialize)]
pub struct TrajectoriesEvolution {
    /// Qubits.
    pub qubits: usize,
    /// `trajectories`.
    pub method: &'static str,
    /// Trajectories run (1 for a model without jumps: the evolution is deterministic).
    pub trajectories: usize,
    /// Mean number of jumps per trajectory.
    pub jumps: f64,
    /// Number of jump operators.
    pub jump_operators: usize,
    /// Total jumps per jump operator.
    pub jumps_per_operator: Vec<u64>,
    /// Output times.
    pub times: Vec<f64>,
    /// Means per label.
    pub observables: BTreeMap<String, Vec<f64>>,
    /// Standard errors of the means per label.
    pub std_errors: BTreeMap<String, Vec<f64>>,
    /// Mean of |⟨ψ_a|ψ_b⟩|² over disjoint pairs (unbiased for Tr ρ²), or null.
    pub purity: Option<Vec<f64>>,
    /// Its standard errors.
    pub purity_std_errors: Option<Vec<f64>>,
    /// Integrator steps.
    pub steps: usize,
    /// Rejected integrator steps.
    pub rejected_steps: usize,
    /// Right-hand-side evaluations.
    pub rhs_evals: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// The state vector's record (the JSON of `qep evolve --method krylov`).
#[derive(Clone, Debug, Serialize)]
pub struct KrylovEvolution {
    /// Qubits.
    pub qubits: usize,
    /// `krylov`.
    pub method: &'static str,
    /// Output times.
    pub times: Vec<f64>,
    /// `⟨ψ(t)|A|ψ(t)⟩` per label.
    pub observables: BTreeMap<String, Vec<f64>>,
    /// 1 at every time (a pure state).
    pub purity: Vec<f64>,
    /// `‖ψ(t)‖ − ‖ψ(0)‖`.
    pub norm_error: Vec<f64>,
    /// `H·ψ` products.
    pub matvecs: usize,
    /// Krylov sub-steps.
    pub substeps: usize,
    /// The propagator's error estimate.
    pub error_estimate: f64,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// The result of [`evolve`], one record per method (serialised without a tag).
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Evolution {
    /// The density matrix's.
    Rho(RhoEvolution),
    /// The trajectories'.
    Trajectories(TrajectoriesEvolution),
    /// The state vector's.
    Krylov(KrylovEvolution),
}

impl Evolution {
    /// The seed (trajectories only) and the settings, for provenance.
    pub fn provenance(&self, s: &EvolveSettings) -> (Option<u64>, serde_json::Value) {
        match self {
            Evolution::Rho(_) => (
                None,
                serde_json::json!({"initial": s.initial, "method": "rho",
                    "atol": s.atol.unwrap_or(1e-10), "rtol": s.rtol.unwrap_or(1e-8)}),
            ),
            Evolution::Trajectories(_) => {
                let d = TrajectoryOptions::default();
                (
                    Some(s.seed),
                    serde_json::json!({
                        "initial": s.initial,
                        "method": "trajectories",
                        "trajectories": s.trajectories,
                        "atol": s.atol.unwrap_or(d.atol),
                        "rtol": s.rtol.unwrap_or(d.rtol),
                    }),
                )
            }
            Evolution::Krylov(_) => (
                None,
                serde_json::json!({"initial": s.initial, "method": "krylov",
                    "krylov": krylov_params(s)}),
            ),
        }
    }
}

fn krylov_params(s: &EvolveSettings) -> KrylovParams {
    KrylovParams {
        tol: s.krylov_tol,
        ..KrylovParams::default()
    }
}

/// Whether the trajectories keep the pair states for the purity: one per output time per
/// worker thread, up to [`PURITY_MAX_BYTES`].
fn keeps_purity(n: usize, times: usize) -> bool {
    memory::state_bytes(n, 16)
        .saturating_mul(times as u128)
        .saturating_mul(rayon::current_num_threads() as u128)
        <= PURITY_MAX_BYTES
}

/// Every buffer [`evolve`] holds at its peak, by method: the start state (and the ground
/// state's eigensolver for `ground`), then the Krylov propagator, the Lindblad integrator's
/// density matrices or the trajectories' per-worker workspaces.
fn evolve_memory(
    s: &EvolveSettings,
    n: usize,
    h: &PauliSum,
    jumps: usize,
    method: EvolveMethod,
) -> MemoryPlan {
    let vec = memory::state_bytes(n, 16);
    let mut plan = MemoryPlan::new(match method {
        EvolveMethod::Krylov => "qep evolve --method krylov",
        EvolveMethod::Rho => "qep evolve --method rho",
        EvolveMethod::Trajectories => "qep evolve --method trajectories",
    });
    plan.add("initial state", vec);
    if s.initial == "ground" {
        plan.extend(&operator_memory(h))
            .extend(&eigenpairs_memory(h, &LanczosParams::default()));
    }
    match method {
        EvolveMethod::Krylov => {
            plan.add("evolving state", vec)
                .extend(&operator_memory(h))
                .extend(&krylov_memory(n, &krylov_params(s)));
        }
        EvolveMethod::Rho => {
            plan.extend(&operator_memory(h)).extend(&lindblad_memory(n));
        }
        EvolveMethod::Trajectories => {
            plan.extend(&operator_memory(h))
                .extend(&trajectories_memory(
                    n,
                    jumps,
                    s.trajectories,
                    s.times.len(),
                    keeps_purity(n, s.times.len()),
                    rayon::current_num_threads(),
                ));
        }
    }
    plan
}

/// Evolves the model's start state (its Hamiltonian at its own parameters, no example) to the
/// output times and records the observables there: by the Krylov propagator (pure states,
/// models without jumps), the Lindblad equation on the density matrix (with trace, purity and
/// the smallest eigenvalue as monitors) or quantum trajectories (means ± standard errors).
/// The memory plan is checked before any work. Reports progress to `progress`.
///
/// # Errors
/// [`EvolveError::BadStartState`], [`EvolveError::BadObservable`],
/// [`EvolveError::KrylovWithJumps`], the memory plan; the integrators' own errors.
///
/// # Examples
/// ```
/// use qep::evolve::runner::{evolve, Evolution, EvolveSettings};
/// // One qubit driven by 0.65 X from |0⟩: ⟨Z⟩ = cos 1.3t.
/// let model = qep::hamiltonian::parse_str(
///     "qubits: 1\nterms:\n  - {pauli: X0, coeff: 0.65}\n",
///     std::path::Path::new("rabi.yaml"),
/// )?;
/// let settings = EvolveSettings {
///     initial: "zero".into(),
///     times: vec![1.0],
///     ..EvolveSettings::default()
/// };
/// let Evolution::Krylov(r) = evolve(&model, &settings, &qep::report::no_progress)? else {
///     unreachable!("a model without jumps evolves by Krylov")
/// };
/// assert!((r.observables["Z0"][0] - 1.3f64.cos()).abs() < 1e-8);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn evolve(
    model: &Model,
    settings: &EvolveSettings,
    progress: OnProgress<'_>,
) -> Result<Evolution, Error> {
    let t0 = std::time::Instant::now();
    let s = settings;
    let n = model.qubits;
    let h = model.hamiltonian(&model.theta(), None, 0.0)?;
    let jumps = jump_list(&model.settings.jumps);
    let method = s.method.unwrap_or(if jumps.is_empty() {
        EvolveMethod::Krylov
    } else {
        EvolveMethod::Rho
    });
    evolve_memory(s, n, &h, jumps.len(), method).check()?;
    let start = StartState::parse(
        &s.initial,
        n,
        &[StartState::Plus, StartState::Zero, StartState::Ground],
    )?;
    let psi0: Vec<C64> = match start.pure(n)? {
        Some(psi) => psi,
        None => {
            let op = XMaskOperator::new(&h)?;
            eigenpairs(&op, &LanczosParams::default(), None)?.vector_c64(0)
        }
    };
    let observed = observables(&s.observe, n)?;
    let by_label = |v: &[Vec<f64>]| -> BTreeMap<String, Vec<f64>> {
        s.observe.iter().cloned().zip(v.iter().cloned()).collect()
    };
    match method {
        EvolveMethod::Krylov => {
            if !jumps.is_empty() {
                return Err(EvolveError::KrylovWithJumps { jumps: jumps.len() }.into());
            }
            progress(Progress::Phase {
                what: format!(
                    "Schrödinger evolution of {n} qubits to t = {}",
                    s.times.last().copied().unwrap_or(0.0)
                ),
            });
            let r = evolve_schrodinger(&h, &psi0, &s.times, &observed, krylov_params(s))?;
            Ok(Evolution::Krylov(KrylovEvolution {
                qubits: n,
                method: "krylov",
                times: r.times.clone(),
                observables: by_label(&r.observables),
                purity: vec![1.0; r.times.len()],
                norm_error: r.norm_error.clone(),
                matvecs: r.krylov.matvecs,
                substeps: r.krylov.substeps,
                error_estimate: r.krylov.error_estimate,
                seconds: t0.elapsed().as_secs_f64(),
            }))
        }
        EvolveMethod::Rho => {
            let rho0 = DensityMatrix::from_pure(&psi0)?;
            let opts = Options {
                atol: s.atol.unwrap_or(1e-10),
                rtol: s.rtol.unwrap_or(1e-8),
                positivity: s.positivity,
                ..Options::default()
            };
            // Progress in thousandths of the final time, so that a display knows the time left.
            let t_end = s.times.last().copied().unwrap_or(0.0);
            let what = format!("Lindblad evolution of {n} qubits to t = {t_end}");
            let tr = evolve_lindblad_with_progress(
                &h,
                &jumps,
                &rho0,
                &s.times,
                &observed,
                &opts,
                &|t, end| {
                    if end > 0.0 {
                        progress(Progress::Steps {
                            what: what.clone(),
                            done: (1000.0 * t / end) as u64,
                            total: 1000,
                            unit: "‰ of t",
                        })
                    }
                },
            )?;
            Ok(Evolution::Rho(RhoEvolution {
                qubits: n,
                method: "rho",
                jumps: jumps.len(),
                times: tr.times.clone(),
                observables: by_label(&tr.observables),
                purity: tr.purity.clone(),
                trace: tr.trace.clone(),
                // The integrator marks the times without an eigensolve by NaN: not numbers,
                // so `null`.
                min_eigenvalue: tr
                    .min_eigenvalue
                    .as_ref()
                    .map(|v| v.iter().map(|&x| (!x.is_nan()).then_some(x)).collect()),
                steps: tr.stats.steps,
                rejected_steps: tr.stats.rejected,
                seconds: t0.elapsed().as_secs_f64(),
            }))
        }
        EvolveMethod::Trajectories => {
            let defaults = TrajectoryOptions::default();
            let opts = TrajectoryOptions {
                ntraj: s.trajectories,
                seed: s.seed,
                atol: s.atol.unwrap_or(defaults.atol),
                rtol: s.rtol.unwrap_or(defaults.rtol),
                purity: keeps_purity(n, s.times.len()),
                ..defaults
            };
            let deterministic = jumps.iter().all(|(_, g)| *g == 0.0);
            let total = if deterministic {
                1
            } else {
                s.trajectories as u64
            };
            let done = std::sync::atomic::AtomicU64::new(0);
            let tr = evolve_trajectories_with_progress(
                &h,
                &jumps,
                &psi0,
                &s.times,
                &observed,
                &opts,
                &|| {
                    let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    progress(Progress::Steps {
                        what: String::new(),
                        done: d,
                        total,
                        unit: "trajectories",
                    })
                },
            )?;
            Ok(Evolution::Trajectories(TrajectoriesEvolution {
                qubits: n,
                method: "trajectories",
                trajectories: tr.ntraj,
                jumps: tr.jumps_mean,
                jump_operators: jumps.len(),
                jumps_per_operator: tr.jumps_per_channel.clone(),
                times: tr.times.clone(),
                observables: by_label(&tr.observables),
                std_errors: by_label(&tr.std_errors),
                purity: tr.purity.clone(),
                purity_std_errors: tr.purity_std_errors.clone(),
                steps: tr.stats.steps,
                rejected_steps: tr.stats.rejected,
                rhs_evals: tr.stats.rhs_evals,
                seconds: t0.elapsed().as_secs_f64(),
            }))
        }
    }
}
