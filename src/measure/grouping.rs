//! Qubit-wise commuting (QWC) groups of Pauli strings and their measurement bases.
//!
//! Two strings qubit-wise commute when on every qubit their letters are equal or one is `I`;
//! a set of pairwise QWC strings is measured from the same shots in one product basis. The
//! basis of a group is itself a Pauli string: on each qubit the letter its members need there.
//!
//! Rotation convention (checked against explicit 2×2 matrices in `tests/it/measure.rs`): the
//! single-qubit unitary `U` with `U L U† = Z` is
//!
//! * `L = X`: `U = H = (1/√2)[[1, 1], [1, −1]]` (`H X H = Z`);
//! * `L = Y`: `U = H·S† = (1/√2)[[1, −i], [1, i]]`, i.e. apply `S† = diag(1, −i)` first, then
//!   `H` (`S† Y S = X`, then `H X H = Z`);
//! * `L = Z` or `I`: `U = 1`.
//!
//! Hence `⟨ψ|P|ψ⟩ = ⟨Uψ| Z^{supp P} |Uψ⟩` with sign `+1` for every member `P` of the group, and
//! a shot `b` of `Uψ` gives `P` the value `(−1)^{|b ∧ supp P|}`.

use rayon::prelude::*;

use crate::pauli::{Letter, PauliString, PauliSum};
use crate::C64;

/// Pairs `(b, b | 1<<q)` per rayon task: below this many amplitudes the pass is serial.
const CHUNK: usize = 1 << 14;

/// One qubit-wise commuting group: the indices of its members in the input list, the members,
/// and the product basis that measures them all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeasurementGroup {
    members: Vec<usize>,
    strings: Vec<PauliString>,
    basis: PauliString,
}

impl MeasurementGroup {
    fn new() -> Self {
        Self {
            members: Vec::new(),
            strings: Vec::new(),
            basis: PauliString::IDENTITY,
        }
    }

    /// Whether `p` qubit-wise commutes with every member (equivalently, with the basis).
    fn accepts(&self, p: PauliString) -> bool {
        self.basis.qubitwise_commutes_with(p)
    }

    fn push(&mut self, index: usize, p: PauliString) {
        debug_assert!(self.accepts(p));
        self.members.push(index);
        self.strings.push(p);
        self.basis = PauliString::from_masks(self.basis.x() | p.x(), self.basis.z() | p.z());
    }

    /// Indices of the members in the list that was grouped, increasing.
    pub fn members(&self) -> &[usize] {
        &self.members
    }

    /// The member strings, in the order of [`MeasurementGroup::members`].
    pub fn strings(&self) -> &[PauliString] {
        &self.strings
    }

    /// The measurement basis as a string: on qubit `q` the letter the members need there
    /// (`I` where none acts).
    pub fn basis(&self) -> PauliString {
        self.basis
    }

