//! Integration tests, one binary, modules mirroring `src/` (STYLE.md §7).

mod circuit;
mod cli;
mod ep;
mod ep_classical;
mod ep_thermal;
mod ep_train;
mod hamiltonian;
mod linalg;
mod lindblad;
mod measure;
mod operator;
mod oracle;
mod pauli;
mod state;
mod study;
mod trajectories;
