//! Gate fusion: a run of unconditional gates becomes a shorter list of [`FusedOp`]s, each one
//! pass over the (cache-blocked) state.
//!
//! Every gate is first given its cheapest form: a bit-flip permutation (`x`, `cx`, `ccx`,
//! `mcx`, `swap`, `cswap`: amplitudes move, nothing is multiplied), a diagonal (`z`, `s`, `t`,
//! `rz`, `p`, `cz`, `cp`, `crz`, `rzz`, `ccz`, `mcphase`, …: one complex product per
//! amplitude), a dense matrix over all its qubits (controls folded in) for gates of at most
//! [`MAX_DENSE`] qubits, or a target matrix with a control mask for wider controlled gates.
//! Gates are then merged greedily in program order, as qsim's and Aer's fusers do: a gate joins
//! the latest op on its qubits (moving it forward past ops on other qubits only), pulling in
//! earlier ops that nothing after them touches, when the merged op has at most `max_qubits`
//! qubits (diagonals merge with diagonals up to [`MAX_DIAGONAL`] qubits) and costs no more
//! than the parts. The cost of an op per amplitude is one pass through the cache (`pass_cost`)
//! plus its complex multiplications: `2^k` for a dense `k`-qubit matrix (half when it is
//! real: `h`, `ry`, `cx` and their products; less when sparse), 1 for a diagonal, 0 for a
//! permutation.

use super::gates::Gate;
use super::kernels::apply_controlled;
use crate::C64;

/// Widest dense matrix (qubits) a gate or a fused op may have.
pub const MAX_DENSE: usize = 4;
/// Widest diagonal a run of diagonal gates may merge into.
pub const MAX_DIAGONAL: usize = 8;

/// Settings of the fusion pass.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FuseParams {
    /// Most qubits of a fused dense op (1 turns fusion of distinct qubits off; at most
    /// [`MAX_DENSE`]).
    pub max_qubits: usize,
    /// Cost of one pass through the cache per amplitude, in complex multiplications.
    pub pass_cost: f64,
}

impl Default for FuseParams {
    fn default() -> Self {
        // Two-qubit fusion measured fastest on the layered random circuits of the peer
        // benchmark (wider dense matrices cost more multiplications than the passes they save
        // once passes are cache-blocked).
        FuseParams {
            max_qubits: 2,
            pass_cost: 2.0,
        }
    }
}

/// One op of a fused run, on the circuit's qubits.
#[derive(Clone, Debug, PartialEq)]
pub enum FusedOp {
    /// A dense `2^k × 2^k` matrix, row-major, indexed by `Σ_j bit(qubits[j]) 2^j`.
    Dense {
        /// The qubits, matrix bit `j` = `qubits[j]`.
        qubits: Vec<usize>,
        /// The matrix.
        m: Vec<C64>,
    },
    /// A diagonal, `d[Σ_j bit(qubits[j]) 2^j]` multiplying each amplitude.
    Diagonal {
        /// The qubits.
        qubits: Vec<usize>,
        /// The diagonal.
        d: Vec<C64>,
    },
    /// A permutation of amplitude pairs: every index `i` whose `set` bits are all 1 and whose
    /// `clear` bits are all 0 is exchanged with `i ⊕ x` (`cx c,t`: set `c`, clear and `x` `t`;
    /// `swap a,b`: set `a`, clear `b`, `x` both). `clear` holds the lowest bit of `x`.
    Swap {
        /// Bits that must be 1.
        set: usize,
        /// Bits that must be 0.
        clear: usize,
        /// Bits flipped.
        x: usize,
    },
    /// A `2^k × 2^k` target matrix applied where every `ctrl` bit is 1.
    Controlled {
        /// Targets, matrix bit `j` = `targets[j]`.
        targets: Vec<usize>,
        /// Control mask.
        ctrl: usize,
        /// Row-major target matrix.
        m: Vec<C64>,
    },
}

fn mask(qs: &[usize]) -> usize {
    qs.iter().fold(0, |a, &q| a | 1 << q)
}

fn bits(m: usize) -> Vec<usize> {
    (0..usize::BITS as usize)
        .filter(|&b| m >> b & 1 == 1)
        .collect()
}

