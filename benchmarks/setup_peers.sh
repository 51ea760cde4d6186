#!/usr/bin/env bash
# Install the benchmark's peers into scratch virtualenvs under benchmarks/.peers/.
#
# They are never project dependencies and never touch the repository's .venv:
#   .peers/micrograd  micrograd (pure Python; run.py puts its site-packages on sys.path)
#   .peers/hips       HIPS autograd + numpy (imports as `autograd` like our engine,
#                     so it runs in its own process: benchmarks/hips_worker.py)
#   .peers/tools      pyinstrument, a sampling profiler for benchmarks/profile.py
# A venv counts as installed once its stamp file `.ok` exists, so an interrupted
# install is retried on the next run.  Usage: bash benchmarks/setup_peers.sh [NAME...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
peers="$here/.peers"
# Build the venvs from the same interpreter as the project's .venv: same
# Python version, so timings compare and compiled wheels match.
base_python="$("$repo/.venv/bin/python" -c 'import sys, os; print(os.path.join(sys.base_prefix, "bin", "python3"))')"
numpy_version="$("$repo/.venv/bin/python" -c 'import numpy; print(numpy.__version__)')"

declare -A packages=(
  [micrograd]="micrograd==0.1.0"
  [hips]="autograd==1.9.1 numpy==$numpy_version"
  [tools]="pyinstrument"
)

names=("$@")
[ ${#names[@]} -eq 0 ] && names=(micrograd hips tools)
mkdir -p "$peers"
for name in "${names[@]}"; do
  spec="${packages[$name]:?unknown peer $name (known: ${!packages[*]})}"
  venv="$peers/$name"
  if [ -f "$venv/.ok" ]; then
    continue
  fi
  echo "setup_peers: installing $spec into $venv" >&2
  rm -rf "$venv"
  "$base_python" -m venv "$venv"
  # shellcheck disable=SC2086  # spec is a list of requirements
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $spec >&2
  touch "$venv/.ok"
done
