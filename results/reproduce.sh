#!/bin/sh
# Regenerates results/ and RESULTS.md from scratch with fixed seeds: builds qep, then runs
# `qep reproduce` from the repository root. Arguments are passed on (e.g. --quick).
set -eu
cd "$(dirname "$0")/.."
cargo build --release --quiet
exec target/release/qep reproduce "$@"