impl FusedOp {
    /// The cheapest op of `gate` on `qubits` (controls first), `None` for the identity.
    pub fn of(gate: Gate, qubits: &[usize]) -> Option<FusedOp> {
        if gate.is_identity() {
            return None;
        }
        let nc = gate.controls();
        let ctrl = mask(&qubits[..nc]);
        let targets = &qubits[nc..];
        let t = gate.target_matrix();
        let (o, l) = (C64::new(0.0, 0.0), C64::new(1.0, 0.0));
        if targets.len() == 1 && t == [o, l, l, o] {
            let b = 1usize << targets[0];
            return Some(FusedOp::Swap {
                set: ctrl,
                clear: b,
                x: b,
            });
        }
        if matches!(gate, Gate::Swap | Gate::Cswap) {
            let (a, b) = (1usize << targets[0], 1usize << targets[1]);
            return Some(FusedOp::Swap {
                set: ctrl | a.max(b),
                clear: a.min(b),
                x: a | b,
            });
        }
        let dim = 1usize << targets.len();
        let diagonal = (0..dim).all(|r| (0..dim).all(|c| r == c || t[r * dim + c] == o));
        if diagonal && qubits.len() <= MAX_DIAGONAL {
            let full = gate.matrix();
            let d = 1usize << qubits.len();
            return Some(FusedOp::Diagonal {
                qubits: qubits.to_vec(),
                d: (0..d).map(|i| full[i * d + i]).collect(),
            });
        }
        if qubits.len() <= MAX_DENSE {
            return Some(FusedOp::Dense {
                qubits: qubits.to_vec(),
                m: gate.matrix(),
            });
        }
        Some(FusedOp::Controlled {
            targets: targets.to_vec(),
            ctrl,
            m: t,
        })
    }

    /// Every qubit the op reads or writes (controls included).
    pub fn touch(&self) -> usize {
        match self {
            FusedOp::Dense { qubits, .. } | FusedOp::Diagonal { qubits, .. } => mask(qubits),
            FusedOp::Swap { set, clear, x } => set | clear | x,
            FusedOp::Controlled { targets, ctrl, .. } => mask(targets) | ctrl,
        }
    }

    /// The qubits that must lie inside a cache block to apply the op there: all of them for
    /// dense and diagonal ops, the moved or transformed ones for permutations and controlled
    /// matrices (a condition on other qubits is read from the block's position).
    pub fn need(&self) -> usize {
        match self {
            FusedOp::Swap { x, .. } => *x,
            FusedOp::Controlled { targets, .. } => mask(targets),
            op => op.touch(),
        }
    }

    /// Complex multiplications per amplitude.
    fn flops(&self) -> f64 {
        match self {
            // Zero real or imaginary parts are skipped by the kernels: a real matrix costs
            // half a complex one, a sparse one (a permutation times phases) less.
            FusedOp::Dense { qubits, m } => {
                let parts = m
                    .iter()
                    .map(|z| usize::from(z.re != 0.0) + usize::from(z.im != 0.0));
                parts.sum::<usize>() as f64 / (2usize << qubits.len()) as f64
            }
            FusedOp::Diagonal { .. } => 1.0,
            FusedOp::Swap { .. } => 0.0,
            FusedOp::Controlled { targets, ctrl, .. } => {
                (1usize << targets.len()) as f64 / (1usize << ctrl.count_ones()) as f64
            }
        }
    }

    /// Applies the op to `psi`, a state over `qs` (qubit `qs[j]` = bit `j`), with the plain
    /// kernels: used to multiply ops together when they are fused.
    fn apply_local(&self, qs: &[usize], psi: &mut [C64]) {
        let pos = |q: usize| {
            qs.iter()
                .position(|&p| p == q)
                .expect("op inside the union")
        };
        let local = |m: usize| bits(m).into_iter().fold(0usize, |a, q| a | 1 << pos(q));
        match self {
            FusedOp::Dense { qubits, m } => {
                let t: Vec<usize> = qubits.iter().map(|&q| pos(q)).collect();
                apply_controlled(psi, &t, 0, m);
            }
            FusedOp::Controlled { targets, ctrl, m } => {
                let t: Vec<usize> = targets.iter().map(|&q| pos(q)).collect();
                apply_controlled(psi, &t, local(*ctrl), m);
            }
            FusedOp::Diagonal { qubits, d } => {
                let t: Vec<usize> = qubits.iter().map(|&q| pos(q)).collect();
                for (i, z) in psi.iter_mut().enumerate() {
                    let k = t
                        .iter()
                        .enumerate()
                        .fold(0, |a, (j, &p)| a | (i >> p & 1) << j);
                    *z *= d[k];
                }
            }
            FusedOp::Swap { set, clear, x } => {
                let (s, c, x) = (local(*set), local(*clear), local(*x));
                for i in 0..psi.len() {
                    if i & s == s && i & c == 0 {
                        psi.swap(i, i ^ x);
                    }
                }
            }
        }
    }
}

