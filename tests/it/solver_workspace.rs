//! Solvers working in a caller's workspace: Lanczos and MINRES give the numbers of a fresh
//! solve; the EP gradient with warm-started clamped solves, a workspace kept across examples
//! and epochs, and the oracle from the same free state, gives the gradient and the oracle of
//! fresh, separate solves.

use std::path::Path;

use crate::ep_engine::{eigen_ep, eigen_in};
use crate::oracle::{kron_matrix, max_diff, naive_apply, norm};
use qep::ep::{Engine, EpOverrides, EpParams, EpWorkspace};
use qep::hamiltonian::{load, parse_str, Example, Model};
use qep::linalg::eigh_dense;
use qep::linalg::{
    lowest_eigenpairs, lowest_eigenpairs_in, minres_projected, minres_projected_in, LanczosParams,
    LanczosWorkspace, Method, MinresParams,
};
use qep::operator::XMaskOperator;
use qep::pauli::PauliSum;
use qep::C64;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A random EP network as `benches/peers/models.py` builds it: `n` distinct random edges, each
/// with trainable `X_i X_j`, `Z_i Z_j` and `X_i Z_j` (uniform in ±0.5), a field `−X` on every
/// qubit; inputs 0 and 1, output `n − 1`.
fn randnet(n: usize, seed: u64) -> Model {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let mut edges = std::collections::BTreeSet::new();
    while edges.len() < n {
        let (i, j) = (r.random_range(0..n), r.random_range(0..n));
        if i != j {
            edges.insert((i.min(j), i.max(j)));
        }
    }
    let mut y = format!(
        "qubits: {n}\ninputs: [0, 1]\noutputs: [{}]\nparams:\n",
        n - 1
    );
    for (i, j) in edges {
        for p in [
            format!("X{i} X{j}"),
            format!("Z{i} Z{j}"),
            format!("X{i} Z{j}"),
        ] {
            let v: f64 = r.random_range(-0.5..0.5);
            y.push_str(&format!("  - {{pauli: \"{p}\", value: {v}}}\n"));
        }
    }
    y.push_str("terms:\n");
    for q in 0..n {
        y.push_str(&format!("  - {{pauli: X{q}, coeff: -1.0}}\n"));
    }
    parse_str(&y, Path::new("randnet.yaml")).expect("test model parses")
}

fn xor() -> (Model, Vec<Example>) {
    let m = load(Path::new(&crate::common::model("xor.yaml"))).expect("xor loads");
    let train = m.dataset.as_ref().expect("xor has a dataset").train.clone();
    (m, train)
}

fn randnet_examples() -> Vec<Example> {
    [(0.7, -0.4, 1.0), (-0.5, 0.9, -1.0), (0.2, 0.3, 1.0)]
        .iter()
        .map(|&(a, b, d)| Example {
            inputs: vec![a, b],
            targets: vec![d],
        })
        .collect()
}

/// Lanczos even on xor's 32 amplitudes (the dense path would take no warm start and no
/// workspace); tight tolerances so that solves from different starts agree to 1e-10.
fn params() -> EpParams {
    EpParams {
        beta: 0.1,
        lanczos: LanczosParams {
            tol: 5e-12,
            method: Method::Lanczos,
            ..LanczosParams::default()
        },
        minres: MinresParams {
            tol: 1e-12,
            ..MinresParams::default()
        },
        ..EpParams::default()
    }
}

