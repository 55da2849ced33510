//! The state-preparation benchmark (`qep prepare`): adiabatic sweeps from a start Hamiltonian
//! to a model's, each verified against the target's exact level by Lanczos
//! ([`crate::adiabatic::Preparer`]), with the gap along the path, the fitted exponent of the
//! infidelity against the sweep time and, if asked, the sweep as a Trotter circuit.

use serde::{Deserialize, Serialize};

use crate::adiabatic::{
    infidelity_slope, prepare_memory, trotter_circuit, KrylovParams, KrylovStats, Method, PathScan,
    PrepareSettings, Prepared, Preparer, Profile, Propagation, ScheduleKind, Verification,
};
use crate::cancel::Cancel;
use crate::circuit::{to_qasm, Circuit, Gate};
use crate::dist::{map_ordered, world};
use crate::hamiltonian::{Model, Preparation, Schedule};
use crate::linalg::LanczosParams;
use crate::report::svg::{chart_png, chart_svg, Chart, Curve};
use crate::report::{OnProgress, Progress};
use crate::state::MemoryPlan;
use crate::Error;

/// Settings of [`prepare_study`]; every `None` falls back to the model's
/// `preparation: adiabatic:` block, then to qep's default.
#[derive(Clone, Debug)]
pub struct PrepareStudySettings {
    /// Training example whose inputs enter the target `H` (default: the first, if the model has
    /// a dataset).
    pub example: Option<usize>,
    /// Several sweep times `T`, reported under `runs`.
    pub times: Option<Vec<f64>>,
    /// One sweep time, reported at the top level (without `times`; default: the model's
    /// time, else 10).
    pub time: Option<f64>,
    /// Schedule `s(t)` (default: the model's, with its table, else linear).
    pub schedule: Option<ScheduleKind>,
    /// Integrator.
    pub method: Method,
    /// Order of the Trotter circuit written with [`PrepareStudySettings::circuit`].
    pub trotter_order: u8,
    /// Time steps per sweep (default: the model's, else `max(100, 5·T)`).
    pub steps: Option<usize>,
    /// Level followed: 0 = ground state.
    pub eigen: usize,
    /// Points along the path where the spectrum is computed (0: none).
    pub gap_points: usize,
    /// Krylov propagator settings.
    pub krylov: KrylovParams,
    /// Whether to build the sweep at the longest `T` as an OpenQASM 2.0 Trotter circuit.
    pub circuit: bool,
}

impl Default for PrepareStudySettings {
    fn default() -> Self {
        Self {
            example: None,
            times: None,
            time: None,
            schedule: None,
            method: Method::Magnus,
            trotter_order: 2,
            steps: None,
            eigen: 0,
            gap_points: 21,
            krylov: KrylovParams {
                tol: 1e-10,
                max_dim: 30,
            },
            circuit: false,
        }
    }
}

/// One sweep with the gaps of the path it followed.
#[derive(Clone, Debug, Serialize)]
pub struct PreparedRun {
    /// The sweep and its verification.
    #[serde(flatten)]
    pub run: Prepared,
    /// Smallest gap of the followed level along the path.
    pub min_gap: Option<f64>,
    /// Smallest gap to a level the sweep couples to.
    pub min_coupled_gap: Option<f64>,
    /// Projection of the prepared state onto the target's (near-)degenerate subspace of the
    /// followed level: the sum of its overlaps with every computed level in
    /// [`PrepareStudy::degenerate_levels`] (equal to `fidelity` for a non-degenerate level).
    pub subspace_fidelity: f64,
}

