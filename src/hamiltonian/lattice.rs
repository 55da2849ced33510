//! Lattices: the geometry coupling families are placed on, as site and edge lists.
//!
//! YAML (`lattice:` key of a model):
//!
//! ```yaml
//! lattice: {shape: chain, sites: 8, periodic: true}          # ring 0-1-…-7-0
//! lattice: {shape: grid, rows: 3, cols: 4, periodic: false}  # qubit = r * cols + c
//! lattice: {shape: all-to-all, sites: 6}                     # every pair once
//! ```
//!
//! `periodic` defaults to `false`; it is not allowed on `all-to-all`.

use serde::Serialize;

/// A lattice of qubits. Qubit numbering: chain sites `0..n` in order; grid site `(r, c)` is
/// qubit `r * cols + c` (row-major, row 0 on top, column 0 on the left).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "shape")]
pub enum Lattice {
    /// A line of `n` sites; `periodic` closes it into a ring.
    Chain {
        /// Number of sites.
        n: usize,
        /// Whether site `n − 1` is bonded to site 0.
        periodic: bool,
    },
    /// A `rows × cols` square grid with nearest-neighbour bonds; `periodic` wraps both
    /// directions (a torus).
    Grid {
        /// Number of rows.
        rows: usize,
        /// Number of columns.
        cols: usize,
        /// Whether both directions wrap around.
        periodic: bool,
    },
    /// `n` sites, every pair bonded.
    AllToAll {
        /// Number of sites.
        n: usize,
    },
}

impl Lattice {
    /// Number of sites (= qubits).
    pub fn len(&self) -> usize {
        match *self {
            Lattice::Chain { n, .. } | Lattice::AllToAll { n } => n,
            Lattice::Grid { rows, cols, .. } => rows * cols,
        }
    }

    /// Whether the lattice has no sites.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The sites `0..len()`.
    pub fn sites(&self) -> Vec<usize> {
        (0..self.len()).collect()
    }

    /// The bonds as pairs `(i, j)` with `i < j`, each once, in a fixed order.
    ///
    /// * chain: `(0,1), (1,2), …, (n−2, n−1)`, then `(0, n−1)` if periodic and `n > 2`
    ///   (`n − 1` edges open, `n` periodic for `n ≥ 3`);
    /// * grid: row-major over sites, each site's right then lower neighbour; with `periodic`,
    ///   a row wraps only if `cols > 2` and a column only if `rows > 2` (a dimension of 2
    ///   would repeat its bond). Open: `rows (cols − 1) + cols (rows − 1)` edges; periodic
    ///   with both dimensions > 2: `2 · rows · cols`;
    /// * all-to-all: `(i, j)` for `i < j` lexicographically, `n (n − 1) / 2` edges.
    pub fn edges(&self) -> Vec<(usize, usize)> {
        let mut e = Vec::new();
        match *self {
            Lattice::Chain { n, periodic } => {
                for i in 1..n {
                    e.push((i - 1, i));
                }
                if periodic && n > 2 {
                    e.push((0, n - 1));
                }
            }
            Lattice::Grid {
                rows,
                cols,
                periodic,
            } => {
                let q = |r: usize, c: usize| r * cols + c;
                for r in 0..rows {
                    for c in 0..cols {
                        if c + 1 < cols {
                            e.push((q(r, c), q(r, c + 1)));
                        } else if periodic && cols > 2 {
                            e.push((q(r, 0), q(r, c)));
                        }
                        if r + 1 < rows {
                            e.push((q(r, c), q(r + 1, c)));
                        } else if periodic && rows > 2 {
                            e.push((q(0, c), q(r, c)));
                        }
                    }
                }
            }
            Lattice::AllToAll { n } => {
                for i in 0..n {
                    for j in i + 1..n {
                        e.push((i, j));
                    }
                }
            }
        }
        e
    }

    /// Sites of the leftmost column: grid `r * cols` for each row; chain and all-to-all: site
    /// 0 (a chain is read left to right).
    pub fn left_column(&self) -> Vec<usize> {
        match *self {
            Lattice::Grid { rows, cols, .. } => (0..rows).map(|r| r * cols).collect(),
            _ if self.is_empty() => Vec::new(),
            _ => vec![0],
        }
    }

    /// Sites of the rightmost column: grid `r * cols + cols − 1` for each row; chain and
    /// all-to-all: the last site.
    pub fn right_column(&self) -> Vec<usize> {
        match *self {
            Lattice::Grid { rows, cols, .. } => (0..rows).map(|r| r * cols + cols - 1).collect(),
            _ if self.is_empty() => Vec::new(),
            _ => vec![self.len() - 1],
        }
    }
}
