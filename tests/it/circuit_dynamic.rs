//! Dynamic circuits and the OpenQASM front ends end to end: Qiskit's random circuits with
//! conditions, mid-circuit measurement and reset (OpenQASM 2 and 3 exports, exact
//! distributions computed by Qiskit in `tests/fixtures/dynamic_circuits.py`), hand-written
//! classics, shot branching against re-simulating every shot, Qiskit's counts format and the
//! hostile reproducers of `tests/data/bad/` (the peak-RSS test of the memory check is its own
//! test binary, `tests/circuit_memory.rs`).

use std::collections::BTreeMap;

use qep::circuit::{
    exact_distribution, parse_qasm, parse_qasm_file, run, sample_counts, Circuit, Counts,
};
use rand::SeedableRng;
use serde_json::Value;

use crate::common::{fails, json_of, qep, repo};
use crate::oracle::in_pool;

fn load(rel: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(repo(rel)).unwrap()).unwrap()
}

fn probs_of(v: &Value) -> BTreeMap<String, f64> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, p)| (k.clone(), p.as_f64().unwrap()))
        .collect()
}

/// Total-variation distance between counts and a distribution.
fn tvd(counts: &Counts, probs: &BTreeMap<String, f64>) -> f64 {
    let shots: u64 = counts.values().sum();
    let mut keys: Vec<&String> = counts.keys().chain(probs.keys()).collect();
    keys.sort();
    keys.dedup();
    0.5 * keys
        .iter()
        .map(|k| {
            let f = counts.get(*k).copied().unwrap_or(0) as f64 / shots as f64;
            (f - probs.get(*k).copied().unwrap_or(0.0)).abs()
        })
        .sum::<f64>()
}

/// Expected total-variation distance of `shots` multinomial draws from `probs`:
/// `½ Σ E|X_k/N − p_k|` with the normal approximation `E|X − Np| ≈ √(2Np(1−p)/π)`, capped by
/// its exact small-`Np` value `2p(1−p)` per shot.
fn expected_tvd(probs: &BTreeMap<String, f64>, shots: u64) -> f64 {
    let n = shots as f64;
    0.5 * probs
        .values()
        .map(|&p| {
            let normal = (2.0 * n * p * (1.0 - p) / std::f64::consts::PI).sqrt() / n;
            normal.min(2.0 * p * (1.0 - p)).max(0.0)
        })
        .sum::<f64>()
}

fn max_diff(a: &BTreeMap<String, f64>, b: &BTreeMap<String, f64>) -> f64 {
    a.keys()
        .chain(b.keys())
        .map(|k| (a.get(k).copied().unwrap_or(0.0) - b.get(k).copied().unwrap_or(0.0)).abs())
        .fold(0.0, f64::max)
}

#[test]
fn qiskit_random_dynamic_circuits_match_qiskits_distributions_in_qasm2_and_qasm3() {
    let fx = load("tests/fixtures/random_circuits.json");
    let cases = fx.as_array().unwrap();
    assert_eq!(cases.len(), 20);
    let shots = 20_000;
    for case in cases {
        let seed = case["seed"].as_u64().unwrap();
        let probs = probs_of(&case["probs"]);
        for version in ["qasm2", "qasm3"] {
            let text = case[version].as_str().unwrap();
            let c = parse_qasm(text).unwrap_or_else(|e| panic!("seed {seed} {version}: {e}"));
            assert_eq!(c.qubits as u64, case["qubits"].as_u64().unwrap());
            // Exact: qep's branch-by-branch distribution equals Qiskit's.
            let exact = exact_distribution(&c).unwrap();
            let d = max_diff(&exact, &probs);
            assert!(
                d < 1e-9,
                "seed {seed} {version}: exact distributions differ by {d:e}"
            );
            // Sampled: within noise.
            let counts = sample_counts(&c, shots, 100 + seed).unwrap();
            let (t, e) = (tvd(&counts, &probs), expected_tvd(&probs, shots));
            eprintln!("seed {seed} {version}: TVD {t:.5} (expected {e:.5})");
            assert!(
                t < 3.0 * e + 1e-12,
                "seed {seed} {version}: TVD {t} vs expected {e}"
            );
        }
    }
}