/// The result of [`prepare_study`] (the JSON of `qep prepare`): one run's fields at the top
/// level for a single sweep time, a list under `runs` for several.
#[derive(Clone, Debug, Serialize)]
pub struct PrepareStudy {
    /// The single sweep (one time asked for).
    #[serde(flatten)]
    pub single: Option<PreparedRun>,
    /// The sweeps (several times asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runs: Option<Vec<PreparedRun>>,
    /// Qubits.
    pub qubits: usize,
    /// Level followed.
    pub eigen: usize,
    /// Schedule family.
    pub schedule: ScheduleKind,
    /// Integrator.
    pub method: Method,
    /// Time steps per sweep.
    pub steps: usize,
    /// Energy of the start state under the start Hamiltonian.
    pub start_energy: f64,
    /// The spectrum along the path, if scanned.
    pub path: Option<PathScan>,
    /// The computed levels of the target within [`NEAR_DEGENERATE`] of the followed level
    /// (itself included): more than one when the target level is (near-)degenerate, and then
    /// `subspace_fidelity` measures the prepared state against all of them. Only levels up to
    /// `eigen + 1` are computed, so a larger multiplet is seen in part.
    pub degenerate_levels: Vec<usize>,
    /// Largest energy splitting inside `degenerate_levels` (0 for a single level).
    pub degenerate_splitting: f64,
    /// Fitted exponent of 1 − F against T, next to the adiabatic theorem's.
    pub infidelity_slope: Option<f64>,
    /// `−2` (linear) or `−6` (smooth); `null` for the local schedule.
    pub expected_slope: Option<f64>,
    /// Where the Trotter circuit was written (filled by the caller that writes it).
    pub qasm: Option<String>,
    /// Whether every sweep time asked for was run (false after a cancellation).
    pub complete: bool,
    /// The Trotter circuit as OpenQASM 2.0 with a header, if asked for and complete.
    #[serde(skip)]
    pub circuit: Option<String>,
    /// The resolved preparation settings (for provenance).
    #[serde(skip)]
    pub settings: PrepareSettings,
    /// The model's name (chart titles).
    #[serde(skip)]
    pub name: String,
}

/// Relative tolerance under which two target levels count as (near-)degenerate:
/// `|E_j − E_k| ≤ NEAR_DEGENERATE · max(1, |E_k|)`. A sweep of time `T` cannot tell apart levels
/// split by much less than `1/T`, so such levels are one target.
pub const NEAR_DEGENERATE: f64 = 1e-4;

/// The levels within [`NEAR_DEGENERATE`] of level `k`, and their largest splitting from it.
fn degenerate_levels(energies: &[f64], k: usize) -> (Vec<usize>, f64) {
    let Some(&ek) = energies.get(k) else {
        return (vec![k], 0.0);
    };
    let tol = NEAR_DEGENERATE * ek.abs().max(1.0);
    let levels: Vec<usize> = (0..energies.len())
        .filter(|&j| (energies[j] - ek).abs() <= tol)
        .collect();
    let split = levels
        .iter()
        .map(|&j| (energies[j] - ek).abs())
        .fold(0.0, f64::max);
    (levels, split)
}

/// The resolved schedule: the flag, else the model's.
fn schedule_of(
    s: &PrepareStudySettings,
    from_model: Option<&crate::hamiltonian::Adiabatic>,
) -> ScheduleKind {
    s.schedule.unwrap_or(match from_model.map(|m| m.schedule) {
        Some(Schedule::Smooth) => ScheduleKind::Smooth,
        Some(Schedule::Local) => ScheduleKind::Local,
        _ => ScheduleKind::Linear,
    })
}

