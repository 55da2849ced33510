//! Preparing the Gibbs state of a model's free network and measuring how close a method gets
//! (`qep thermalize`): algorithmic cooling on density matrices ([`super::cool`]), the same
//! protocol unravelled into pure-state trajectories ([`super::cool_trajectories`]), or the
//! Davies generator ([`super::Davies`]); every step is compared with the exact dense Gibbs
//! state ([`super::GibbsDensity`]).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::adiabatic::KrylovParams;
use crate::hamiltonian::Model;
use crate::report::svg::{render, render_png, Panel, PlotError, Series as Plot};
use crate::report::{OnProgress, Progress};
use crate::state::StateError;
use crate::state::{memory, MemoryPlan};
use crate::C64;

use super::setup::{observables, StartState};
use super::{
    check_cooling_size, check_davies_size, cool, cool_trajectories, cooling_memory, davies_memory,
    gibbs_memory, AncillaStats, CoolingParams, CoolingTrajectoryParams, Davies, DaviesParams,
    DensityMatrix, EvolveError, GibbsDensity, InitialEnsemble, Options, Relaxation,
};

/// How [`thermalize`] prepares the Gibbs state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ThermalizeMethod {
    /// Collisions with thermal ancillas on the density matrix ([`super::cool`]).
    Cooling,
    /// The Davies generator's relaxation ([`super::Davies`]).
    Davies,
    /// The cooling protocol as pure-state trajectories ([`super::cool_trajectories`]).
    Trajectories,
}

impl ThermalizeMethod {
    /// The name used in results (`cooling`, `davies`, `trajectories`).
    pub fn name(self) -> &'static str {
        match self {
            ThermalizeMethod::Cooling => "cooling",
            ThermalizeMethod::Davies => "davies",
            ThermalizeMethod::Trajectories => "trajectories",
        }
    }
}

/// Settings of [`thermalize`]; serialised as the provenance of its result.
#[derive(Clone, Debug, Serialize)]
pub struct ThermalizeSettings {
    /// The preparation method.
    pub method: ThermalizeMethod,
    /// Temperature `T`; `None` takes the model's `temperature:`.
    pub temperature: Option<f64>,
    /// Cooling rounds, or Davies output times after `t = 0`.
    pub steps: usize,
    /// Start state: `mixed`, `plus`, `zero` or `basis:B`.
    pub initial: String,
    /// Cooling: system–ancilla coupling `g`.
    pub coupling: f64,
    /// Cooling: duration of one collision.
    pub duration: f64,
    /// Cooling: ancillas per collision.
    pub ancillas: usize,
    /// Davies: the rate `γ₀`.
    pub rate: f64,
    /// Davies: time between outputs; `None` spreads the steps over 20 relaxation times.
    pub dt: Option<f64>,
    /// Trajectories: how many.
    pub trajectories: usize,
    /// Trajectories: the seed.
    pub seed: u64,
    /// Pauli labels of the observables recorded besides `⟨H⟩` and the cost.
    #[serde(skip)]
    pub observe: Vec<String>,
}

impl Default for ThermalizeSettings {
    fn default() -> Self {
        let cooling = CoolingParams::default();
        Self {
            method: ThermalizeMethod::Cooling,
            temperature: None,
            steps: 30,
            initial: "mixed".into(),
            coupling: cooling.coupling,
            duration: cooling.duration,
            ancillas: cooling.ancillas,
            rate: DaviesParams::default().rate,
            dt: None,
            trajectories: CoolingTrajectoryParams::default().trajectories,
            seed: 0,
            observe: Vec::new(),
        }
    }
}

/// One recorded step of [`Thermalization`].
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    /// The round (cooling, trajectories) or time (Davies).
    pub step: f64,
    /// Trace distance to the exact Gibbs state; `null` for trajectories on N > 10 qubits (no
    /// mean state is rebuilt).
    pub trace_distance: Option<f64>,
    /// `⟨H⟩`.
    pub energy: f64,
    /// `⟨C⟩` of the first example's targets, if the model has one.
    pub cost: Option<f64>,
    /// The observables asked for, by label.
    pub observables: BTreeMap<String, f64>,
    /// Trajectories: standard errors of this step's means.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub std_errors: Option<StdErrors>,
}

