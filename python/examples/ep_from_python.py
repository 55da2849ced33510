"""Equilibrium propagation from Python, notebook style: load the XOR network, compare its EP
gradient with the exact one, train it, and plot the training cost (if matplotlib is there).

    python python/examples/ep_from_python.py [--epochs N] [--plot cost.png]

Every number comes from the Rust library (the same engine as `qep grad` and `qep run`).
"""

import argparse
import pathlib

import numpy as np

import qep

REPO = pathlib.Path(__file__).resolve().parents[2]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(REPO / "hamiltonians" / "xor.yaml"))
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--plot", default=None, help="save the cost curve to this image file")
    args = ap.parse_args()

    model = qep.Model.from_yaml(args.model)
    print(f"{model.name}: {model.num_qubits} qubits, {len(model.params)} parameters")

    # The ground state of one example's Hamiltonian computes the prediction.
    inputs, targets = model.train_examples[0]
    spec = model.hamiltonian(inputs).spectrum(k=2)
    print(f"E0 = {spec.energies[0]:.6f}, gap = {spec.gap:.4f}, residual {spec.residuals[0]:.1e}")

    # EP gradient (two clamped ground states, Eq. 28) against the exact gradient.
    g = model.grad(example=0)
    print(f"engine {g['engine']}, beta = {g['beta']}")
    print(f"{'param':<12} {'EP':>12} {'exact':>12}")
    for label, ep, exact in list(zip(g["params"], g["ep"], g["exact"]))[:6]:
        print(f"{label:<12} {ep:>12.6f} {exact:>12.6f}")
    print(f"cosine similarity {g['cosine']:.8f}, relative error {g['relative_error']:.2e}")

    # Training: same settings and numbers as `qep run`; theta is updated in place.
    run = model.train(epochs=args.epochs)
    cost = run["history"]["train_cost"]
    print(
        f"trained {run['epochs']} epochs: cost {cost[0]:.4f} -> {run['final_cost']:.4f}, "
        f"train accuracy {run['train_accuracy']:.2f}"
    )
    assert np.allclose(model.theta, run["theta"])

    if args.plot:
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("matplotlib is not installed: no plot")
            return
        fig, ax = plt.subplots(figsize=(5, 3.2))
        ax.plot(run["history"]["epoch"], cost, marker="o")
        ax.set_xlabel("epoch")
        ax.set_ylabel("training cost ⟨C⟩")
        ax.set_title(f"{model.name}: EP training")
        fig.tight_layout()
        fig.savefig(args.plot)
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
