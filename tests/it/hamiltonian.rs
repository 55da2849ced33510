//! Tests for `hamiltonian`: model files (errors with file, line, column and key), lattices,
//! the compiled Hamiltonian of Eq. 16, seeded initial values, datasets and the shipped models.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use qep::hamiltonian::{
    load, parse_str, Example, Lattice, Model, ModelError, ModelKind, Optimizer, Preparation,
    Schedule, StateChoice, ThermalGradient,
};
use qep::pauli::{PauliString, PauliSum};
use qep::C64;
use tempfile::TempDir;

/// Writes `text` to `dir/name` and returns the path.
fn write(dir: &TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Loads `text` as `dir/name.yaml`; it must fail. Returns the message and the file path.
fn load_err(name: &str, text: &str) -> (String, String) {
    let dir = TempDir::new().unwrap();
    let p = write(&dir, &format!("{name}.yaml"), text);
    let e = load(&p).expect_err("the model must be rejected");
    (e.to_string(), p.display().to_string())
}

/// Asserts the message reads `{file}:{line}:{col}: `{key}`: …` and contains every `needle`.
#[track_caller]
fn assert_at(name: &str, text: &str, line: usize, col: usize, key: &str, needles: &[&str]) {
    let (msg, file) = load_err(name, text);
    let head = format!("{file}:{line}:{col}: `{key}`: ");
    assert!(msg.starts_with(&head), "{msg:?} should start with {head:?}");
    assert!(
        msg.contains("; expected "),
        "{msg:?} should say what was expected"
    );
    for n in needles {
        assert!(msg.contains(n), "{msg:?} should contain {n:?}");
    }
}

fn loaded(text: &str) -> Model {
    parse_str(text, Path::new("test.yaml")).unwrap_or_else(|e| panic!("{e}"))
}

// ---------------------------------------------------------------- error classes

#[test]
fn missing_file_names_the_file() {
    let dir = TempDir::new().unwrap();
    let p = dir.path().join("nope.yaml");
    let e = load(&p).unwrap_err();
    assert!(matches!(e, ModelError::Read { .. }));
    let msg = e.to_string();
    assert!(msg.starts_with(&format!("{}: ", p.display())), "{msg}");
    assert!(msg.contains("cannot read"), "{msg}");
}

#[test]
fn empty_and_comment_only_files_are_empty() {
    for text in ["", "   \n\n", "# only a comment\n"] {
        let (msg, file) = load_err("empty", text);
        assert_eq!(
            msg,
            format!("{file}: the file is empty; expected a YAML mapping with at least `qubits` or `lattice`")
        );
    }
}

#[test]
fn yaml_syntax_error_has_position_and_section() {
    assert_at(
        "syntax",
        "qubits: 3\nterms: [\n",
        3,
        1,
        "terms",
        &["YAML syntax error", "did not find expected node content"],
    );
    assert_at(
        "indent",
        "qubits: 3\nterms:\n  - {pauli: X0, coeff: 1}\n - bad\n",
        4,
        2,
        "terms",
        &["YAML syntax error"],
    );
    assert_at(
        "dupkey",
        "qubits: 3\nqubits: 4\n",
        2,
        1,
        "qubits",
        &["duplicate entry with key \"qubits\""],
    );
}

#[test]
fn unknown_key_top_level() {
    assert_at(
        "unknown_top",
        "qubits: 2\nqbits: 3\n",
        2,
        1,
        "qbits",
        &["unknown key `qbits`", "`qubits`", "`params`"],
    );
}

#[test]
fn unknown_key_nested() {
    assert_at(
        "unknown_term",
        "qubits: 2\nterms:\n  - {pauli: X0, coef: 1}\n",
        3,
        17,
        "terms[0].coef",
        &["unknown key `coef`", "`pauli` or `coeff`"],
    );
    assert_at(
        "unknown_lattice",
        "lattice: {shape: chain, site: 3}\n",
        1,
        25,
        "lattice.site",
        &["unknown key `site`", "`sites`"],
    );
    assert_at(
        "unknown_coeff",
        "qubits: 2\nterms:\n  - {pauli: X0, coeff: {re: 1, imag: 2}}\n",
        3,
        24,
        "terms[0].coeff.imag",
        &["unknown key `imag`", "`re` or `im`"],
    );
    assert_at(
        "unknown_adiabatic",
        "qubits: 3\npreparation: {adiabatic: {time: 1, stpes: 3}}\n",
        2,
        36,
        "preparation.adiabatic.stpes",
        &["unknown key `stpes`", "`steps`"],
    );
}

#[test]
fn bad_pauli_letter() {
    assert_at(
        "letter",
        "qubits: 2\nterms:\n  - pauli: Q0\n    coeff: 1\n",
        3,
        12,
        "terms[0].pauli",
        &["bad Pauli letter `Q`", "I, X, Y, Z"],
    );
}

#[test]
fn qubit_index_out_of_range() {
    assert_at(
        "range",
        "qubits: 3\nparams:\n  - {pauli: X0 X5, value: 1}\n",
        3,
        13,
        "params[0].pauli",
        &["qubit 5 does not exist", "an index < 3"],
    );
    // Beyond the 64 qubits a Pauli string can address: still named against `qubits`.
    assert_at(
        "range99",
        "qubits: 3\nterms:\n  - {pauli: Z99, coeff: 1}\n",
        3,
        13,
        "terms[0].pauli",
        &["qubit 99", "< 3"],
    );
}

#[test]
fn non_numeric_coefficient() {
    assert_at(
        "nonnum",
        "qubits: 3\nterms:\n  - {pauli: X0, coeff: abc}\n",
        3,
        24,
        "terms[0].coeff",
        &["\"abc\"", "a number, [re, im] or {re: .., im: ..}"],
    );
    assert_at(
        "nonnum_param",
        "qubits: 3\nparams:\n  - {pauli: X0, value: [1, 2]}\n",
        3,
        24,
        "params[0].value",
        &["sequence", "a number"],
    );
}

#[test]
fn qubit_count_not_positive() {
    assert_at("neg", "qubits: -2\n", 1, 9, "qubits", &["-2 qubits", "≥ 1"]);
    assert_at("zero", "qubits: 0\n", 1, 9, "qubits", &["0 qubits", "≥ 1"]);
}

#[test]
fn qubit_count_above_64() {
    assert_at(
        "big",
        "qubits: 65\n",
        1,
        9,
        "qubits",
        &["65 qubits", "at most 64"],
    );
    assert_at(
        "big_lattice",
        "lattice: {shape: grid, rows: 9, cols: 8}\n",
        1,
        10,
        "lattice",
        &["72 qubits", "at most 64"],
    );
}

#[test]
fn duplicate_params() {
    // "X2 X0" is the same string as "X0 X2".
    assert_at(
        "dup",
        "qubits: 3\nparams:\n  - {pauli: X0 X2, value: 1}\n  - {pauli: X2 X0, value: 2}\n",
        4,
        13,
        "params[1].pauli",
        &["`X0 X2` is already a parameter", "`params[0].pauli`"],
    );
    // A trainable family that repeats an explicit parameter.
    assert_at(
        "dup_family",
        "lattice: {shape: chain, sites: 3}\nparams:\n  - {pauli: Z1 Z2, value: 1}\n\
         couplings:\n  - {type: ZZ, trainable: true, value: 0.5}\n",
        5,
        5,
        "couplings[0]",
        &["`Z1 Z2` is already a parameter", "`params[0].pauli`"],
    );
}

#[test]
fn non_real_coefficient_on_hermitian_terms() {
    assert_at(
        "complex",
        "qubits: 3\nterms:\n  - {pauli: X0, coeff: 1}\n  - {pauli: Z1, coeff: [0.5, 0.2]}\n",
        4,
        24,
        "terms[1].coeff",
        &["term `Z1`", "imaginary part 0.2", "real coefficient"],
    );
    assert_at(
        "complex_map",
        "qubits: 1\nterms:\n  - pauli: Y0\n    coeff: {re: 0, im: -1}\n",
        4,
        12,
        "terms[0].coeff",
        &["term `Y0`", "imaginary part -1"],
    );
    // Imaginary parts that cancel after merging are fine.
    let m = loaded(
        "qubits: 2\nterms:\n  - {pauli: X0 Z1, coeff: [0.5, 0.25]}\n  - {pauli: Z1 X0, coeff: {re: 0.25, im: -0.25}}\n",
    );
    assert_eq!(
        m.fixed.terms(),
        &[(PauliString::parse("X0 Z1").unwrap(), C64::new(0.75, 0.0))]
    );
}

#[test]
fn input_or_output_out_of_range() {
    assert_at(
        "inrange",
        "qubits: 3\ninputs: [0, 7]\n",
        2,
        13,
        "inputs[1]",
        &["qubit 7 does not exist", "< 3"],
    );
    assert_at(
        "outrange",
        "qubits: 3\noutputs: [3]\n",
        2,
        11,
        "outputs[0]",
        &["qubit 3 does not exist", "< 3"],
    );
}

#[test]
fn inputs_and_outputs_overlap() {
    assert_at(
        "overlap",
        "qubits: 4\ninputs: [0, 1]\noutputs: [2, 1]\n",
        3,
        14,
        "outputs[1]",
        &["qubit 1 is both an output and an input (`inputs[1]`)"],
    );
    // Through named columns: a one-column grid has the same left and right column.
    assert_at(
        "overlap_cols",
        "lattice: {shape: grid, rows: 2, cols: 1}\ninputs: left-column\noutputs: right-column\n",
        3,
        10,
        "outputs",
        &["qubit 0 is both an output and an input (`inputs`)"],
    );
}

#[test]
fn other_schema_errors_have_positions() {
    assert_at(
        "version",
        "version: 2\nqubits: 1\n",
        1,
        10,
        "version",
        &["version 2", "1"],
    );
    assert_at(
        "no_qubits",
        "terms: []\n",
        1,
        1,
        ".",
        &["missing key `qubits`"],
    );
    assert_at(
        "mismatch",
        "qubits: 5\nlattice: {shape: chain, sites: 4}\n",
        1,
        9,
        "qubits",
        &["lattice has 4 sites"],
    );
    assert_at(
        "rows_on_chain",
        "lattice: {shape: chain, sites: 4, rows: 2}\n",
        1,
        41,
        "lattice.rows",
        &["`rows` does not apply to a chain lattice"],
    );
    assert_at(
        "edges_without_lattice",
        "qubits: 3\ncouplings:\n  - {type: ZZ, value: 1}\n",
        3,
        5,
        "couplings[0].on",
        &["needs a `lattice`"],
    );
    assert_at(
        "family_type",
        "qubits: 3\ncouplings:\n  - {type: QQ, value: 1}\n",
        3,
        12,
        "couplings[0].type",
        &["unknown value `QQ`", "`ZZ`"],
    );
    assert_at(
        "value_and_init",
        "lattice: {shape: chain, sites: 3}\ncouplings:\n  - {type: X, value: 1, init: {uniform: [0, 1]}}\n",
        3,
        31,
        "couplings[0].init",
        &["both `value` and `init`"],
    );
    assert_at(
        "dup_input",
        "qubits: 3\ninputs: [0, 2, 0]\n",
        2,
        16,
        "inputs[2]",
        &["qubit 0 is listed twice", "`inputs[0]`"],
    );
    assert_at(
        "row_length",
        "qubits: 3\ninputs: [0]\noutputs: [2]\ndataset:\n  inputs: [[1], [1, 2]]\n  targets: [[1], [1]]\n",
        5,
        17,
        "dataset.inputs[1]",
        &["row 1 has 2 values; expected 1"],
    );
    assert_at(
        "top_is_list",
        "- 1\n",
        1,
        1,
        ".",
        &["invalid type: sequence", "a model"],
    );
}

#[test]
fn settings_errors_have_positions() {
    assert_at(
        "beta",
        "qubits: 3\nbeta: 0\n",
        2,
        7,
        "beta",
        &["0 is out of range", "> 0"],
    );
    assert_at(
        "temperature",
        "qubits: 3\ntemperature: -1.5\n",
        2,
        14,
        "temperature",
        &["-1.5 is out of range"],
    );
    assert_at("shots", "qubits: 3\nshots: 0\n", 2, 8, "shots", &["≥ 1"]);
    assert_at(
        "eigen",
        "qubits: 3\nstate: {eigen: 9}\n",
        2,
        16,
        "state.eigen",
        &["9 is out of range", "< 2^qubits"],
    );
    assert_at(
        "state",
        "qubits: 3\nstate: excited\n",
        2,
        8,
        "state",
        &["\"excited\"", "`ground` or {eigen: K}"],
    );
    assert_at(
        "optimizer",
        "qubits: 3\ntraining: {optimizer: rmsprop}\n",
        2,
        23,
        "training.optimizer",
        &["unknown value `rmsprop`", "`sgd` or `adam`"],
    );
    assert_at(
        "momentum",
        "qubits: 3\ntraining: {momentum: 1.0}\n",
        2,
        22,
        "training.momentum",
        &["[0, 1)"],
    );
    assert_at(
        "rate",
        "qubits: 3\nlindblad:\n  jumps:\n    - {op: sigma-, qubits: all, rate: -1}\n",
        4,
        39,
        "lindblad.jumps[0].rate",
        &["-1 is out of range", "≥ 0"],
    );
    assert_at(
        "jump_op",
        "qubits: 3\nlindblad:\n  jumps:\n    - {op: sigma, rate: 1}\n",
        4,
        12,
        "lindblad.jumps[0].op",
        &["unknown jump operator `sigma`"],
    );
    assert_at(
        "thermal",
        "qubits: 3\nthermal_gradient: kubo\n",
        2,
        19,
        "thermal_gradient",
        &["unknown value `kubo`", "`kubo-mori`"],
    );
}

// ---------------------------------------------------------------- lattices

#[track_caller]
fn assert_edge_list(l: Lattice, expected: usize) {
    let e = l.edges();
    assert_eq!(e.len(), expected, "{l:?}");
    let mut seen = std::collections::HashSet::new();
    for &(i, j) in &e {
        assert!(i < j && j < l.len(), "{l:?}: bad edge ({i}, {j})");
        assert!(seen.insert((i, j)), "{l:?}: duplicate edge ({i}, {j})");
    }
}

#[test]
fn chain_edge_counts() {
    for n in 1..=9 {
        assert_edge_list(Lattice::Chain { n, periodic: false }, n - 1);
        let ring = if n >= 3 { n } else { n - 1 };
        assert_edge_list(Lattice::Chain { n, periodic: true }, ring);
    }
    assert_eq!(
        Lattice::Chain {
            n: 4,
            periodic: true
        }
        .edges(),
        vec![(0, 1), (1, 2), (2, 3), (0, 3)]
    );
}

#[test]
fn grid_edge_counts() {
    for rows in 1..=5 {
        for cols in 1..=5 {
            let open = rows * (cols - 1) + cols * (rows - 1);
            assert_edge_list(
                Lattice::Grid {
                    rows,
                    cols,
                    periodic: false,
                },
                open,
            );
            // A dimension of size ≤ 2 has no extra wrap bond.
            let wraps = if cols > 2 { rows } else { 0 } + if rows > 2 { cols } else { 0 };
            assert_edge_list(
                Lattice::Grid {
                    rows,
                    cols,
                    periodic: true,
                },
                open + wraps,
            );
        }
    }
    assert_edge_list(
        Lattice::Grid {
            rows: 3,
            cols: 4,
            periodic: false,
        },
        17,
    );
    assert_edge_list(
        Lattice::Grid {
            rows: 3,
            cols: 4,
            periodic: true,
        },
        24,
    );
    assert_edge_list(
        Lattice::Grid {
            rows: 2,
            cols: 2,
            periodic: true,
        },
        4,
    );
}

#[test]
fn all_to_all_edge_counts() {
    for n in 1..=10 {
        assert_edge_list(Lattice::AllToAll { n }, n * (n - 1) / 2);
    }
}

#[test]
fn grid_numbering_and_columns() {
    let g = Lattice::Grid {
        rows: 3,
        cols: 4,
        periodic: false,
    };
    assert_eq!(g.len(), 12);
    assert_eq!(g.sites(), (0..12).collect::<Vec<_>>());
    assert_eq!(g.left_column(), vec![0, 4, 8]);
    assert_eq!(g.right_column(), vec![3, 7, 11]);
    let e = g.edges();
    assert!(e.contains(&(5, 6)) && e.contains(&(5, 9)) && !e.contains(&(3, 4)));
    let c = Lattice::Chain {
        n: 5,
        periodic: false,
    };
    assert_eq!((c.left_column(), c.right_column()), (vec![0], vec![4]));
}

// ---------------------------------------------------------------- compile (Eq. 16)

/// `{string label: coefficient}` with every coefficient real.
fn real_terms(h: &PauliSum) -> BTreeMap<String, f64> {
    h.terms()
        .iter()
        .map(|(p, c)| {
            assert_eq!(c.im, 0.0, "{p}: {c}");
            (p.to_string(), c.re)
        })
        .collect()
}

#[track_caller]
fn assert_terms_close(got: &PauliSum, expected: &[(&str, f64)]) {
    let got = real_terms(got);
    let want: BTreeMap<String, f64> = expected
        .iter()
        .map(|(l, c)| (PauliString::parse(l).unwrap().to_string(), *c))
        .collect();
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "strings differ: {got:?} vs {want:?}"
    );
    for (k, w) in &want {
        assert!((got[k] - w).abs() < 1e-14, "{k}: {} vs {w}", got[k]);
    }
}

