#!/usr/bin/env bash
# Create .venv and install privscan with everything it needs offline. Idempotent and fast the second
# time: a stamp records a hash of the install inputs and the extras; when nothing changed it returns at once.
#   scripts/setup.sh               runtime (detectors included)
#   scripts/setup.sh dev           runtime + test/lint tools
# Torch: a torch already importable in the venv is kept (e.g. a CUDA build); if the system Python has a
# CUDA torch, the venv is created with --system-site-packages so that one is used; otherwise the CPU build
# torch==2.13.0 is installed. Every later install runs under constraints that pin the torch in place.
set -euo pipefail
cd "$(dirname "$0")/.."

want_dev=${1:-}
extras="detectors"
[ "$want_dev" = "dev" ] && extras="detectors,dev"

py=${PYTHON:-}
if [ -z "$py" ]; then
  for candidate in python3.11 python3.12 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      py=$candidate; break
    fi
  done
fi
[ -n "$py" ] || { echo "setup: need Python >= 3.11 (set PYTHON=/path/to/python3.11)" >&2; exit 1; }

venv=.venv
inputs_hash=$(cat pyproject.toml constraints.txt requirements-nodeps.txt scripts/setup.sh | sha256sum | cut -c1-16)
stamp="$venv/.setup-$inputs_hash-${extras//,/-}"
# a dev install includes the runtime one, so either stamp satisfies a runtime request
if [ -f "$stamp" ] || [ -f "$venv/.setup-$inputs_hash-detectors-dev" ]; then
  exit 0
fi

start=$(date +%s)
if [ ! -x "$venv/bin/python" ]; then
  site_flag=""
  if "$py" -c 'import torch, sys; sys.exit(0 if torch.version.cuda else 1)' 2>/dev/null; then
    echo "setup: using the system's CUDA torch (venv with --system-site-packages)"
    site_flag="--system-site-packages"
  fi
  "$py" -m venv $site_flag "$venv"
fi
# pip, with its output kept quiet unless it fails (this sandbox's pip config adds noisy index warnings)
run_pip() {
  local log rc=0
  log=$(mktemp)
  "$venv/bin/python" -m pip --disable-pip-version-check -q "$@" >"$log" 2>&1 || rc=$?
  grep -v "is ignored: it is neither a file nor a directory" "$log" >&2 || true
  rm -f "$log"
  return $rc
}

if ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
  echo "setup: installing torch==2.13.0 (CPU build)"
  run_pip install "torch==2.13.0"
fi
torch_version=$("$venv/bin/python" -W ignore -c 'import torch; print(torch.__version__.split("+")[0])' 2>/dev/null)
{
  echo "torch==$torch_version"
  if [ "$torch_version" = "2.13.0" ]; then echo "torchvision==0.28.0"; fi
} >"$venv/torch-constraints.txt"

echo "setup: installing privscan[$extras] (torch $torch_version kept)"
run_pip install -c constraints.txt -c "$venv/torch-constraints.txt" -e ".[$extras]"
run_pip install --no-deps -c constraints.txt -r requirements-nodeps.txt
"$venv/bin/python" -c 'import privscan.cli.app' || { echo "setup: privscan does not import" >&2; exit 1; }

find "$venv" -maxdepth 1 -name '.setup-*' ! -name ".setup-$inputs_hash-*" -delete  # stamps of older inputs
touch "$stamp"
echo "setup: done in $(( $(date +%s) - start )) s; venv size $(du -sh "$venv" | cut -f1)"
