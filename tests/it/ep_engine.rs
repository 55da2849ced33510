//! The one EP engine: `qep grad` differentiates every model with the engine `qep run` trains
//! it with, and the engine's exact gradient is the derivative of the model's cost (checked
//! against central finite differences of the cost alone, not through any gradient code).

use std::path::Path;

use qep::ep::classical::{ClassicalError, ClassicalGradient, ClassicalNet, ImplicitGradient};
use qep::ep::prepared::PreparedGradient;
use qep::ep::thermal::{ThermalError, ThermalParams, ThermalStep};
use qep::ep::{
    Engine, EpError, EpGradient, EpOverrides, EpParams, EpWorkspace, ExactGradient,
    GradientDetails, TrainParams, Trainer,
};
use qep::hamiltonian::{load, Adiabatic, Example, Model};

use crate::common::{fails, floats, json, model, qep};

fn load_model(name: &str) -> Model {
    load(Path::new(&model(name))).unwrap()
}

/// Central finite differences `(C(θ + h e_k) − C(θ − h e_k)) / 2h` of the free-phase cost
/// that `engine` predicts.
fn cost_differences(engine: &Engine, m: &Model, ex: &Example, h: f64) -> Vec<f64> {
    let p = EpParams::from_model(m, &EpOverrides::default()).unwrap();
    let theta = m.theta();
    let cost = |k: usize, s: f64| {
        let mut t = theta.clone();
        t[k] += s * h;
        engine.predict(m, &t, ex, &p).unwrap().cost
    };
    (0..theta.len())
        .map(|k| (cost(k, 1.0) - cost(k, -1.0)) / (2.0 * h))
        .collect()
}

/// `qep grad FILE --example 1 --json`: its `engine` is the trainer's, its `exact` gradient is
/// far from zero and matches the finite differences of the cost of the state that engine's
/// oracle differentiates, component by component.
fn check_grad(file: &str, engine: &str, exact_key: &str, tol: f64) -> serde_json::Value {
    let m = load_model(file);
    let trainer = Trainer::new(&m, TrainParams::from_model(&m), None).unwrap();
    assert_eq!(trainer.engine().name(), engine, "{file}");
    let v = json(&["grad", &model(file), "--example", "1"]);
    assert_eq!(v["engine"], engine, "{file}: {v}");
    let exact = floats(&v[exact_key]);
    assert_eq!(exact.len(), m.params.len(), "{file}");
    let norm = exact.iter().map(|x| x * x).sum::<f64>().sqrt();
    assert!(norm > 0.1, "{file}: |exact| = {norm}");
    let ex = &m.dataset.as_ref().unwrap().train[1];
    // The prepared engine's oracle is the gradient of the eigenstate its sweeps aim at.
    let reference = match trainer.engine() {
        Engine::Prepared(_) => Engine::Eigen,
        e => e.clone(),
    };
    let fd = cost_differences(&reference, &m, ex, 1e-4);
    for (k, (x, f)) in exact.iter().zip(&fd).enumerate() {
        assert!(
            (x - f).abs() <= tol * (1.0 + x.abs()),
            "{file}: parameter {k} ({}): exact {x}, finite differences {f}",
            m.params[k].label
        );
    }
    v
}

#[test]
fn grad_of_an_eigenstate_model_uses_the_eigen_engine() {
    let v = check_grad("xor.yaml", "eigen", "exact", 1e-6);
    assert!(v["cosine"].as_f64().unwrap() > 0.9999, "{v}");
}

#[test]
fn grad_of_a_thermal_model_uses_the_thermal_engine() {
    let v = check_grad("xor_thermal.yaml", "thermal", "exact", 1e-6);
    // The Kubo–Mori covariance is the exact thermal gradient too.
    let fd = floats(&v["exact"]);
    for (k, km) in floats(&v["kubo_mori"]).iter().enumerate() {
        assert!(
            (km - fd[k]).abs() <= 1e-6 * (1.0 + km.abs()),
            "{k}: {km} vs {}",
            fd[k]
        );
    }
}