/// Two epochs over the examples with one workspace and warm-started clamped solves, against
/// fresh solves from random starts (a new workspace each): the same gradient to 1e-10, and
/// the warm start spends fewer products.
fn same_gradient_as_fresh_solves(m: &Model, examples: &[Example]) {
    let p = params();
    let cold = EpParams {
        warm_start: false,
        ..p.clone()
    };
    let mut ws = EpWorkspace::default();
    let (mut warm_mv, mut cold_mv) = (0, 0);
    for epoch in 0..2 {
        // θ moves between epochs, as training moves it.
        let theta: Vec<f64> = m.theta().iter().map(|t| t + 0.03 * epoch as f64).collect();
        for ex in examples {
            let (g, oracle) = eigen_in(m, &theta, ex, &p, &mut ws).unwrap();
            assert!(oracle.is_none(), "no oracle unless asked");
            let f = eigen_ep(m, &theta, ex, &cold).unwrap();
            assert!(norm(&f.ep) > 1e-3, "premise: a non-zero gradient");
            let d = max_diff(&g.ep, &f.ep);
            assert!(
                d < 1e-10,
                "epoch {epoch}: reused/warm vs fresh differ by {d:e}"
            );
            assert!((g.energy - f.energy).abs() < 1e-10);
            warm_mv += g.matvecs;
            cold_mv += f.matvecs;
        }
    }
    assert!(ws.bytes() > 0, "the workspace kept its vectors");
    assert!(
        warm_mv < cold_mv,
        "warm-started clamped solves should spend fewer products ({warm_mv} vs {cold_mv})"
    );
}

#[test]
fn reused_workspace_and_warm_start_give_the_fresh_gradient_on_xor() {
    let (m, train) = xor();
    same_gradient_as_fresh_solves(&m, &train);
}

#[test]
fn reused_workspace_and_warm_start_give_the_fresh_gradient_on_a_10_qubit_network() {
    let m = randnet(10, 7);
    same_gradient_as_fresh_solves(&m, &randnet_examples());
}

/// The oracle from the EP gradient's free state, in a workspace already used by other
/// examples, against the separate oracle (its own free solve, fresh buffers).
fn same_oracle_as_before(m: &Model, examples: &[Example]) {
    let p = EpParams {
        exact: true,
        ..params()
    };
    let mut ws = EpWorkspace::default();
    for ex in examples {
        let (g, oracle) = eigen_in(m, &m.theta(), ex, &p, &mut ws).unwrap();
        let oracle = oracle.expect("the oracle was asked for");
        // `Engine::exact` solves for its own free state in fresh buffers.
        let before = Engine::Eigen.exact(m, &m.theta(), ex, &p).unwrap();
        assert!(norm(&before) > 1e-3, "premise: a non-zero gradient");
        let d = max_diff(&oracle.exact, &before);
        assert!(d < 1e-9, "oracle differs from the separate oracle by {d:e}");
        // The EP estimate beside it is the plain one.
        let plain = eigen_ep(m, &m.theta(), ex, &params()).unwrap();
        assert!(max_diff(&g.ep, &plain.ep) < 1e-12);
        assert_eq!(g.matvecs, plain.matvecs);
    }
}

#[test]
fn oracle_from_the_free_state_equals_the_separate_oracle_on_xor() {
    let (m, train) = xor();
    same_oracle_as_before(&m, &train);
}

#[test]
fn oracle_from_the_free_state_equals_the_separate_oracle_on_a_10_qubit_network() {
    same_oracle_as_before(&randnet(10, 7), &randnet_examples());
}

/// `Re ⟨a|b⟩`.
fn re_dot(a: &[C64], b: &[C64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x.conj() * y).re).sum()
}