/// A number for `⟨H⟩`, for `⟨C⟩` (if the model has a cost) and for each observable by label:
/// the exact Gibbs values ([`GibbsValues`]) or the standard errors of trajectory means
/// ([`StdErrors`]).
#[derive(Serialize, Clone, Debug)]
pub struct ThermalValues {
    /// `⟨H⟩` (or its standard error).
    pub energy: f64,
    /// `⟨C⟩` (or its standard error).
    pub cost: Option<f64>,
    /// Each observable, by label (or its standard error).
    pub observables: BTreeMap<String, f64>,
}

/// Standard errors of a trajectory average (`s/√M`).
pub type StdErrors = ThermalValues;

/// Expectations in the exact Gibbs state `e^{−H/T}/Z`.
pub type GibbsValues = ThermalValues;

/// The result of [`thermalize`]: the final state's numbers, the exact Gibbs values and the
/// whole trace (the JSON of `qep thermalize`).
#[derive(Clone, Debug, Serialize)]
pub struct Thermalization {
    /// `cooling`, `davies` or `trajectories`.
    pub method: &'static str,
    /// Qubits of the network.
    pub qubits: usize,
    /// Temperature `T` used.
    pub temperature: f64,
    /// Trace distance of the final state to the exact Gibbs state (trajectories: of the mean
    /// state, `null` above 10 qubits).
    pub trace_distance: Option<f64>,
    /// Final `⟨H⟩`.
    pub energy: f64,
    /// Final `⟨C⟩`.
    pub cost: Option<f64>,
    /// Final observables, by label.
    pub observables: BTreeMap<String, f64>,
    /// Trajectories: standard errors of the final `energy`, `cost`, `observables`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub std_errors: Option<StdErrors>,
    /// The exact Gibbs state's values.
    pub gibbs: GibbsValues,
    /// `round` (cooling, trajectories) or `time` (davies).
    pub step_unit: &'static str,
    /// Every recorded step, the first being the start state.
    pub trace: Vec<Step>,
    /// Cooling's settings and counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cooling: Option<CoolingInfo>,
    /// Davies's settings and evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub davies: Option<DaviesInfo>,
    /// Trajectories' settings and statistics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trajectories: Option<TrajectoriesInfo>,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// The settings, with the temperature resolved (for provenance).
    #[serde(skip)]
    pub settings: ThermalizeSettings,
}

/// The cooling protocol's settings and counts.
#[derive(Clone, Debug, Serialize)]
pub struct CoolingInfo {
    /// Coupling `g`.
    pub coupling: f64,
    /// Duration of one collision.
    pub duration: f64,
    /// Ancillas per collision.
    pub ancillas: usize,
    /// Ancilla frequencies cycled in each round.
    pub frequencies: Vec<f64>,
    /// Collisions performed.
    pub collisions: usize,
}

/// The trajectories' settings and statistics.
#[derive(Clone, Debug, Serialize)]
pub struct TrajectoriesInfo {
    /// Trajectories run.
    pub trajectories: usize,
    /// Their seed.
    pub seed: u64,
    /// Coupling `g`.
    pub coupling: f64,
    /// Duration of one collision.
    pub duration: f64,
    /// Ancillas per collision.
    pub ancillas: usize,
    /// Ancilla frequencies cycled in each round.
    pub frequencies: Vec<f64>,
    /// Collisions per trajectory.
    pub collisions: usize,
    /// `½ min(1, √(d_eff/M))`, `d_eff = 1/Tr ρ_G²`: the order of the trace distance of a mean
    /// of M pure states to the Gibbs state even if they sampled it exactly (null above 10 qubits).
    pub trace_distance_floor: Option<f64>,
    /// Krylov matrix-vector products over all collisions of all trajectories.
    pub matvecs: usize,
    /// Ancilla outcome counts per frequency.
    pub ancilla_outcomes: Vec<AncillaStats>,
}

