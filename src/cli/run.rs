//! `qep run FILE`: train the network by EP (or, without a dataset, solve its free phase).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use qep::ep::thermal::ThermalParams;
use qep::ep::{free_phase, FreePhase, TrainParams, Trainer};
use qep::hamiltonian::{Example, Model, ThermalGradient};
use qep::report::run_dir::{ParamsFile, RunDir, Summary};
use qep::report::Provenance;

use super::args::RunArgs;
use super::{in_file, lanczos_params, load, print_json, spinner};

/// The JSON of `qep run` on a model without a dataset.
#[derive(Serialize)]
struct FreeOut {
    model: String,
    qubits: usize,
    example: Option<Example>,
    #[serde(flatten)]
    free: FreePhase,
}

pub fn run(a: RunArgs) -> Result<()> {
    let file = a.model.file.clone();
    let model = load(&file)?;
    let mut theta = model.theta();
    if let Some(p) = &a.params {
        theta = ParamsFile::load_theta(p, &model)?;
    }
    if model.dataset.as_ref().is_none_or(|d| d.train.is_empty()) {
        return free_only(&a, &model, &theta);
    }
    let t0 = Instant::now();
    let mut params = TrainParams::from_model(&model);
    if let Some(e) = a.epochs {
        params.training.epochs = e;
    }
    if let Some(b) = a.beta {
        params.ep.beta = b;
    }
    params.ep.lanczos = qep::linalg::LanczosParams {
        tol: a.solver.tol.min(1e-10),
        ..lanczos_params(&a.solver, 1)
    };
    params.cosine_every = a.cosine_every;
    thermal_flags(&a, &model, &mut params)?;
    let mut plan = qep::state::MemoryPlan::new("qep run");
    plan.extend(&qep::ep::gradient_memory(model.qubits, &params.ep, true));
    in_file(&file, plan.check())?;
    let out_dir = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join(&model.name));
    let dir = RunDir::create(&out_dir)?;
    let resume = if a.resume {
        let c = dir
            .checkpoint()?
            .with_context(|| format!("{}: no checkpoint.json to resume from", out_dir.display()))?;
        Some(c)
    } else {
        None
    };
    let mut trainer = in_file(&file, Trainer::new(&model, params.clone(), resume))?;
    if a.params.is_some() && !a.resume {
        trainer = in_file(
            &file,
            Trainer::new(
                &model,
                params.clone(),
                Some(qep::ep::Checkpoint {
                    epoch: 0,
                    theta: theta.clone(),
                    optimizer: qep::ep::OptimizerState {
                        step: 0,
                        m: vec![0.0; theta.len()],
                        v: vec![0.0; theta.len()],
                    },
                    history: Vec::new(),
                }),
            ),
        )?;
    }
    let start_epoch = trainer.epoch();
    let epochs = params.training.epochs;
    let n_train = model.dataset.as_ref().map_or(0, |d| d.train.len());
    let pb = ProgressBar::new(((epochs.saturating_sub(start_epoch)) * n_train) as u64);
    pb.set_style(
        ProgressStyle::with_template("{bar:30} epoch {msg} [{elapsed} < {eta}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let batch = params.training.batch_size.max(1);
    while !trainer.finished() {
        let e = trainer.epoch() + 1;
        pb.set_message(format!("{e}/{epochs}"));
        let base = ((e - 1 - start_epoch) * n_train) as u64;
        let m = in_file(
            &file,
            trainer.run_epoch(|done, _| pb.set_position(base + (done * batch).min(n_train) as u64)),
        )?
        .clone();
        dir.save_epoch(&model, trainer.checkpoint())?;
        let line = format!(
            "epoch {:>4}  cost {:.6}  train acc {:.3}  test acc {}  |g| {:.3e}{}",
            m.epoch,
            m.train_cost,
            m.train_accuracy,
            if m.test_accuracy.is_nan() {
                "—".to_string()
            } else {
                format!("{:.3}", m.test_accuracy)
            },
            m.grad_norm,
            m.cosine
                .map(|c| format!("  cos {c:.6}"))
                .unwrap_or_default()
                + &m.snr
                    .map(|r| format!("  SNR {r:.1}, {} shots", m.shots))
                    .unwrap_or_default()
        );
        // A hidden bar (stderr not a terminal) drops println: log the epoch plainly then.
        if pb.is_hidden() {
            eprintln!("{line}");
        } else {
            pb.println(line);
        }
    }
    pb.finish_and_clear();
    let c = trainer.checkpoint();
    let last = c.history.last();
    let wall = t0.elapsed().as_secs_f64();
    let epochs_run = (c.epoch - start_epoch).max(1);
    let finite = |x: f64| x.is_finite().then_some(x);
    let summary = Summary {
        model: model.name.clone(),
        epochs: c.epoch,
        final_cost: last.map_or(f64::NAN, |m| m.train_cost),
        train_accuracy: last.map_or(f64::NAN, |m| m.train_accuracy),
        test_accuracy: last.and_then(|m| finite(m.test_accuracy)),
        test_cost: last.and_then(|m| finite(m.test_cost)),
        wall_seconds: wall,
        seconds_per_example: wall / (epochs_run * n_train) as f64,
        provenance: Provenance::new(
            Some(&file),
            Some(model.source.sha256.clone()),
            Some(params.seed),
            serde_json::to_value(&params)?,
        ),
    };
    dir.save_summary(&summary)?;
    if a.model.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
        return Ok(());
    }
    println!(
        "{}: {} epochs, final cost {:.6}, train accuracy {:.3}, test accuracy {}, {:.1} s",
        summary.model,
        summary.epochs,
        summary.final_cost,
        summary.train_accuracy,
        summary
            .test_accuracy
            .map(|x| format!("{x:.3}"))
            .unwrap_or_else(|| "—".into()),
        summary.wall_seconds
    );
    if let Some(t) = &params.thermal {
        println!("{}", thermal_line(t, params.ep.beta, model.qubits));
    }
    println!(
        "wrote {}/{{metrics.csv, params.json, summary.json, training.svg, checkpoint.json}}",
        dir.path().display()
    );
    Ok(())
}

