//! `qep thermalize FILE --temperature T [--method cooling|davies|trajectories]`: prepare the
//! Gibbs state and measure how close it gets. `trajectories` runs the cooling protocol as
//! `--trajectories M` pure-state trajectories (seeded by `--seed`) and reports means ± standard
//! errors; its trace distance (N ≤ 10) is that of the mean of the M pure states.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use qep::adiabatic::KrylovParams;
use qep::evolve::{
    check_cooling_size, check_davies_size, cool, cool_trajectories, cooling_memory, davies_memory,
    gibbs_memory, AncillaStats, CoolingParams, CoolingTrajectoryParams, Davies, DaviesParams,
    DensityMatrix, GibbsDensity, InitialEnsemble, Options, Relaxation,
};
use qep::pauli::{PauliString, PauliSum};
use qep::report::svg::{render, Panel, Series as Plot};
use qep::state::StateVector;
use qep::state::{memory, MemoryPlan};
use qep::C64;

use super::args::{ThermalizeArgs, ThermalizeMethod};
use super::{bar, finite, in_file, load, print_json, spinner};

/// The files `qep thermalize` writes.
const FILES: [&str; 3] = ["thermalize.csv", "thermalize.json", "thermalize.svg"];

/// One recorded step.
#[derive(Serialize)]
struct Step {
    step: f64,
    /// `null` for trajectories on N > 10 qubits (no mean state is rebuilt).
    trace_distance: Option<f64>,
    energy: f64,
    cost: Option<f64>,
    observables: BTreeMap<String, f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    std_errors: Option<StdErrors>,
}

