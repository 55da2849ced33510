//! `qep info FILE`.

use anyhow::Result;
use serde_json::json;

use qep::report::ModelInfo;

use super::args::InfoArgs;
use super::{bytes, in_file, load, print_json};

pub fn run(a: InfoArgs) -> Result<()> {
    let file = &a.model.file;
    let model = load(file)?;
    let info = in_file(file, ModelInfo::new(&model))?;
    if a.model.json {
        return print_json(&info, &model, Some(model.seed), json!({}));
    }
    let m = &info.memory;
    println!("model       {} ({})", info.name, info.kind);
    println!("qubits      {}", info.qubits);
    println!(
        "terms       {} merged Pauli terms in {} X-mask groups{}",
        info.terms,
        info.x_mask_groups,
        info.passes
            .map(|p| format!(", {p} streaming passes per H·ψ"))
            .unwrap_or_default()
    );
    println!(
        "arithmetic  {}",
        if info.real {
            "real (no Y-odd terms): 8 B amplitudes"
        } else {
            "complex: 16 B amplitudes"
        }
    );
    println!("params      {} trainable", info.params);
    println!("inputs      {:?}", info.inputs);
    println!("outputs     {:?}", info.outputs);
    if let Some((train, test)) = info.examples {
        println!("dataset     {train} training, {test} test examples");
    }
    println!(
        "memory      state vector {}, operator {}, Lanczos {} (two-pass {}), available {}",
        bytes(m.state_vector),
        bytes(m.operator),
        bytes(m.lanczos_stored),
        bytes(m.lanczos_two_pass),
        bytes(m.available)
    );
    if m.lanczos_two_pass > m.available {
        println!(
            "            too large for this machine: even the two-pass ground state does not fit"
        );
    }
    Ok(())
}