    /// The basis letter on qubit `q` (`I` if no member acts on `q`).
    pub fn basis_letter(&self, q: usize) -> Letter {
        self.basis.letter(q)
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the group has no member.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Rotates `psi` in place into the group's basis: `ψ ← (⊗_q U_q) ψ` with `U_q = H` where the
    /// basis is X, `H·S†` where it is Y (module docs). Afterwards every member `P` satisfies
    /// `⟨P⟩_ψ = ⟨Z^{supp P}⟩_{Uψ}`. One pass over `ψ` per rotated qubit, allocation-free,
    /// parallel over fixed chunks above 2^14 amplitudes.
    ///
    /// # Panics
    /// If `psi.len()` is not a power of two or the basis acts beyond `log2(psi.len())`.
    #[track_caller]
    pub fn rotate(&self, psi: &mut [C64]) {
        rotate_to_z(self.basis, psi);
    }
}

/// Rotates `psi` so that each letter of `basis` becomes Z (see [`MeasurementGroup::rotate`]).
///
/// # Panics
/// If `psi.len()` is not a power of two or `basis` acts beyond `log2(psi.len())`.
#[track_caller]
pub fn rotate_to_z(basis: PauliString, psi: &mut [C64]) {
    assert!(psi.len().is_power_of_two(), "length is not a power of two");
    assert!(
        (1usize << basis.min_qubits()) <= psi.len(),
        "basis {basis} acts beyond the state's qubits"
    );
    let s = std::f64::consts::FRAC_1_SQRT_2;
    let mut xs = basis.x();
    while xs != 0 {
        let q = xs.trailing_zeros() as usize;
        xs &= xs - 1;
        let u = if basis.letter(q) == Letter::Y {
            // H·S† = (1/√2)[[1, −i], [1, i]]
            [
                [C64::new(s, 0.0), C64::new(0.0, -s)],
                [C64::new(s, 0.0), C64::new(0.0, s)],
            ]
        } else {
            [
                [C64::new(s, 0.0), C64::new(s, 0.0)],
                [C64::new(s, 0.0), C64::new(-s, 0.0)],
            ]
        };
        apply_1q(psi, q, u);
    }
}

/// `ψ ← U_q ψ` for a 2×2 matrix `u` (row-major) on qubit `q`.
fn apply_1q(psi: &mut [C64], q: usize, u: [[C64; 2]; 2]) {
    let half = 1usize << q;
    let pair = |a: &mut C64, b: &mut C64| {
        let (x, y) = (*a, *b);
        *a = u[0][0] * x + u[0][1] * y;
        *b = u[1][0] * x + u[1][1] * y;
    };
    let blocks = |chunk: &mut [C64]| {
        for blk in chunk.chunks_exact_mut(2 * half) {
            let (lo, hi) = blk.split_at_mut(half);
            lo.iter_mut()
                .zip(hi.iter_mut())
                .for_each(|(a, b)| pair(a, b));
        }
    };
    if psi.len() < CHUNK {
        blocks(psi);
    } else if 2 * half <= CHUNK {
        psi.par_chunks_mut(CHUNK).for_each(blocks);
    } else {
        for blk in psi.chunks_exact_mut(2 * half) {
            let (lo, hi) = blk.split_at_mut(half);
            lo.par_chunks_mut(CHUNK / 2)
                .zip(hi.par_chunks_mut(CHUNK / 2))
                .for_each(|(l, h)| l.iter_mut().zip(h.iter_mut()).for_each(|(a, b)| pair(a, b)));
        }
    }
}

/// A partition of a list of Pauli strings into qubit-wise commuting groups.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Grouping {
    groups: Vec<MeasurementGroup>,
}

impl Grouping {
    /// The groups.
    pub fn groups(&self) -> &[MeasurementGroup] {
        &self.groups
    }

    /// Number of groups (= number of distinct measurement settings).
    pub fn n_groups(&self) -> usize {
        self.groups.len()
    }

    /// Total number of strings over all groups.
    pub fn n_strings(&self) -> usize {
        self.groups.iter().map(MeasurementGroup::len).sum()
    }
}

/// Greedy colouring of the non-commutation graph (two strings adjacent iff they do not
/// qubit-wise commute), Welsh–Powell order: vertices by decreasing degree (ties by input
/// index), each given the first group it qubit-wise commutes with. Deterministic.
///
/// Groups are numbered by first use; each string of `strings` (duplicates included) lands in
/// exactly one group, identified by its index. Cost `O(m²)` bit operations for `m` strings,
/// `O(m)` memory.
pub fn group_qubitwise(strings: &[PauliString]) -> Grouping {
    let indexed: Vec<usize> = (0..strings.len()).collect();
    welsh_powell(strings, &indexed, Vec::new())
}

