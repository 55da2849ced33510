//! The gate table: every gate of Qiskit's `qelib1.inc` and of Qiskit's standard library that
//! `qasm2.dumps`/`qasm3.dumps` write, with Qiskit's exact matrices and phase conventions.
//!
//! Matrix convention (DESIGN.md: qubit i = bit i, as Qiskit's `Operator`): a gate applied to
//! the qubits `(q₀, q₁, …)` has the matrix indexed by `Σ_j bit_{q_j} 2^j`. A controlled gate
//! lists its controls first (`ccx c₀, c₁, t`); [`Gate::controls`] says how many, and
//! [`Gate::target_matrix`] is the matrix applied to the remaining qubits when every control is
//! 1, so the executor runs it as one kernel with a control mask.
//!
//! A new gate is one [`Gate`] variant, one row of [`TABLE`] and one row of the matrix fixture
//! (`tests/fixtures/gate_matrices.py`).

use std::f64::consts::{FRAC_1_SQRT_2, FRAC_PI_2, FRAC_PI_4};

use crate::C64;

/// A 2×2 complex matrix, row-major: `m[row][col]`.
pub type Matrix2 = [[C64; 2]; 2];
/// A 4×4 complex matrix, row-major, indexed by `bit_a + 2·bit_b` for a gate on `(a, b)`.
pub type Matrix4 = [[C64; 4]; 4];

/// A unitary gate of the supported set, with its angles in radians (Qiskit's classes and
/// conventions: `R_P(θ) = exp(−iθP/2)`, `P(λ) = diag(1, e^{iλ})`,
/// `U(θ,φ,λ) = [[cos θ/2, −e^{iλ} sin θ/2], [e^{iφ} sin θ/2, e^{i(φ+λ)} cos θ/2]]`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Gate {
    /// Identity (`id`, `u0(γ)`, `delay(t)`).
    Id,
    /// Hadamard `(X + Z)/√2`.
    H,
    /// Pauli X.
    X,
    /// Pauli Y.
    Y,
    /// Pauli Z.
    Z,
    /// `S = diag(1, i)`.
    S,
    /// `S† = diag(1, −i)`.
    Sdg,
    /// `T = diag(1, e^{iπ/4})`.
    T,
    /// `T† = diag(1, e^{−iπ/4})`.
    Tdg,
    /// `√X = ½[[1+i, 1−i], [1−i, 1+i]]`.
    Sx,
    /// `√X† = ½[[1−i, 1+i], [1+i, 1−i]]`.
    Sxdg,
    /// `RX(θ) = exp(−iθX/2)`.
    Rx(f64),
    /// `RY(θ) = exp(−iθY/2)`.
    Ry(f64),
    /// `RZ(θ) = exp(−iθZ/2) = diag(e^{−iθ/2}, e^{iθ/2})` (Qiskit's `RZGate`).
    Rz(f64),
    /// `P(λ) = diag(1, e^{iλ})` (`p`, `u1`, `phase`).
    P(f64),
    /// `U(θ, φ, λ)` (`U`, `u`, `u3`; `u2(φ,λ) = U(π/2, φ, λ)`).
    U(f64, f64, f64),
    /// `R(θ, φ) = exp(−iθ(cos φ X + sin φ Y)/2)`.
    R(f64, f64),
    /// Swap of two qubits.
    Swap,
    /// iSWAP: `|01⟩ ↔ i|10⟩`.
    Iswap,
    /// Double CNOT: `cx a,b; cx b,a`.
    Dcx,
    /// Echoed cross-resonance `(IX − XY)/√2` (Qiskit's ordering: X on the first qubit).
    Ecr,
    /// `RXX(θ) = exp(−iθ X⊗X/2)`.
    Rxx(f64),
    /// `RYY(θ) = exp(−iθ Y⊗Y/2)`.
    Ryy(f64),
    /// `RZZ(θ) = exp(−iθ Z⊗Z/2)`.
    Rzz(f64),
    /// `RZX(θ) = exp(−iθ Z_a X_b/2)`: Z on the first qubit, X on the second.
    Rzx(f64),
    /// `XX−YY(θ, β)`: a rotation in the `{|00⟩, |11⟩}` subspace.
    XxMinusYy(f64, f64),
    /// `XX+YY(θ, β)`: a rotation in the `{|01⟩, |10⟩}` subspace.
    XxPlusYy(f64, f64),
    /// Relative-phase Toffoli (Margolus), three qubits.
    Rccx,
    /// Relative-phase 3-controlled X, four qubits.
    Rc3x,
    /// Controlled X (first qubit the control).
    Cx,
    /// Controlled Y.
    Cy,
    /// Controlled Z.
    Cz,
    /// Controlled H.
    Ch,
    /// Controlled √X.
    Csx,
    /// Controlled S.
    Cs,
    /// Controlled S†.
    Csdg,
    /// Controlled RX.
    Crx(f64),
    /// Controlled RY.
    Cry(f64),
    /// Controlled RZ.
    Crz(f64),
    /// Controlled phase (`cp`, `cu1`, `cphase`).
    Cp(f64),
    /// Controlled `U(θ, φ, λ)` (`cu3`).
    Cu3(f64, f64, f64),
    /// Controlled `e^{iγ} U(θ, φ, λ)` (`cu`, Qiskit's `CUGate`).
    Cu(f64, f64, f64, f64),
    /// Controlled swap (Fredkin).
    Cswap,
    /// Toffoli.
    Ccx,
    /// Doubly controlled Z.
    Ccz,
    /// 3-controlled √X (`c3sqrtx`, `c3sx`).
    C3sx,
    /// X with `n ≥ 1` controls (`cx`, `ccx`, `c3x`, `c4x`, `mcx`): the last qubit is the target.
    Mcx(usize),
    /// `P(λ)` with `n ≥ 1` controls (`mcphase`).
    Mcp(f64, usize),
}

