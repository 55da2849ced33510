//! `qep plateau [FILE | --family F] --sizes A..B --samples M`.

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};

use qep::hamiltonian::Lattice;
use qep::report::svg::{chart_png, chart_svg};
use qep::report::{default_out_dir, Provenance};
use qep::study::plateau::{plateau_scan_until, Family, PlateauParams, THERMAL_DENSE_MAX};

use super::args::{FamilyArg, PlateauArgs};
use super::{cooperative, listing, load, study_dir, write_study, Interrupted};

/// The files `qep plateau` writes.
const FILES: [&str; 3] = ["plateau.csv", "plateau.json", "plateau.svg"];
/// The PNG twin of `plateau.svg`.
const PNG: &str = "plateau.png";

/// `A..B`, `A..B:S` or `a,b,c`.
fn parse_sizes(s: &str) -> Result<Vec<usize>> {
    let bad = || format!("--sizes {s:?}: expected A..B, A..B:STEP or a list like 4,6,8 (each ≥ 2)");
    let v: Vec<usize> = if let Some((a, rest)) = s.split_once("..") {
        let (b, step) = rest.split_once(':').unwrap_or((rest, "1"));
        let (a, b, step): (usize, usize, usize) = (
            a.trim().parse().with_context(bad)?,
            b.trim().parse().with_context(bad)?,
            step.trim().parse().with_context(bad)?,
        );
        if step == 0 || b < a {
            bail!(bad());
        }
        (a..=b).step_by(step).collect()
    } else {
        s.split(',')
            .map(|x| x.trim().parse::<usize>())
            .collect::<Result<_, _>>()
            .with_context(bad)?
    };
    if v.len() < 2 || v.iter().any(|&n| !(2..=24).contains(&n)) {
        bail!("{}; at least two sizes, each between 2 and 24", bad());
    }
    Ok(v)
}