/// EP (Eq. 28) and its oracle by dense diagonalisation, independent of Lanczos and MINRES:
/// `(⟨P_k⟩_{+β} − ⟨P_k⟩_{−β}) / 2β` on the lowest eigenvectors of the dense `H(±β)`, and
/// first-order perturbation theory as a sum over all states of `H(0)`,
/// `d⟨C⟩/dθ_k = 2 Σ_{m>0} Re(⟨0|C|m⟩⟨m|P_k|0⟩) / (E₀ − E_m)`.
fn dense_gradients(m: &Model, theta: &[f64], ex: &Example, beta: f64) -> (Vec<f64>, Vec<f64>) {
    let dim = 1usize << m.qubits;
    let eig = |b: f64| {
        eigh_dense(
            &kron_matrix(&m.hamiltonian(theta, Some(ex), b).unwrap()),
            dim,
        )
        .unwrap()
    };
    let strings: Vec<PauliSum> = m
        .params
        .iter()
        .map(|p| {
            let mut s = PauliSum::new(m.qubits);
            s.add(p.pauli, 1.0);
            s
        })
        .collect();
    let ((_, vp), (_, vm)) = (eig(beta), eig(-beta));
    let expect = |psi: &[C64], s: &PauliSum| re_dot(psi, &naive_apply(s, psi));
    let ep = strings
        .iter()
        .map(|s| (expect(&vp[0], s) - expect(&vm[0], s)) / (2.0 * beta))
        .collect();
    let (e, v) = eig(0.0);
    let c_psi = naive_apply(&m.cost_operator(&ex.targets), &v[0]);
    let c_m: Vec<C64> = v
        .iter()
        .map(|vm| vm.iter().zip(&c_psi).map(|(x, y)| x.conj() * y).sum())
        .collect();
    let exact = strings
        .iter()
        .map(|s| {
            let p_psi = naive_apply(s, &v[0]);
            (1..dim)
                .map(|k| {
                    let p_m: C64 = v[k].iter().zip(&p_psi).map(|(x, y)| x.conj() * y).sum();
                    2.0 * (c_m[k].conj() * p_m).re / (e[0] - e[k])
                })
                .sum()
        })
        .collect();
    (ep, exact)
}

/// The engine `Engine::for_model` picks for a plain quantum model, with its oracle, against
/// dense diagonalisation: EP and the exact gradient to 1e-9 on every example.
fn engine_equals_dense_diagonalisation(m: &Model, examples: &[Example]) {
    let p = EpParams {
        exact: true,
        ..params()
    };
    let from_model = EpParams::from_model(m, &EpOverrides::default()).unwrap();
    let engine = Engine::for_model(m, &from_model).unwrap();
    assert_eq!(engine.name(), "eigen");
    for ex in examples {
        let g = engine.gradient(m, &m.theta(), ex, &p).unwrap();
        let (ep, exact) = dense_gradients(m, &m.theta(), ex, p.beta);
        assert!(norm(&exact) > 1e-3, "premise: a non-zero gradient");
        let de = max_diff(&g.ep, &ep);
        let dx = max_diff(g.exact.as_ref().unwrap(), &exact);
        assert!(de < 1e-9, "EP differs from dense EP by {de:e}");
        assert!(
            dx < 1e-9,
            "oracle differs from the dense sum over states by {dx:e}"
        );
    }
}

#[test]
fn engine_gradient_equals_dense_diagonalisation_on_xor() {
    let (m, train) = xor();
    engine_equals_dense_diagonalisation(&m, &train);
}

#[test]
fn engine_gradient_equals_dense_diagonalisation_on_a_10_qubit_network() {
    engine_equals_dense_diagonalisation(&randnet(10, 7), &randnet_examples()[..1]);
}

#[test]
fn without_the_gap_level_the_gradient_is_the_same_for_fewer_products() {
    let m = randnet(10, 7);
    let ex = &randnet_examples()[0];
    let with = eigen_ep(&m, &m.theta(), ex, &params()).unwrap();
    let without = eigen_ep(
        &m,
        &m.theta(),
        ex,
        &EpParams {
            gap: false,
            ..params()
        },
    )
    .unwrap();
    let gap = with.gap.expect("the gap is reported by default");
    assert!(gap > 0.1, "premise: a gapped ground state ({gap})");
    assert_eq!(without.gap, None);
    // The level above comes from the free state's own run, which goes on until its energy
    // has converged too: the free state is then converged further than without it, and the
    // gradients agree to the solver's tolerance, not bit for bit. (Those extra steps are
    // fewer since the level above stops on its energy: 9 here, 20-odd when it stopped on its
    // vector's residual.)
    let d = max_diff(&with.ep, &without.ep);
    assert!(d < 1e-9, "with and without the gap level: {d:e}");
    assert!(
        without.matvecs < with.matvecs,
        "the gap level costs products: {} without, {} with",
        without.matvecs,
        with.matvecs
    );
}

