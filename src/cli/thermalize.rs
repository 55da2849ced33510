//! `qep thermalize FILE --temperature T [--method cooling|davies]`: prepare the Gibbs state and
//! measure how close it gets.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use qep::evolve::{
    cool, CoolingParams, Davies, DaviesParams, DensityMatrix, GibbsDensity, Options, Relaxation,
};
use qep::pauli::{PauliString, PauliSum};
use qep::report::svg::{render, Panel, Series};
use qep::state::StateVector;
use qep::C64;

use super::args::{ThermalizeArgs, ThermalizeMethod};
use super::{in_file, load, print_json, spinner};

/// One recorded step.
#[derive(Serialize)]
struct Step {
    step: f64,
    trace_distance: f64,
    energy: f64,
    cost: Option<f64>,
    observables: BTreeMap<String, f64>,
}

/// The JSON of `qep thermalize`: the final state's numbers, the exact Gibbs values, the trace.
#[derive(Serialize)]
struct ThermalizeOut {
    method: &'static str,
    qubits: usize,
    temperature: f64,
    /// Trace distance of the final state to the exact Gibbs state.
    trace_distance: f64,
    energy: f64,
    cost: Option<f64>,
    observables: BTreeMap<String, f64>,
    gibbs: GibbsOut,
    /// `round` (cooling) or `time` (davies).
    step_unit: &'static str,
    trace: Vec<Step>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cooling: Option<CoolingOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    davies: Option<DaviesOut>,
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
    if a.method == ThermalizeMethod::Trajectories {
        bail!("--method trajectories: not yet available (quantum trajectories are being written); use --method cooling or --method davies");
    }
    if a.steps == 0 {
        bail!("--steps 0: expected at least 1 step");
    }
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
    let rho0 = match psi0 {
        Some(psi) => in_file(file, DensityMatrix::from_pure(&psi))?,
        None => {
            let mut r = in_file(file, DensityMatrix::zeros(n))?;
            let d = r.dim();
            for i in 0..d {
                r.as_mut_slice()[i * d + i] = C64::new(1.0 / d as f64, 0.0);
            }
            r
        }
    };
    let gibbs = in_file(file, GibbsDensity::new(&h, temperature))?;

    let (rel, method, unit, cooling_out, davies_out) = match a.method {
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
                ProgressStyle::with_template("cooling {bar:30} {pos}/{len} rounds [{elapsed}]")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            let r = cool(&h, temperature, &rho0, &all_obs, &params, |_, _| pb.inc(1));
            pb.finish_and_clear();
            let r = in_file(file, r)?;
            let out = CoolingOut {
                coupling: a.coupling,
                duration: a.duration,
                ancillas: a.ancillas,
                frequencies: r.frequencies.clone(),
                collisions: r.collisions,
            };
            (r.relaxation, "cooling", "round", Some(out), None)
        }
        ThermalizeMethod::Davies | ThermalizeMethod::Trajectories => {
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
            let r = dav.evolve(&rho0, &times, &all_obs, &opts);
            if let Some(pb) = pb {
                pb.finish_and_clear();
            }
            let (r, stats) = in_file(file, r)?;
            let out = DaviesOut {
                rate: a.rate,
                fixed_point_trace_distance: fp.trace_distance,
                gap: fp.gap,
                dt,
                steps: stats.steps,
                rejected_steps: stats.rejected,
            };
            (r, "davies", "time", None, Some(out))
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
        cooling_out,
        davies_out,
        t0.elapsed().as_secs_f64(),
    );
    let dir = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join(format!("{}-thermalize", model.name)));
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
            "{:>8.3} {:>14.6e} {:>14.8}{}",
            s.step,
            s.trace_distance,
            s.energy,
            s.cost.map(|c| format!(" {c:>12.8}")).unwrap_or_default()
        );
    }
    println!(
        "{method} at T = {temperature}: trace distance {:.3e} to the Gibbs state; ⟨H⟩ = {:.6} (Gibbs {:.6}); {:.2} s",
        out.trace_distance, out.energy, out.gibbs.energy, out.seconds
    );
    for (l, v) in &out.observables {
        println!("  ⟨{l}⟩ = {v:.6} (Gibbs {:.6})", out.gibbs.observables[l]);
    }
    println!("wrote {}/thermalize.{{csv,json,svg}}", dir.display());
    Ok(())
}

/// The result record from a relaxation (whose last observable is the cost if `has_cost`).
#[allow(clippy::too_many_arguments)]
fn summarise(
    rel: &Relaxation,
    labels: &[String],
    has_cost: bool,
    gibbs: &GibbsDensity,
    observables: &[PauliSum],
    cost_op: Option<&PauliSum>,
    (method, unit, qubits, temperature): (&'static str, &'static str, usize, f64),
    cooling: Option<CoolingOut>,
    davies: Option<DaviesOut>,
    seconds: f64,
) -> ThermalizeOut {
    let m = rel.steps.len();
    let obs_at = |i: usize| -> BTreeMap<String, f64> {
        labels
            .iter()
            .cloned()
            .zip(rel.observables.iter().map(|o| o[i]))
            .collect()
    };
    let cost_at = |i: usize| has_cost.then(|| rel.observables[labels.len()][i]);
    let trace: Vec<Step> = (0..m)
        .map(|i| Step {
            step: rel.steps[i],
            trace_distance: rel.trace_distance[i],
            energy: rel.energy[i],
            cost: cost_at(i),
            observables: obs_at(i),
        })
        .collect();
    let last = m.saturating_sub(1);
    ThermalizeOut {
        method,
        qubits,
        temperature,
        trace_distance: rel.trace_distance[last],
        energy: rel.energy[last],
        cost: cost_at(last),
        observables: obs_at(last),
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
        seconds,
    }
}

fn write_files(dir: &std::path::Path, out: &ThermalizeOut) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let labels: Vec<&String> = out.observables.keys().collect();
    let mut csv = format!("{},trace_distance,energy,cost", out.step_unit);
    for l in &labels {
        csv.push_str(&format!(",\"{l}\""));
    }
    csv.push('\n');
    for s in &out.trace {
        csv.push_str(&format!(
            "{},{:.10e},{:.10e},{}",
            s.step,
            s.trace_distance,
            s.energy,
            s.cost.map(|c| format!("{c:.10e}")).unwrap_or_default()
        ));
        for l in &labels {
            csv.push_str(&format!(",{:.10e}", s.observables[*l]));
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
    let svg = render(&[
        Panel {
            title: format!("distance to the Gibbs state, T = {}", out.temperature),
            x_label: x_label.clone(),
            y_label: "trace distance".into(),
            log_y: true,
            y_range: None,
            series: vec![Series {
                name: "D(ρ, ρ_G)".into(),
                points: pts(&|s| s.trace_distance),
            }],
        },
        Panel {
            title: "energy".into(),
            x_label,
            y_label: "⟨H⟩".into(),
            log_y: false,
            y_range: None,
            series: vec![
                Series {
                    name: "⟨H⟩".into(),
                    points: pts(&|s| s.energy),
                },
                Series {
                    name: "Gibbs".into(),
                    points: vec![(x0, out.gibbs.energy), (x1, out.gibbs.energy)],
                },
            ],
        },
    ]);
    for (name, text) in [
        ("thermalize.csv", csv),
        ("thermalize.json", serde_json::to_string_pretty(out)? + "\n"),
        ("thermalize.svg", svg),
    ] {
        let p = dir.join(name);
        std::fs::write(&p, text).with_context(|| format!("{}: write failed", p.display()))?;
    }
    Ok(())
}