/// [`group_qubitwise`] on the terms of a sum; member indices refer to `h.terms()`.
/// # Examples
/// `Z0 Z1` and `Z0` are read from the same Z-basis shots; `X0 X1` needs its own basis.
/// ```
/// use qep::measure::group_sum;
/// use qep::pauli::{PauliString, PauliSum};
/// let mut h = PauliSum::new(2);
/// for p in ["Z0 Z1", "X0 X1", "Z0"] {
///     h.add(PauliString::parse(p)?, 1.0);
/// }
/// let g = group_sum(&h);
/// assert_eq!((g.n_groups(), g.n_strings()), (2, 3));
/// // Welsh–Powell colours the most conflicting string first: `X0 X1` alone in group 0.
/// assert_eq!(g.groups()[0].basis(), PauliString::parse("X0 X1")?);
/// assert_eq!(g.groups()[1].members(), &[0, 2]);
/// assert_eq!(g.groups()[1].basis(), PauliString::parse("Z0 Z1")?);
/// # Ok::<(), qep::pauli::PauliError>(())
/// ```
pub fn group_sum(h: &PauliSum) -> Grouping {
    let strings: Vec<PauliString> = h.terms().iter().map(|&(p, _)| p).collect();
    group_qubitwise(&strings)
}

/// The paper's grouping for EP (docs/DESIGN.md: "all `<X_iX_j>` come from the same shots"): every
/// X-type string (only X and I letters, not the identity) in one group measured in the X basis,
/// every Z-type string (only Z and I, identity included) in one group measured in the Z basis,
/// and the remaining strings (with a Y, or mixing X and Z) by [`group_qubitwise`]'s greedy
/// colouring. Empty groups are omitted, so EP parameter strings `X_iX_j`, `Z_iZ_j` give 2.
pub fn ep_natural_grouping(strings: &[PauliString]) -> Grouping {
    let mut xg = MeasurementGroup::new();
    let mut zg = MeasurementGroup::new();
    let mut rest = Vec::new();
    for (i, &p) in strings.iter().enumerate() {
        if p.z() == 0 && p.x() != 0 {
            xg.push(i, p);
        } else if p.x() == 0 {
            zg.push(i, p);
        } else {
            rest.push(i);
        }
    }
    let pre: Vec<MeasurementGroup> = [xg, zg].into_iter().filter(|g| !g.is_empty()).collect();
    let mut out = welsh_powell(strings, &rest, Vec::new());
    let mut groups = pre;
    groups.append(&mut out.groups);
    Grouping { groups }
}

/// The best of [`ep_natural_grouping`] and [`group_qubitwise`]: fewer groups wins, the natural
/// grouping on a tie.
pub fn best_grouping(strings: &[PauliString]) -> Grouping {
    let nat = ep_natural_grouping(strings);
    let greedy = group_qubitwise(strings);
    if greedy.n_groups() < nat.n_groups() {
        greedy
    } else {
        nat
    }
}

/// Welsh–Powell on the subset `subset` of `strings`, appending to `groups`.
fn welsh_powell(
    strings: &[PauliString],
    subset: &[usize],
    mut groups: Vec<MeasurementGroup>,
) -> Grouping {
    let degree: Vec<usize> = subset
        .par_iter()
        .map(|&i| {
            subset
                .iter()
                .filter(|&&j| !strings[i].qubitwise_commutes_with(strings[j]))
                .count()
        })
        .collect();
    let mut order: Vec<usize> = (0..subset.len()).collect();
    order.sort_by(|&a, &b| degree[b].cmp(&degree[a]).then(a.cmp(&b)));
    for k in order {
        let i = subset[k];
        let p = strings[i];
        match groups.iter_mut().find(|g| g.accepts(p)) {
            Some(g) => g.push(i, p),
            None => {
                let mut g = MeasurementGroup::new();
                g.push(i, p);
                groups.push(g);
            }
        }
    }
    for g in &mut groups {
        sort_members(g);
    }
    Grouping { groups }
}

/// Orders a group's members by input index.
fn sort_members(g: &mut MeasurementGroup) {
    let mut pairs: Vec<(usize, PauliString)> = g
        .members
        .iter()
        .copied()
        .zip(g.strings.iter().copied())
        .collect();
    pairs.sort_by_key(|&(i, _)| i);
    g.members = pairs.iter().map(|&(i, _)| i).collect();
    g.strings = pairs.iter().map(|&(_, p)| p).collect();
}
