//! The circuit executor on the peers' workload (`bench_circuit.py`): a layered random circuit
//! of `h`/`rx`/`ry`/`rz` on every qubit and a brick of `cx`, depth 20, at 20, 22 and 24
//! qubits, with the fast executor in double and single precision (and the plain per-gate
//! executor at 20 qubits for scale). Prints the passes and fused ops of the compiled run and
//! the median time of the state-vector run (no sampling).
//!
//! `cargo bench --bench circuit` runs all sizes; `cargo bench --bench circuit -- FILE.qasm
//! [MAX_FUSED_QUBITS [BLOCK_BYTES]]` times one file with the given fusion width and block
//! size (the knobs to tune on a new machine); `--tables` runs the dense ops with
//! register-wide coefficient tables instead of broadcast scalars (the kernel before them),
//! `--general` without the register-blocked two-qubit kernel.

use std::f64::consts::PI;
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use qep::circuit::execute::unitary_part_state_with;
use qep::circuit::{
    parse_qasm_file, Circuit, ExecParams, FastRun, FuseParams, Gate, Op, Precision, RunOptions,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The layered circuit of `bench_circuit.py` (its own seeded angles).
fn layered(n: usize, depth: usize, seed: u64) -> Circuit {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let mut c = Circuit::new(n, 0);
    for d in 0..depth {
        for q in 0..n {
            let a = r.random::<f64>() * 2.0 * PI;
            let g = match r.random_range(0..4) {
                0 => Gate::H,
                1 => Gate::Rx(a),
                2 => Gate::Ry(a),
                _ => Gate::Rz(a),
            };
            c.gate(g, &[q]);
        }
        for q in (d % 2..n.saturating_sub(1)).step_by(2) {
            c.gate(Gate::Cx, &[q, q + 1]);
        }
    }
    c
}

fn median(mut t: Vec<f64>) -> f64 {
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

/// CPU seconds of this process so far (user + system, from `/proc/self/stat`; 0 elsewhere):
/// on a shared machine the CPU time of a run moves less than its wall time.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|x| x.parse().ok())
        .collect();
    f.iter().sum::<f64>() / 100.0
}

/// The clock of the first core in GHz (`/proc/cpuinfo`; 1 elsewhere).
fn cpu_ghz() -> f64 {
    std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("cpu MHz")?
                .split(':')
                .nth(1)?
                .trim()
                .parse()
                .ok()
        })
        .map_or(1.0, |mhz: f64| mhz / 1e3)
}

/// Median wall and CPU seconds of `reps` runs.
fn time(c: &Circuit, opts: &RunOptions, reps: usize) -> (f64, f64) {
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        let (t0, c0) = (Instant::now(), cpu_seconds());
        black_box(unitary_part_state_with(c, opts).expect("fits"));
        wall.push(t0.elapsed().as_secs_f64());
        cpu.push(cpu_seconds() - c0);
    }
    (median(wall), median(cpu))
}

fn report(name: &str, c: &Circuit, params: ExecParams, reps: usize) {
    let gates: Vec<(Gate, Vec<usize>)> = c
        .ops
        .iter()
        .filter_map(|op| match op {
            Op::Gate { gate, qubits, .. } => Some((*gate, qubits.clone())),
            _ => None,
        })
        .collect();
    for precision in [Precision::Double, Precision::Single] {
        let t0 = Instant::now();
        let run = FastRun::compile(
            c.qubits,
            gates.iter().map(|(g, q)| (*g, &q[..])),
            precision,
            &params,
        );
        let compile = t0.elapsed().as_secs_f64();
        let opts = RunOptions {
            precision,
            params,
            ..RunOptions::default()
        };
        let (t, cpu) = time(c, &opts, reps);
        let mix = run.mix();
        // Achieved arithmetic rate per core (CPU seconds include allocation and first touch)
        // against the peak: two FMA pipes of 256 bits per cycle on this CPU (AVX2 width; an
        // AVX-512 instruction takes both), 16 double or 32 single flops per cycle.
        let gflops = mix.flops_per_amp * (1u64 << c.qubits) as f64 / cpu / 1e9;
        let per_cycle = if precision == Precision::Double {
            16.0
        } else {
            32.0
        };
        let peak = per_cycle * cpu_ghz();
        // Each pass reads and writes the whole state once.
        let moved = run.passes() as f64 * 2.0 * (precision.amp_bytes() << c.qubits) as f64;
        println!(
            "{name} {} qubits {} gates {:?}: {} fused ops, {} passes ({:.1} GB over the \
             state), compile {:.3} s, run {:.3} s ({cpu:.2} CPU s)",
            c.qubits,
            gates.len(),
            precision,
            run.fused_ops(),
            run.passes(),
            moved / 1e9,
            compile,
            t
        );
        println!(
            "  kernels: dense 1q {} 2q {} 3q {} 4q {} (of which one FMA per entry {}), \
             diagonal {}, permutation {}, controlled {}; {:.0} flops per amplitude; \
             {gflops:.1} GFLOP/s per CPU s of {peak:.1} peak ({:.0} %); register-blocked \
             2q {} full + {} sparse; lane exchanges {}",
            mix.dense[1],
            mix.dense[2],
            mix.dense[3],
            mix.dense[4],
            mix.dense_half,
            mix.diagonal,
            mix.swap,
            mix.controlled,
            mix.flops_per_amp,
            100.0 * gflops / peak,
            mix.dense_full2,
            mix.dense_sparse2,
            mix.exchange
        );
    }
}

fn main() {
    let all: Vec<String> = std::env::args().skip(1).collect();
    // `--tables`: every dense op with register-wide coefficient tables (the kernel the
    // broadcast coefficients replaced), for a before/after within one build.
    let tables = all.iter().any(|a| a == "--tables");
    // `--general`: no register-blocked two-qubit kernel (every broadcast op through the
    // general broadcast kernel, which gives the same bits).
    let general = all.iter().any(|a| a == "--general");
    // `--no-exchange`: dense ops with a target inside the registers run the XOR-form kernel
    // (no lane exchange).
    let no_exchange = all.iter().any(|a| a == "--no-exchange");
    let args: Vec<String> = all
        .into_iter()
        .filter(|a| {
            !matches!(
                a.as_str(),
                "--bench" | "--tables" | "--general" | "--no-exchange"
            )
        })
        .collect();
    let defaults = ExecParams {
        broadcast: !tables,
        register_blocked: !general,
        lane_exchange: !no_exchange,
        ..ExecParams::default()
    };
    if let Some(file) = args.first() {
        let c = parse_qasm_file(Path::new(file), &[]).expect("a valid OpenQASM file");
        let mut params = defaults;
        if let Some(k) = args.get(1).and_then(|k| k.parse().ok()) {
            params.fuse = FuseParams {
                max_qubits: k,
                ..params.fuse
            };
        }
        if let Some(b) = args.get(2).and_then(|b| b.parse().ok()) {
            params.block_bytes = b;
        }
        report(file, &c, params, 3);
        return;
    }
    for n in [20, 22, 24] {
        let c = layered(n, 20, 1234 + n as u64);
        if n == 20 {
            let (t, cpu) = time(&c, &RunOptions::plain(), 3);
            println!("layered 20 qubits plain per-gate executor: run {t:.3} s ({cpu:.2} CPU s)");
        }
        report("layered", &c, defaults, 3);
    }
}
