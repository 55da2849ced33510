"""A Qiskit ``QuantumCircuit`` as qep's op list, walking the instruction list.

Gates of qep's table (``qep.circuit.gate_names()``; Qiskit's names and conventions) are
passed as they are; any other gate is replaced by its ``definition``, recursively. Measure,
reset and barrier are native; ``if_test`` blocks become classically conditioned ops when the
condition is a clbit or a whole register equal to a value. Anything else (loops, switch,
classical expressions, an instruction without definition) raises ``QiskitError`` naming it.
A global phase is dropped (it changes no probability and no expectation value).
"""

from __future__ import annotations

import numbers

from qiskit.circuit import Clbit, ClassicalRegister, ControlFlowOp, QuantumCircuit
from qiskit.exceptions import QiskitError

from .._qep import Circuit, gate_names

_GATES = gate_names()
_SKIP = {"barrier", "global_phase", "delay"}


def _param(name, p):
    """A bound gate parameter as a float."""
    if isinstance(p, numbers.Real):
        return float(p)
    try:
        return float(p)
    except (TypeError, ValueError):
        raise QiskitError(
            f"instruction `{name}` has the parameter `{p}` that is not bound to a number; "
            "bind the circuit's parameters first"
        ) from None


def _condition(circuit, condition, cmap, name):
    """``(first clbit, number of clbits, value)`` of an ``if_test`` condition."""
    if not isinstance(condition, tuple):
        raise QiskitError(
            f"`{name}` with a classical expression condition is not supported by qep; "
            "expected a condition on one clbit or one whole register"
        )
    target, value = condition
    if isinstance(target, Clbit):
        return (cmap[circuit.find_bit(target).index], 1, int(value))
    if isinstance(target, ClassicalRegister):
        bits = [cmap[circuit.find_bit(b).index] for b in target]
        if bits != list(range(bits[0], bits[0] + len(bits))):
            raise QiskitError(
                f"`{name}` on register `{target.name}` whose clbits are not consecutive; "
                "qep compares consecutive clbits"
            )
        return (bits[0], len(bits), int(value))
    raise QiskitError(f"`{name}`: condition on {target!r} is not supported by qep")


def _walk(circuit, qmap, cmap, cond, out):
    for inst in circuit.data:
        op = inst.operation
        name = op.name
        qs = [qmap[circuit.find_bit(q).index] for q in inst.qubits]
        cs = [cmap[circuit.find_bit(c).index] for c in inst.clbits]
        if name in _SKIP:
            continue
        if name in ("measure", "reset"):
            out.append((name, qs, cs, [], cond))
            continue
        if name == "if_else":
            if cond is not None:
                raise QiskitError("nested `if_else` blocks are not supported by qep")
            c = _condition(circuit, op.condition, cmap, name)
            true_body, false_body = op.blocks[0], (op.blocks[1] if len(op.blocks) > 1 else None)
            _walk(true_body, qs, cs, c, out)
            if false_body is not None:
                if c[1] != 1:
                    raise QiskitError(
                        "`if_else` with an else branch on a register condition is not "
                        "supported by qep; expected a condition on one clbit"
                    )
                _walk(false_body, qs, cs, (c[0], 1, 1 - c[2]), out)
            continue
        if name == "box":
            _walk(op.blocks[0], qs, cs, cond, out)
            continue
        if getattr(op, "_directive", False):
            continue
        if name in _GATES and len(op.params) == _GATES[name] and not isinstance(op, ControlFlowOp):
            params = [_param(name, p) for p in op.params]
            out.append((name, qs, [], params, cond))
            continue
        if isinstance(op, ControlFlowOp):
            raise QiskitError(
                f"qep cannot run the control-flow instruction `{name}`; expected gates, "
                "measure, reset, barrier and if_test blocks"
            )
        definition = getattr(op, "definition", None)
        if definition is None:
            raise QiskitError(
                f"qep cannot run the instruction `{name}`: it is not in qep's gate table and "
                "has no definition"
            )
        _walk(definition, qs, cs, cond, out)


def to_qep_circuit(circuit: QuantumCircuit) -> Circuit:
    """``circuit`` as a :class:`qep.circuit.Circuit` with the same qubit and clbit indices
    (``circuit.find_bit(bit).index``). Parameters must be bound.

    Raises:
        QiskitError: for an instruction qep cannot run (named in the message).
    """
    out: list = []
    _walk(circuit, list(range(circuit.num_qubits)), list(range(circuit.num_clbits)), None, out)
    return Circuit(circuit.num_qubits, circuit.num_clbits, out)