/// A real and a complex operator of different sizes, to dirty the workspace.
fn operators() -> Vec<(Model, XMaskOperator)> {
    [randnet(9, 3), randnet(10, 5)]
        .into_iter()
        .map(|m| {
            let h = m
                .hamiltonian(&m.theta(), Some(&randnet_examples()[0]), 0.0)
                .unwrap();
            let op = XMaskOperator::new(&h).unwrap();
            (m, op)
        })
        .collect()
}

#[test]
fn lanczos_and_minres_in_a_reused_workspace_match_fresh_solves_bit_for_bit() {
    let params = LanczosParams {
        k: 2,
        tol: 1e-11,
        method: Method::Lanczos,
        ..LanczosParams::default()
    };
    let mut ws = LanczosWorkspace::<f64>::new();
    // Twice over two sizes: the second round finds a workspace grown by the first.
    for round in 0..2 {
        for (_, op) in operators() {
            let fresh = lowest_eigenpairs::<f64>(&op, &params, None).unwrap();
            let reused = lowest_eigenpairs_in::<f64>(&op, &params, None, &mut ws).unwrap();
            assert_eq!(fresh.energies, reused.energies, "round {round}");
            assert_eq!(fresh.vectors, reused.vectors);
            assert_eq!(fresh.matvecs, reused.matvecs);
            assert!(ws.basis_len() > 0, "the basis stays allocated");
            // MINRES around the ground state, its vectors lent by the same workspace.
            let q = &fresh.vectors[0];
            let b: Vec<f64> = (0..q.len()).map(|i| ((i * 7 % 13) as f64) - 6.0).collect();
            let mp = MinresParams::default();
            let (x0, i0) = minres_projected(&op, fresh.energies[0], q, &b, &mp).unwrap();
            let (x1, i1) =
                minres_projected_in(&op, fresh.energies[0], q, &b, &mp, &mut ws).unwrap();
            assert!(i0.iterations > 5, "premise: a real solve");
            assert_eq!(i0.iterations, i1.iterations);
            assert_eq!(x0, x1);
            ws.give(x1);
        }
    }
}

/// The Hamiltonians of the solver checks: xor's free `H` (5 qubits), a 10-qubit random
/// network with its inputs, and the 10-site Heisenberg ring (a singlet under an exactly
/// degenerate triplet).
fn solver_cases() -> Vec<(&'static str, qep::pauli::PauliSum)> {
    let (x, train) = xor();
    let r = randnet(10, 7);
    vec![
        (
            "xor",
            x.hamiltonian(&x.theta(), Some(&train[0]), 0.0).unwrap(),
        ),
        (
            "randnet 10",
            r.hamiltonian(&r.theta(), Some(&randnet_examples()[0]), 0.0)
                .unwrap(),
        ),
        ("Heisenberg ring 10", crate::oracle::heisenberg_ring(10)),
    ]
}

/// Lanczos with the fused step (the Lanczos vectors written straight into the stored basis)
/// against dense diagonalisation: the five lowest levels to 1e-10 with their multiplicity (the
/// ring's triplet), every pair verified.
#[test]
fn lanczos_levels_match_dense_to_1e_10_on_xor_a_network_and_a_degenerate_ring() {
    let p = LanczosParams {
        k: 5,
        tol: 1e-10,
        method: Method::Lanczos,
        ..LanczosParams::default()
    };
    for (what, h) in solver_cases() {
        let op = XMaskOperator::new(&h).unwrap();
        let (want, _) = qep::linalg::dense_spectrum(&op).unwrap();
        let s = lowest_eigenpairs::<f64>(&op, &p, None).unwrap();
        let d = max_diff(&s.energies, &want[..5]);
        assert!(d < 1e-10, "{what}: energies differ from dense by {d:e}");
        assert!(
            s.residuals.iter().all(|&r| r <= 1e-10),
            "{what}: {:?}",
            s.residuals
        );
    }
    // The triplet comes out three times.
    let ring = XMaskOperator::new(&crate::oracle::heisenberg_ring(10)).unwrap();
    let s = lowest_eigenpairs::<f64>(&ring, &p, None).unwrap();
    assert!(
        (s.energies[3] - s.energies[1]).abs() < 1e-9,
        "{:?}",
        s.energies
    );
    assert!(s.energies[1] - s.energies[0] > 0.1, "{:?}", s.energies);
}