#[test]
fn classics_give_their_known_distributions() {
    let fx = load("tests/fixtures/classics.json");
    let theta: f64 = 1.1;
    let p1 = (theta / 2.0).sin().powi(2);
    let mut known: BTreeMap<&str, BTreeMap<String, f64>> = BTreeMap::new();
    // Teleportation: c0, c1 uniform; c2 = 1 with probability sin²(θ/2) whatever they are.
    let mut tele = BTreeMap::new();
    for c2 in 0..2 {
        for m in 0..4 {
            let key = format!("{c2} {} {}", m >> 1, m & 1);
            tele.insert(key, 0.25 * if c2 == 1 { p1 } else { 1.0 - p1 });
        }
    }
    known.insert("teleport", tele);
    known.insert("adder", [("01110".to_string(), 1.0)].into()); // 5 + 9 = 14
    known.insert("qft", [("1011".to_string(), 1.0)].into()); // k = 11
    known.insert(
        "w_state",
        ["001", "010", "100"]
            .iter()
            .map(|k| (k.to_string(), 1.0 / 3.0))
            .collect(),
    );
    known.insert("ipe", [("101".to_string(), 1.0)].into()); // φ = 5/8 = 0.101₂
    for (name, want) in &known {
        let file = repo(&format!("tests/fixtures/circuits/{name}.qasm"));
        let c = parse_qasm_file(std::path::Path::new(&file), &[]).unwrap();
        // Qiskit's exact distribution is the known one, and so is qep's.
        assert!(
            max_diff(&probs_of(&fx[*name]), want) < 1e-12,
            "{name}: fixture"
        );
        assert!(
            max_diff(&exact_distribution(&c).unwrap(), want) < 1e-12,
            "{name}: exact"
        );
        let counts = sample_counts(&c, 20_000, 5).unwrap();
        let (t, e) = (tvd(&counts, want), expected_tvd(want, 20_000));
        assert!(t <= 3.0 * e, "{name}: TVD {t} vs expected {e}: {counts:?}");
    }
}

/// Re-simulates every shot (the reference that shot branching replaces).
fn per_shot(c: &Circuit, shots: u64, seed: u64) -> Counts {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let regs = c.creg_layout();
    let mut counts = Counts::new();
    for _ in 0..shots {
        let mut psi = vec![qep::C64::new(0.0, 0.0); 1 << c.qubits];
        psi[0] = qep::C64::new(1.0, 0.0);
        let bits = run(c, &mut psi, &mut rng);
        let words: Vec<u64> = bits
            .chunks(64)
            .map(|w| {
                w.iter()
                    .enumerate()
                    .fold(0u64, |a, (j, &b)| a | (u64::from(b) << j))
            })
            .collect();
        *counts
            .entry(qep::circuit::branch::counts_key(&words, &regs))
            .or_insert(0) += 1;
    }
    counts
}

#[test]
fn shot_branching_has_the_distribution_of_per_shot_simulation_on_any_thread_count() {
    let file = repo("tests/fixtures/circuits/teleport.qasm");
    let c = parse_qasm_file(std::path::Path::new(&file), &[]).unwrap();
    let exact = exact_distribution(&c).unwrap();
    let shots = 20_000;
    let branched = sample_counts(&c, shots, 9).unwrap();
    let resim = per_shot(&c, shots, 9);
    let e = expected_tvd(&exact, shots);
    assert!(tvd(&branched, &exact) < 3.0 * e, "{branched:?}");
    assert!(tvd(&resim, &exact) < 3.0 * e, "{resim:?}");
    assert_eq!(resim.len(), 8);
    assert_eq!(
        branched.keys().collect::<Vec<_>>(),
        resim.keys().collect::<Vec<_>>()
    );
    // Reproducible for a seed on one and two threads; another seed differs.
    let two = in_pool(2, || sample_counts(&c, shots, 9).unwrap());
    let one = in_pool(1, || sample_counts(&c, shots, 9).unwrap());
    assert_eq!((&one, &two), (&branched, &branched));
    assert_ne!(sample_counts(&c, shots, 10).unwrap(), branched);
}