/// How many qubits a table row accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arity {
    /// Exactly this many.
    Exactly(usize),
    /// At least this many (multi-controlled families).
    AtLeast(usize),
}

impl Arity {
    /// Whether `n` qubits fit.
    pub fn accepts(self, n: usize) -> bool {
        match self {
            Arity::Exactly(k) => n == k,
            Arity::AtLeast(k) => n >= k,
        }
    }
}

impl std::fmt::Display for Arity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Arity::Exactly(k) => write!(f, "{k}"),
            Arity::AtLeast(k) => write!(f, "at least {k}"),
        }
    }
}

/// One row of the gate table: a name as written in OpenQASM, its parameter count, its qubit
/// count and the constructor from evaluated parameters (and the qubit count, for families).
pub struct GateSpec {
    /// The name in OpenQASM.
    pub name: &'static str,
    /// Number of angle parameters.
    pub params: usize,
    /// Number of qubits.
    pub qubits: Arity,
    make: fn(&[f64], usize) -> Gate,
}

impl GateSpec {
    /// The gate for `params` (length [`GateSpec::params`]) on `qubits` qubits.
    ///
    /// # Panics
    /// If the parameter or qubit count does not fit the row (a caller bug).
    #[track_caller]
    pub fn make(&self, params: &[f64], qubits: usize) -> Gate {
        assert!(params.len() == self.params && self.qubits.accepts(qubits));
        (self.make)(params, qubits)
    }
}

macro_rules! row {
    ($name:literal, $p:literal, $q:expr, $f:expr) => {
        GateSpec {
            name: $name,
            params: $p,
            qubits: $q,
            make: $f,
        }
    };
}

use Arity::{AtLeast, Exactly};

