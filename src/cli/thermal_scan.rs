//! `qep thermal-scan FILE --temperatures …`: where the covariance formula of Eq. 43 fails.

use anyhow::Result;
use serde::Serialize;

use qep::ep::thermal::thermal_gradients;
use qep::report::default_out_dir;
use qep::report::svg::{render, Panel, Series};

use super::args::ThermalScanArgs;
use super::{
    check_study_out, cooperative, in_file, listing, load, print_json, training_example,
    write_results, Interrupted,
};

/// The files `qep thermal-scan` writes.
const FILES: [&str; 3] = ["thermal-scan.csv", "thermal-scan.json", "thermal-scan.svg"];

/// One temperature: relative errors `‖est − exact‖/‖exact‖` over the XX, ZZ and all parameters.
#[derive(Serialize)]
struct Row {
    temperature: f64,
    covariance_xx: Option<f64>,
    covariance_zz: Option<f64>,
    covariance: f64,
    clamped: f64,
    kubo_mori: f64,
    exact_norm: f64,
}

#[derive(Serialize)]
struct ScanOut {
    beta: f64,
    rows: Vec<Row>,
    /// Whether every temperature asked for was computed (false after a Ctrl-C).
    complete: bool,
}

/// `‖a − b‖/‖b‖` over the indices `idx` (None when empty).
fn rel(a: &[f64], b: &[f64], idx: &[usize]) -> Option<f64> {
    if idx.is_empty() {
        return None;
    }
    let d: f64 = idx
        .iter()
        .map(|&i| (a[i] - b[i]).powi(2))
        .sum::<f64>()
        .sqrt();
    let n: f64 = idx.iter().map(|&i| b[i].powi(2)).sum::<f64>().sqrt();
    Some(if n > 0.0 { d / n } else { d })
}

pub fn run(a: ThermalScanArgs) -> Result<()> {
    let file = &a.model.file;
    let model = load(file)?;
    let ex = training_example(&model, file, a.example)?;
    let kind = |l: char| -> Vec<usize> {
        model
            .params
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                let s = p.pauli;
                s.weight() == 2
                    && match l {
                        'X' => s.z() == 0,
                        _ => s.x() == 0,
                    }
            })
            .map(|(i, _)| i)
            .collect()
    };
    let (xx, zz) = (kind('X'), kind('Z'));
    let all: Vec<usize> = (0..model.params.len()).collect();
    if model.params.is_empty() {
        anyhow::bail!(
            "{}: the model has no trainable parameters; expected at least one (the scan compares \
             gradient estimators)",
            file.display()
        );
    }
    // Per temperature: the free and two clamped dense Gibbs states and the parameters'
    // operators in the eigenbasis (Kubo–Mori), checked with the qubit limit before any work.
    in_file(file, qep::evolve::GibbsDensity::check_size(model.qubits))?;
    let n = model.qubits;
    let mut plan = qep::state::MemoryPlan::new("qep thermal-scan");
    for _ in 0..3 {
        plan.extend(&qep::evolve::gibbs_memory(n));
    }
    plan.add_n(
        "operators in the eigenbasis",
        model.params.len() + 1,
        qep::evolve::density_bytes(n),
    );
    in_file(file, plan.check())?;
    let theta = model.theta();
    let dir = a
        .out
        .clone()
        .unwrap_or_else(|| default_out_dir(&model.name, "-thermal"));
    check_study_out(&dir, &FILES, a.overwrite)?;
    let cancel = cooperative();
    let mut rows = Vec::new();
    for &t in &a.temperatures {
        if cancel.is_cancelled() {
            break;
        }
        let g = in_file(file, thermal_gradients(&model, &theta, &ex, t, a.beta))?;
        rows.push(Row {
            temperature: t,
            covariance_xx: rel(&g.covariance, &g.exact, &xx),
            covariance_zz: rel(&g.covariance, &g.exact, &zz),
            covariance: rel(&g.covariance, &g.exact, &all).unwrap_or(f64::NAN),
            clamped: rel(&g.clamped, &g.exact, &all).unwrap_or(f64::NAN),
            kubo_mori: rel(&g.kubo_mori, &g.exact, &all).unwrap_or(f64::NAN),
            exact_norm: g.exact.iter().map(|x| x * x).sum::<f64>().sqrt(),
        });
    }
    let out = ScanOut {
        beta: a.beta,
        complete: rows.len() == a.temperatures.len(),
        rows,
    };
    if out.rows.is_empty() && !out.complete {
        return Err(Interrupted(
            "interrupted before the first temperature was complete; nothing saved".into(),
        )
        .into());
    }
    super::finite(file, &out)?;
    let mut csv = String::from(
        "temperature,covariance_xx,covariance_zz,covariance,clamped,kubo_mori,exact_norm\n",
    );
    let o = |x: Option<f64>| x.map(|v| format!("{v:.6e}")).unwrap_or_default();
    for r in &out.rows {
        csv.push_str(&format!(
            "{},{},{},{:.6e},{:.6e},{:.6e},{:.6e}\n",
            r.temperature,
            o(r.covariance_xx),
            o(r.covariance_zz),
            r.covariance,
            r.clamped,
            r.kubo_mori,
            r.exact_norm
        ));
    }
    let pts = |f: &dyn Fn(&Row) -> Option<f64>| -> Vec<(f64, f64)> {
        out.rows
            .iter()
            .filter_map(|r| f(r).map(|v| (r.temperature.log10(), v)))
            .collect()
    };
    let svg = render(&[Panel {
        title: "thermal gradients: relative error vs exact".into(),
        x_label: "log10 T".into(),
        y_label: "‖estimate − exact‖ / ‖exact‖".into(),
        log_y: true,
        y_range: None,
        series: vec![
            Series {
                name: "covariance XX".into(),
                points: pts(&|r| r.covariance_xx),
            },
            Series {
                name: "covariance ZZ".into(),
                points: pts(&|r| r.covariance_zz),
            },
            Series {
                name: "clamped".into(),
                points: pts(&|r| Some(r.clamped)),
            },
            Series {
                name: "Kubo–Mori".into(),
                points: pts(&|r| Some(r.kubo_mori)),
            },
        ],
    }]);
    write_results(
        &dir,
        &[
            ("thermal-scan.csv", csv),
            (
                "thermal-scan.json",
                serde_json::to_string_pretty(&out)? + "\n",
            ),
            ("thermal-scan.svg", svg),
        ],
    )?;
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
    println!(
        "relative errors ‖estimate − exact‖/‖exact‖; wrote {}/thermal-scan.{{csv,json,svg}}",
        dir.display()
    );
    Ok(())
}
