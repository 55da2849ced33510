//! `qep shots FILE [--shots …] [--betas …] [--repeats R]`.

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};

use qep::report::default_out_dir;
use qep::report::svg::{chart_png, chart_svg};
use qep::study::shots::{shot_scan_until, ShotScanParams};

use super::args::ShotsArgs;
use super::{
    cooperative, in_file, listing, load, print_json, study_dir, training_example, write_study,
    Interrupted,
};

/// The files `qep shots` writes.
const FILES: [&str; 3] = ["shots.csv", "shots.json", "shots.svg"];
/// The PNG twin of `shots.svg`.
const PNG: &str = "shots.png";

pub fn run(a: ShotsArgs) -> Result<()> {
    let file = &a.model.file;
    let model = load(file)?;
    let ex = training_example(&model, file, a.example)?;
    let params = ShotScanParams {
        shots: a.shots.clone(),
        betas: a.betas.clone(),
        repeats: a.repeats.max(2),
        seed: a.seed,
    };
    let out = study_dir(&a.out, || default_out_dir(&model.name, "-shots"), &FILES)?;
    let cancel = cooperative();
    // Exact free and clamped states, then sampled shots: the EP gradient's buffers plus the
    // largest shot list and its sorted uniforms.
    let most = params.shots.iter().copied().max().unwrap_or(0);
    let mut plan = qep::state::MemoryPlan::new("qep shots");
    plan.extend(&qep::ep::gradient_memory(
        model.qubits,
        &qep::ep::EpParams::default(),
        true,
    ))
    .add(
        "cumulative distribution",
        qep::state::memory::state_bytes(model.qubits, 8),
    )
    .add_n(
        "shots and sorted uniforms",
        2,
        u128::from(most).saturating_mul(8),
    );
    in_file(file, plan.check())?;
    let total = params.shots.len() * params.betas.len();
    let pb = ProgressBar::new((total * params.repeats) as u64);
    pb.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} gradients [{elapsed} < {eta}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let scan = shot_scan_until(&model, &model.theta(), &ex, &params, &cancel, |d, _| {
        pb.set_position(d as u64)
    });
    pb.finish_and_clear();
    let scan = match scan {
        Err(qep::Error::Cancelled(_)) => {
            return Err(Interrupted(
                "interrupted before the first cell was complete; nothing saved".into(),
            )
            .into())
        }
        r => in_file(file, r)?,
    };
    super::finite(file, &scan)?;
    if !scan.complete && scan.cells.is_empty() {
        return Err(Interrupted(
            "interrupted before the first cell was complete; nothing saved".into(),
        )
        .into());
    }
    let charts = scan.charts(&model.name, params.repeats);
    write_study(
        &out,
        &FILES,
        [
            scan.csv(),
            serde_json::to_string_pretty(&scan)? + "\n",
            chart_svg(&charts),
        ],
    )?;
    qep::report::write_atomic(&out.join(PNG), &chart_png(&charts)?)?;
    for w in &scan.warnings {
        eprintln!("warning: {w}");
    }
    if !scan.complete {
        return Err(Interrupted(format!(
            "interrupted after {} of {total} cells (shots, β); their results are saved in {}",
            scan.cells.len(),
            listing(&out, &FILES)
        ))
        .into());
    }
    if a.model.json {
        return print_json(&scan, &model, Some(a.seed), serde_json::to_value(&params)?);
    }
    println!(
        "{:>10} {:>8} {:>12} {:>12} {:>12} {:>12} {:>12}",
        "shots", "beta", "rms", "bias", "clamping", "noise", "reported"
    );
    for c in &scan.cells {
        println!(
            "{:>10} {:>8} {:>12.4e} {:>12.4e} {:>12.4e} {:>12.4e} {:>12.4e}",
            c.shots, c.beta, c.rms, c.bias, c.clamping_bias, c.noise, c.reported_std
        );
    }
    println!(
        "errors are RMS over the {} gradient components, in units of ∂⟨C⟩/∂θ: rms = total error of \
         one gradient; bias = error of the mean of the {} repeats (clamping bias + noise/√{}); \
         clamping = bias alone, EP from exact expectations; noise = spread of the repeats; \
         reported = the standard error a single run quotes from its own shots",
        model.theta().len(),
        params.repeats,
        params.repeats
    );
    println!(
        "model: bias ≈ {:.4e}·β², noise ≈ {:.4e}/(β√S)",
        scan.bias_coefficient, scan.noise_coefficient
    );
    for (s, best, m) in &scan.optimal_beta {
        println!("S = {s:>9}: best β measured {best}, model β* = {m:.4}");
    }
    println!("wrote {}", listing(&out, &[&FILES[..], &[PNG]].concat()));
    Ok(())
}