/// Every gate name qep knows (qelib1.inc, stdgates.inc and Qiskit's standard library names).
pub const TABLE: &[GateSpec] = &[
    row!("id", 0, Exactly(1), |_, _| Gate::Id),
    row!("u0", 1, Exactly(1), |_, _| Gate::Id),
    row!("delay", 1, Exactly(1), |_, _| Gate::Id),
    row!("h", 0, Exactly(1), |_, _| Gate::H),
    row!("x", 0, Exactly(1), |_, _| Gate::X),
    row!("y", 0, Exactly(1), |_, _| Gate::Y),
    row!("z", 0, Exactly(1), |_, _| Gate::Z),
    row!("s", 0, Exactly(1), |_, _| Gate::S),
    row!("sdg", 0, Exactly(1), |_, _| Gate::Sdg),
    row!("t", 0, Exactly(1), |_, _| Gate::T),
    row!("tdg", 0, Exactly(1), |_, _| Gate::Tdg),
    row!("sx", 0, Exactly(1), |_, _| Gate::Sx),
    row!("sxdg", 0, Exactly(1), |_, _| Gate::Sxdg),
    row!("rx", 1, Exactly(1), |p, _| Gate::Rx(p[0])),
    row!("ry", 1, Exactly(1), |p, _| Gate::Ry(p[0])),
    row!("rz", 1, Exactly(1), |p, _| Gate::Rz(p[0])),
    row!("p", 1, Exactly(1), |p, _| Gate::P(p[0])),
    row!("phase", 1, Exactly(1), |p, _| Gate::P(p[0])),
    row!("u1", 1, Exactly(1), |p, _| Gate::P(p[0])),
    row!("u2", 2, Exactly(1), |p, _| Gate::U(FRAC_PI_2, p[0], p[1])),
    row!("u3", 3, Exactly(1), |p, _| Gate::U(p[0], p[1], p[2])),
    row!("u", 3, Exactly(1), |p, _| Gate::U(p[0], p[1], p[2])),
    row!("U", 3, Exactly(1), |p, _| Gate::U(p[0], p[1], p[2])),
    row!("r", 2, Exactly(1), |p, _| Gate::R(p[0], p[1])),
    row!("swap", 0, Exactly(2), |_, _| Gate::Swap),
    row!("iswap", 0, Exactly(2), |_, _| Gate::Iswap),
    row!("dcx", 0, Exactly(2), |_, _| Gate::Dcx),
    row!("ecr", 0, Exactly(2), |_, _| Gate::Ecr),
    row!("rxx", 1, Exactly(2), |p, _| Gate::Rxx(p[0])),
    row!("ryy", 1, Exactly(2), |p, _| Gate::Ryy(p[0])),
    row!("rzz", 1, Exactly(2), |p, _| Gate::Rzz(p[0])),
    row!("rzx", 1, Exactly(2), |p, _| Gate::Rzx(p[0])),
    row!("xx_minus_yy", 2, Exactly(2), |p, _| Gate::XxMinusYy(
        p[0], p[1]
    )),
    row!("xx_plus_yy", 2, Exactly(2), |p, _| Gate::XxPlusYy(
        p[0], p[1]
    )),
    row!("rccx", 0, Exactly(3), |_, _| Gate::Rccx),
    row!("rc3x", 0, Exactly(4), |_, _| Gate::Rc3x),
    row!("rcccx", 0, Exactly(4), |_, _| Gate::Rc3x),
    row!("cx", 0, Exactly(2), |_, _| Gate::Cx),
    row!("CX", 0, Exactly(2), |_, _| Gate::Cx),
    row!("cy", 0, Exactly(2), |_, _| Gate::Cy),
    row!("cz", 0, Exactly(2), |_, _| Gate::Cz),
    row!("ch", 0, Exactly(2), |_, _| Gate::Ch),
    row!("csx", 0, Exactly(2), |_, _| Gate::Csx),
    row!("cs", 0, Exactly(2), |_, _| Gate::Cs),
    row!("csdg", 0, Exactly(2), |_, _| Gate::Csdg),
    row!("crx", 1, Exactly(2), |p, _| Gate::Crx(p[0])),
    row!("cry", 1, Exactly(2), |p, _| Gate::Cry(p[0])),
    row!("crz", 1, Exactly(2), |p, _| Gate::Crz(p[0])),
    row!("cp", 1, Exactly(2), |p, _| Gate::Cp(p[0])),
    row!("cu1", 1, Exactly(2), |p, _| Gate::Cp(p[0])),
    row!("cphase", 1, Exactly(2), |p, _| Gate::Cp(p[0])),
    row!("cu3", 3, Exactly(2), |p, _| Gate::Cu3(p[0], p[1], p[2])),
    row!("cu", 4, Exactly(2), |p, _| Gate::Cu(p[0], p[1], p[2], p[3])),
    row!("cswap", 0, Exactly(3), |_, _| Gate::Cswap),
    row!("ccx", 0, Exactly(3), |_, _| Gate::Ccx),
    row!("ccz", 0, Exactly(3), |_, _| Gate::Ccz),
    row!("c3sqrtx", 0, Exactly(4), |_, _| Gate::C3sx),
    row!("c3sx", 0, Exactly(4), |_, _| Gate::C3sx),
    row!("c3x", 0, Exactly(4), |_, _| Gate::Mcx(3)),
    row!("c4x", 0, Exactly(5), |_, _| Gate::Mcx(4)),
    row!("mcx", 0, AtLeast(2), |_, n| Gate::Mcx(n - 1)),
    row!("mcphase", 1, AtLeast(2), |p, n| Gate::Mcp(p[0], n - 1)),
];

