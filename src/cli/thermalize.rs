//! `qep thermalize FILE --temperature T [--method cooling|davies|trajectories]`: prepare the
//! Gibbs state and measure how close it gets ([`qep::evolve::thermalize`]). `trajectories`
//! runs the cooling protocol as `--trajectories M` pure-state trajectories (seeded by `--seed`)
//! and reports means ± standard errors; its trace distance (N ≤ 10) is that of the mean of the
//! M pure states.

use std::path::Path;

use anyhow::{bail, Result};
use serde::Serialize;

use qep::evolve::thermalize::{thermalize, Thermalization, ThermalizeMethod, ThermalizeSettings};

use super::args::{self, ThermalizeArgs};
use super::{finite, in_file, load, print_json, study_dir, write_study, ProgressView};

/// The files `qep thermalize` writes.
const FILES: [&str; 3] = ["thermalize.csv", "thermalize.json", "thermalize.svg"];

pub fn run(a: ThermalizeArgs) -> Result<()> {
    let file = &a.model.file;
    let model = load(file)?;
    if let Some(t) = a.temperature.filter(|t| !(*t > 0.0 && t.is_finite())) {
        bail!("--temperature {t}: expected a finite number > 0");
    }
    if a.method == args::ThermalizeMethod::Trajectories && a.trajectories == 0 {
        bail!("--trajectories 0: expected at least 1 trajectory");
    }
    if a.steps == 0 {
        bail!("--steps 0: expected at least 1 step");
    }
    let dir = study_dir(
        &a.out,
        || qep::report::default_out_dir(&model.name, "-thermalize"),
        &FILES,
    )?;
    let settings = ThermalizeSettings {
        method: match a.method {
            args::ThermalizeMethod::Cooling => ThermalizeMethod::Cooling,
            args::ThermalizeMethod::Davies => ThermalizeMethod::Davies,
            args::ThermalizeMethod::Trajectories => ThermalizeMethod::Trajectories,
        },
        temperature: a.temperature,
        steps: a.steps,
        initial: a.initial.clone(),
        coupling: a.coupling,
        duration: a.duration,
        ancillas: a.ancillas,
        rate: a.rate,
        dt: a.dt,
        trajectories: a.trajectories,
        seed: a.seed,
        observe: a.observe.clone(),
    };
    let view = ProgressView::new();
    let out = in_file(file, thermalize(&model, &settings, &|p| view.report(p)))?;
    drop(view);
    save(file, &dir, &FILES, &out, out.csv(), out.svg(), out.png()?)?;
    if a.model.json {
        return print_json(&out, &model, None, serde_json::to_value(&out.settings)?);
    }
    print_text(&out);
    println!("wrote {}/thermalize.{{csv,json,svg,png}}", dir.display());
    Ok(())
}

/// Checks that `out` is finite and writes its CSV, JSON and SVG (`files`) in `dir`, and the
/// chart's PNG twin beside the SVG: what `qep thermalize` and `qep thermal-scan` save.
pub(super) fn save<T: Serialize>(
    file: &Path,
    dir: &Path,
    files: &[&str; 3],
    out: &T,
    csv: String,
    svg: String,
    png: Vec<u8>,
) -> Result<()> {
    finite(file, out)?;
    write_study(
        dir,
        files,
        [csv, serde_json::to_string_pretty(out)? + "\n", svg],
    )?;
    let png_name = Path::new(files[2]).with_extension("png");
    qep::report::write_atomic(&dir.join(png_name), &png)?;
    Ok(())
}

/// The trace and the final numbers against the Gibbs state's, as a table.
fn print_text(out: &Thermalization) {
    println!(
        "{:>8} {:>14} {:>14}{}",
        out.step_unit,
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
        "{} at T = {}: trace distance {} to the Gibbs state; ⟨H⟩ = {:.6}{} (Gibbs {:.6}); {:.2} s",
        out.method,
        out.temperature,
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
            pm(se.and_then(|e| e.observables.get(l).copied())),
            out.gibbs.observables.get(l).copied().unwrap_or(f64::NAN)
        );
    }
}