pub fn run(a: PlateauArgs) -> Result<()> {
    let mut family = match a.family.unwrap_or(FamilyArg::Chain) {
        FamilyArg::Chain => Family::Chain,
        FamilyArg::Grid => Family::Grid,
        FamilyArg::AllToAll => Family::AllToAll,
        FamilyArg::TfimChain => Family::TfimChain,
    };
    let mut input = None;
    if let Some(f) = &a.file {
        let m = load(f)?;
        family = match m.lattice {
            Some(Lattice::Chain { .. }) => Family::Chain,
            Some(Lattice::Grid { .. }) => Family::Grid,
            Some(Lattice::AllToAll { .. }) => Family::AllToAll,
            None => bail!(
                "{}: the model has no `lattice`; give --family instead",
                f.display()
            ),
        };
        input = Some((f.clone(), m.source.sha256.clone()));
    }
    let params = PlateauParams {
        family,
        sizes: parse_sizes(&a.sizes)?,
        samples: a.samples.max(2),
        init_range: a.init_range,
        seed: a.seed,
        ep_shots: a.shots.map(|s| (s, a.beta)),
        temperature: a.temperature,
    };
    let family_name = serde_json::to_value(family)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    let out = study_dir(&a.out, || default_out_dir("plateau-", &family_name), &FILES)?;
    let cancel = cooperative();
    // Each draw holds one EP gradient with its exact oracle at the largest size.
    let largest = params.sizes.iter().copied().max().unwrap_or(0);
    let mut plan = qep::state::MemoryPlan::new("qep plateau");
    plan.extend(&qep::ep::gradient_memory(
        largest,
        &qep::ep::EpParams::default(),
        true,
    ));
    if params.temperature.is_some() {
        // The dense Kubo–Mori gradient holds the dense Gibbs state and its response matrix;
        // above THERMAL_DENSE_MAX the typicality gradient holds seven state vectors.
        let dense = params
            .sizes
            .iter()
            .copied()
            .filter(|&n| n <= THERMAL_DENSE_MAX)
            .max();
        if let Some(n) = dense {
            for _ in 0..2 {
                plan.extend(&qep::evolve::gibbs_memory(n));
            }
        }
        if largest > THERMAL_DENSE_MAX {
            plan.add_n(
                "Kubo–Mori typicality vectors",
                7,
                qep::state::memory::state_bytes(largest, 16),
            );
        }
    }
    if let Some((shots, _)) = params.ep_shots {
        plan.add(
            "cumulative distribution",
            qep::state::memory::state_bytes(largest, 8),
        )
        .add_n(
            "shots and sorted uniforms",
            2,
            u128::from(shots).saturating_mul(8),
        );
    }
    plan.check()?;
    let total = (params.sizes.len() * params.samples) as u64;
    let pb = ProgressBar::new(total);
    pb.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} draws, {msg} [{elapsed} < {eta}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let sizes = params.sizes.clone();
    let samples = params.samples;
    let t0 = std::time::Instant::now();
    let result = plateau_scan_until(&params, &cancel, |si, s| {
        pb.set_message(format!("N = {}", sizes[si]));
        pb.set_position((si * samples + s) as u64);
        // A hidden bar (stderr not a terminal) shows nothing: log each finished size.
        if pb.is_hidden() && s == samples {
            eprintln!("N = {}: {samples} draws done", sizes[si]);
        }
    })?;
    pb.finish_and_clear();
    // The measured variances must be numbers; the fitted rates and their errors are
    // undefined (NaN, written as null) with fewer than two or three sizes.
    qep::finite::check_finite(&(&result.variance, &result.per_size), "qep plateau")?;
    if !result.complete && result.per_size.is_empty() {
        return Err(Interrupted(format!(
            "interrupted before the first size (N = {}) was complete; nothing saved",
            sizes.first().copied().unwrap_or(0)
        ))
        .into());
    }
    let provenance = Provenance::new(
        input.as_ref().map(|(p, _)| p.as_path()),
        input.as_ref().map(|(_, h)| h.clone()),
        Some(params.seed),
        serde_json::to_value(&params)?,
    );
    let json =
        serde_json::to_string_pretty(&result.report(t0.elapsed().as_secs_f64(), &provenance))?;
    write_study(
        &out,
        &FILES,
        [
            result.csv(),
            json.clone() + "\n",
            chart_svg(&[result.chart()]),
        ],
    )?;
    qep::report::write_atomic(&out.join(PNG), &chart_png(&[result.chart()])?)?;
    for w in &result.warnings {
        eprintln!("warning: {w}");
    }
    if !result.complete {
        return Err(Interrupted(format!(
            "interrupted after {} of {} sizes (N = {}); their results are saved in {}",
            result.per_size.len(),
            sizes.len(),
            result
                .sizes
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            listing(&out, &FILES)
        ))
        .into());
    }
    if a.json {
        println!("{json}");
        return Ok(());
    }
    println!(
        "{:>6} {:>8} {:>14} {:>10} {:>14} {:>14} {:>14} {:>9}",
        "qubits", "params", "Var (all)", "± s.e.", "Var (XX)", "Var (ZZ)", "median g²", "seconds"
    );
    for r in &result.per_size {
        println!(
            "{:>6} {:>8} {:>14.6e} {:>10.2e} {:>14.6e} {:>14.6e} {:>14.6e} {:>9.2}",
            r.qubits,
            r.params,
            r.variance,
            r.variance_err,
            r.variance_xx,
            r.variance_zz,
            r.median_sq,
            r.seconds
        );
        if let Some(v) = r.variance_ep_shots {
            println!("{:>6} EP from shots: variance {v:.6e}", "");
        }
        if let (Some(obs), Some(noise)) = (r.variance_observed, r.noise_variance) {
            println!(
                "{:>6} Kubo–Mori by typicality: observed {obs:.6e} − noise {noise:.3e} ({:.0} %) = {:.6e}",
                "",
                100.0 * noise / obs,
                r.variance
            );
        }
    }
    // Fewer than two sizes with a positive variance leave no rate: say so instead of
    // printing NaN as if it were one (the warnings above say why).
    if result.decay_rate.is_finite() {
        println!(
            "Var ∝ exp(−r N): r = {:.4} ± {:.4} (XX {:.4}, ZZ {:.4}); {} draws per size, {:.1} s",
            result.decay_rate,
            result.decay_rate_err,
            result.decay_rate_xx,
            result.decay_rate_zz,
            result.samples,
            t0.elapsed().as_secs_f64()
        );
        let (lo, hi) = result.decay_rate_ci95;
        println!(
            "95 % interval of r: [{lo:.4}, {hi:.4}] (sampling error of r alone ± {:.4}, falls as 1/√draws)",
            result.decay_rate_stat_err
        );
    } else {
        println!(
            "Var ∝ exp(−r N): no rate fitted (fewer than two sizes with a variance above 0); {} draws per size, {:.1} s",
            result.samples,
            t0.elapsed().as_secs_f64()
        );
    }
    if result.decay_rate_median.is_finite() {
        println!(
            "median squared gradient: r = {:.4} ± {:.4} (robust to the heavy tail of nearly degenerate draws)",
            result.decay_rate_median, result.decay_rate_median_err
        );
    } else {
        println!(
            "median squared gradient: no rate fitted (fewer than two sizes with a median above 0)"
        );
    }
    println!("wrote {}", listing(&out, &[&FILES[..], &[PNG]].concat()));
    Ok(())
}
