//! `qep prepare FILE [--start START.yaml] [--time T | --times …]`: the state-preparation
//! benchmark ([`qep::study::prepare`]).

use anyhow::Result;

use qep::adiabatic::{KrylovParams, Method, ScheduleKind};
use qep::cancel::Cancel;
use qep::study::prepare::{prepare_study, PrepareStudy, PrepareStudySettings};

use super::args::{PrepMethodArg, PrepareArgs, ScheduleArg};
use super::{
    check_study_out, cooperative, finite, in_file, listing, load, print_json, write_results,
    Interrupted, ProgressView,
};

/// The files `qep prepare` writes.
const FILES: [&str; 3] = ["prepare.csv", "prepare.json", "prepare.svg"];

pub fn run(a: PrepareArgs) -> Result<()> {
    let file = &a.model.file;
    let model = load(file)?;
    let start = a.start.as_deref().map(load).transpose()?;
    let settings = PrepareStudySettings {
        example: a.example,
        times: a.times.clone(),
        time: a.time,
        schedule: a.schedule.map(|s| match s {
            ScheduleArg::Linear => ScheduleKind::Linear,
            ScheduleArg::Smooth => ScheduleKind::Smooth,
            ScheduleArg::Local => ScheduleKind::Local,
        }),
        method: match a.method {
            PrepMethodArg::Krylov => Method::Krylov,
            PrepMethodArg::Magnus => Method::Magnus,
            PrepMethodArg::Trotter => Method::Trotter {
                order: a.trotter_order,
            },
        },
        trotter_order: a.trotter_order,
        steps: a.steps,
        eigen: a.eigen,
        gap_points: a.gap_points,
        krylov: KrylovParams {
            tol: a.krylov_tol,
            max_dim: a.krylov_dim,
        },
        circuit: a.qasm.is_some(),
    };
    let dir = a
        .out
        .clone()
        .unwrap_or_else(|| qep::report::default_out_dir(&model.name, "-prepare"));
    check_study_out(&dir, &FILES, a.overwrite)?;
    // Several sweeps stop between sweeps on Ctrl-C; a single sweep has no safe point.
    let cancel = if a.times.is_some() {
        cooperative()
    } else {
        Cancel::new()
    };
    let view = ProgressView::new();
    let out = prepare_study(&model, start.as_ref(), &settings, &cancel, &|p| {
        view.report(p)
    });
    drop(view);
    let mut out = in_file(file, out)?;
    let runs = out.all_runs().count();
    let times = a.times.as_ref().map_or(1, Vec::len);
    if runs == 0 && !out.complete {
        return Err(Interrupted(
            "interrupted before the first sweep was complete; nothing saved".into(),
        )
        .into());
    }
    if let (Some(path), Some(text)) = (&a.qasm, out.circuit.take()) {
        qep::report::write_atomic(path, text.as_bytes())?;
        out.qasm = Some(path.display().to_string());
    }
    finite(file, &out)?;
    write_results(
        &dir,
        &[
            ("prepare.csv", out.csv()),
            ("prepare.json", serde_json::to_string_pretty(&out)?),
            ("prepare.svg", out.svg()),
        ],
    )?;
    if !out.complete {
        return Err(Interrupted(format!(
            "interrupted after {runs} of {times} sweep times (T = {}); their results are saved \
             in {}{}",
            out.all_runs()
                .map(|r| r.run.time.to_string())
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
        return print_json(&out, &model, None, serde_json::to_value(&out.settings)?);
    }
    print_text(&out, &a);
    println!("wrote {}/prepare.{{csv,json,svg}}", dir.display());
    Ok(())
}

/// The path's gaps and one row per sweep, as a table.
fn print_text(out: &PrepareStudy, a: &PrepareArgs) {
    println!(
        "{}: {} qubits, level {} from {}, {:?} schedule, {:?}, {} steps",
        out.name,
        out.qubits,
        out.eigen,
        a.start
            .as_ref()
            .map_or("−Σ X_i".to_string(), |p| p.display().to_string()),
        out.schedule,
        out.method,
        out.steps
    );
    if let Some(p) = &out.path {
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
    for r in out.all_runs().map(|r| &r.run) {
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
            out.expected_slope
                .map_or(String::new(), |e| format!(" (adiabatic theorem: T^{e})"))
        );
    }
}