#[test]
fn several_registers_are_printed_as_qiskit_does() {
    // x on q[0] and q[2]: a = q[0..2] → "01" (bit 0 rightmost), b = q[2] → "1"; the last
    // register is leftmost: "1 01". One register is unchanged: "101".
    let dir = tempfile::tempdir().unwrap();
    let two = dir.path().join("two.qasm");
    std::fs::write(
        &two,
        "OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[3];\ncreg a[2];\ncreg b[1];\n\
         x q[0];\nx q[2];\nmeasure q[0] -> a[0];\nmeasure q[1] -> a[1];\nmeasure q[2] -> b[0];\n",
    )
    .unwrap();
    let p = two.to_str().unwrap();
    let v = json_of(qep().args(["circuit", "run", p, "--shots", "10", "--json"]));
    assert_eq!(v["counts"]["1 01"], 10, "{v}");
    let out = qep()
        .args(["circuit", "run", p, "--shots", "10"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("  1 01  10"), "{text}");
    assert!(text.contains("(b[1] a[2])"), "{text}");
    let one = dir.path().join("one.qasm");
    std::fs::write(
        &one,
        "OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[3];\ncreg c[3];\nx q[0];\nx q[2];\n\
         measure q -> c;\n",
    )
    .unwrap();
    let v = json_of(qep().args([
        "circuit",
        "run",
        one.to_str().unwrap(),
        "--shots",
        "10",
        "--json",
    ]));
    assert_eq!(v["counts"]["101"], 10);
}

#[test]
fn openqasm3_inputs_are_bound_with_param_and_required() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("p.qasm");
    std::fs::write(
        &f,
        "OPENQASM 3.0;\ninclude \"stdgates.inc\";\ninput float theta;\nqubit[1] q;\nbit[1] c;\n\
         rx(theta) q[0];\nc[0] = measure q[0];\n",
    )
    .unwrap();
    let p = f.to_str().unwrap();
    // rx(π) flips every shot; rx(0) never.
    let v = json_of(
        qep()
            .args(["circuit", "run", p, "--shots", "50", "--json"])
            .args(["--param", "theta=3.141592653589793"]),
    );
    assert_eq!(v["counts"]["1"], 50, "{v}");
    let v = json_of(qep().args([
        "circuit", "run", p, "--shots", "50", "--json", "--param", "theta=0",
    ]));
    assert_eq!(v["counts"]["0"], 50, "{v}");
    let err = fails(qep().args(["circuit", "run", p]));
    assert!(
        err.contains("p.qasm:3:1: `input theta` has no value; pass --param theta=VALUE"),
        "{err}"
    );
}

/// Hardware qubits `$n` (what `qiskit.qasm3.dumps` writes for a transpiled circuit): the
/// circuit is `$0 … $n` wide as Qiskit's importer reads it, unused qubits stay in |0⟩, and a
/// program may not mix them with declared qubits.
#[test]
fn openqasm3_hardware_qubits_address_a_physical_circuit() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, body: &str| {
        let f = dir.path().join(name);
        std::fs::write(
            &f,
            format!("OPENQASM 3.0;\ninclude \"stdgates.inc\";\n{body}"),
        )
        .unwrap();
        f.to_str().unwrap().to_string()
    };
    // x on $3 only: four qubits wide, the bits read $3 = 1, $0 = 0 (c[1] c[0] = "10").
    let p = write(
        "x.qasm",
        "bit[2] c;\nx $3;\nc[0] = measure $0;\nc[1] = measure $3;\n",
    );
    let v = json_of(qep().args(["circuit", "run", &p, "--shots", "40", "--json"]));
    assert_eq!(v["qubits"], 4, "{v}");
    assert_eq!(v["counts"]["10"], 40, "{v}");
    // A Bell pair on $2 and $0 through a gate definition: only "00" and "11", each about half
    // (400 shots: σ = 10, so 200 ± 60 is 6σ).
    let p = write(
        "bell.qasm",
        "gate bell a, b { h a; cx a, b; }\nbit[2] c;\nbell $2, $0;\n\
         c[0] = measure $0;\nc[1] = measure $2;\n",
    );
    let v = json_of(qep().args([
        "circuit", "run", &p, "--shots", "400", "--seed", "3", "--json",
    ]));
    assert_eq!(v["qubits"], 3, "{v}");
    let counts = v["counts"].as_object().unwrap();
    assert!(counts.keys().all(|k| k == "00" || k == "11"), "{v}");
    let ones = counts.get("11").and_then(Value::as_u64).unwrap_or(0);
    assert!((140..=260).contains(&ones), "{v}");
    // Declared and hardware qubits together are refused, whichever comes first.
    for body in [
        "qubit[2] q;\nbit[1] c;\nx $0;\n",
        "bit[1] c;\nx $0;\nqubit[2] q;\n",
    ] {
        let p = write("mixed.qasm", body);
        let err = fails(qep().args(["circuit", "run", &p]));
        assert!(err.contains("one program uses one or the other"), "{err}");
    }
}

