OPENQASM 2.0;
include "qelib1.inc";
include "qasm_include_loop.inc";
qreg q[1];
