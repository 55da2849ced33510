//! `qep run FILE`: train the network by EP (or, without a dataset, solve its free phase).

use std::time::Instant;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use qep::ep::thermal::ThermalParams;
use qep::ep::{free_phase, EpOverrides, FreePhase, RunStamp, TrainParams, Trainer};
use qep::hamiltonian::{Example, Model, ThermalGradient};
use qep::report::run_dir::{ParamsFile, RunDir, Summary, RUN_FILES};
use qep::report::{check_fresh, default_out_dir, Provenance};

use super::args::RunArgs;
use super::{cooperative, in_file, lanczos_params, load, print_json, spinner, Interrupted};

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
    let theta0 = match &a.params {
        Some(p) => ParamsFile::load_theta(p, &model)?,
        None => model.theta(),
    };
    if model.dataset.as_ref().is_none_or(|d| d.train.is_empty()) {
        return free_only(&a, &model, &theta0);
    }
    let cancel = cooperative();
    let t0 = Instant::now();
    let overrides = EpOverrides {
        beta: a.beta,
        temperature: a.temperature,
        thermal_gradient: a.thermal_gradient.as_deref().map(|e| match e {
            "covariance" => ThermalGradient::Covariance,
            "kubo-mori" => ThermalGradient::KuboMori,
            _ => ThermalGradient::Clamped,
        }),
        samples: a.samples,
        lanczos: Some(qep::linalg::LanczosParams {
            tol: a.solver.tol.min(1e-10),
            ..lanczos_params(&a.solver, 1)
        }),
        ..EpOverrides::default()
    };
    let mut params = in_file(&file, TrainParams::with_overrides(&model, &overrides))?;
    if let Some(e) = a.epochs {
        params.training.epochs = e;
    }
    params.cosine_every = a.cosine_every;
    let mut plan = qep::state::MemoryPlan::new("qep run");
    plan.extend(&qep::ep::gradient_memory(model.qubits, &params.ep, true));
    in_file(&file, plan.check())?;
    let out_dir = a
        .out
        .clone()
        .unwrap_or_else(|| default_out_dir(&model.name, ""));
    if !a.resume {
        check_fresh(
            &out_dir,
            &RUN_FILES,
            a.overwrite,
            "--resume continues it, --overwrite replaces it, --out DIR writes elsewhere",
        )?;
    }
    let dir = RunDir::create(&out_dir)?;
    let epochs = params.training.epochs;
    let mut forced = Vec::new();
    let resume = if a.resume {
        let mut c = dir
            .checkpoint()?
            .with_context(|| format!("{}: no checkpoint.json to resume from", out_dir.display()))?;
        let now = RunStamp::new(&model, &params, &theta0);
        let changes = match &c.stamp {
            Some(s) => s.changes(&now),
            None => vec!["the checkpoint records no settings (written by an older qep)".into()],
        };
        if !changes.is_empty() {
            if !a.force {
                bail!(
                    "{}: made with other settings: {}; expected the model and flags of the \
                     checkpointed run (--resume --force continues with the new ones)",
                    out_dir.join("checkpoint.json").display(),
                    changes.join("; ")
                );
            }
            c.stamp = Some(now);
            forced = changes;
        }
        if c.epoch > epochs {
            bail!(
                "{}: the checkpoint is at epoch {}, beyond --epochs {epochs}; expected --epochs {} \
                 or more",
                out_dir.join("checkpoint.json").display(),
                c.epoch,
                c.epoch
            );
        }
        Some(c)
    } else {
        None
    };
    let mut trainer = in_file(
        &file,
        Trainer::with_start(&model, params.clone(), theta0, resume),
    )?;
    trainer.set_cancel(cancel);
    let start_epoch = trainer.epoch();
    let n_train = model.dataset.as_ref().map_or(0, |d| d.train.len());
    if a.resume && trainer.finished() {
        return already_complete(&a, &model, &dir, &trainer, &params, &forced);
    }
    // A checkpoint from the start: a run stopped during its first epoch can be resumed too.
    dir.save_epoch(&model, trainer.checkpoint())?;
    let forced_note = if forced.is_empty() {
        String::new()
    } else {
        format!(" (--force: {})", forced.join("; "))
    };
    if a.resume {
        eprintln!(
            "{}: resuming from epoch {start_epoch} of {epochs} in {}{forced_note}",
            model.name,
            dir.path().display()
        );
    } else {
        eprintln!(
            "{}: training on {n_train} examples for {epochs} epochs ({} engine), writing {}",
            model.name,
            trainer.engine().name(),
            dir.path().display()
        );
    }
    let pb = ProgressBar::new(((epochs.saturating_sub(start_epoch)) * n_train) as u64);
    pb.set_style(
        ProgressStyle::with_template("{bar:30} epoch {msg} [{elapsed} < {eta}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb.enable_steady_tick(std::time::Duration::from_millis(250));
    let batch = params.training.batch_size.max(1);
    while !trainer.finished() {
        let e = trainer.epoch() + 1;
        pb.set_message(format!("{e}/{epochs}"));
        let base = ((e - 1 - start_epoch) * n_train) as u64;
        let m = match trainer
            .run_epoch(|done, _| pb.set_position(base + (done * batch).min(n_train) as u64))
        {
            Ok(m) => m.clone(),
            Err(qep::ep::TrainError::Cancelled(_)) => {
                pb.finish_and_clear();
                // The trainer holds the last completed epoch: save it (again) and stop.
                dir.save_epoch(&model, trainer.checkpoint())?;
                return Err(Interrupted(format!(
                    "interrupted at epoch {}; checkpoint saved in {}; resume with --resume",
                    trainer.epoch(),
                    dir.path().display()
                ))
                .into());
            }
            Err(e) => return in_file(&file, Err(e)),
        };
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
    let wall = t0.elapsed().as_secs_f64();
    let epochs_run = (c.epoch - start_epoch).max(1);
    let summary = Summary {
        wall_seconds: wall,
        seconds_per_example: wall / (epochs_run * n_train) as f64,
        resumed_from: a.resume.then_some(start_epoch),
        forced_changes: forced,
        ..summary_of(&model, c, &file, &params)?
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
    if let Some(e) = summary.resumed_from {
        println!("resumed from epoch {e}");
    }
    if !summary.forced_changes.is_empty() {
        println!(
            "resumed with --force despite changed settings: {}",
            summary.forced_changes.join("; ")
        );
    }
    if let Some(t) = &params.thermal {
        println!("{}", thermal_line(t, params.ep.beta, model.qubits));
    }
    println!(
        "wrote {}/{{metrics.csv, params.json, summary.json, training.svg, checkpoint.json}}",
        dir.path().display()
    );
    Ok(())
}

/// The summary of the run in checkpoint `c` (timings zero; the caller fills them).
fn summary_of(
    model: &Model,
    c: &qep::ep::Checkpoint,
    file: &std::path::Path,
    params: &TrainParams,
) -> Result<Summary> {
    let last = c.history.last();
    let finite = |x: f64| x.is_finite().then_some(x);
    Ok(Summary {
        model: model.name.clone(),
        epochs: c.epoch,
        final_cost: last.map_or(f64::NAN, |m| m.train_cost),
        train_accuracy: last.map_or(f64::NAN, |m| m.train_accuracy),
        test_accuracy: last.and_then(|m| finite(m.test_accuracy)),
        test_cost: last.and_then(|m| finite(m.test_cost)),
        wall_seconds: 0.0,
        seconds_per_example: 0.0,
        resumed_from: None,
        forced_changes: Vec::new(),
        provenance: Provenance::new(
            Some(file),
            Some(model.source.sha256.clone()),
            Some(params.seed),
            serde_json::to_value(params)?,
        ),
    })
}

/// `--resume` on a run that has done all its epochs: says so and trains nothing. The JSON is
/// the folder's `summary.json` (written when the run finished), or one made from the
/// checkpoint if the run stopped between its last epoch and its summary.
fn already_complete(
    a: &RunArgs,
    model: &Model,
    dir: &RunDir,
    trainer: &Trainer,
    params: &TrainParams,
    forced: &[String],
) -> Result<()> {
    let c = trainer.checkpoint();
    let built = Summary {
        resumed_from: Some(c.epoch),
        forced_changes: forced.to_vec(),
        ..summary_of(model, c, &a.model.file, params)?
    };
    let existing = dir.summary()?;
    if existing.is_none() {
        dir.save_summary(&built)?;
    }
    if a.model.json {
        eprintln!(
            "{}: already complete ({} epochs) in {}; nothing to do",
            model.name,
            c.epoch,
            dir.path().display()
        );
        let v = match existing {
            Some(v) => v,
            None => serde_json::to_value(&built)?,
        };
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!(
        "{}: already complete ({} epochs), final cost {:.6}, train accuracy {:.3}, test accuracy {}",
        built.model,
        built.epochs,
        built.final_cost,
        built.train_accuracy,
        built
            .test_accuracy
            .map(|x| format!("{x:.3}"))
            .unwrap_or_else(|| "—".into()),
    );
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
