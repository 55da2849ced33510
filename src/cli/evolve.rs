//! `qep evolve FILE [--initial …] --times … --observe …`.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use serde::Serialize;

use qep::evolve::{evolve_lindblad, jump_list, DensityMatrix, Options};
use qep::linalg::{eigenpairs, LanczosParams};
use qep::operator::XMaskOperator;
use qep::pauli::{PauliString, PauliSum};
use qep::state::StateVector;
use qep::C64;

use super::args::EvolveArgs;
use super::{in_file, load, print_json, spinner};

/// The JSON of `qep evolve`.
#[derive(Serialize)]
struct EvolveOut {
    qubits: usize,
    method: &'static str,
    jumps: usize,
    times: Vec<f64>,
    observables: BTreeMap<String, Vec<f64>>,
    purity: Vec<f64>,
    trace: Vec<f64>,
    min_eigenvalue: Option<Vec<f64>>,
    steps: usize,
    rejected_steps: usize,
    seconds: f64,
}

pub fn run(a: EvolveArgs) -> Result<()> {
    let t0 = std::time::Instant::now();
    let file = &a.model.file;
    let model = load(file)?;
    if a.method != "rho" {
        bail!("--method {}: only `rho` (the density matrix) is available; quantum trajectories are not implemented yet", a.method);
    }
    let n = model.qubits;
    let h = in_file(file, model.hamiltonian(&model.theta(), None, 0.0))?;
    let psi0: Vec<C64> = match a.initial.as_str() {
        "plus" => in_file(file, StateVector::<C64>::plus(n))?.into_vec(),
        "zero" => in_file(file, StateVector::<C64>::basis(n, 0))?.into_vec(),
        "ground" => {
            let op = in_file(file, XMaskOperator::new(&h))?;
            let s = in_file(file, eigenpairs(&op, &LanczosParams::default(), None))?;
            s.vector_c64(0)
        }
        other => {
            let b: usize = other
                .strip_prefix("basis:")
                .and_then(|b| b.parse().ok())
                .filter(|&b: &usize| b < (1usize << n.min(63)))
                .with_context(|| format!("--initial {other:?}: expected plus, zero, ground or basis:B with B < 2^{n}"))?;
            in_file(file, StateVector::<C64>::basis(n, b))?.into_vec()
        }
    };
    let mut observables = Vec::new();
    for label in &a.observe {
        let p = PauliString::parse(label).with_context(|| format!("--observe {label:?}"))?;
        if p.min_qubits() > n {
            bail!("--observe {label:?}: acts on a qubit ≥ {n}, the model has {n} qubits");
        }
        let mut s = PauliSum::new(n);
        s.add(p, 1.0);
        observables.push(s);
    }
    let jumps = jump_list(&model.settings.jumps);
    let rho0 = in_file(file, DensityMatrix::from_pure(&psi0))?;
    let opts = Options {
        atol: a.atol,
        rtol: a.rtol,
        ..Options::default()
    };
    let pb = (n >= 7).then(|| {
        spinner(format!(
            "Lindblad evolution of {n} qubits to t = {}",
            a.times.last().copied().unwrap_or(0.0)
        ))
    });
    let tr = evolve_lindblad(&h, &jumps, &rho0, &a.times, &observables, &opts);
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let tr = in_file(file, tr)?;
    let out = EvolveOut {
        qubits: n,
        method: "rho",
        jumps: jumps.len(),
        times: tr.times.clone(),
        observables: a
            .observe
            .iter()
            .cloned()
            .zip(tr.observables.iter().cloned())
            .collect(),
        purity: tr.purity.clone(),
        trace: tr.trace.clone(),
        min_eigenvalue: tr.min_eigenvalue.clone(),
        steps: tr.stats.steps,
        rejected_steps: tr.stats.rejected,
        seconds: t0.elapsed().as_secs_f64(),
    };
    if a.model.json {
        return print_json(
            &out,
            &model,
            None,
            serde_json::json!({"initial": a.initial, "atol": a.atol, "rtol": a.rtol}),
        );
    }
    print!("{:>10}", "t");
    for l in &a.observe {
        print!(" {:>14}", l);
    }
    println!(" {:>10}", "purity");
    for (i, t) in out.times.iter().enumerate() {
        print!("{t:>10}");
        for l in &a.observe {
            print!(" {:>14.10}", out.observables[l][i]);
        }
        println!(" {:>10.6}", out.purity[i]);
    }
    println!(
        "{} qubits, {} jump operators, {} steps ({} rejected), {:.2} s",
        n, out.jumps, out.steps, out.rejected_steps, out.seconds
    );
    Ok(())
}