/// A clamped solve started from the free state alone (`warm_mix = 0`, what the EP gradient
/// does when the free gap exceeds 4β‖C‖) reaches the clamped ground state of dense
/// diagonalisation to 1e-10 in fewer products than the start with the random component; the
/// EP gradient built on such solves is the dense one to 1e-9.
#[test]
fn clamped_solves_from_the_free_state_alone_are_exact_and_cheaper() {
    let (x, train) = xor();
    let cases = [
        (x, train[..2].to_vec()),
        (randnet(10, 7), randnet_examples()[..1].to_vec()),
    ];
    let mut totals = (0, 0);
    for (m, examples) in &cases {
        for ex in examples {
            let p = EpParams {
                beta: 0.01,
                ..params()
            };
            let g = eigen_ep(m, &m.theta(), ex, &p).unwrap();
            let dense = eigen_ep(
                m,
                &m.theta(),
                ex,
                &EpParams {
                    lanczos: LanczosParams {
                        method: Method::Dense,
                        ..p.lanczos.clone()
                    },
                    ..p.clone()
                },
            )
            .unwrap();
            let gap = g.gap.expect("the free gap is computed");
            assert!(gap > 0.1, "premise: a gapped free state ({gap})");
            assert!(norm(&dense.ep) > 1e-3, "premise: a non-zero gradient");
            let d = max_diff(&g.ep, &dense.ep);
            assert!(d < 1e-9, "EP gradient differs from dense by {d:e}");
            // One clamped solve, from the free state with and without the random component.
            let op0 =
                XMaskOperator::new(&m.hamiltonian(&m.theta(), Some(ex), 0.0).unwrap()).unwrap();
            let one = LanczosParams {
                k: 1,
                ..p.lanczos.clone()
            };
            let free = lowest_eigenpairs::<f64>(&op0, &one, None).unwrap();
            let op =
                XMaskOperator::new(&m.hamiltonian(&m.theta(), Some(ex), 0.01).unwrap()).unwrap();
            let (want, _) = qep::linalg::dense_spectrum(&op).unwrap();
            let start = Some(&free.vectors[0][..]);
            let mixed = lowest_eigenpairs::<f64>(&op, &one, start).unwrap();
            let pure = LanczosParams {
                warm_mix: 0.0,
                ..one.clone()
            };
            let alone = lowest_eigenpairs::<f64>(&op, &pure, start).unwrap();
            assert!((alone.energies[0] - want[0]).abs() < 1e-10);
            assert!((mixed.energies[0] - want[0]).abs() < 1e-10);
            assert!(
                alone.matvecs <= mixed.matvecs,
                "from the free state alone {} products, with the random component {}",
                alone.matvecs,
                mixed.matvecs
            );
            totals.0 += alone.matvecs;
            totals.1 += mixed.matvecs;
        }
    }
    assert!(
        totals.0 < totals.1,
        "from the free state alone {} products in all, with the random component {}",
        totals.0,
        totals.1
    );
}

/// The rows `offset..offset + len` of an operator's vectors, as one rank of `comm` holds them:
/// `apply` gathers the whole `x`, applies the operator and keeps its rows; inner products are
/// summed over the ranks by [`qep::dist::Comm::allreduce_sum`]. What a distributed operator
/// looks like to the solvers, without its exchange pattern.
struct Block<'a> {
    op: &'a XMaskOperator,
    comm: &'a qep::dist::ThreadComm,
    len: usize,
}