const TINY: &str = "qubits: 4\ninputs: [0]\noutputs: [2, 3]\nterms:\n  - {pauli: X1, coeff: 0.7}\n  - {pauli: Z2, coeff: 0.125}\nparams:\n  - {pauli: Z0 Z1, value: 0.3}\n  - {pauli: X1 X2, value: -0.2}\n";

#[test]
fn compile_matches_hand_written_sum() {
    let m = loaded(TINY);
    assert_eq!(m.theta(), vec![0.3, -0.2]);
    let theta = [0.5, 0.25];
    let ex = Example {
        inputs: vec![0.4],
        targets: vec![0.6, -0.5],
    };
    let beta = 0.1;
    let h = m.hamiltonian(&theta, Some(&ex), beta).unwrap();
    // (β/2) Σ (Z_i − d_i)² = (β/2) Σ (1 + d_i²) I − β Σ d_i Z_i
    let identity = beta / 2.0 * ((1.0 + 0.36) + (1.0 + 0.25));
    assert_terms_close(
        &h,
        &[
            ("I", identity),
            ("X1", 0.7),
            ("Z0 Z1", 0.5),
            ("X1 X2", 0.25),
            ("Z0", 0.4),                // u_0 Z_0
            ("Z2", 0.125 - beta * 0.6), // fixed + clamp −β d Z
            ("Z3", -beta * -0.5),
        ],
    );
    // The same sum built by hand, compared exactly as a PauliSum after simplification.
    let mut want = PauliSum::new(4);
    want.add(PauliString::IDENTITY, 0.05 * 1.36);
    want.add(PauliString::IDENTITY, 0.05 * 1.25);
    for (l, c) in [
        ("X1", 0.7),
        ("Z2", 0.125),
        ("Z0 Z1", 0.5),
        ("X1 X2", 0.25),
        ("Z0", 0.4),
        ("Z2", -0.1 * 0.6),
        ("Z3", -0.1 * -0.5),
    ] {
        want.add(PauliString::parse(l).unwrap(), c);
    }
    want.simplify(0.0);
    assert_eq!(h.len(), want.len());
    for ((p, c), (q, d)) in h.terms().iter().zip(want.terms()) {
        assert_eq!(p, q);
        assert!((c - d).norm() < 1e-14, "{p}: {c} vs {d}");
    }
}

