//! `qep grad FILE [--example I | --inputs … --targets …] [--beta B] [--one-sided] [--eigen K]`.

use anyhow::{bail, Result};
use serde::Serialize;

use qep::ep::{compare, ep_gradient, exact_gradient, EpGradient, EpParams, ExactGradient};
use qep::hamiltonian::{Example, Model, StateChoice};

use super::args::GradArgs;
use super::{in_file, lanczos_params, load, print_json, spinner};

/// The JSON of `qep grad`.
#[derive(Serialize)]
struct GradOut {
    example: Example,
    #[serde(flatten)]
    ep: EpGradient,
    /// The oracle's values, in `params` order.
    exact: Option<Vec<f64>>,
    oracle: Option<ExactGradient>,
    cosine: Option<f64>,
    relative_error: Option<f64>,
}

/// The example named by the flags: explicit `--inputs/--targets`, `--example I`, or the
/// dataset's first.
fn example(a: &GradArgs, model: &Model) -> Result<Example> {
    let file = a.model.file.display();
    if let Some(targets) = &a.targets {
        let inputs = a.inputs.clone().unwrap_or_default();
        if inputs.len() != model.inputs.len() {
            bail!(
                "{file}: --inputs has {} values; expected {}, one per model input {:?}",
                inputs.len(),
                model.inputs.len(),
                model.inputs
            );
        }
        if targets.len() != model.outputs.len() {
            bail!(
                "{file}: --targets has {} values; expected {}, one per model output {:?}",
                targets.len(),
                model.outputs.len(),
                model.outputs
            );
        }
        return Ok(Example {
            inputs,
            targets: targets.clone(),
        });
    }
    let Some(d) = &model.dataset else {
        bail!(
            "{file}: the model has no dataset; give the example with --inputs=U1,… --targets=D1,…"
        );
    };
    let i = a.example.unwrap_or(0);
    match d.train.get(i) {
        Some(ex) => Ok(ex.clone()),
        None => bail!(
            "{file}: --example {i} does not exist; expected 0..{} (training examples)",
            d.train.len()
        ),
    }
}

pub fn run(a: GradArgs) -> Result<()> {
    let file = &a.model.file;
    let model = load(file)?;
    let ex = example(&a, &model)?;
    let level = a.eigen.unwrap_or(match model.settings.state {
        StateChoice::Ground => 0,
        StateChoice::Eigen(k) => k,
    });
    let params = EpParams {
        beta: a.beta.or(model.settings.beta).unwrap_or(0.01),
        one_sided: a.one_sided,
        level,
        warm_start: !a.no_warm_start,
        shots: a.shots.or(model.settings.shots),
        shot_seed: a.solver.seed,
        lanczos: lanczos_params(&a.solver, 1),
        ..EpParams::default()
    };
    let theta = match &a.params {
        Some(p) => qep::report::run_dir::ParamsFile::load_theta(p, &model)?,
        None => model.theta(),
    };
    if let Some(t) = a.temperature.or(model.settings.temperature) {
        return thermal(&a, &model, &theta, &ex, t, params.beta);
    }
    let pb =
        (model.qubits >= 16).then(|| spinner(format!("EP gradient on {} qubits", model.qubits)));

    let ep = ep_gradient(&model, &theta, &ex, &params);
    let oracle = if a.no_exact {
        None
    } else {
        Some(exact_gradient(&model, &theta, &ex, &params))
    };
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let ep = in_file(file, ep)?;
    let oracle = oracle.map(|o| in_file(file, o)).transpose()?;
    let (cosine, relative_error) = match &oracle {
        Some(o) => {
            let (c, r) = compare(&ep.ep, &o.exact);
            (Some(c), Some(r))
        }
        None => (None, None),
    };
    let out = GradOut {
        example: ex,
        exact: oracle.as_ref().map(|o| o.exact.clone()),
        oracle,
        cosine,
        relative_error,
        ep,
    };
    if a.model.json {
        return print_json(
            &out,
            &model,
            Some(params.lanczos.seed),
            serde_json::to_value(&params)?,
        );
    }
    let e = &out.ep;
    println!(
        "{}: level {} at E = {:.10}, gap {}, ⟨C⟩ = {:.8}, β = {}{}",
        model.name,
        e.level,
        e.energy,
        e.gap
            .map(|g| format!("{g:.3e}"))
            .unwrap_or_else(|| "n/a".into()),
        e.cost,
        e.beta,
        if e.one_sided { " (one-sided)" } else { "" }
    );
    let shots = e.ep_std.is_some();
    println!(
        "{:<16} {:>16} {:>12} {:>16}",
        "param",
        "EP",
        if shots { "std err" } else { "" },
        "exact"
    );
    for (i, label) in e.params.iter().enumerate() {
        let ex = out
            .exact
            .as_ref()
            .map(|x| format!("{:>16.9e}", x[i]))
            .unwrap_or_default();
        let sd = match &e.ep_std {
            Some(s) => format!("{:>12.3e}", s[i]),
            None => format!("{:>12}", ""),
        };
        println!("{:<16} {:>16.9e} {sd} {ex}", label, e.ep[i]);
    }
    if let Some(t) = e.shots_total {
        println!("shots spent on this gradient: {t}");
    }
    if let (Some(c), Some(r)) = (out.cosine, out.relative_error) {
        println!("cosine similarity {c:.9}, relative error {r:.3e}");
    }
    Ok(())
}

/// `qep grad --temperature T`: the four thermal gradients side by side.
fn thermal(
    a: &GradArgs,
    model: &Model,
    theta: &[f64],
    ex: &Example,
    t: f64,
    beta: f64,
) -> Result<()> {
    let g = in_file(
        &a.model.file,
        qep::ep::thermal::thermal_gradients(model, theta, ex, t, beta),
    )?;
    if a.model.json {
        return print_json(
            &g,
            model,
            None,
            serde_json::json!({"temperature": t, "beta": beta}),
        );
    }
    println!(
        "{}: T = {t}, β = {beta}, ⟨C⟩_T = {:.8}, F = {:.8}",
        model.name, g.cost, g.free_energy
    );
    println!(
        "{:<14} {:>14} {:>14} {:>14} {:>14}",
        "param", "exact", "clamped", "covariance", "kubo-mori"
    );
    for (i, p) in g.params.iter().enumerate() {
        println!(
            "{:<14} {:>14.6e} {:>14.6e} {:>14.6e} {:>14.6e}",
            p, g.exact[i], g.clamped[i], g.covariance[i], g.kubo_mori[i]
        );
    }
    for (name, v) in [
        ("clamped", &g.clamped),
        ("covariance", &g.covariance),
        ("kubo-mori", &g.kubo_mori),
    ] {
        let (c, r) = compare(v, &g.exact);
        println!("{name:<11} vs exact: cosine {c:.6}, relative error {r:.3e}");
    }
    Ok(())
}
