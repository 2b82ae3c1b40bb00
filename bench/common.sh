# What bench/run.sh and bench/train_run.sh share; sourced by both (after set -euo pipefail).

# bench_pick_python NAME: sets PYTHON to an interpreter with torch (PYTHON if set, else python3 if it
# has torch, else /usr/bin/python3); exits 1 with a message from NAME when there is none.
bench_pick_python() {
  local name=$1 candidate
  if [[ -z ${PYTHON:-} ]]; then
    for candidate in python3 /usr/bin/python3; do
      if "$candidate" -c 'import torch' 2>/dev/null; then PYTHON=$candidate; break; fi
    done
  fi
  if [[ -z ${PYTHON:-} ]] || ! "$PYTHON" -c 'import torch' 2>/dev/null; then
    echo "$name: no python3 with torch found (Debian: apt-get install python3-torch; or set PYTHON)" >&2
    exit 1
  fi
}

# bench_print_environment: the machine, time, load and thread/library settings, under the title line.
bench_print_environment() {
  local cpu
  cpu=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
  echo "   machine: $cpu, $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ); load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "   env: OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-<unset>} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-<unset>}" \
       "OMP_NUM_THREADS=${OMP_NUM_THREADS:-<unset>}; python: $PYTHON"
}