/// Runs the state-preparation benchmark: from the ground state of `start`'s Hamiltonian (its
/// own parameters; default `−Σ X_i`, level `eigen`) to level `eigen` of the model's
/// Hamiltonian (the example's inputs, `β = 0`), one sweep per time `T`, each verified by
/// Lanczos (fidelity, energy error, residual). The memory plan is checked before any work;
/// between sweeps the run stops once `cancel` is set (the result then has `complete: false`
/// and no circuit). Reports the path scan and the sweep time done to `progress`.
///
/// # Errors
/// A missing example, the memory plan, a schedule table that is not a profile, and the
/// preparation's own errors ([`crate::adiabatic::AdiabaticError`]).
///
/// # Examples
/// ```
/// use qep::cancel::Cancel;
/// use qep::study::prepare::{prepare_study, PrepareStudySettings};
/// let model = qep::hamiltonian::parse_str(
///     "qubits: 2\nterms:\n  - {pauli: Z0 Z1, coeff: -1.0}\n  - {pauli: X0, coeff: -0.5}\n",
///     std::path::Path::new("two.yaml"),
/// )?;
/// let settings = PrepareStudySettings {
///     times: Some(vec![20.0]),
///     gap_points: 0,
///     ..PrepareStudySettings::default()
/// };
/// let study = prepare_study(&model, None, &settings, &Cancel::new(), &qep::report::no_progress)?;
/// let runs = study.runs.as_ref().unwrap();
/// assert!(runs[0].run.verification.fidelity > 0.99);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn prepare_study(
    model: &Model,
    start: Option<&Model>,
    settings: &PrepareStudySettings,
    cancel: &Cancel,
    progress: OnProgress<'_>,
) -> Result<PrepareStudy, Error> {
    let s = settings;
    let example = match (s.example, &model.dataset) {
        (Some(i), _) => Some(model.training_example(i)?),
        (None, Some(_)) => Some(model.training_example(0)?),
        (None, None) => None,
    };
    let target = model.hamiltonian(&model.theta(), example.as_ref(), 0.0)?;
    let start_h = match start {
        Some(m) => Some(m.hamiltonian(&m.theta(), None, 0.0)?),
        None => None,
    };
    let from_model = match &model.settings.preparation {
        Preparation::Adiabatic(ad) => Some(ad),
        _ => None,
    };
    let times: Vec<f64> = match (&s.times, s.time) {
        (Some(t), _) => t.clone(),
        (None, Some(t)) => vec![t],
        (None, None) => vec![from_model.map_or(10.0, |m| m.time)],
    };
    let t_max = times.iter().copied().fold(0.0, f64::max);
    // One count for every time, chosen for the longest so that it is resolved too.
    let steps = s.steps.unwrap_or_else(|| {
        crate::adiabatic::sweep_steps(t_max, from_model.map(|m| (m.time, m.steps)))
    });
    let schedule = schedule_of(s, from_model);
    let prepare = PrepareSettings {
        method: s.method,
        steps,
        eigen: s.eigen,
        schedule,
        krylov: s.krylov,
        lanczos: LanczosParams {
            tol: 1e-9,
            ..LanczosParams::default()
        },
        gap_points: s.gap_points,
        // The model's table, unless the schedule is given.
        profile: match (s.schedule, from_model.and_then(|m| m.table.as_ref())) {
            (None, Some(t)) => Some(Profile::table(
                t.iter().map(|r| r[0]).collect(),
                t.iter().map(|r| r[1]).collect(),
            )?),
            _ => None,
        },
    };
    // One sweep on several ranks splits every state over them (no path scan, Krylov or
    // Magnus); several sweeps share the times out instead, each whole on its rank.
    let split = (times.len() == 1 && !s.circuit)
        .then(|| crate::dist::prepare_split(model.qubits, &prepare))
        .flatten();
    let (runs, subspace, degenerate, splitting, start_energy, path, complete, circuit) =
        if let Some(comm) = split {
            progress(Progress::Phase {
                what: format!("{}: one sweep split over {} ranks", model.name, comm.size()),
            });
            let d =
                crate::dist::prepare_sweep(start_h.as_ref(), &target, &prepare, times[0], comm)?;
            let (degenerate, splitting) = degenerate_levels(&d.target_energies, s.eigen);
            let subspace = degenerate.iter().map(|&j| d.overlaps[j]).sum::<f64>();
            (
                vec![d.run],
                vec![subspace],
                degenerate,
                splitting,
                d.start_energy,
                None,
                true,
                None,
            )
        } else {
            let mut plan = MemoryPlan::new("qep prepare");
            plan.extend(&prepare_memory(model.qubits, &prepare));
            plan.check()?;
            progress(Progress::Phase {
                what: format!(
                    "{}: reference spectrum and path scan ({} points)",
                    model.name, s.gap_points
                ),
            });
            let mut prep = Preparer::new(start_h, target, prepare.clone())?;
            // Sweeps cost in proportion to their time T: progress counts sweep time (in tenths) of this
            // rank's share, so that an estimate of the time left holds for times 5, 10, 20, 40.
            let (degenerate, splitting) =
                degenerate_levels(prep.target_spectrum().energies(), s.eigen);
            // The sweeps are independent (each starts from the same state with a fresh propagator),
            // so several ranks share them out and gather them in the order of the times.
            let block = crate::dist::block(times.len(), world().rank(), world().size());
            let mut done = 0.0;
            let swept = map_ordered(
                world(),
                times.len(),
                |i| -> Result<Option<SweepWire>, Error> {
                    if cancel.is_cancelled() {
                        return Ok(None);
                    }
                    progress(Progress::Steps {
                        what: format!("{}: sweeps", model.name),
                        done: (done * 10.0_f64).ceil() as u64,
                        total: (times[block.clone()].iter().sum::<f64>() * 10.0).ceil() as u64,
                        unit: "(×0.1 sweep time)",
                    });
                    let t = times[i];
                    let (r, psi) = prep.run(t)?;
                    let spectrum = prep.target_spectrum();
                    let subspace = degenerate
                        .iter()
                        .map(|&j| crate::state::dot(&spectrum.vector_c64(j), &psi).norm_sqr())
                        .sum::<f64>();
                    done += t;
                    Ok(Some(SweepWire::of(&r, subspace)))
                },
            )?;
            // A cancelled sweep ends the list: what follows it is not reported (as one process,
            // which stops there).
            let (runs, subspace): (Vec<Prepared>, Vec<f64>) = swept
                .into_iter()
                .map_while(|w| w.map(SweepWire::into_run))
                .unzip();
            let complete = runs.len() == times.len();
            let circuit = if s.circuit && complete {
                let sweep = prep.sweep(t_max)?;
                let trotter = trotter_circuit(&sweep, steps, s.trotter_order)?;
                // From |0…0⟩: the default start |+…+⟩ is one layer of H; another start state is the
                // caller's to prepare (said in the header).
                let default_start = start.is_none() && s.eigen == 0;
                let mut circ = Circuit::new(model.qubits, 0);
                if default_start {
                    for q in 0..model.qubits {
                        circ.gate1(Gate::H, q);
                    }
                }
                circ.ops.extend(trotter.ops);
                let header = format!(
                    "// qep {} prepare {}: adiabatic sweep H(s) = (1 - s) H_start + s H_target,\n\
                 // T = {t_max}, {steps} steps of the order-{} Trotter formula, {:?} schedule,\n\
                 // input sha256 {}.\n// {}\n",
                    env!("CARGO_PKG_VERSION"),
                    model.source.path.display(),
                    s.trotter_order,
                    schedule,
                    model.source.sha256,
                    if default_start {
                        "Starts from |0...0>: the first layer of h gates prepares |+...+>, the ground \
                     state of -sum X_i."
                        .to_string()
                    } else {
                        format!(
                            "Assumes level {} of the start Hamiltonian is already prepared.",
                            s.eigen
                        )
                    }
                );
                Some(header + &to_qasm(&circ))
            } else {
                None
            };
            (
                runs,
                subspace,
                degenerate,
                splitting,
                prep.start_energy(),
                prep.path().cloned(),
                complete,
                circuit,
            )
        };
    let wrapped: Vec<PreparedRun> = runs
        .iter()
        .zip(&subspace)
        .map(|(r, &f)| PreparedRun {
            run: r.clone(),
            min_gap: path.as_ref().map(|p| p.min_gap),
            min_coupled_gap: path.as_ref().and_then(|p| p.min_coupled_gap),
            subspace_fidelity: f,
        })
        .collect();
    let multi = s.times.is_some();
    let mut wrapped = wrapped.into_iter();
    Ok(PrepareStudy {
        single: if multi { None } else { wrapped.next() },
        runs: multi.then(|| wrapped.collect()),
        qubits: model.qubits,
        eigen: s.eigen,
        schedule,
        method: s.method,
        steps,
        start_energy,
        path,
        degenerate_levels: degenerate,
        degenerate_splitting: splitting,
        infidelity_slope: if multi { infidelity_slope(&runs) } else { None },
        expected_slope: match schedule {
            ScheduleKind::Linear => Some(-2.0),
            ScheduleKind::Smooth => Some(-6.0),
            ScheduleKind::Local => None,
        },
        qasm: None,
        complete,
        circuit,
        settings: prepare,
        name: model.name.clone(),
    })
}