/// `--temperature`, `--thermal-gradient`, `--samples` over the model's thermal settings.
fn thermal_flags(a: &RunArgs, model: &Model, params: &mut TrainParams) -> Result<()> {
    if let Some(t) = a.temperature {
        let est = params
            .thermal
            .as_ref()
            .map_or(ThermalGradient::Clamped, |p| p.estimator);
        params.thermal = Some(ThermalParams::new(t, est, model.seed));
    }
    let Some(th) = params.thermal.as_mut() else {
        if a.thermal_gradient.is_some() || a.samples.is_some() {
            bail!(
                "{}: --thermal-gradient and --samples need a temperature (--temperature T or \
                 `temperature:` in the model)",
                a.model.file.display()
            );
        }
        return Ok(());
    };
    if let Some(e) = a.thermal_gradient.as_deref() {
        th.estimator = match e {
            "covariance" => ThermalGradient::Covariance,
            "kubo-mori" => ThermalGradient::KuboMori,
            _ => ThermalGradient::Clamped,
        };
    }
    if let Some(r) = a.samples {
        th.typicality.samples = r;
    }
    Ok(())
}

/// The human line naming the thermal settings of a run.
fn thermal_line(t: &ThermalParams, beta: f64, qubits: usize) -> String {
    let est = match t.estimator {
        ThermalGradient::Clamped => format!("clamped (β = {beta})"),
        ThermalGradient::Covariance => "covariance (Eq. 43)".into(),
        ThermalGradient::KuboMori => "kubo-mori (exact)".into(),
    };
    let method = match t.resolve(qubits) {
        Ok(qep::ep::thermal::ThermalMethod::Typicality) => {
            format!("typicality, {} random vectors", t.typicality.samples)
        }
        _ => "dense Gibbs state".into(),
    };
    format!(
        "thermal: Gibbs state at T = {}, gradient estimator {est}, {method}",
        t.temperature
    )
}

/// A model without a dataset: the free phase of its first example (or of no inputs).
fn free_only(a: &RunArgs, model: &Model, theta: &[f64]) -> Result<()> {
    let file = &a.model.file;
    let example = model.first_example();
    let params = lanczos_params(&a.solver, 1);
    let mut plan = qep::state::MemoryPlan::new("qep run (free phase)");
    plan.add_n(
        "operator diagonals",
        2,
        qep::state::memory::state_bytes(model.qubits, 16),
    )
    .extend(&qep::linalg::lanczos_memory(model.qubits, 16, &params));
    in_file(file, plan.check())?;
    let pb =
        (model.qubits >= 18).then(|| spinner(format!("free phase on {} qubits", model.qubits)));
    let free = free_phase(model, theta, example.as_ref(), &params);
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let free = in_file(file, free)?;
    let out = FreeOut {
        model: model.name.clone(),
        qubits: model.qubits,
        example,
        free,
    };
    super::finite(file, &out)?;
    if a.model.json {
        return print_json(
            &out,
            model,
            Some(model.seed),
            serde_json::to_value(&params)?,
        );
    }
    let f = &out.free;
    println!(
        "{}: {} qubits, {} parameters (no dataset: free phase only)",
        out.model,
        out.qubits,
        model.params.len()
    );
    let levels: Vec<String> = f.energies.iter().map(|e| format!("{e:.10}")).collect();
    println!("energies    {}", levels.join(", "));
    println!(
        "state       level {} at E = {:.10} (residual {:.1e}, gap {})",
        f.level,
        f.energy,
        f.residual,
        f.gap
            .map(|g| format!("{g:.4e}"))
            .unwrap_or_else(|| "n/a".into())
    );
    for (q, z) in f.outputs.iter().zip(&f.z_outputs) {
        println!("output      ⟨Z{q}⟩ = {z:+.8}");
    }
    Ok(())
}