impl<T: qep::Scalar> qep::operator::LinearOperator<T> for Block<'_> {
    fn dim(&self) -> usize {
        self.len
    }

    fn apply(&self, x: &[T], y: &mut [T]) {
        use qep::dist::Comm;
        let whole_dim = self.op.dim();
        let width = if T::IS_COMPLEX { 2 } else { 1 };
        let local: Vec<f64> = x
            .iter()
            .flat_map(|v| {
                let c = v.to_c64();
                [c.re, c.im].into_iter().take(width)
            })
            .collect();
        let mut all = vec![0.0; local.len() * self.comm.size()];
        self.comm.allgather(&local, &mut all);
        let whole: Vec<T> = all
            .chunks(width)
            .map(|c| {
                let z = C64::new(c[0], c.get(1).copied().unwrap_or(0.0));
                T::from_c64(z).unwrap_or_else(|| T::from_f64(z.re))
            })
            .collect();
        assert_eq!(whole.len(), whole_dim);
        let mut out = vec![T::zero(); whole_dim];
        self.op.apply_into(&whole, &mut out);
        let offset = self.comm.rank() * self.len;
        y.copy_from_slice(&out[offset..offset + self.len]);
    }

    fn is_real(&self) -> bool {
        self.op.is_real()
    }

    fn is_hermitian(&self) -> bool {
        self.op.is_hermitian()
    }

    fn norm_bound(&self) -> f64 {
        self.op.norm_bound()
    }

    fn cost_hint(&self) -> usize {
        self.op.dim()
    }

    fn reduce_sum(&self, partial: &mut [f64]) {
        use qep::dist::Comm;
        self.comm.allreduce_sum(partial);
    }

    fn global_offset(&self) -> usize {
        use qep::dist::Comm;
        self.comm.rank() * self.len
    }

    fn global_dim(&self) -> usize {
        self.op.dim()
    }
}

/// `|⟨a|b⟩|` of two normalised real vectors (1 when they are the same up to sign).
fn overlap(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>().abs()
}

/// Lanczos, MINRES and the Krylov propagator on vectors split over 2 and 4 ranks (threads)
/// take every inner product and norm through the operator's reduction and start from the same
/// global random vector: the lowest levels of a 10-qubit network and of the degenerate ring are
/// the single-process ones to 1e-10, the eigenvectors, the MINRES solution and the evolved
/// state glued from the blocks are the single-process ones.
#[test]
fn solvers_on_vectors_split_over_ranks_give_the_single_process_numbers() {
    use qep::dist::ThreadComm;
    use qep::linalg::{Krylov, KrylovParams, KrylovStats};
    let p = LanczosParams {
        k: 3,
        tol: 1e-10,
        method: Method::Lanczos,
        ..LanczosParams::default()
    };
    let cases = solver_cases();
    for (what, h) in cases.iter().skip(1) {
        let op = XMaskOperator::new(h).unwrap();
        let dim = op.dim();
        let one = lowest_eigenpairs::<f64>(&op, &p, None).unwrap();
        let q = &one.vectors[0];
        let b: Vec<f64> = (0..dim).map(|i| ((i * 7 % 13) as f64) - 6.0).collect();
        let mp = MinresParams::default();
        let (x1, _) = minres_projected(&op, one.energies[0] + 0.3, q, &b, &mp).unwrap();
        let psi0: Vec<C64> = (0..dim)
            .map(|i| C64::new(((i * 5 % 11) as f64) - 5.0, ((i % 3) as f64) - 1.0))
            .collect();
        let evolve = |a: &dyn qep::operator::LinearOperator<C64>, psi: &mut [C64]| {
            let mut k = Krylov::new(psi.len(), KrylovParams::default()).unwrap();
            k.step(a, psi, 0.7, &mut KrylovStats::default()).unwrap();
        };
        let mut psi1 = psi0.clone();
        evolve(&op, &mut psi1);
        for ranks in [2usize, 4] {
            let len = dim / ranks;
            let parts = ThreadComm::run(ranks, |comm| {
                let blk = Block { op: &op, comm, len };
                let s = lowest_eigenpairs::<f64>(&blk, &p, None).unwrap();
                let r = qep::dist::Comm::rank(comm);
                let rows = r * len..(r + 1) * len;
                let (x, _) = minres_projected(
                    &blk,
                    s.energies[0] + 0.3,
                    &s.vectors[0],
                    &b[rows.clone()],
                    &mp,
                )
                .unwrap();
                let mut psi = psi0[rows].to_vec();
                evolve(&blk, &mut psi);
                (s, x, psi)
            });
            let glue =
                |f: &dyn Fn(usize) -> Vec<f64>| -> Vec<f64> { (0..ranks).flat_map(f).collect() };
            for (r, (s, _, _)) in parts.iter().enumerate() {
                let d = max_diff(&s.energies, &one.energies);
                assert!(
                    d < 1e-10,
                    "{what}, {ranks} ranks, rank {r}: energies differ by {d:e}"
                );
                assert_eq!(
                    s.energies, parts[0].0.energies,
                    "every rank has the same bits"
                );
            }
            let v0 = glue(&|r| parts[r].0.vectors[0].clone());
            let o = overlap(&v0, q);
            assert!(
                (o - 1.0).abs() < 1e-9,
                "{what}, {ranks} ranks: ground overlap {o}"
            );
            let x = glue(&|r| parts[r].1.clone());
            let dx = max_diff(&x, &x1) / norm(&x1);
            assert!(dx < 1e-7, "{what}, {ranks} ranks: MINRES differs by {dx:e}");
            let psi: Vec<C64> = (0..ranks).flat_map(|r| parts[r].2.clone()).collect();
            let dp = psi
                .iter()
                .zip(&psi1)
                .map(|(a, b)| (a - b).norm())
                .fold(0.0, f64::max);
            assert!(
                dp < 1e-8,
                "{what}, {ranks} ranks: evolved state differs by {dp:e}"
            );
        }
    }
}