/// The Davies generator's settings and evidence.
#[derive(Clone, Debug, Serialize)]
pub struct DaviesInfo {
    /// Rate `γ₀`.
    pub rate: f64,
    /// Trace distance of the directly computed fixed point to the Gibbs state.
    pub fixed_point_trace_distance: f64,
    /// Spectral gap of the population sector.
    pub gap: f64,
    /// Time between outputs.
    pub dt: f64,
    /// Integrator steps.
    pub steps: usize,
    /// Rejected integrator steps.
    pub rejected_steps: usize,
}

/// What every method records per step; `observables` ends with the cost if the model has one.
struct Series {
    steps: Vec<f64>,
    trace_distance: Option<Vec<f64>>,
    energy: Vec<f64>,
    observables: Vec<Vec<f64>>,
    /// Trajectories: standard errors of `energy` and `observables`.
    std_errors: Option<(Vec<f64>, Vec<Vec<f64>>)>,
}

impl From<Relaxation> for Series {
    fn from(r: Relaxation) -> Self {
        Self {
            steps: r.steps,
            trace_distance: Some(r.trace_distance),
            energy: r.energy,
            observables: r.observables,
            std_errors: None,
        }
    }
}

/// The method's own record and its details.
type MethodRun = (
    Series,
    Option<CoolingInfo>,
    Option<DaviesInfo>,
    Option<TrajectoriesInfo>,
);

/// Every buffer a run holds at its peak: the exact Gibbs state this command compares with,
/// besides the method's own matrices or trajectory states.
fn thermalize_memory(n: usize, s: &ThermalizeSettings) -> MemoryPlan {
    let mut plan = MemoryPlan::new(match s.method {
        ThermalizeMethod::Cooling => "qep thermalize --method cooling",
        ThermalizeMethod::Davies => "qep thermalize --method davies",
        ThermalizeMethod::Trajectories => "qep thermalize --method trajectories",
    });
    plan.extend(&gibbs_memory(n));
    match s.method {
        ThermalizeMethod::Cooling => {
            plan.extend(&cooling_memory(n, s.ancillas, n));
        }
        ThermalizeMethod::Davies => {
            plan.extend(&davies_memory(n, 3 * n));
        }
        ThermalizeMethod::Trajectories => {
            let k = s.ancillas;
            let workers = rayon::current_num_threads().min(s.trajectories.max(1));
            plan.extend(&gibbs_memory(n))
                .add_n(
                    "trajectory states",
                    s.trajectories,
                    memory::state_bytes(n, 16),
                )
                .add_n(
                    "per-worker collision workspaces (Krylov basis)",
                    workers * (KrylovParams::default().max_dim + 2),
                    memory::state_bytes(n + k, 16),
                );
            if n + k <= super::COOLING_MAX_QUBITS {
                // Dense collision propagators, cached up to their budget, with the freed
                // blocks the allocator keeps between them.
                let cache = super::propagator_cache_bytes(n, k, n, super::DENSE_CACHE_BYTES);
                plan.add(
                    "dense collision propagators (cache and freed blocks)",
                    2 * cache,
                );
            }
        }
    }
    plan
}