#[test]
fn hostile_programs_give_located_errors_and_exit_1() {
    let cases = [
        (
            "qasm_deep_parens.qasm",
            ":4:261: expression nested deeper than 256 levels",
        ),
        (
            "qasm_minus_signs.qasm",
            ":4:261: expression nested deeper than 256 levels",
        ),
        (
            "qasm_huge_creg.qasm",
            ":4:8: found 4294967296 more bits; expected at most 1048576",
        ),
        ("qasm_gate_uses_itself.qasm", ":4:17: unknown gate `g`"),
        (
            "qasm_gate_nesting.qasm",
            ":260:6: gate definition nested deeper than 256 levels",
        ),
        (
            "qasm_gate_explosion.qasm",
            ":68:1: `g63` expands the program past 10000000 operations",
        ),
        (
            "qasm_include_loop.qasm",
            "qasm_include_loop.inc:1:9: include nested deeper than 32",
        ),
        (
            "qasm3_deep_parens.qasm",
            ":4:259: bracket nested deeper than 256 levels",
        ),
        (
            "qasm3_minus_signs.qasm",
            ":4:260: expression nested deeper than 256 levels",
        ),
        (
            "qasm3_huge_bits.qasm",
            ":4:4: found a register of 4294967296 bits",
        ),
        ("qasm3_for_loop.qasm", ":4:1: `for loop` is not supported"),
    ];
    for (file, want) in cases {
        let path = repo(&format!("tests/data/bad/{file}"));
        let out = qep().args(["circuit", "run", &path]).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{file}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{file}: {err}");
        assert!(err.lines().count() <= 2, "{file}: {err}");
    }
}

#[test]
fn branches_that_do_not_fit_are_recomputed_with_the_same_counts() {
    // 16 qubits with mid-circuit measurements: unlimited memory keeps sibling states; a limit
    // leaving room for one state replays them from their records. Same counts either way.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("dyn.qasm");
    let mut src =
        String::from("OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[16];\ncreg c[16];\nh q;\n");
    for k in 0..4 {
        src += &format!(
            "measure q[{k}] -> c[{k}];\nif (c == {k}) x q[{}];\nrx(0.3) q[{}];\n",
            k + 4,
            k + 1
        );
    }
    src += "measure q -> c;\n";
    std::fs::write(&f, &src).unwrap();
    let p = f.to_str().unwrap();
    let c = parse_qasm_file(&f, &[]).unwrap();
    let est = qep::circuit::MemoryPlan::sampling(&c, 4000).total();
    let args = ["circuit", "run", p, "--shots", "4000", "--json"];
    let free = json_of(qep().args(args));
    let tight = json_of(
        qep()
            .args(args)
            .env("QEP_MEMORY_LIMIT", (est + 4096).to_string()),
    );
    assert_eq!(free["counts"], tight["counts"]);
    assert!(free["counts"].as_object().unwrap().len() > 16);
}
