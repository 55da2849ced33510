//! `qep prepare FILE [--start START.yaml] [--time T | --times …]`: the state-preparation
//! benchmark (issue 6).

use anyhow::Result;
use serde::Serialize;

use qep::adiabatic::prepare_memory;
use qep::adiabatic::{
    infidelity_slope, trotter_circuit, KrylovParams, Method, PathScan, PrepareSettings, Prepared,
    Preparer, Profile, ScheduleKind,
};
use qep::circuit::{to_qasm, Circuit, Gate};
use qep::hamiltonian::{Preparation, Schedule};
use qep::linalg::LanczosParams;
use qep::report::svg::{render, Panel, Series};
use qep::state::MemoryPlan;

use super::args::{PrepMethodArg, PrepareArgs, ScheduleArg};
use super::{
    bar, check_study_out, cooperative, finite, in_file, listing, load, print_json, spinner,
    training_example, write_results, Interrupted,
};

/// The files `qep prepare` writes.
const FILES: [&str; 3] = ["prepare.csv", "prepare.json", "prepare.svg"];

/// The JSON of `qep prepare`: one run's fields at the top level with `--time`, a list under
/// `runs` with `--times`.
#[derive(Serialize)]
struct Out<'a> {
    #[serde(flatten)]
    single: Option<RunOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    runs: Option<Vec<RunOut<'a>>>,
    qubits: usize,
    eigen: usize,
    schedule: ScheduleKind,
    method: Method,
    steps: usize,
    start_energy: f64,
    path: Option<&'a PathScan>,
    /// Fitted exponent of 1 − F against T, next to the adiabatic theorem's.
    infidelity_slope: Option<f64>,
    expected_slope: Option<f64>,
    qasm: Option<String>,
    /// Whether every sweep time asked for was run (false after a Ctrl-C).
    complete: bool,
}

#[derive(Serialize)]
struct RunOut<'a> {
    #[serde(flatten)]
    run: &'a Prepared,
    min_gap: Option<f64>,
    min_coupled_gap: Option<f64>,
}