/// Prepares the Gibbs state `e^{−H/T}/Z` of the model's free network (the first example's
/// inputs, `β = 0`, Eq. 16) by `settings.method` and records, per step, the trace distance to
/// the exact Gibbs state, `⟨H⟩`, the cost `⟨C⟩` of the first example (Eq. 18) and the
/// observables asked for. Every limit and the whole memory plan are checked before any work
/// (the exact Gibbs state alone is a dense eigensolve that takes minutes at 12 qubits).
/// Reports rounds or output times to `progress`.
///
/// # Errors
/// [`EvolveError::NoTemperature`], [`StateError::TemperatureNotPositive`],
/// [`EvolveError::BadParameter`] (`steps`, `dt`), [`EvolveError::NoTrajectories`],
/// [`EvolveError::BadStartState`], [`EvolveError::BadObservable`], the size limits
/// ([`StateError::TooManyQubits`]) and memory plan ([`StateError::Memory`]), and the
/// methods' own errors.
///
/// # Examples
/// ```
/// use qep::evolve::thermalize::{thermalize, ThermalizeSettings};
/// let model = qep::hamiltonian::parse_str(
///     "qubits: 2\nterms:\n  - {pauli: X0, coeff: -1.0}\n  - {pauli: Z0 Z1, coeff: 0.5}\n",
///     std::path::Path::new("two.yaml"),
/// )?;
/// let settings = ThermalizeSettings {
///     temperature: Some(1.0),
///     steps: 20,
///     ..ThermalizeSettings::default()
/// };
/// let r = thermalize(&model, &settings, &qep::report::no_progress)?;
/// assert!(r.trace_distance.unwrap() < r.trace[0].trace_distance.unwrap());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn thermalize(
    model: &Model,
    settings: &ThermalizeSettings,
    progress: OnProgress<'_>,
) -> Result<Thermalization, EvolveError> {
    let t0 = std::time::Instant::now();
    let s = settings;
    let temperature = s
        .temperature
        .or(model.settings.temperature)
        .ok_or(EvolveError::NoTemperature)?;
    if !(temperature > 0.0 && temperature.is_finite()) {
        return Err(StateError::TemperatureNotPositive { temperature }.into());
    }
    if s.method == ThermalizeMethod::Trajectories && s.trajectories == 0 {
        return Err(EvolveError::NoTrajectories);
    }
    if s.steps == 0 {
        return Err(EvolveError::BadParameter {
            name: "steps",
            value: 0.0,
            expected: "at least 1 step",
        });
    }
    if let Some(dt) =
        s.dt.filter(|dt| s.method == ThermalizeMethod::Davies && !(*dt > 0.0 && dt.is_finite()))
    {
        return Err(EvolveError::BadParameter {
            name: "dt",
            value: dt,
            expected: "a finite number > 0",
        });
    }
    let n = model.qubits;
    // The free network for the first example (its input fields), cost C(d) of Eq. 18.
    let example = model.first_example();
    let h = model.hamiltonian(&model.theta(), example.as_ref(), 0.0)?;
    let cost_op = example
        .as_ref()
        .filter(|ex| !ex.targets.is_empty())
        .map(|ex| model.cost_operator(&ex.targets));
    let observed = observables(&s.observe, n)?;
    // The cost is recorded as one more observable.
    let mut all_obs = observed.clone();
    all_obs.extend(cost_op.iter().cloned());
    GibbsDensity::check_size(n)?;
    match s.method {
        ThermalizeMethod::Cooling => check_cooling_size(n, s.ancillas)?,
        ThermalizeMethod::Davies => check_davies_size(n)?,
        ThermalizeMethod::Trajectories => {}
    }
    thermalize_memory(n, s).check()?;
    let start = StartState::parse(
        &s.initial,
        n,
        &[StartState::Mixed, StartState::Plus, StartState::Zero],
    )?;
    let psi0 = start.pure(n)?;
    // The density matrix start of the dense methods (not built for trajectories).
    let rho0 = || -> Result<DensityMatrix, EvolveError> {
        match &psi0 {
            Some(psi) => Ok(DensityMatrix::from_pure(psi)?),
            None => {
                let mut r = DensityMatrix::zeros(n)?;
                let d = r.dim();
                for i in 0..d {
                    r.as_mut_slice()[i * d + i] = C64::new(1.0 / d as f64, 0.0);
                }
                Ok(r)
            }
        }
    };
    let gibbs = GibbsDensity::new(&h, temperature)?;
    let cooling = CoolingParams {
        coupling: s.coupling,
        duration: s.duration,
        ancillas: s.ancillas,
        rounds: s.steps,
        ..CoolingParams::default()
    };
    let rounds = |what: &str| {
        let what = what.to_string();
        let total = s.steps as u64;
        move |round: usize, _: usize| {
            progress(Progress::Steps {
                what: what.clone(),
                done: round as u64,
                total,
                unit: "rounds",
            })
        }
    };
    let (series, cooling_info, davies_info, trajectories_info): MethodRun = match s.method {
        ThermalizeMethod::Cooling => {
            let r = cool(
                &h,
                temperature,
                &rho0()?,
                &all_obs,
                &cooling,
                rounds("cooling"),
            )?;
            let info = CoolingInfo {
                coupling: s.coupling,
                duration: s.duration,
                ancillas: s.ancillas,
                frequencies: r.frequencies.clone(),
                collisions: r.collisions,
            };
            (r.relaxation.into(), Some(info), None, None)
        }
        ThermalizeMethod::Trajectories => {
            let params = CoolingTrajectoryParams {
                cooling,
                trajectories: s.trajectories,
                seed: s.seed,
                ..CoolingTrajectoryParams::default()
            };
            let initial = match &psi0 {
                Some(psi) => InitialEnsemble::Pure(psi),
                None => InitialEnsemble::MaximallyMixed,
            };
            let what = format!("trajectories ×{}", s.trajectories);
            let r = cool_trajectories(&h, temperature, initial, &all_obs, &params, rounds(&what))?;
            let info = TrajectoriesInfo {
                trajectories: r.trajectories,
                seed: s.seed,
                coupling: s.coupling,
                duration: s.duration,
                ancillas: s.ancillas,
                frequencies: r.frequencies.clone(),
                collisions: r.collisions,
                trace_distance_floor: r.trace_distance_floor,
                matvecs: r.krylov.matvecs,
                ancilla_outcomes: r.ancillas.clone(),
            };
            let series = Series {
                steps: r.steps,
                trace_distance: r.trace_distance,
                energy: r.energy,
                observables: r.observables,
                std_errors: Some((r.energy_std_errors, r.std_errors)),
            };
            (series, None, None, Some(info))
        }
        ThermalizeMethod::Davies => {
            let what = format!("Davies relaxation of {n} qubits");
            progress(Progress::Phase { what: what.clone() });
            let dav = Davies::new(
                &h,
                temperature,
                &DaviesParams {
                    rate: s.rate,
                    ..DaviesParams::default()
                },
            )?;
            let fp = dav.fixed_point()?;
            let dt = s.dt.unwrap_or(20.0 / (fp.gap * s.steps as f64));
            let times: Vec<f64> = (0..=s.steps).map(|i| dt * i as f64).collect();
            let opts = Options {
                atol: 1e-12,
                rtol: 1e-10,
                ..Options::default()
            };
            let total = times.len() as u64;
            let (r, stats) = dav.evolve_with_progress(&rho0()?, &times, &all_obs, &opts, &|i| {
                progress(Progress::Steps {
                    what: what.clone(),
                    done: i as u64,
                    total,
                    unit: "times",
                })
            })?;
            let info = DaviesInfo {
                rate: s.rate,
                fixed_point_trace_distance: fp.trace_distance,
                gap: fp.gap,
                dt,
                steps: stats.steps,
                rejected_steps: stats.rejected,
            };
            (r.into(), None, Some(info), None)
        }
    };
    let labels = &s.observe;
    let has_cost = cost_op.is_some();
    let m = series.steps.len();
    let at = |values: &[Vec<f64>], i: usize| -> BTreeMap<String, f64> {
        labels
            .iter()
            .cloned()
            .zip(values.iter().map(|o| o[i]))
            .collect()
    };
    let cost_of = |values: &[Vec<f64>], i: usize| has_cost.then(|| values[labels.len()][i]);
    let errors_at = |i: usize| -> Option<StdErrors> {
        series.std_errors.as_ref().map(|(e, o)| StdErrors {
            energy: e[i],
            cost: cost_of(o, i),
            observables: at(o, i),
        })
    };
    let trace: Vec<Step> = (0..m)
        .map(|i| Step {
            step: series.steps[i],
            trace_distance: series.trace_distance.as_ref().map(|d| d[i]),
            energy: series.energy[i],
            cost: cost_of(&series.observables, i),
            observables: at(&series.observables, i),
            std_errors: errors_at(i),
        })
        .collect();
    let last = m.saturating_sub(1);
    Ok(Thermalization {
        method: s.method.name(),
        qubits: n,
        temperature,
        trace_distance: series.trace_distance.as_ref().map(|d| d[last]),
        energy: series.energy[last],
        cost: cost_of(&series.observables, last),
        observables: at(&series.observables, last),
        std_errors: errors_at(last),
        gibbs: GibbsValues {
            energy: gibbs.energy,
            cost: cost_op.as_ref().map(|c| gibbs.expectation(c)),
            observables: labels
                .iter()
                .cloned()
                .zip(observed.iter().map(|o| gibbs.expectation(o)))
                .collect(),
        },
        step_unit: match s.method {
            ThermalizeMethod::Davies => "time",
            _ => "round",
        },
        trace,
        cooling: cooling_info,
        davies: davies_info,
        trajectories: trajectories_info,
        seconds: t0.elapsed().as_secs_f64(),
        settings: ThermalizeSettings {
            temperature: Some(temperature),
            ..s.clone()
        },
    })
}

