//! `qep run FILE`: the free phase of the model's first example (training extends this).

use anyhow::Result;
use serde::Serialize;

use qep::ep::{free_phase, FreePhase};
use qep::hamiltonian::Example;

use super::args::RunArgs;
use super::{in_file, lanczos_params, load, print_json, spinner};

/// The JSON of `qep run`.
#[derive(Serialize)]
struct RunOut {
    model: String,
    qubits: usize,
    example: Option<Example>,
    #[serde(flatten)]
    free: FreePhase,
}

pub fn run(a: RunArgs) -> Result<()> {
    let file = &a.model.file;
    let model = load(file)?;
    let example = model.first_example();
    let params = lanczos_params(&a.solver, 1);
    let pb =
        (model.qubits >= 18).then(|| spinner(format!("free phase on {} qubits", model.qubits)));
    let free = free_phase(&model, &model.theta(), example.as_ref(), &params);
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let free = in_file(file, free)?;
    let out = RunOut {
        model: model.name.clone(),
        qubits: model.qubits,
        example,
        free,
    };
    if a.model.json {
        return print_json(
            &out,
            &model,
            Some(model.seed),
            serde_json::to_value(&params)?,
        );
    }
    let f = &out.free;
    println!(
        "{}: {} qubits, {} parameters",
        out.model,
        out.qubits,
        model.params.len()
    );
    match &out.example {
        Some(ex) => println!(
            "example     inputs {:?} → targets {:?}",
            ex.inputs, ex.targets
        ),
        None => println!("example     none (no dataset): no input fields"),
    }
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
    match f.cost {
        Some(c) => println!("cost        ⟨C⟩ = {c:.8}"),
        None => println!("cost        n/a (no targets)"),
    }
    Ok(())
}