/// One sweep's result as it travels between ranks: [`Prepared`] flattened into plain numbers
/// (bit-exact through [`map_ordered`]), with the subspace fidelity.
#[derive(Serialize, Deserialize)]
struct SweepWire {
    time: f64,
    fidelity: f64,
    energy: f64,
    target_energy: f64,
    energy_error: f64,
    residual: f64,
    level: usize,
    level_fidelity: f64,
    steps: usize,
    matvecs: usize,
    substeps: usize,
    error_estimate: f64,
    gates: usize,
    norm_error: f64,
    seconds: f64,
    subspace: f64,
}

impl SweepWire {
    fn of(r: &Prepared, subspace: f64) -> Self {
        let (v, p) = (&r.verification, &r.propagation);
        Self {
            time: r.time,
            fidelity: v.fidelity,
            energy: v.energy,
            target_energy: v.target_energy,
            energy_error: v.energy_error,
            residual: v.residual,
            level: v.level,
            level_fidelity: v.level_fidelity,
            steps: p.steps,
            matvecs: p.krylov.matvecs,
            substeps: p.krylov.substeps,
            error_estimate: p.krylov.error_estimate,
            gates: p.gates,
            norm_error: p.norm_error,
            seconds: r.seconds,
            subspace,
        }
    }

    fn into_run(self) -> (Prepared, f64) {
        let run = Prepared {
            time: self.time,
            verification: Verification {
                fidelity: self.fidelity,
                energy: self.energy,
                target_energy: self.target_energy,
                energy_error: self.energy_error,
                residual: self.residual,
                level: self.level,
                level_fidelity: self.level_fidelity,
            },
            propagation: Propagation {
                steps: self.steps,
                krylov: KrylovStats {
                    matvecs: self.matvecs,
                    substeps: self.substeps,
                    error_estimate: self.error_estimate,
                },
                gates: self.gates,
                norm_error: self.norm_error,
            },
            seconds: self.seconds,
        };
        (run, self.subspace)
    }
}