impl Thermalization {
    /// The trace as CSV: one row per step (trace distance, energy, cost, observables, and with
    /// trajectories their standard errors).
    pub fn csv(&self) -> String {
        let labels: Vec<&String> = self.observables.keys().collect();
        let mut csv = format!("{},trace_distance,energy,cost", self.step_unit);
        for l in &labels {
            csv.push_str(&format!(",\"{l}\""));
        }
        if self.std_errors.is_some() {
            csv.push_str(",energy_sem,cost_sem");
            for l in &labels {
                csv.push_str(&format!(",\"{l} sem\""));
            }
        }
        csv.push('\n');
        let opt = |x: Option<f64>| x.map(|c| format!("{c:.10e}")).unwrap_or_default();
        for s in &self.trace {
            csv.push_str(&format!(
                "{},{},{:.10e},{}",
                s.step,
                opt(s.trace_distance),
                s.energy,
                opt(s.cost)
            ));
            for l in &labels {
                csv.push_str(&format!(",{:.10e}", s.observables[*l]));
            }
            if let Some(e) = &s.std_errors {
                csv.push_str(&format!(",{:.10e},{}", e.energy, opt(e.cost)));
                for l in &labels {
                    csv.push_str(&format!(",{:.10e}", e.observables[*l]));
                }
            }
            csv.push('\n');
        }
        csv
    }

