//! `qep thermal-scan FILE --temperatures …`: where the covariance formula of Eq. 43 fails
//! ([`qep::study::thermal_scan`]).

use anyhow::Result;

use qep::report::default_out_dir;
use qep::study::thermal_scan::{thermal_scan, ThermalScan, ThermalScanSettings};

use super::args::ThermalScanArgs;
use super::thermalize::save;
use super::{
    cooperative, in_file, listing, load, print_json, study_dir, Interrupted, ProgressView,
};

/// The files `qep thermal-scan` writes.
const FILES: [&str; 3] = ["thermal-scan.csv", "thermal-scan.json", "thermal-scan.svg"];

pub fn run(a: ThermalScanArgs) -> Result<()> {
    let file = &a.model.file;
    let model = load(file)?;
    let dir = study_dir(&a.out, || default_out_dir(&model.name, "-thermal"), &FILES)?;
    let settings = ThermalScanSettings {
        temperatures: a.temperatures.clone(),
        beta: a.beta,
        example: a.example,
    };
    let view = ProgressView::new();
    let out = thermal_scan(&model, &settings, &cooperative(), &|p| view.report(p));
    drop(view);
    let out = in_file(file, out)?;
    if out.rows.is_empty() && !out.complete {
        return Err(Interrupted(
            "interrupted before the first temperature was complete; nothing saved".into(),
        )
        .into());
    }
    save(file, &dir, &FILES, &out, out.csv(), out.svg(), out.png()?)?;
    if !out.complete {
        return Err(Interrupted(format!(
            "interrupted after {} of {} temperatures; their results are saved in {}",
            out.rows.len(),
            a.temperatures.len(),
            listing(&dir, &FILES)
        ))
        .into());
    }
    if a.model.json {
        return print_json(
            &out,
            &model,
            None,
            serde_json::json!({"beta": a.beta, "example": a.example}),
        );
    }
    print_text(&out);
    println!(
        "relative errors ‖estimate − exact‖/‖exact‖; wrote {}/thermal-scan.{{csv,json,svg,png}}",
        dir.display()
    );
    Ok(())
}

/// The relative errors per temperature, as a table.
fn print_text(out: &ThermalScan) {
    let o = |x: Option<f64>| x.map(|v| format!("{v:.6e}")).unwrap_or_default();
    println!(
        "{:>8} {:>14} {:>14} {:>14} {:>14}",
        "T", "cov (XX)", "cov (ZZ)", "clamped", "Kubo–Mori"
    );
    for r in &out.rows {
        println!(
            "{:>8} {:>14} {:>14} {:>14.3e} {:>14.3e}",
            r.temperature,
            o(r.covariance_xx),
            o(r.covariance_zz),
            r.clamped,
            r.kubo_mori
        );
    }
}