impl PrepareStudy {
    /// Every sweep run, in the order of the times.
    pub fn all_runs(&self) -> impl Iterator<Item = &PreparedRun> {
        self.single.iter().chain(self.runs.iter().flatten())
    }

    /// One CSV row per sweep: time, fidelity, energies, residual, level, cost.
    pub fn csv(&self) -> String {
        let mut csv = String::from(
            "time,fidelity,energy,target_energy,energy_error,residual,level,seconds,matvecs,norm_error\n",
        );
        for r in self.all_runs().map(|r| &r.run) {
            let v = &r.verification;
            csv.push_str(&format!(
                "{},{:.12},{:.12},{:.12},{:.6e},{:.6e},{},{:.4},{},{:.2e}\n",
                r.time,
                v.fidelity,
                v.energy,
                v.target_energy,
                v.energy_error,
                v.residual,
                v.level,
                r.seconds,
                r.propagation.krylov.matvecs,
                r.propagation.norm_error
            ));
        }
        csv
    }

    /// The charts of `prepare.svg` / `prepare.png`: the infidelity against the sweep time `T`
    /// (log–log) and, with a path scan, the gaps of the followed level along the path.
    pub fn charts(&self) -> Vec<Chart> {
        let schedule = serde_json::to_value(self.schedule)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        let mut charts = vec![Chart {
            title: format!(
                "{}: level {} by a {schedule} sweep, {} steps",
                self.name, self.eigen, self.steps
            ),
            x_label: "sweep time T".into(),
            y_label: if self.degenerate_levels.len() > 1 {
                "1 − F (onto the degenerate levels)".into()
            } else {
                "1 − F".into()
            },
            log_x: true,
            log_y: true,
            y_range: None,
            curves: vec![Curve::new(
                format!("{schedule} schedule"),
                self.all_runs()
                    .map(|r| (r.run.time, (1.0 - r.subspace_fidelity).max(1e-16)))
                    .collect(),
            )],
        }];
        if let Some(p) = &self.path {
            let mut curves = vec![Curve::new(
                "gap to nearest level",
                p.points.iter().map(|q| (q.s, q.gap.max(1e-16))).collect(),
            )];
            let coupled: Vec<(f64, f64)> = p
                .points
                .iter()
                .filter_map(|q| q.coupled_gap.map(|g| (q.s, g.max(1e-16))))
                .collect();
            if !coupled.is_empty() {
                curves.push(Curve::new("gap to nearest coupled level", coupled));
            }
            charts.push(Chart {
                title: format!("gap of level {} along the path", self.eigen),
                x_label: "s".into(),
                y_label: "gap".into(),
                log_x: false,
                log_y: true,
                y_range: None,
                curves,
            });
        }
        charts
    }

    /// [`PrepareStudy::charts`] as SVG.
    pub fn svg(&self) -> String {
        chart_svg(&self.charts())
    }

    /// [`PrepareStudy::charts`] as PNG.
    ///
    /// # Errors
    /// [`crate::report::svg::PlotError`] if drawing or encoding fails.
    pub fn png(&self) -> Result<Vec<u8>, crate::report::svg::PlotError> {
        chart_png(&self.charts())
    }
}