/// The table row named `name`, if any.
pub fn lookup(name: &str) -> Option<&'static GateSpec> {
    TABLE.iter().find(|g| g.name == name)
}

/// The known gate name nearest to `name` (Levenshtein distance at most 2, or a case-only
/// difference), for "did you mean" hints.
pub fn nearest_name(name: &str) -> Option<&'static str> {
    TABLE
        .iter()
        .map(|g| {
            (
                edit_distance(&name.to_lowercase(), &g.name.to_lowercase()),
                g.name,
            )
        })
        .filter(|&(d, _)| d <= 2.min(name.len().saturating_sub(1)).max(1))
        .min_by_key(|&(d, n)| (d, n.len()))
        .map(|(_, n)| n)
}

/// Levenshtein distance over characters (two rows, no recursion).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

fn c(re: f64, im: f64) -> C64 {
    C64::new(re, im)
}

/// `e^{iφ}`.
fn cis(phi: f64) -> C64 {
    C64::from_polar(1.0, phi)
}

const O: C64 = C64::new(0.0, 0.0);
const L: C64 = C64::new(1.0, 0.0);
const IM: C64 = C64::new(0.0, 1.0);

fn u3(t: f64, p: f64, l: f64) -> [C64; 4] {
    let (s, k) = (t / 2.0).sin_cos();
    [c(k, 0.0), -cis(l) * s, cis(p) * s, cis(p + l) * k]
}

fn rot(t: f64, pauli: [C64; 4]) -> [C64; 4] {
    // exp(−iθP/2) = cos(θ/2) I − i sin(θ/2) P
    let (s, k) = (t / 2.0).sin_cos();
    let id = [L, O, O, L];
    std::array::from_fn(|i| id[i] * k - IM * s * pauli[i])
}

const PX: [C64; 4] = [O, L, L, O];
const PY: [C64; 4] = [O, C64::new(0.0, -1.0), IM, O];
const PZ: [C64; 4] = [L, O, O, C64::new(-1.0, 0.0)];

/// The 4×4 matrix of `exp(−iθ A⊗B/2)` with `A` on the first qubit (bit 0), `B` on the second.
fn rot2(t: f64, a: [C64; 4], b: [C64; 4]) -> Vec<C64> {
    let (s, k) = (t / 2.0).sin_cos();
    let mut m = vec![O; 16];
    for r in 0..4 {
        for col in 0..4 {
            // index = bit_first + 2·bit_second
            let ab = a[(r & 1) * 2 + (col & 1)] * b[(r >> 1) * 2 + (col >> 1)];
            m[r * 4 + col] = -IM * s * ab + if r == col { c(k, 0.0) } else { O };
        }
    }
    m
}

/// A `dim × dim` identity with the listed `(row, col, value)` entries written over it.
fn sparse(dim: usize, entries: &[(usize, usize, C64)]) -> Vec<C64> {
    let mut m = vec![O; dim * dim];
    for i in 0..dim {
        m[i * dim + i] = L;
    }
    for &(r, col, v) in entries {
        m[r * dim + col] = v;
    }
    m
}

