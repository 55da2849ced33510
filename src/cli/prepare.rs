//! `qep prepare FILE [--start START.yaml] [--time T | --times …]`: the state-preparation
//! benchmark ([`qep::study::prepare`]).

use anyhow::Result;

use qep::adiabatic::{KrylovParams, Method, ScheduleKind};
use qep::cancel::Cancel;
use qep::study::prepare::{prepare_study, PrepareStudy, PrepareStudySettings};

use super::args::{PrepMethodArg, PrepareArgs, ScheduleArg};
use super::{
    cooperative, finite, in_file, listing, load, print_json, study_dir, write_study, Interrupted,
    ProgressView,
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
    let dir = study_dir(
        &a.out,
        || qep::report::default_out_dir(&model.name, "-prepare"),
        &FILES,
    )?;
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
    write_study(
        &dir,
        &FILES,
        [out.csv(), serde_json::to_string_pretty(&out)?, out.svg()],
    )?;
    qep::report::write_atomic(&dir.join("prepare.png"), &out.png()?)?;
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
    println!("wrote {}/prepare.{{csv,json,svg,png}}", dir.display());
    Ok(())
}

/// The path's gaps and one row per sweep, as a table.
fn print_text(out: &PrepareStudy, a: &PrepareArgs) {
    // Option values as the command line takes them (`--schedule smooth --method magnus`).
    let name = |v: serde_json::Value| v.as_str().map(String::from);
    let schedule = name(serde_json::json!(out.schedule)).unwrap_or_default();
    let method = match out.method {
        Method::Trotter { order } => format!("trotter --trotter-order {order}"),
        m => name(serde_json::json!(m)).unwrap_or_default(),
    };
    println!(
        "{}: {} qubits, level {} from {}, --schedule {schedule}, --method {method}, {} steps",
        out.name,
        out.qubits,
        out.eigen,
        a.start
            .as_ref()
            .map_or("−Σ X_i".to_string(), |p| p.display().to_string()),
        out.steps
    );
    if let Some(p) = &out.path {
        print!("path: min gap {:.4e} at s = {:.3}", p.min_gap, p.min_gap_s);
        if let (Some(g), Some(s)) = (p.min_coupled_gap, p.min_coupled_gap_s) {
            print!("; min coupled gap {g:.4e} at s = {s:.3}");
            println!();
            print!(
                "  (the min gap is to any level; levels the sweep does not couple to, e.g. of \
                 another symmetry sector, cannot be reached and do not limit it: the coupled gap does)"
            );
        }
        println!();
    }
    if out.degenerate_levels.len() > 1 {
        println!(
            "level {} of the target is (near-)degenerate: levels {:?} lie within {:.2e} of it \
             (splitting ≤ {:.0e}·max(1, |E|)); the fidelity column is the projection onto all \
             of them (subspace_fidelity), level_fidelity in the JSON the overlap with one",
            out.eigen,
            out.degenerate_levels,
            out.degenerate_splitting,
            qep::study::prepare::NEAR_DEGENERATE
        );
    }
    println!(
        "{:>8} {:>14} {:>16} {:>11} {:>10} {:>6} {:>9} {:>8}",
        "T", "fidelity", "energy", "ΔE", "residual", "level", "seconds", "H·ψ"
    );
    for run in out.all_runs() {
        let r = &run.run;
        let v = &r.verification;
        println!(
            "{:>8} {:>14.10} {:>16.10} {:>11.3e} {:>10.3e} {:>6} {:>9.3} {:>8}",
            r.time,
            run.subspace_fidelity,
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
        if let Some(e) = out.expected_slope {
            let why = if e < -2.0 {
                "the smooth schedule's first and second derivatives vanish at both ends, so the \
                 non-adiabatic amplitude falls as T⁻³ and 1 − F as T⁻⁶"
            } else {
                "the linear schedule's velocity jumps at both ends, so the non-adiabatic \
                 amplitude falls as T⁻¹ and 1 − F as T⁻²"
            };
            let t_ad = out
                .path
                .as_ref()
                .and_then(|p| p.adiabatic_time)
                // A (near-)degenerate coupled level makes the time scale unbounded: no sweep
                // length is asymptotic then, and a number would only mislead.
                .filter(|t| t.is_finite() && *t < 1e9)
                .map_or(String::new(), |t| {
                    format!(" (here T ≫ {t:.3e}, the path's adiabatic time)")
                });
            println!(
                "  T^{e}: {why}; that is the asymptotic law for long sweeps{t_ad}: shorter sweeps \
                 are outside that regime and the fitted exponent then differs"
            );
        }
    }
}