#[test]
fn free_hamiltonian_and_cost_operator() {
    let m = loaded(TINY);
    let h = m.hamiltonian(&m.theta(), None, 0.0).unwrap();
    assert_terms_close(
        &h,
        &[("X1", 0.7), ("Z2", 0.125), ("Z0 Z1", 0.3), ("X1 X2", -0.2)],
    );
    // β = 0 with an example: input fields, no clamp.
    let ex = Example {
        inputs: vec![-1.0],
        targets: vec![1.0, 1.0],
    };
    let h0 = m.hamiltonian(&m.theta(), Some(&ex), 0.0).unwrap();
    assert_terms_close(
        &h0,
        &[
            ("X1", 0.7),
            ("Z2", 0.125),
            ("Z0 Z1", 0.3),
            ("X1 X2", -0.2),
            ("Z0", -1.0),
        ],
    );
    // C(d) = ½ Σ (Z_i − d_i)² and ∂H/∂β = C: H(β) − H(0) = β C.
    let c = m.cost_operator(&[0.6, -0.5]);
    assert_terms_close(&c, &[("I", 0.5 * (1.36 + 1.25)), ("Z2", -0.6), ("Z3", 0.5)]);
    let ex = Example {
        inputs: vec![0.0],
        targets: vec![0.6, -0.5],
    };
    let (h1, h2) = (
        m.hamiltonian(&m.theta(), Some(&ex), 0.0).unwrap(),
        m.hamiltonian(&m.theta(), Some(&ex), 2.0).unwrap(),
    );
    let mut diff = h2.clone();
    diff.add_sum(&h1, C64::new(-1.0, 0.0));
    diff.add_sum(&c, C64::new(-2.0, 0.0));
    diff.simplify(1e-14);
    assert!(diff.is_empty(), "H(2) − H(0) − 2C = {diff}");
}

