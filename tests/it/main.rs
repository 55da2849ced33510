//! Integration tests, one binary, modules mirroring `src/` (STYLE.md §7).

#[path = "../common/mod.rs"]
mod common;

// The binary's allocator, so that every test runs on the blocks `qep` runs on.
#[global_allocator]
static ALLOC: qep::state::memory::CacheLineAlloc = qep::state::memory::CacheLineAlloc;

mod adiabatic;
mod bad_inputs;
mod caveats;
mod circuit;
mod circuit_dynamic;
mod circuit_fast;
mod circuit_gates;
mod cli;
mod convert;
mod digits;
mod dist;
mod dist_circuit;
mod dist_ep;
mod dist_evolve;
mod dist_prepare;
mod ep;
mod ep_classical;
mod ep_engine;
mod ep_langevin;
mod ep_report;
mod ep_thermal;
mod ep_train;
mod ep_typicality;
mod examples;
mod fuzz;
mod hamiltonian;
mod limits;
mod linalg;
mod linalg_kernels;
mod lindblad;
mod measure;
mod operator;
mod oracle;
mod pauli;
mod plots;
mod reproduce;
mod runs;
mod shot_beta;
mod solver_workspace;
mod state;
mod stats;
mod study;
mod study_fixes;
mod study_results;
mod thermal_scan;
mod thermalize;
mod thermalize_trajectories;
mod tied;
mod trajectories;