#[test]
fn grad_of_a_prepared_model_uses_the_prepared_engine() {
    let v = check_grad("xor_adiabatic.yaml", "prepared", "exact", 1e-6);
    // The prepared-state estimate at the model's sweep time is reported beside it.
    let runs = v["prepared"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{v}");
    assert_eq!(runs[0]["time"], 80.0);
    assert!(runs[0]["cosine"].as_f64().unwrap() > 0.99, "{v}");
}

#[test]
fn grad_of_a_classical_model_is_the_classical_networks_gradient() {
    let v = check_grad("xor_classical.yaml", "classical", "exact", 1e-5);
    // The EP estimate at β = 0.05 agrees with its oracle (implicit differentiation, Eq. 49).
    let ep = floats(&v["ep"]);
    assert!(ep.iter().any(|x| x.abs() > 0.1), "{v}");
    assert!(v["cosine"].as_f64().unwrap() > 0.999, "{v}");
    assert!(v["relative_error"].as_f64().unwrap() < 0.02, "{v}");
    assert_eq!(v["beta"], 0.05);
    // The cost is the classical network's, not an Ising ground state's.
    let m = load_model("xor_classical.yaml");
    let ex = &m.dataset.as_ref().unwrap().train[1];
    let p = EpParams::from_model(&m, &EpOverrides::default()).unwrap();
    let c = Engine::for_model(&m, &p)
        .unwrap()
        .predict(&m, &m.theta(), ex, &p)
        .unwrap()
        .cost;
    assert_eq!(v["cost"].as_f64().unwrap(), c);
}

#[test]
fn ep_settings_are_resolved_and_validated_once() {
    let m = load_model("xor_thermal.yaml");
    let p = EpParams::from_model(&m, &EpOverrides::default()).unwrap();
    assert_eq!(p.beta, 0.01);
    assert_eq!(p.thermal.as_ref().unwrap().temperature, 0.3);
    assert_eq!(p.shot_seed, m.seed);
    let o = EpOverrides {
        beta: Some(0.0),
        ..EpOverrides::default()
    };
    let e = EpParams::from_model(&m, &o).unwrap_err().to_string();
    assert_eq!(
        e,
        "beta = 0 is not a clamping strength; expected a finite number > 0"
    );
    let o = EpOverrides {
        temperature: Some(f64::NAN),
        ..EpOverrides::default()
    };
    let e = EpParams::from_model(&m, &o).unwrap_err().to_string();
    assert!(e.starts_with("temperature T = NaN is not valid"), "{e}");
    // Without a temperature, thermal settings are refused rather than ignored.
    let plain = load_model("xor.yaml");
    let o = EpOverrides {
        samples: Some(4),
        ..EpOverrides::default()
    };
    let e = EpParams::from_model(&plain, &o).unwrap_err().to_string();
    assert!(e.contains("needs a temperature"), "{e}");
    // A model without `beta` gets the default.
    let mut nobeta = plain.clone();
    nobeta.settings.beta = None;
    let p = EpParams::from_model(&nobeta, &EpOverrides::default()).unwrap();
    assert_eq!(p.beta, EpParams::DEFAULT_BETA);
    // The CLI refuses a bad β through the same check, for every engine.
    for file in ["xor.yaml", "xor_classical.yaml", "xor_thermal.yaml"] {
        let err = fails(qep().args(["grad", &model(file), "--beta=-0.5"]));
        assert!(
            err.contains("beta = -0.5 is not a clamping strength"),
            "{file}: {err}"
        );
    }
}

#[test]
fn the_shot_study_refuses_a_classical_model() {
    let dir = tempfile::tempdir().unwrap();
    let err = fails(qep().args([
        "shots",
        &model("xor_classical.yaml"),
        "--out",
        dir.path().to_str().unwrap(),
    ]));
    assert!(
        err.contains("the shot study measures eigenstates of a quantum network"),
        "{err}"
    );
}

/// EP's functions answer in EP's own errors: the engine in `EpError` (a wrong θ is the
/// model's error inside it, message unchanged), the trainer in `TrainError`, whose
/// cancellation is its own variant; both still convert into `qep::Error`.
#[test]
fn engine_and_trainer_errors_are_eps_own() {
    use qep::ep::{EpError, TrainError};
    let m = load_model("xor.yaml");
    let p = EpParams::from_model(&m, &EpOverrides::default()).unwrap();
    let engine = Engine::for_model(&m, &p).unwrap();
    let ex = m.dataset.as_ref().unwrap().train[0].clone();
    let e: EpError = engine.gradient(&m, &[0.1], &ex, &p).unwrap_err();
    assert!(matches!(e, EpError::Model(_)), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains('1'), "{msg}");
    let lib: qep::Error = e.into();
    assert_eq!(lib.to_string(), msg);
    let no_targets = Example {
        targets: Vec::new(),
        ..ex
    };
    let e = engine
        .gradient(&m, &m.theta(), &no_targets, &p)
        .unwrap_err();
    assert!(matches!(e, EpError::NoTargets), "{e:?}");

    let mut trainer = Trainer::new(&m, TrainParams::from_model(&m), None).unwrap();
    let cancel = qep::cancel::Cancel::new();
    cancel.cancel();
    trainer.set_cancel(cancel);
    let e: TrainError = trainer.run_epoch(|_, _| {}).unwrap_err();
    assert!(matches!(e, TrainError::Cancelled(_)), "{e:?}");
    assert_eq!(trainer.epoch(), 0);
    let lib: qep::Error = e.into();
    assert!(matches!(lib, qep::Error::Train(TrainError::Cancelled(_))));
}

// What the tests of each engine read, through the one entry point `Engine::gradient`: the
// engine's own evidence is in `Gradient::details`.

/// The eigen engine's EP estimate (Eq. 28) and, with `p.exact`, its MINRES oracle, solved in
/// `ws`.
pub fn eigen_in(
    m: &Model,
    theta: &[f64],
    ex: &Example,
    p: &EpParams,
    ws: &mut EpWorkspace,
) -> Result<(EpGradient, Option<ExactGradient>), EpError> {
    match Engine::Eigen.gradient_in(m, theta, ex, p, ws)?.details {
        GradientDetails::Eigen { ep, oracle } => Ok((ep, oracle)),
        d => panic!("the eigen engine returned {d:?}"),
    }
}

/// The eigen engine's EP estimate alone (`p.exact` ignored), in fresh buffers.
pub fn eigen_ep(
    m: &Model,
    theta: &[f64],
    ex: &Example,
    p: &EpParams,
) -> Result<EpGradient, EpError> {
    let p = EpParams {
        exact: false,
        ..p.clone()
    };
    Ok(eigen_in(m, theta, ex, &p, &mut EpWorkspace::default())?.0)
}

/// The eigen engine's oracle with its evidence (residual, iterations), in fresh buffers.
pub fn eigen_oracle(
    m: &Model,
    theta: &[f64],
    ex: &Example,
    p: &EpParams,
) -> Result<ExactGradient, EpError> {
    let p = EpParams {
        exact: true,
        ..p.clone()
    };
    let (_, oracle) = eigen_in(m, theta, ex, &p, &mut EpWorkspace::default())?;
    Ok(oracle.expect("the oracle was asked for"))
}

/// The prepared engine's estimate with sweeps `ad` (no oracle).
pub fn prepared_ep(
    m: &Model,
    theta: &[f64],
    ex: &Example,
    p: &EpParams,
    ad: &Adiabatic,
) -> Result<PreparedGradient, EpError> {
    let p = EpParams {
        exact: false,
        ..p.clone()
    };
    match Engine::Prepared(ad.clone())
        .gradient(m, theta, ex, &p)?
        .details
    {
        GradientDetails::Prepared { ep, .. } => Ok(ep),
        d => panic!("the prepared engine returned {d:?}"),
    }
}

/// The thermal engine's estimate with settings `t` and clamping `beta`, its errors as the
/// thermal engine's own.
pub fn thermal_ep(
    m: &Model,
    theta: &[f64],
    ex: &Example,
    t: &ThermalParams,
    beta: f64,
) -> Result<ThermalStep, ThermalError> {
    let p = EpParams {
        beta,
        exact: false,
        thermal: None,
        ..EpParams::default()
    };
    match Engine::Thermal(t.clone()).gradient(m, theta, ex, &p) {
        Ok(g) => match g.details {
            GradientDetails::Thermal { ep, .. } => Ok(ep),
            d => panic!("the thermal engine returned {d:?}"),
        },
        Err(EpError::Thermal(e)) => Err(e),
        Err(e) => panic!("not a thermal error: {e:?}"),
    }
}

/// The classical engine of `net`: EP estimate (Eq. 14) and, with `exact`, implicit
/// differentiation (Eq. 49), its errors as the network's own.
fn classical(
    net: &ClassicalNet,
    m: &Model,
    theta: &[f64],
    ex: &Example,
    p: &EpParams,
) -> Result<(ClassicalGradient, Option<ImplicitGradient>), ClassicalError> {
    match Engine::Classical(Box::new(net.clone())).gradient(m, theta, ex, p) {
        Ok(g) => match g.details {
            GradientDetails::Classical { ep, oracle } => Ok((ep, oracle)),
            d => panic!("the classical engine returned {d:?}"),
        },
        Err(EpError::Classical(e)) => Err(e),
        Err(e) => panic!("not a classical error: {e:?}"),
    }
}

/// The classical engine's EP estimate at `beta`, symmetric or `one_sided`.
pub fn classical_ep(
    net: &ClassicalNet,
    m: &Model,
    theta: &[f64],
    ex: &Example,
    beta: f64,
    one_sided: bool,
) -> Result<ClassicalGradient, ClassicalError> {
    let p = EpParams {
        beta,
        one_sided,
        exact: false,
        ..EpParams::default()
    };
    Ok(classical(net, m, theta, ex, &p)?.0)
}

/// The classical engine's oracle, implicit differentiation at the free minimum (Eq. 49).
pub fn classical_oracle(
    net: &ClassicalNet,
    m: &Model,
    theta: &[f64],
    ex: &Example,
) -> Result<ImplicitGradient, ClassicalError> {
    let p = EpParams {
        exact: true,
        ..EpParams::default()
    };
    Ok(classical(net, m, theta, ex, &p)?
        .1
        .expect("the oracle was asked for"))
}
