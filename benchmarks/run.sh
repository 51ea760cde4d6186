#!/usr/bin/env bash
# The benchmark's one command: bash benchmarks/run.sh [--quick] [--only N] ... (--help lists all).
# Peers missing from benchmarks/.peers/ are installed first by setup_peers.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m benchmarks.run "$@"