/// Thick restarts in a basis of 8 vectors (every level fills it several times): the five
/// lowest levels of xor, a 10-qubit network and the degenerate ring are dense
/// diagonalisation's to 1e-10 with their multiplicity, every pair verified, the basis never
/// holds more than 8 + 1 vectors; and the EP gradient and its oracle built on such solves are
/// the dense ones to 1e-9.
#[test]
fn thick_restarted_solves_in_a_short_basis_match_dense_diagonalisation() {
    let cap = 8;
    let p = LanczosParams {
        k: 5,
        tol: 1e-10,
        method: Method::Lanczos,
        basis: cap,
        ..LanczosParams::default()
    };
    for (what, h) in solver_cases() {
        let op = XMaskOperator::new(&h).unwrap();
        let (want, _) = qep::linalg::dense_spectrum(&op).unwrap();
        let mut ws = LanczosWorkspace::<f64>::new();
        let s = lowest_eigenpairs_in::<f64>(&op, &p, None, &mut ws).unwrap();
        let d = max_diff(&s.energies, &want[..5]);
        assert!(d < 1e-10, "{what}: energies differ from dense by {d:e}");
        assert!(
            s.residuals.iter().all(|&r| r <= 1e-10),
            "{what}: {:?}",
            s.residuals
        );
        assert!(
            s.thick_restarts >= 5,
            "{what}: premise: the basis filled up ({} restarts)",
            s.thick_restarts
        );
        assert_eq!(s.basis_peak, cap + 1, "{what}: basis peak");
        assert!(ws.basis_len() <= cap + 1, "{what}: {}", ws.basis_len());
        if what.starts_with("Heisenberg") {
            assert!(
                (s.energies[3] - s.energies[1]).abs() < 1e-9,
                "the triplet three times: {:?}",
                s.energies
            );
        }
    }
    let (x, train) = xor();
    let cases = [
        (x, train[..2].to_vec()),
        (randnet(10, 7), randnet_examples()[..1].to_vec()),
    ];
    for (m, examples) in &cases {
        let ep = EpParams {
            exact: true,
            lanczos: LanczosParams {
                basis: cap,
                ..params().lanczos
            },
            ..params()
        };
        for ex in examples {
            let (g, oracle) =
                eigen_in(m, &m.theta(), ex, &ep, &mut EpWorkspace::default()).unwrap();
            let (want_ep, want_exact) = dense_gradients(m, &m.theta(), ex, ep.beta);
            assert!(norm(&want_exact) > 1e-3, "premise: a non-zero gradient");
            let de = max_diff(&g.ep, &want_ep);
            let dx = max_diff(&oracle.unwrap().exact, &want_exact);
            assert!(de < 1e-9, "EP differs from dense EP by {de:e}");
            assert!(dx < 1e-9, "oracle differs from the dense sum by {dx:e}");
        }
    }
}

