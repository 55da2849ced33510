OPENQASM 3.0;
include "stdgates.inc";
qubit[1] q;
bit[4294967296] c;