    /// The trace as an SVG chart: the trace distance (when every step has one) and `⟨H⟩`
    /// against the Gibbs value.
    pub fn svg(&self) -> String {
        render(&self.panels())
    }

    /// [`Self::svg`] as a PNG image.
    ///
    /// # Errors
    /// [`PlotError`] when drawing or encoding fails.
    pub fn png(&self) -> Result<Vec<u8>, PlotError> {
        render_png(&self.panels())
    }

    fn panels(&self) -> Vec<Panel> {
        let x_label = format!("{} ({})", self.step_unit, self.method);
        let pts = |f: &dyn Fn(&Step) -> f64| -> Vec<(f64, f64)> {
            self.trace.iter().map(|s| (s.step, f(s))).collect()
        };
        let (x0, x1) = (
            self.trace.first().map_or(0.0, |s| s.step),
            self.trace.last().map_or(1.0, |s| s.step),
        );
        let mut panels = Vec::new();
        if self.trace.iter().all(|s| s.trace_distance.is_some()) {
            panels.push(Panel {
                title: format!("distance to the Gibbs state, T = {}", self.temperature),
                x_label: x_label.clone(),
                y_label: "trace distance".into(),
                log_y: true,
                y_range: None,
                series: vec![Plot {
                    name: "D(ρ, ρ_G)".into(),
                    points: pts(&|s| s.trace_distance.unwrap_or(f64::NAN)),
                }],
            });
        }
        panels.push(Panel {
            title: "energy".into(),
            x_label,
            y_label: "⟨H⟩".into(),
            log_y: false,
            y_range: None,
            series: vec![
                Plot {
                    name: "⟨H⟩".into(),
                    points: pts(&|s| s.energy),
                },
                Plot {
                    name: "Gibbs".into(),
                    points: vec![(x0, self.gibbs.energy), (x1, self.gibbs.energy)],
                },
            ],
        });
        panels
    }
}