impl Gate {
    /// Number of qubits the gate acts on (controls included).
    pub fn num_qubits(self) -> usize {
        match self {
            Gate::Swap
            | Gate::Iswap
            | Gate::Dcx
            | Gate::Ecr
            | Gate::Rxx(_)
            | Gate::Ryy(_)
            | Gate::Rzz(_)
            | Gate::Rzx(_)
            | Gate::XxMinusYy(..)
            | Gate::XxPlusYy(..)
            | Gate::Cx
            | Gate::Cy
            | Gate::Cz
            | Gate::Ch
            | Gate::Csx
            | Gate::Cs
            | Gate::Csdg
            | Gate::Crx(_)
            | Gate::Cry(_)
            | Gate::Crz(_)
            | Gate::Cp(_)
            | Gate::Cu3(..)
            | Gate::Cu(..) => 2,
            Gate::Rccx | Gate::Cswap | Gate::Ccx | Gate::Ccz => 3,
            Gate::Rc3x | Gate::C3sx => 4,
            Gate::Mcx(n) | Gate::Mcp(_, n) => n + 1,
            _ => 1,
        }
    }

    /// The same as [`Gate::num_qubits`] (the name the rest of qep used for one- and two-qubit
    /// gates).
    pub fn arity(self) -> usize {
        self.num_qubits()
    }

    /// Number of leading control qubits (the gate acts with [`Gate::target_matrix`] on the
    /// other qubits when all of them are 1, as the identity otherwise).
    pub fn controls(self) -> usize {
        match self {
            Gate::Cx
            | Gate::Cy
            | Gate::Cz
            | Gate::Ch
            | Gate::Csx
            | Gate::Cs
            | Gate::Csdg
            | Gate::Crx(_)
            | Gate::Cry(_)
            | Gate::Crz(_)
            | Gate::Cp(_)
            | Gate::Cu3(..)
            | Gate::Cu(..)
            | Gate::Cswap => 1,
            Gate::Ccx | Gate::Ccz => 2,
            Gate::C3sx => 3,
            Gate::Mcx(n) | Gate::Mcp(_, n) => n,
            _ => 0,
        }
    }

    /// Whether the gate is the identity (dropped by the executor).
    pub fn is_identity(self) -> bool {
        self == Gate::Id
    }