#[test]
fn compile_rejects_wrong_lengths() {
    let m = loaded(TINY);
    let ex = Example {
        inputs: vec![0.4],
        targets: vec![0.6, -0.5],
    };
    let e = m.hamiltonian(&[1.0], Some(&ex), 0.1).unwrap_err();
    assert_eq!(
        e.to_string(),
        "model `test`: theta has 1 values; expected 2, one per trainable parameter"
    );
    let bad = Example {
        inputs: vec![0.4, 0.1],
        targets: vec![0.6, -0.5],
    };
    let e = m.hamiltonian(&[1.0, 2.0], Some(&bad), 0.1).unwrap_err();
    assert!(
        matches!(
            e,
            ModelError::InputsLength {
                got: 2,
                expected: 1,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("2 input values; expected 1"), "{e}");
    let bad = Example {
        inputs: vec![0.4],
        targets: vec![0.6],
    };
    let e = m.hamiltonian(&[1.0, 2.0], Some(&bad), 0.1).unwrap_err();
    assert!(
        matches!(
            e,
            ModelError::TargetsLength {
                got: 1,
                expected: 2,
                ..
            }
        ),
        "{e}"
    );
    let e = m.hamiltonian(&[1.0, 2.0], None, 0.1).unwrap_err();
    assert!(matches!(e, ModelError::BetaWithoutExample { .. }), "{e}");
    assert!(e.to_string().contains("beta = 0.1"), "{e}");
}

// ---------------------------------------------------------------- generated families, seeds

const RANDOM: &str = "lattice: {shape: all-to-all, sites: 12}\nseed: SEED\ncouplings:\n  - {type: ZZ, trainable: true, init: {uniform: [-0.5, 0.5]}}\n  - {type: X, trainable: true, init: {normal: [1.0, 0.5]}}\n";

fn random_model(seed: u64) -> Model {
    loaded(&RANDOM.replace("SEED", &seed.to_string()))
}

#[test]
fn same_seed_same_theta_different_seed_different() {
    let (a, b, c) = (random_model(7), random_model(7), random_model(8));
    assert_eq!(a.params.len(), 66 + 12);
    assert_eq!(a.theta(), b.theta());
    let (ta, tc) = (a.theta(), c.theta());
    assert!(
        ta.iter().zip(&tc).all(|(x, y)| x != y),
        "seeds 7 and 8 share a value"
    );
    // Uniform draws stay in their interval; the normal draws have about the right moments
    // (12 draws of N(1, 0.5²): the mean is within 4σ/√12 ≈ 0.58 of 1).
    assert!(ta[..66].iter().all(|v| (-0.5..0.5).contains(v)));
    let mean = ta[66..].iter().sum::<f64>() / 12.0;
    assert!((mean - 1.0).abs() < 4.0 * 0.5 / 12f64.sqrt(), "mean {mean}");
    // Labels and families of generated terms.
    assert_eq!(a.params[0].label, "Z0 Z1");
    assert_eq!(a.params[0].family.as_deref(), Some("ZZ"));
    assert_eq!(a.params[66].label, "X0");
    assert_eq!(a.params[66].family.as_deref(), Some("X"));
}

#[test]
fn each_family_draws_from_its_own_stream() {
    let base = random_model(3);
    // Changing the first family's distribution leaves the second family's draws unchanged.
    let edited = loaded(
        &RANDOM
            .replace("SEED", "3")
            .replace("uniform: [-0.5, 0.5]", "uniform: [0.0, 2.0]"),
    );
    assert_ne!(base.theta()[..66], edited.theta()[..66]);
    assert_eq!(base.theta()[66..], edited.theta()[66..]);
}

#[test]
fn params_come_first_and_keep_their_label() {
    let m = loaded(
        "lattice: {shape: chain, sites: 3}\ninputs: [0]\noutputs: [2]\n\
         couplings:\n  - {type: ZZ, trainable: true, value: 0.5}\n  - {type: X, on: hidden, value: 1.5}\n  - {type: Z, on: [0, 2], value: -1}\n\
         params:\n  - {pauli: \"X2  X0\", value: 0.3}\n",
    );
    let labels: Vec<&str> = m.params.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(labels, ["X2  X0", "Z0 Z1", "Z1 Z2"]);
    assert_eq!(m.params[0].pauli, PauliString::parse("X0 X2").unwrap());
    assert_eq!(m.params[0].family, None);
    assert_eq!(m.hidden(), vec![1]);
    assert_terms_close(&m.fixed, &[("X1", 1.5), ("Z0", -1.0), ("Z2", -1.0)]);
}

#[test]
fn explicit_pairs_and_fixed_random_fields() {
    let m = loaded(
        "qubits: 4\nseed: 5\ncouplings:\n  - {type: XX, on: [[3, 1], [0, 2]], trainable: true, value: 0.2}\n  - {type: Z, init: {uniform: [-1, 1]}}\n",
    );
    let labels: Vec<&str> = m.params.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(labels, ["X1 X3", "X0 X2"]);
    assert_eq!(m.fixed.len(), 4);
    assert!(m
        .fixed
        .terms()
        .iter()
        .all(|(p, c)| p.is_diagonal() && c.re.abs() <= 1.0));
}

// ---------------------------------------------------------------- settings and datasets

#[test]
fn settings_sections_are_typed() {
    let m = loaded(
        "qubits: 3\nname: demo\nkind: classical\ndescription: text\nstate: {eigen: 2}\nbeta: 0.05\n\
         temperature: 0.2\nthermal_gradient: kubo-mori\nshots: 1000\n\
         preparation: {adiabatic: {time: 5, schedule: smooth}}\n\
         training: {epochs: 3, optimizer: adam, lr_decay: 0.9}\n\
         lindblad:\n  jumps:\n    - {op: sigma-, qubits: [0, 2], rate: 0.1}\n    - {op: [{pauli: X0 X1, coeff: 1}, {pauli: Y0 Y1, coeff: [0, 1]}], rate: 0.5}\n",
    );
    assert_eq!(m.name, "demo");
    assert_eq!(m.kind, ModelKind::Classical);
    let s = &m.settings;
    assert_eq!(s.description.as_deref(), Some("text"));
    assert_eq!(s.state, StateChoice::Eigen(2));
    assert_eq!(
        (s.beta, s.temperature, s.shots),
        (Some(0.05), Some(0.2), Some(1000))
    );
    assert_eq!(s.thermal_gradient, Some(ThermalGradient::KuboMori));
    let Preparation::Adiabatic(a) = &s.preparation else {
        panic!("{:?}", s.preparation)
    };
    assert_eq!((a.time, a.steps, a.schedule), (5.0, 100, Schedule::Smooth));
    let t = s.training.as_ref().unwrap();
    assert_eq!(
        (t.epochs, t.optimizer, t.lr_decay, t.batch_size),
        (3, Optimizer::Adam, 0.9, 1)
    );
    // sigma- = |1⟩⟨0| = (X − iY)/2, one jump per listed qubit, then the explicit operator.
    assert_eq!(s.jumps.len(), 3);
    assert_eq!(s.jumps[1].label, "sigma-@2");
    let mut want = PauliSum::new(3);
    want.add(PauliString::parse("X2").unwrap(), C64::new(0.5, 0.0));
    want.add(PauliString::parse("Y2").unwrap(), C64::new(0.0, -0.5));
    assert_eq!(s.jumps[1].operator, want.simplified(0.0));
    assert_eq!(s.jumps[2].operator.len(), 2);
    assert_eq!(s.jumps[2].rate, 0.5);
    // Defaults.
    let d = loaded("qubits: 1\n");
    assert_eq!(d.name, "test");
    assert_eq!((d.version, d.seed, d.kind), (1, 0, ModelKind::Quantum));
    assert_eq!(d.settings.state, StateChoice::Ground);
    assert_eq!(d.settings.preparation, Preparation::Exact);
    assert!(d.dataset.is_none() && d.first_example().is_none());
}

#[test]
fn csv_dataset_is_scaled_and_one_hot() {
    let dir = TempDir::new().unwrap();
    write(
        &dir,
        "flowers.csv",
        "# a comment\nlength,width,species\n1.0,10,b\n3.0,20,a\n2.0,30,c\n\n5.0,10,a\n",
    );
    let model = "qubits: 5\ninputs: [0, 1]\noutputs: [2, 3, 4]\ndataset:\n  csv: flowers.csv\n  features: [length, 1]\n  target: species\n";
    let p = write(&dir, "m.yaml", model);
    let m = load(&p).unwrap_or_else(|e| panic!("{e}"));
    let d = m.dataset.as_ref().unwrap();
    assert_eq!(d.classes, ["a", "b", "c"]);
    assert!(d.test.is_empty());
    assert_eq!(d.train.len(), 4);
    // length ∈ [1, 5] → [−1, 1]; width ∈ [10, 30] → [−1, 1].
    assert_eq!(d.train[0].inputs, vec![-1.0, -1.0]);
    assert_eq!(d.train[1].inputs, vec![0.0, 0.0]);
    assert_eq!(d.train[2].inputs, vec![-0.5, 1.0]);
    assert_eq!(d.train[0].targets, vec![-1.0, 1.0, -1.0]);
    assert_eq!(d.train[3].targets, vec![1.0, -1.0, -1.0]);
    assert_eq!(m.first_example(), Some(d.train[0].clone()));

    // Binary classes on one output, a custom scale, a test split.
    let p2 = write(
        &dir,
        "m2.yaml",
        "qubits: 3\ninputs: [0, 1]\noutputs: [2]\nseed: 1\ndataset:\n  csv: flowers.csv\n  features: [0, 1]\n  target: 2\n  test_fraction: 0.25\n  encoding: {scale: [0, 1]}\n",
    );
    std::fs::write(
        dir.path().join("flowers.csv"),
        "length,width,species\n1.0,10,b\n3.0,20,a\n2.0,30,b\n5.0,10,a\n",
    )
    .unwrap();
    let d2 = load(&p2).unwrap().dataset.unwrap();
    assert_eq!((d2.train.len(), d2.test.len()), (3, 1));
    let all: Vec<_> = d2.train.iter().chain(&d2.test).collect();
    assert!(all
        .iter()
        .all(|e| e.inputs.iter().all(|x| (0.0..=1.0).contains(x))));
    assert!(all
        .iter()
        .all(|e| e.targets == [-1.0] || e.targets == [1.0]));
}

#[test]
fn csv_errors_name_the_csv_line_or_the_yaml_key() {
    let dir = TempDir::new().unwrap();
    let csv = write(&dir, "d.csv", "a,b,y\n1,2,0\n1,x,1\n");
    let p = write(
        &dir,
        "m.yaml",
        "qubits: 3\ninputs: [0, 1]\noutputs: [2]\ndataset: {csv: d.csv, features: [a, b], target: y}\n",
    );
    let msg = load(&p).unwrap_err().to_string();
    assert!(msg.starts_with(&format!("{}:3: ", csv.display())), "{msg}");
    assert!(msg.contains("`x` in column `b` is not a number"), "{msg}");

    let p = write(
        &dir,
        "m2.yaml",
        "qubits: 3\ninputs: [0, 1]\noutputs: [2]\ndataset: {csv: d.csv, features: [a, c], target: y}\n",
    );
    let msg = load(&p).unwrap_err().to_string();
    assert!(
        msg.starts_with(&format!("{}:4:", p.display())) && msg.contains("`dataset.features[1]`"),
        "{msg}"
    );
    assert!(msg.contains("column `c` is not in the header"), "{msg}");

    let p = write(
        &dir,
        "m3.yaml",
        "qubits: 3\ninputs: [0, 1]\noutputs: [2]\ndataset: {csv: missing.csv, features: [a, b], target: y}\n",
    );
    let msg = load(&p).unwrap_err().to_string();
    assert!(
        msg.contains("`dataset.csv`") && msg.contains("missing.csv"),
        "{msg}"
    );
}

// ---------------------------------------------------------------- shipped models

fn shipped(name: &str) -> Model {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("hamiltonians")
        .join(name);
    load(&p).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_shipped_model_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("hamiltonians");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "yaml") {
            let m = load(&p).unwrap_or_else(|e| panic!("{e}"));
            assert!(m.fixed.is_hermitian(0.0), "{}", p.display());
            assert_eq!(m.source.sha256.len(), 64);
            n += 1;
        }
    }
    assert!(n >= 4, "only {n} models in {}", dir.display());
}