/// An EP gradient on 16 qubits (vectors long enough that every pass is split over the
/// threads, a short basis with thick restarts) computed in a pool of one thread and in one of
/// two: the same gradient, oracle and product count bit for bit, and the EP estimate within
/// the O(β²) of symmetric nudging of its MINRES oracle.
#[test]
fn a_16_qubit_gradient_is_the_same_on_one_and_two_threads_and_matches_its_oracle() {
    let m = randnet(16, 3);
    let ex = &randnet_examples()[0];
    let p = EpParams {
        beta: 0.01,
        exact: true,
        ..EpParams::default()
    };
    let run = |threads| {
        crate::oracle::in_pool(threads, || {
            eigen_in(&m, &m.theta(), ex, &p, &mut EpWorkspace::default()).unwrap()
        })
    };
    let (g1, o1) = run(1);
    let (g2, o2) = run(2);
    let (o1, o2) = (o1.expect("oracle asked"), o2.expect("oracle asked"));
    assert_eq!(g1.ep, g2.ep, "EP gradient differs between 1 and 2 threads");
    assert_eq!(o1.exact, o2.exact, "oracle differs between 1 and 2 threads");
    assert_eq!(g1.matvecs, g2.matvecs);
    assert_eq!(g1.energy.to_bits(), g2.energy.to_bits());
    let scale = norm(&o1.exact);
    assert!(scale > 1e-2, "premise: a non-zero gradient ({scale})");
    let d = max_diff(&g1.ep, &o1.exact);
    assert!(d < 1e-4 * scale, "EP vs oracle {d:e} (scale {scale:e})");
}

/// Thick restarts of both kinds, against the free-fermion levels of the critical open TFIM
/// chain of 14 sites (slow to converge: runs longer than either basis): a basis of 8 (3 kept
/// Ritz vectors, whose couplings the first step after a restart subtracts in its update pass)
/// and one of 80 (10 kept, more than that pass fuses: subtracted on their own), on real and
/// complex amplitudes; every level to 1e-9.
#[test]
fn thick_restarts_with_few_and_many_kept_vectors_match_the_exact_levels() {
    let n = 14;
    let op = XMaskOperator::new(&crate::oracle::tfim_chain(n, 1.0, 1.0)).unwrap();
    let want = crate::oracle::tfim_exact_levels(n, 1.0, 1.0);
    for basis in [8, 80] {
        let p = LanczosParams {
            k: 4,
            tol: 1e-10,
            method: Method::Lanczos,
            basis,
            ..LanczosParams::default()
        };
        let real = lowest_eigenpairs::<f64>(&op, &p, None).unwrap();
        let complex = lowest_eigenpairs::<C64>(&op, &p, None).unwrap();
        for (what, e, restarts) in [
            ("real", &real.energies, real.thick_restarts),
            ("complex", &complex.energies, complex.thick_restarts),
        ] {
            assert!(restarts > 0, "premise: basis {basis} restarts ({what})");
            let d = max_diff(e, &want[..4]);
            assert!(
                d < 1e-9,
                "basis {basis}, {what}: {d:e} from the exact levels"
            );
        }
    }
}