/// Standard errors of a trajectory average (`s/√M`).
#[derive(Serialize, Clone)]
struct StdErrors {
    energy: f64,
    cost: Option<f64>,
    observables: BTreeMap<String, f64>,
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

/// The JSON of `qep thermalize`: the final state's numbers, the exact Gibbs values, the trace.
#[derive(Serialize)]
struct ThermalizeOut {
    method: &'static str,
    qubits: usize,
    temperature: f64,
    /// Trace distance of the final state to the exact Gibbs state (trajectories: of the mean
    /// state, `null` above 10 qubits).
    trace_distance: Option<f64>,
    energy: f64,
    cost: Option<f64>,
    observables: BTreeMap<String, f64>,
    /// Trajectories: standard errors of the final `energy`, `cost`, `observables`.
    #[serde(skip_serializing_if = "Option::is_none")]
    std_errors: Option<StdErrors>,
    gibbs: GibbsOut,
    /// `round` (cooling) or `time` (davies).
    step_unit: &'static str,
    trace: Vec<Step>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cooling: Option<CoolingOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    davies: Option<DaviesOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trajectories: Option<TrajectoriesOut>,
    seconds: f64,
}

#[derive(Serialize)]
struct GibbsOut {
    energy: f64,
    cost: Option<f64>,
    observables: BTreeMap<String, f64>,
}

#[derive(Serialize)]
struct CoolingOut {
    coupling: f64,
    duration: f64,
    ancillas: usize,
    frequencies: Vec<f64>,
    collisions: usize,
}

#[derive(Serialize)]
struct TrajectoriesOut {
    trajectories: usize,
    seed: u64,
    coupling: f64,
    duration: f64,
    ancillas: usize,
    frequencies: Vec<f64>,
    /// Collisions per trajectory.
    collisions: usize,
    /// `½ min(1, √(d_eff/M))`, `d_eff = 1/Tr ρ_G²`: the order of the trace distance of a mean
    /// of M pure states to the Gibbs state even if they sampled it exactly (null above 10 qubits).
    trace_distance_floor: Option<f64>,
    /// Krylov matrix-vector products over all collisions of all trajectories.
    matvecs: usize,
    /// Ancilla outcome counts per frequency.
    ancilla_outcomes: Vec<AncillaStats>,
}

#[derive(Serialize)]
struct DaviesOut {
    rate: f64,
    /// Trace distance of the directly computed fixed point to the Gibbs state.
    fixed_point_trace_distance: f64,
    /// Spectral gap of the population sector.
    gap: f64,
    dt: f64,
    steps: usize,
    rejected_steps: usize,
}

pub fn run(a: ThermalizeArgs) -> Result<()> {
    let t0 = std::time::Instant::now();
    let file = &a.model.file;
    let model = load(file)?;
    let temperature = a
        .temperature
        .or(model.settings.temperature)
        .with_context(|| {
            format!(
                "{}: no temperature: pass --temperature T or set `temperature:` in the model",
                file.display()
            )
        })?;
    if !(temperature > 0.0 && temperature.is_finite()) {
        bail!("--temperature {temperature}: expected a finite number > 0");
    }
    if a.method == ThermalizeMethod::Trajectories && a.trajectories == 0 {
        bail!("--trajectories 0: expected at least 1 trajectory");
    }
    if a.steps == 0 {
        bail!("--steps 0: expected at least 1 step");
    }
    let dir = a
        .out
        .clone()
        .unwrap_or_else(|| qep::report::default_out_dir(&model.name, "-thermalize"));
    super::check_study_out(&dir, &FILES, a.overwrite)?;
    let n = model.qubits;
    // The free network for the first example (its input fields), cost C(d) of Eq. 18.
    let example = model.first_example();
    let h = in_file(
        file,
        model.hamiltonian(&model.theta(), example.as_ref(), 0.0),
    )?;
    let cost_op = example
        .as_ref()
        .filter(|ex| !ex.targets.is_empty())
        .map(|ex| model.cost_operator(&ex.targets));
    let mut observables = Vec::new();
    for label in &a.observe {
        let p = PauliString::parse(label).with_context(|| format!("--observe {label:?}"))?;
        if p.min_qubits() > n {
            bail!("--observe {label:?}: acts on a qubit ≥ {n}, the model has {n} qubits");
        }
        let mut s = PauliSum::new(n);
        s.add(p, 1.0);
        observables.push(s);
    }
    // The cost is recorded as one more observable.
    let mut all_obs = observables.clone();
    if let Some(c) = &cost_op {
        all_obs.push(c.clone());
    }
    // Every limit and the whole memory plan before any work: the exact Gibbs state alone is
    // a dense eigensolve that takes minutes at 12 qubits.
    let mut plan = MemoryPlan::new(match a.method {
        ThermalizeMethod::Cooling => "qep thermalize --method cooling",
        ThermalizeMethod::Davies => "qep thermalize --method davies",
        ThermalizeMethod::Trajectories => "qep thermalize --method trajectories",
    });
    in_file(file, GibbsDensity::check_size(n))?;
    // The exact Gibbs state this command compares with, besides the method's own.
    plan.extend(&gibbs_memory(n));
    match a.method {
        ThermalizeMethod::Cooling => {
            in_file(file, check_cooling_size(n, a.ancillas))?;
            plan.extend(&cooling_memory(n, a.ancillas, n));
        }
        ThermalizeMethod::Davies => {
            in_file(file, check_davies_size(n))?;
            plan.extend(&davies_memory(n, 3 * n));
        }
        ThermalizeMethod::Trajectories => {
            let k = a.ancillas;
            let workers = rayon::current_num_threads().min(a.trajectories.max(1));
            plan.extend(&gibbs_memory(n))
                .add_n(
                    "trajectory states",
                    a.trajectories,
                    memory::state_bytes(n, 16),
                )
                .add_n(
                    "per-worker collision workspaces (Krylov basis)",
                    workers * (KrylovParams::default().max_dim + 2),
                    memory::state_bytes(n + k, 16),
                );
            if n + k <= qep::evolve::COOLING_MAX_QUBITS {
                // Dense collision propagators, cached up to their budget, with the freed
                // blocks the allocator keeps between them.
                let cache =
                    qep::evolve::propagator_cache_bytes(n, k, n, qep::evolve::DENSE_CACHE_BYTES);
                plan.add(
                    "dense collision propagators (cache and freed blocks)",
                    2 * cache,
                );
            }
        }
    }
    in_file(file, plan.check())?;
    let psi0: Option<Vec<C64>> = match a.initial.as_str() {
        "mixed" => None,
        "plus" => Some(in_file(file, StateVector::<C64>::plus(n))?.into_vec()),
        "zero" => Some(in_file(file, StateVector::<C64>::basis(n, 0))?.into_vec()),
        other => {
            let b: usize = other
                .strip_prefix("basis:")
                .and_then(|b| b.parse().ok())
                .filter(|&b: &usize| b < (1usize << n.min(63)))
                .with_context(|| {
                    format!(
                        "--initial {other:?}: expected mixed, plus, zero or basis:B with B < 2^{n}"
                    )
                })?;
            Some(in_file(file, StateVector::<C64>::basis(n, b))?.into_vec())
        }
    };
    // The density matrix start of the dense methods (not built for trajectories).
    let rho0 = || -> Result<DensityMatrix> {
        Ok(match &psi0 {
            Some(psi) => in_file(file, DensityMatrix::from_pure(psi))?,
            None => {
                let mut r = in_file(file, DensityMatrix::zeros(n))?;
                let d = r.dim();
                for i in 0..d {
                    r.as_mut_slice()[i * d + i] = C64::new(1.0 / d as f64, 0.0);
                }
                r
            }
        })
    };
    let gibbs = in_file(file, GibbsDensity::new(&h, temperature))?;

    let mut trajectories_out = None;
    let (rel, method, unit, cooling_out, davies_out): (Series, _, _, _, _) = match a.method {
        ThermalizeMethod::Cooling => {
            let params = CoolingParams {
                coupling: a.coupling,
                duration: a.duration,
                ancillas: a.ancillas,
                rounds: a.steps,
                ..CoolingParams::default()
            };
            let pb = ProgressBar::new(a.steps as u64);
            pb.set_style(
                ProgressStyle::with_template(
                    "cooling {bar:30} {pos}/{len} rounds [{elapsed} < {eta}]",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            let r = cool(&h, temperature, &rho0()?, &all_obs, &params, |_, _| {
                pb.inc(1)
            });
            pb.finish_and_clear();
            let r = in_file(file, r)?;
            let out = CoolingOut {
                coupling: a.coupling,
                duration: a.duration,
                ancillas: a.ancillas,
                frequencies: r.frequencies.clone(),
                collisions: r.collisions,
            };
            (r.relaxation.into(), "cooling", "round", Some(out), None)
        }
        ThermalizeMethod::Trajectories => {
            let params = CoolingTrajectoryParams {
                cooling: CoolingParams {
                    coupling: a.coupling,
                    duration: a.duration,
                    ancillas: a.ancillas,
                    rounds: a.steps,
                    ..CoolingParams::default()
                },
                trajectories: a.trajectories,
                seed: a.seed,
                ..CoolingTrajectoryParams::default()
            };
            let initial = match &psi0 {
                Some(psi) => InitialEnsemble::Pure(psi),
                None => InitialEnsemble::MaximallyMixed,
            };
            let pb = ProgressBar::new(a.steps as u64);
            pb.set_style(
                ProgressStyle::with_template(&format!(
                    "trajectories ×{} {{bar:30}} {{pos}}/{{len}} rounds [{{elapsed}}<{{eta}}]",
                    a.trajectories
                ))
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            let r = cool_trajectories(&h, temperature, initial, &all_obs, &params, |_, _| {
                pb.inc(1)
            });
            pb.finish_and_clear();
            let r = in_file(file, r)?;
            trajectories_out = Some(TrajectoriesOut {
                trajectories: r.trajectories,
                seed: a.seed,
                coupling: a.coupling,
                duration: a.duration,
                ancillas: a.ancillas,
                frequencies: r.frequencies.clone(),
                collisions: r.collisions,
                trace_distance_floor: r.trace_distance_floor,
                matvecs: r.krylov.matvecs,
                ancilla_outcomes: r.ancillas.clone(),
            });
            let series = Series {
                steps: r.steps,
                trace_distance: r.trace_distance,
                energy: r.energy,
                observables: r.observables,
                std_errors: Some((r.energy_std_errors, r.std_errors)),
            };
            (series, "trajectories", "round", None, None)
        }
        ThermalizeMethod::Davies => {
            let params = DaviesParams {
                rate: a.rate,
                ..DaviesParams::default()
            };
            let pb = (n >= 5).then(|| spinner(format!("Davies relaxation of {n} qubits")));
            let dav = in_file(file, Davies::new(&h, temperature, &params))?;
            let fp = in_file(file, dav.fixed_point())?;
            let dt = match a.dt {
                Some(dt) if dt > 0.0 && dt.is_finite() => dt,
                Some(dt) => bail!("--dt {dt}: expected a finite number > 0"),
                None => 20.0 / (fp.gap * a.steps as f64),
            };
            let times: Vec<f64> = (0..=a.steps).map(|i| dt * i as f64).collect();
            let opts = Options {
                atol: 1e-12,
                rtol: 1e-10,
                ..Options::default()
            };
            if let Some(pb) = pb {
                pb.finish_and_clear();
            }
            let pb = bar(
                times.len() as u64,
                format!("Davies relaxation of {n} qubits"),
                "times",
            );
            let r = dav.evolve_with_progress(&rho0()?, &times, &all_obs, &opts, &|i| {
                pb.set_position(i as u64)
            });
            pb.finish_and_clear();
            let (r, stats) = in_file(file, r)?;
            let out = DaviesOut {
                rate: a.rate,
                fixed_point_trace_distance: fp.trace_distance,
                gap: fp.gap,
                dt,
                steps: stats.steps,
                rejected_steps: stats.rejected,
            };
            (r.into(), "davies", "time", None, Some(out))
        }
    };
    let out = summarise(
        &rel,
        &a.observe,
        cost_op.is_some(),
        &gibbs,
        &observables,
        cost_op.as_ref(),
        (method, unit, n, temperature),
        (cooling_out, davies_out, trajectories_out),
        t0.elapsed().as_secs_f64(),
    );
    finite(file, &out)?;
    write_files(&dir, &out)?;
    if a.model.json {
        return print_json(
            &out,
            &model,
            None,
            serde_json::json!({
                "method": method, "temperature": temperature, "steps": a.steps,
                "initial": a.initial, "coupling": a.coupling, "duration": a.duration,
                "ancillas": a.ancillas, "rate": a.rate, "dt": a.dt,
                "trajectories": a.trajectories, "seed": a.seed,
            }),
        );
    }
    println!(
        "{:>8} {:>14} {:>14}{}",
        unit,
        "trace dist.",
        "⟨H⟩",
        if out.cost.is_some() {
            format!(" {:>12}", "⟨C⟩")
        } else {
            String::new()
        }
    );
    for s in &out.trace {
        println!(
            "{:>8.3} {:>14} {:>14.8}{}{}",
            s.step,
            s.trace_distance
                .map_or_else(|| "-".to_string(), |d| format!("{d:.6e}")),
            s.energy,
            s.std_errors
                .as_ref()
                .map(|e| format!(" ± {:.2e}", e.energy))
                .unwrap_or_default(),
            s.cost.map(|c| format!(" {c:>12.8}")).unwrap_or_default()
        );
    }
    let pm = |x: Option<f64>| x.map(|e| format!(" ± {e:.2e}")).unwrap_or_default();
    let se = out.std_errors.as_ref();
    println!(
        "{method} at T = {temperature}: trace distance {} to the Gibbs state; ⟨H⟩ = {:.6}{} (Gibbs {:.6}); {:.2} s",
        out.trace_distance
            .map_or_else(|| "n/a".to_string(), |d| format!("{d:.3e}")),
        out.energy,
        pm(se.map(|e| e.energy)),
        out.gibbs.energy,
        out.seconds
    );
    if let Some(t) = &out.trajectories {
        if let Some(f) = t.trace_distance_floor {
            println!(
                "  {} trajectories: statistical floor of the trace distance ≈ {f:.2e}",
                t.trajectories
            );
        }
    }
    if let Some(c) = out.cost {
        println!(
            "  ⟨C⟩ = {c:.6}{} (Gibbs {:.6})",
            pm(se.and_then(|e| e.cost)),
            out.gibbs.cost.unwrap_or(f64::NAN)
        );
    }
    for (l, v) in &out.observables {
        println!(
            "  ⟨{l}⟩ = {v:.6}{} (Gibbs {:.6})",
            pm(se.map(|e| e.observables[l])),
            out.gibbs.observables[l]
        );
    }
    println!("wrote {}/thermalize.{{csv,json,svg}}", dir.display());
    Ok(())
}

/// The result record from a recorded series (whose last observable is the cost if `has_cost`).
#[allow(clippy::too_many_arguments)]
fn summarise(
    rel: &Series,
    labels: &[String],
    has_cost: bool,
    gibbs: &GibbsDensity,
    observables: &[PauliSum],
    cost_op: Option<&PauliSum>,
    (method, unit, qubits, temperature): (&'static str, &'static str, usize, f64),
    (cooling, davies, trajectories): (
        Option<CoolingOut>,
        Option<DaviesOut>,
        Option<TrajectoriesOut>,
    ),
    seconds: f64,
) -> ThermalizeOut {
    let m = rel.steps.len();
    let at = |series: &[Vec<f64>], i: usize| -> BTreeMap<String, f64> {
        labels
            .iter()
            .cloned()
            .zip(series.iter().map(|o| o[i]))
            .collect()
    };
    let cost_of = |series: &[Vec<f64>], i: usize| has_cost.then(|| series[labels.len()][i]);
    let errors_at = |i: usize| -> Option<StdErrors> {
        rel.std_errors.as_ref().map(|(e, o)| StdErrors {
            energy: e[i],
            cost: cost_of(o, i),
            observables: at(o, i),
        })
    };
    let trace: Vec<Step> = (0..m)
        .map(|i| Step {
            step: rel.steps[i],
            trace_distance: rel.trace_distance.as_ref().map(|d| d[i]),
            energy: rel.energy[i],
            cost: cost_of(&rel.observables, i),
            observables: at(&rel.observables, i),
            std_errors: errors_at(i),
        })
        .collect();
    let last = m.saturating_sub(1);
    ThermalizeOut {
        method,
        qubits,
        temperature,
        trace_distance: rel.trace_distance.as_ref().map(|d| d[last]),
        energy: rel.energy[last],
        cost: cost_of(&rel.observables, last),
        observables: at(&rel.observables, last),
        std_errors: errors_at(last),
        gibbs: GibbsOut {
            energy: gibbs.energy,
            cost: cost_op.map(|c| gibbs.expectation(c)),
            observables: labels
                .iter()
                .cloned()
                .zip(observables.iter().map(|o| gibbs.expectation(o)))
                .collect(),
        },
        step_unit: unit,
        trace,
        cooling,
        davies,
        trajectories,
        seconds,
    }
}

fn write_files(dir: &std::path::Path, out: &ThermalizeOut) -> Result<()> {
    let labels: Vec<&String> = out.observables.keys().collect();
    let with_errors = out.std_errors.is_some();
    let mut csv = format!("{},trace_distance,energy,cost", out.step_unit);
    for l in &labels {
        csv.push_str(&format!(",\"{l}\""));
    }
    if with_errors {
        csv.push_str(",energy_sem,cost_sem");
        for l in &labels {
            csv.push_str(&format!(",\"{l} sem\""));
        }
    }
    csv.push('\n');
    let opt = |x: Option<f64>| x.map(|c| format!("{c:.10e}")).unwrap_or_default();
    for s in &out.trace {
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
    let x_label = format!("{} ({})", out.step_unit, out.method);
    let pts = |f: &dyn Fn(&Step) -> f64| -> Vec<(f64, f64)> {
        out.trace.iter().map(|s| (s.step, f(s))).collect()
    };
    let (x0, x1) = (
        out.trace.first().map_or(0.0, |s| s.step),
        out.trace.last().map_or(1.0, |s| s.step),
    );
    let mut panels = Vec::new();
    if out.trace.iter().all(|s| s.trace_distance.is_some()) {
        panels.push(Panel {
            title: format!("distance to the Gibbs state, T = {}", out.temperature),
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
                points: vec![(x0, out.gibbs.energy), (x1, out.gibbs.energy)],
            },
        ],
    });
    let svg = render(&panels);
    super::write_results(
        dir,
        &[
            ("thermalize.csv", csv),
            ("thermalize.json", serde_json::to_string_pretty(out)? + "\n"),
            ("thermalize.svg", svg),
        ],
    )
}