#[test]
fn shipped_models_have_the_documented_structure() {
    let e = shipped("explicit.yaml");
    assert_eq!(
        (e.qubits, e.inputs.clone(), e.outputs.clone()),
        (5, vec![0, 1], vec![4])
    );
    assert_eq!(e.theta(), vec![0.3, -0.2]);
    assert_terms_close(&e.fixed, &[("X2", 0.7)]);

    let t = shipped("tfim_chain.yaml");
    assert_eq!((t.qubits, t.fixed.len(), t.params.len()), (12, 11 + 12, 0));
    assert!(t.fixed.terms().iter().all(|(_, c)| c.re == -1.0));

    let h = shipped("heisenberg_ring.yaml");
    assert_eq!((h.qubits, h.fixed.len()), (8, 3 * 8));
    assert!(real_terms(&h.fixed).contains_key("Y0 Y7"));

    let g = shipped("ising_grid.yaml");
    assert_eq!(g.qubits, 9);
    assert_eq!(g.inputs, vec![0, 3, 6]);
    assert_eq!(g.outputs, vec![5]);
    assert_eq!(g.params.len(), 2 * 12);
    assert_eq!(g.hidden().len(), 5);
    assert_eq!(g.fixed.len(), 9); // −X on every site
    let d = g.dataset.as_ref().unwrap();
    assert_eq!((d.train.len(), d.test.len()), (16, 8));
    let ex = g.first_example().unwrap();
    let beta = g.settings.beta.unwrap();
    let hb = g.hamiltonian(&g.theta(), Some(&ex), beta).unwrap();
    assert!(hb.is_hermitian(0.0));
    assert_eq!(hb.qubits(), 9);
    // Same file, same seed: the same initial parameters.
    assert_eq!(g.theta(), shipped("ising_grid.yaml").theta());
}