pub fn run(a: PrepareArgs) -> Result<()> {
    let file = &a.model.file;
    let model = load(file)?;
    let example = match (a.example, &model.dataset) {
        (Some(i), _) => Some(training_example(&model, file, i)?),
        (None, Some(_)) => Some(training_example(&model, file, 0)?),
        (None, None) => None,
    };
    let target = in_file(
        file,
        model.hamiltonian(&model.theta(), example.as_ref(), 0.0),
    )?;
    let start = match &a.start {
        Some(p) => {
            let m = load(p)?;
            Some(in_file(p, m.hamiltonian(&m.theta(), None, 0.0))?)
        }
        None => None,
    };
    let from_model = match &model.settings.preparation {
        Preparation::Adiabatic(ad) => Some(ad),
        _ => None,
    };
    let times: Vec<f64> = match (&a.times, a.time) {
        (Some(t), _) => t.clone(),
        (None, Some(t)) => vec![t],
        (None, None) => vec![from_model.map_or(10.0, |m| m.time)],
    };
    let t_max = times.iter().copied().fold(0.0, f64::max);
    let steps = a
        .steps
        .or(from_model.map(|m| m.steps))
        .unwrap_or_else(|| 100usize.max((5.0 * t_max).ceil() as usize));
    let schedule = match a.schedule {
        Some(ScheduleArg::Linear) => ScheduleKind::Linear,
        Some(ScheduleArg::Smooth) => ScheduleKind::Smooth,
        Some(ScheduleArg::Local) => ScheduleKind::Local,
        None => match from_model.map(|m| m.schedule) {
            Some(Schedule::Smooth) => ScheduleKind::Smooth,
            Some(Schedule::Local) => ScheduleKind::Local,
            _ => ScheduleKind::Linear,
        },
    };
    let method = match a.method {
        PrepMethodArg::Krylov => Method::Krylov,
        PrepMethodArg::Magnus => Method::Magnus,
        PrepMethodArg::Trotter => Method::Trotter {
            order: a.trotter_order,
        },
    };
    let settings = PrepareSettings {
        method,
        steps,
        eigen: a.eigen,
        schedule,
        krylov: KrylovParams {
            tol: a.krylov_tol,
            max_dim: a.krylov_dim,
        },
        lanczos: LanczosParams {
            tol: 1e-9,
            ..LanczosParams::default()
        },
        gap_points: a.gap_points,
        // The model's table, unless --schedule overrides it.
        profile: match (a.schedule, from_model.and_then(|m| m.table.as_ref())) {
            (None, Some(t)) => Some(in_file(
                file,
                Profile::table(
                    t.iter().map(|r| r[0]).collect(),
                    t.iter().map(|r| r[1]).collect(),
                ),
            )?),
            _ => None,
        },
    };
    let mut plan = MemoryPlan::new("qep prepare");
    plan.extend(&prepare_memory(model.qubits, &settings));
    in_file(file, plan.check())?;
    let settings_json = serde_json::to_value(&settings)?;
    let dir = a
        .out
        .clone()
        .unwrap_or_else(|| qep::report::default_out_dir(&model.name, "-prepare"));
    check_study_out(&dir, &FILES, a.overwrite)?;
    // Several sweeps stop between sweeps on Ctrl-C; a single sweep has no safe point.
    let cancel = a.times.is_some().then(cooperative);
    let pb = spinner(format!(
        "{}: reference spectrum and path scan ({} points)",
        model.name, a.gap_points
    ));
    let mut prep = in_file(file, Preparer::new(start, target, settings))?;
    pb.finish_and_clear();
    // Sweeps cost in proportion to their time T: the bar counts sweep time, so that its
    // estimate of the time left holds for --times 5,10,20,40.
    let total: f64 = times.iter().sum();
    let pb = bar(
        (total.max(0.0) * 10.0).ceil() as u64,
        format!("{}: sweeps", model.name),
        "(×0.1 sweep time)",
    );
    let mut runs = Vec::with_capacity(times.len());
    let mut done = 0.0;
    for &t in &times {
        if cancel.as_ref().is_some_and(|c| c.is_cancelled()) {
            break;
        }
        pb.set_message(format!("{}: sweep T = {t}", model.name));
        let (r, _) = in_file(file, prep.run(t))?;
        runs.push(r);
        done += t;
        pb.set_position((done * 10.0).ceil() as u64);
    }
    pb.finish_and_clear();
    let complete = runs.len() == times.len();
    if runs.is_empty() && !complete {
        return Err(Interrupted(
            "interrupted before the first sweep was complete; nothing saved".into(),
        )
        .into());
    }
    let qasm = match &a.qasm {
        Some(path) if complete => {
            let sweep = in_file(file, prep.sweep(t_max))?;
            let trotter = in_file(file, trotter_circuit(&sweep, steps, a.trotter_order))?;
            // From |0…0⟩: the default start |+…+⟩ is one layer of H; another start state is
            // the caller's to prepare (said in the header).
            let default_start = a.start.is_none() && a.eigen == 0;
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
                file.display(),
                a.trotter_order,
                schedule,
                model.source.sha256,
                if default_start {
                    "Starts from |0...0>: the first layer of h gates prepares |+...+>, the ground \
                     state of -sum X_i."
                        .to_string()
                } else {
                    format!(
                        "Assumes level {} of the start Hamiltonian is already prepared.",
                        a.eigen
                    )
                }
            );
            qep::report::write_atomic(path, (header + &to_qasm(&circ)).as_bytes())?;
            Some(path.display().to_string())
        }
        _ => None,
    };
    let path = prep.path();
    let wrapped: Vec<RunOut> = runs
        .iter()
        .map(|r| RunOut {
            run: r,
            min_gap: path.map(|p| p.min_gap),
            min_coupled_gap: path.and_then(|p| p.min_coupled_gap),
        })
        .collect();
    let expected_slope = match schedule {
        ScheduleKind::Linear => Some(-2.0),
        ScheduleKind::Smooth => Some(-6.0),
        ScheduleKind::Local => None,
    };
    let multi = a.times.is_some();
    let mut wrapped_iter = wrapped.into_iter();
    let out = Out {
        single: if multi { None } else { wrapped_iter.next() },
        runs: if multi {
            Some(wrapped_iter.collect())
        } else {
            None
        },
        qubits: model.qubits,
        eigen: a.eigen,
        schedule,
        method,
        steps,
        start_energy: prep.start_energy(),
        path,
        infidelity_slope: if multi { infidelity_slope(&runs) } else { None },
        expected_slope,
        qasm,
        complete,
    };
    finite(file, &out)?;
    // Files.
    let mut csv = String::from(
        "time,fidelity,energy,target_energy,energy_error,residual,level,seconds,matvecs,norm_error\n",
    );
    for r in &runs {
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
    let json = serde_json::to_string_pretty(&out)?;
    let mut panels = vec![Panel {
        title: format!("{}: infidelity vs sweep time", model.name),
        x_label: "log10 T".into(),
        y_label: "1 − F".into(),
        log_y: true,
        y_range: None,
        series: vec![Series {
            name: format!("{schedule:?}").to_lowercase(),
            points: runs
                .iter()
                .map(|r| (r.time.log10(), (1.0 - r.verification.fidelity).max(1e-16)))
                .collect(),
        }],
    }];
    if let Some(p) = path {
        let mut series = vec![Series {
            name: "gap to nearest level".into(),
            points: p.points.iter().map(|q| (q.s, q.gap.max(1e-16))).collect(),
        }];
        let coupled: Vec<(f64, f64)> = p
            .points
            .iter()
            .filter_map(|q| q.coupled_gap.map(|g| (q.s, g.max(1e-16))))
            .collect();
        if !coupled.is_empty() {
            series.push(Series {
                name: "gap to nearest coupled level".into(),
                points: coupled,
            });
        }
        panels.push(Panel {
            title: format!("gap of level {} along the path", a.eigen),
            x_label: "s".into(),
            y_label: "gap".into(),
            log_y: true,
            y_range: None,
            series,
        });
    }
    write_results(
        &dir,
        &[
            ("prepare.csv", csv),
            ("prepare.json", json),
            ("prepare.svg", render(&panels)),
        ],
    )?;
    if !complete {
        return Err(Interrupted(format!(
            "interrupted after {} of {} sweep times (T = {}); their results are saved in {}{}",
            runs.len(),
            times.len(),
            runs.iter()
                .map(|r| r.time.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            listing(&dir, &FILES),
            if a.qasm.is_some() {
                "; the --qasm circuit was not written"
            } else {
                ""
            }
        ))
        .into());
    }

    if a.model.json {
        return print_json(&out, &model, None, settings_json);
    }
    println!(
        "{}: {} qubits, level {} from {}, {:?} schedule, {:?}, {} steps",
        model.name,
        model.qubits,
        a.eigen,
        a.start
            .as_ref()
            .map_or("−Σ X_i".to_string(), |p| p.display().to_string()),
        schedule,
        method,
        steps
    );
    if let Some(p) = path {
        print!("path: min gap {:.4e} at s = {:.3}", p.min_gap, p.min_gap_s);
        if let (Some(g), Some(s)) = (p.min_coupled_gap, p.min_coupled_gap_s) {
            print!("; min coupled gap {g:.4e} at s = {s:.3}");
        }
        println!();
    }
    println!(
        "{:>8} {:>14} {:>16} {:>11} {:>10} {:>6} {:>9} {:>8}",
        "T", "fidelity", "energy", "ΔE", "residual", "level", "seconds", "H·ψ"
    );
    for r in &runs {
        let v = &r.verification;
        println!(
            "{:>8} {:>14.10} {:>16.10} {:>11.3e} {:>10.3e} {:>6} {:>9.3} {:>8}",
            r.time,
            v.fidelity,
            v.energy,
            v.energy_error,
            v.residual,
            v.level,
            r.seconds,
            r.propagation.krylov.matvecs
        );
    }
    if let Some(sl) = out.infidelity_slope {
        println!(
            "1 − F ∝ T^{sl:.2}{}",
            expected_slope.map_or(String::new(), |e| format!(" (adiabatic theorem: T^{e})"))
        );
    }
    println!("wrote {}/prepare.{{csv,json,svg}}", dir.display());
    Ok(())
}