/// `parts` (applied in order) as one op on the union of their qubits: a diagonal if all are
/// diagonal, else a dense matrix. `None` if the union is too wide.
fn merge(parts: &[&FusedOp], max_qubits: usize) -> Option<FusedOp> {
    let union = parts.iter().fold(0, |a, p| a | p.touch());
    let qs = bits(union);
    let diag = parts.iter().all(|p| matches!(p, FusedOp::Diagonal { .. }));
    if parts
        .iter()
        .any(|p| matches!(p, FusedOp::Controlled { .. }))
        || qs.len() > if diag { MAX_DIAGONAL } else { max_qubits }
    {
        return None;
    }
    let dim = 1usize << qs.len();
    if diag {
        let mut d = vec![C64::new(1.0, 0.0); dim];
        for p in parts {
            p.apply_local(&qs, &mut d);
        }
        return Some(FusedOp::Diagonal { qubits: qs, d });
    }
    let mut m = vec![C64::new(0.0, 0.0); dim * dim];
    let mut col = vec![C64::new(0.0, 0.0); dim];
    for c in 0..dim {
        col.fill(C64::new(0.0, 0.0));
        col[c] = C64::new(1.0, 0.0);
        for p in parts {
            p.apply_local(&qs, &mut col);
        }
        for (r, z) in col.iter().enumerate() {
            m[r * dim + c] = *z;
        }
    }
    Some(FusedOp::Dense { qubits: qs, m })
}

/// Fuses `ops` (in program order, identities already dropped) into fewer ops with the same
/// product (module doc).
pub fn fuse(ops: Vec<FusedOp>, n: usize, params: &FuseParams) -> Vec<FusedOp> {
    let max_q = params.max_qubits.clamp(1, MAX_DENSE);
    let cost = |op: &FusedOp| params.pass_cost + op.flops();
    let mut nodes: Vec<Option<FusedOp>> = Vec::with_capacity(ops.len());
    let mut last: Vec<Option<usize>> = vec![None; n];
    let last_on_all = |last: &[Option<usize>], k: usize, touch: usize| {
        bits(touch).into_iter().all(|q| last[q] == Some(k))
    };
    for g in ops {
        let touch = g.touch();
        let mut cands: Vec<usize> = bits(touch).into_iter().filter_map(|q| last[q]).collect();
        cands.sort_unstable();
        cands.dedup();
        // A: into the latest op on the gate's qubits, with earlier ops nothing later touches.
        let mut done = None;
        // The earlier ops among `from` that nothing later touches and that fit in one op of
        // at most `max_q` qubits with `union`.
        let absorbable = |nodes: &[Option<FusedOp>], from: &[usize], mut union: usize| {
            let mut parts: Vec<usize> = Vec::new();
            for &c in from {
                let ct = nodes[c].as_ref().expect("live").touch();
                if last_on_all(&last, c, ct) && (union | ct).count_ones() as usize <= max_q {
                    parts.push(c);
                    union |= ct;
                }
            }
            parts
        };
        // `parts` then `g` as one op, if that costs no more than applying them apart.
        let merged = |nodes: &[Option<FusedOp>], parts: &[usize]| {
            let mut list: Vec<&FusedOp> = parts
                .iter()
                .map(|&k| nodes[k].as_ref().expect("live"))
                .collect();
            list.push(&g);
            let before: f64 = list.iter().map(|p| cost(p)).sum();
            merge(&list, max_q).filter(|m| cost(m) <= before)
        };
        if let Some(&f) = cands.last() {
            let fop = nodes[f].as_ref().expect("live");
            let mut parts = absorbable(&nodes, &cands[..cands.len() - 1], touch | fop.touch());
            parts.push(f);
            if let Some(m) = merged(&nodes, &parts) {
                done = Some((parts, f, m));
            }
        }
        // B: a new op at the end, with the earlier ops on its qubits nothing later touches.
        if done.is_none() {
            let parts = absorbable(&nodes, &cands, touch);
            let at = nodes.len();
            nodes.push(None);
            let merged = if parts.is_empty() {
                None
            } else {
                merged(&nodes, &parts)
            };
            match merged {
                Some(m) => done = Some((parts, at, m)),
                None => {
                    for q in bits(touch) {
                        last[q] = Some(at);
                    }
                    nodes[at] = Some(g);
                    continue;
                }
            }
        }
        let (parts, at, m) = done.expect("set above");
        for &k in &parts {
            nodes[k] = None;
        }
        // A qubit of the merged op that a later op already touches keeps that later op.
        for q in bits(m.touch()) {
            if last[q].is_none_or(|l| l <= at) {
                last[q] = Some(at);
            }
        }
        nodes[at] = Some(m);
    }
    nodes.into_iter().flatten().collect()
}