    /// The name written by the OpenQASM 2 export (qelib1.inc spelling where it has one).
    pub fn name(self) -> &'static str {
        match self {
            Gate::Id => "id",
            Gate::H => "h",
            Gate::X => "x",
            Gate::Y => "y",
            Gate::Z => "z",
            Gate::S => "s",
            Gate::Sdg => "sdg",
            Gate::T => "t",
            Gate::Tdg => "tdg",
            Gate::Sx => "sx",
            Gate::Sxdg => "sxdg",
            Gate::Rx(_) => "rx",
            Gate::Ry(_) => "ry",
            Gate::Rz(_) => "rz",
            Gate::P(_) => "u1",
            Gate::U(..) => "u3",
            Gate::R(..) => "r",
            Gate::Swap => "swap",
            Gate::Iswap => "iswap",
            Gate::Dcx => "dcx",
            Gate::Ecr => "ecr",
            Gate::Rxx(_) => "rxx",
            Gate::Ryy(_) => "ryy",
            Gate::Rzz(_) => "rzz",
            Gate::Rzx(_) => "rzx",
            Gate::XxMinusYy(..) => "xx_minus_yy",
            Gate::XxPlusYy(..) => "xx_plus_yy",
            Gate::Rccx => "rccx",
            Gate::Rc3x => "rc3x",
            Gate::Cx | Gate::Mcx(1) => "cx",
            Gate::Cy => "cy",
            Gate::Cz => "cz",
            Gate::Ch => "ch",
            Gate::Csx => "csx",
            Gate::Cs => "cs",
            Gate::Csdg => "csdg",
            Gate::Crx(_) => "crx",
            Gate::Cry(_) => "cry",
            Gate::Crz(_) => "crz",
            Gate::Cp(_) | Gate::Mcp(_, 1) => "cu1",
            Gate::Cu3(..) => "cu3",
            Gate::Cu(..) => "cu",
            Gate::Cswap => "cswap",
            Gate::Ccx | Gate::Mcx(2) => "ccx",
            Gate::Ccz => "ccz",
            Gate::C3sx => "c3sqrtx",
            Gate::Mcx(3) => "c3x",
            Gate::Mcx(4) => "c4x",
            Gate::Mcx(_) => "mcx",
            Gate::Mcp(..) => "mcphase",
        }
    }

    /// The gate's angle parameters, in OpenQASM order (empty for fixed gates).
    pub fn params(self) -> Vec<f64> {
        match self {
            Gate::Rx(t)
            | Gate::Ry(t)
            | Gate::Rz(t)
            | Gate::P(t)
            | Gate::Rxx(t)
            | Gate::Ryy(t)
            | Gate::Rzz(t)
            | Gate::Rzx(t)
            | Gate::Crx(t)
            | Gate::Cry(t)
            | Gate::Crz(t)
            | Gate::Cp(t)
            | Gate::Mcp(t, _) => vec![t],
            Gate::R(a, b) | Gate::XxMinusYy(a, b) | Gate::XxPlusYy(a, b) => vec![a, b],
            Gate::U(a, b, d) | Gate::Cu3(a, b, d) => vec![a, b, d],
            Gate::Cu(a, b, d, e) => vec![a, b, d, e],
            _ => Vec::new(),
        }
    }

    /// The matrix applied to the target qubits (the last `num_qubits − controls`), row-major
    /// `2^k × 2^k`, indexed by the targets' bits in order (first target = bit 0).
    pub fn target_matrix(self) -> Vec<C64> {
        let h = FRAC_1_SQRT_2;
        let one: [C64; 4] = match self {
            Gate::Id => [L, O, O, L],
            Gate::H | Gate::Ch => [c(h, 0.0), c(h, 0.0), c(h, 0.0), c(-h, 0.0)],
            Gate::X | Gate::Cx | Gate::Ccx | Gate::Mcx(_) => PX,
            Gate::Y | Gate::Cy => PY,
            Gate::Z | Gate::Cz | Gate::Ccz => PZ,
            Gate::S | Gate::Cs => [L, O, O, IM],
            Gate::Sdg | Gate::Csdg => [L, O, O, -IM],
            Gate::T => [L, O, O, cis(FRAC_PI_4)],
            Gate::Tdg => [L, O, O, cis(-FRAC_PI_4)],
            Gate::Sx | Gate::Csx | Gate::C3sx => {
                [c(0.5, 0.5), c(0.5, -0.5), c(0.5, -0.5), c(0.5, 0.5)]
            }
            Gate::Sxdg => [c(0.5, -0.5), c(0.5, 0.5), c(0.5, 0.5), c(0.5, -0.5)],
            Gate::Rx(t) | Gate::Crx(t) => rot(t, PX),
            Gate::Ry(t) | Gate::Cry(t) => rot(t, PY),
            Gate::Rz(t) | Gate::Crz(t) => [cis(-t / 2.0), O, O, cis(t / 2.0)],
            Gate::P(l) | Gate::Cp(l) | Gate::Mcp(l, _) => [L, O, O, cis(l)],
            Gate::U(t, p, l) | Gate::Cu3(t, p, l) => u3(t, p, l),
            Gate::Cu(t, p, l, g) => u3(t, p, l).map(|z| z * cis(g)),
            Gate::R(t, phi) => {
                let (s, k) = (t / 2.0).sin_cos();
                [
                    c(k, 0.0),
                    -IM * cis(-phi) * s,
                    -IM * cis(phi) * s,
                    c(k, 0.0),
                ]
            }
            _ => return self.multi_target_matrix(),
        };
        one.to_vec()
    }

    /// Target matrices of gates with two or more targets.
    fn multi_target_matrix(self) -> Vec<C64> {
        let h = FRAC_1_SQRT_2;
        match self {
            Gate::Swap | Gate::Cswap => sparse(4, &[(1, 1, O), (2, 2, O), (1, 2, L), (2, 1, L)]),
            Gate::Iswap => sparse(4, &[(1, 1, O), (2, 2, O), (1, 2, IM), (2, 1, IM)]),
            // cx a,b; cx b,a: |01⟩ → |11⟩ → |10⟩ etc. (index = bit_a + 2·bit_b).
            Gate::Dcx => {
                let mut m = vec![O; 16];
                for (r, col) in [(0, 0), (1, 3), (2, 1), (3, 2)] {
                    m[r * 4 + col] = L;
                }
                m
            }
            Gate::Ecr => {
                let mut m = vec![O; 16];
                for (r, col, v) in [
                    (0, 1, c(h, 0.0)),
                    (0, 3, c(0.0, h)),
                    (1, 0, c(h, 0.0)),
                    (1, 2, c(0.0, -h)),
                    (2, 1, c(0.0, h)),
                    (2, 3, c(h, 0.0)),
                    (3, 0, c(0.0, -h)),
                    (3, 2, c(h, 0.0)),
                ] {
                    m[r * 4 + col] = v;
                }
                m
            }
            Gate::Rxx(t) => rot2(t, PX, PX),
            Gate::Ryy(t) => rot2(t, PY, PY),
            Gate::Rzz(t) => rot2(t, PZ, PZ),
            Gate::Rzx(t) => rot2(t, PZ, PX),
            Gate::XxMinusYy(t, b) => {
                let (s, k) = (t / 2.0).sin_cos();
                sparse(
                    4,
                    &[
                        (0, 0, c(k, 0.0)),
                        (3, 3, c(k, 0.0)),
                        (0, 3, -IM * s * cis(-b)),
                        (3, 0, -IM * s * cis(b)),
                    ],
                )
            }
            Gate::XxPlusYy(t, b) => {
                let (s, k) = (t / 2.0).sin_cos();
                sparse(
                    4,
                    &[
                        (1, 1, c(k, 0.0)),
                        (2, 2, c(k, 0.0)),
                        (1, 2, -IM * s * cis(-b)),
                        (2, 1, -IM * s * cis(b)),
                    ],
                )
            }
            Gate::Rccx => sparse(
                8,
                &[(3, 3, O), (7, 7, O), (3, 7, -IM), (7, 3, IM), (5, 5, -L)],
            ),
            Gate::Rc3x => sparse(
                16,
                &[
                    (3, 3, IM),
                    (11, 11, -IM),
                    (7, 7, O),
                    (15, 15, O),
                    (7, 15, L),
                    (15, 7, -L),
                ],
            ),
            _ => unreachable!("{self:?} has a one-qubit target"),
        }
    }

    /// The full `2^n × 2^n` matrix (controls included), indexed by the gate's qubits in order
    /// (qubit 0 of the gate = bit 0), as Qiskit's `Operator(gate)`.
    pub fn matrix(self) -> Vec<C64> {
        let n = self.num_qubits();
        let nc = self.controls();
        let t = self.target_matrix();
        let dim = 1usize << n;
        let tdim = 1usize << (n - nc);
        let cmask = (1usize << nc) - 1;
        let mut m = vec![O; dim * dim];
        for r in 0..dim {
            for col in 0..dim {
                m[r * dim + col] = if r & cmask == cmask && col & cmask == cmask {
                    t[(r >> nc) * tdim + (col >> nc)]
                } else if r == col {
                    L
                } else {
                    O
                };
            }
        }
        m
    }

    /// The 2×2 matrix of an uncontrolled one-qubit gate.
    ///
    /// # Panics
    /// If the gate acts on more than one qubit.
    #[track_caller]
    pub fn matrix2(self) -> Matrix2 {
        assert_eq!(self.num_qubits(), 1, "{self:?} is not a one-qubit gate");
        let m = self.target_matrix();
        [[m[0], m[1]], [m[2], m[3]]]
    }

    /// The 4×4 matrix of a two-qubit gate on `(a, b)`, indexed by `bit_a + 2·bit_b`.
    ///
    /// # Panics
    /// If the gate does not act on exactly two qubits.
    #[track_caller]
    pub fn matrix4(self) -> Matrix4 {
        assert_eq!(self.num_qubits(), 2, "{self:?} is not a two-qubit gate");
        let m = self.matrix();
        std::array::from_fn(|r| std::array::from_fn(|col| m[r * 4 + col]))
    }
}
