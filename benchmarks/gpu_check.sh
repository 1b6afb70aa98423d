#!/usr/bin/env bash
# The GPU check of jevons' CuPy backend: one call of at most 5 minutes on a machine with an
# NVIDIA GPU and no network. See benchmarks/README.md ("GPU check") and docs/backends.md.
#
#   bash benchmarks/gpu_check.sh [--report FILE]   # on the GPU machine
#   bash benchmarks/gpu_check.sh --dry-run         # anywhere: every step, array_api_strict
#                                                  # for CuPy, tiny sizes (tests the script)
#   bash benchmarks/gpu_check.sh --prepare-wheels [missing|all]
#                                                  # on a machine WITH network: fill wheels/
#
# Steps, each under its own time limit and all under GPU_CHECK_BUDGET seconds (default 290):
#   1. the Python environment: the interpreter ($PYTHON, default python3) as it is, plus the
#      wheels in wheels/ (GPU_CHECK_WHEELS) installed with no network into a private folder;
#      or, with GPU_CHECK_VENV=1, a fresh venv (.venv-gpu) into which jevons is installed
#      from the working tree with `pip install --no-index --find-links wheels ".[test]"`;
#   2. which packages are missing, and whether CuPy can run (exit 2, saying why, if not);
#   3. the tests marked gpu (pytest -m gpu, with ARRAY_BACKEND=numpy,strict,cupy so the
#      model core's tests run on CuPy too);
#   4. `jevons run --backend cupy` end to end;
#   5. benchmarks/gpu_check.py: CuPy against NumPy on deepseek.yaml (every path, summary
#      cell and answer), then both timed at 1e6, 1e7 and 1e8 samples (a size that would
#      not fit in the time left is skipped and says so); markdown tables on stdout.
# Exit status: 0 all passed; 1 a step failed (tests, agreement); 2 CuPy cannot run here;
# 3 the environment is incomplete (missing packages are listed with how to bring them).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUDGET=${GPU_CHECK_BUDGET:-290}
PY=${PYTHON:-python3}
WHEELS=${GPU_CHECK_WHEELS:-$ROOT/wheels}
SITE=${GPU_CHECK_SITE:-${TMPDIR:-/tmp}/jevons-gpu-site}
START=$SECONDS
DRY=0
REPORT=""
export PYTHONUNBUFFERED=1

# Packages jevons and its tests import that a CUDA image with the scientific stack (numpy,
# scipy, matplotlib, typer, rich, PyYAML, pytest, hypothesis, CuPy) usually lacks.
MISSING_ON_CUDA_IMAGES="pydantic pydantic-core annotated-types typing-inspection
  array-api-compat array-api-strict jsonschema jsonschema-specifications referencing rpds-py
  typing-extensions"

left() { echo $((BUDGET - (SECONDS - START))); }

# step LIMIT NAME CMD...: run CMD for at most LIMIT seconds, never past the budget.
step() {
  local limit=$1 name=$2 remaining t0 rc=0
  shift 2
  remaining=$(left)
  if ((limit > remaining - 5)); then limit=$((remaining - 5)); fi
  if ((limit < 10)); then
    echo "### $name: not run, only ${remaining} s of the ${BUDGET} s budget left"
    return 1
  fi
  echo "### $name (at most ${limit} s)"
  t0=$SECONDS
  timeout --kill-after=5 "$limit" "$@" || rc=$?
  if ((rc == 124 || rc == 137)); then echo "$name: stopped at its time limit (${limit} s)"; fi
  echo "($name: $((SECONDS - t0)) s, exit ${rc})"
  echo
  return "$rc"
}

prepare_wheels() {
  # Run where pip can reach the package index. Downloads wheels for the GPU machine's
  # Python (GPU_CHECK_PYVER, default 3.12) on x86-64 Linux into wheels/.
  local what=${1:-missing} pyver=${GPU_CHECK_PYVER:-3.12} names
  local flags=(--only-binary=:all: --python-version "$pyver" --implementation cp
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64
    --platform manylinux1_x86_64 -d "$WHEELS")
  mkdir -p "$WHEELS"
  if [[ $what == missing ]]; then
    # the versions installed here (one of each), no dependencies: the image has the rest
    names=$("$PY" - $MISSING_ON_CUDA_IMAGES <<'EOF'
import sys
from importlib.metadata import PackageNotFoundError, version
out = []
for name in sys.argv[1:]:
    try:
        out.append(f"{name}=={version(name)}")
    except PackageNotFoundError:
        out.append(name)
print(" ".join(out))
EOF
)
    # shellcheck disable=SC2086
    "$PY" -m pip download --no-deps "${flags[@]}" $names
  elif [[ $what == all ]]; then
    # everything jevons and its tests need, with dependencies, and the build backend
    names=$("$PY" - <<'EOF'
import tomllib
p = tomllib.load(open("pyproject.toml", "rb"))
print(" ".join([*p["project"]["dependencies"], *p["project"]["optional-dependencies"]["test"],
                *p["build-system"]["requires"]]))
EOF
)
    # shellcheck disable=SC2086
    "$PY" -m pip download "${flags[@]}" $names
  else
    echo "--prepare-wheels takes 'missing' or 'all', not '$what'" >&2
    return 2
  fi
  local mib
  mib=$(du -sm "$WHEELS" | cut -f1)
  echo "wheels in $WHEELS: ${mib} MiB"
  if ((mib > 64)); then
    echo "note: more than 64 MiB; if that is too much to bring to the GPU machine, use" \
      "'missing' (for an image with the scientific stack) or leave out the largest" >&2
  fi
  echo "CuPy is not among them: its wheels are larger (cupy-cuda12x 14.2.0 is 136 MB," \
    "cupy-cuda13x 14.2.0 69 MB); use the GPU machine's own CuPy, or add one by hand:" \
    "$PY -m pip download --no-deps ${flags[*]} cupy-cuda13x"
}

while (($#)); do
  case $1 in
    --dry-run) DRY=1 ;;
    --report)
      REPORT=$2
      shift
      ;;
    --prepare-wheels)
      prepare_wheels "${2:-missing}"
      exit $?
      ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "unknown argument: $1 (see --help)" >&2
      exit 2
      ;;
  esac
  shift
done

echo "# jevons GPU check ($(date -u '+%Y-%m-%d %H:%M UTC'), commit" \
  "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown), budget ${BUDGET} s)"
echo
if command -v nvidia-smi >/dev/null 2>&1; then
  timeout 20 nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader ||
    echo "nvidia-smi failed"
else
  echo "nvidia-smi: not found"
fi

# --- 1. the Python environment ----------------------------------------------------------
have_wheels=0
if compgen -G "$WHEELS/*.whl" >/dev/null; then have_wheels=1; fi
if [[ ${GPU_CHECK_VENV:-0} == 1 ]]; then
  if ((!have_wheels)); then
    echo "GPU_CHECK_VENV=1 needs wheels in $WHEELS (bash $0 --prepare-wheels all)" >&2
    exit 3
  fi
  step 30 "venv" "$PY" -m venv --system-site-packages "$ROOT/.venv-gpu" || exit 3
  PY=$ROOT/.venv-gpu/bin/python
  cupy_wheels=$(cd "$WHEELS" && ls cupy_cuda*.whl 2>/dev/null | sed 's/-.*//; s/_/-/g' | head -1)
  step 150 "install jevons from the working tree (no network)" \
    "$PY" -m pip install -q --no-index --find-links "$WHEELS" "$ROOT[test]" $cupy_wheels ||
    exit 3
  export PYTHONPATH=$ROOT
elif ((have_wheels)); then
  step 90 "install the wheels of $WHEELS into $SITE (no network)" \
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target "$SITE" "$WHEELS"/*.whl || exit 3
  export PYTHONPATH=$ROOT:$SITE${PYTHONPATH:+:$PYTHONPATH}
else
  export PYTHONPATH=$ROOT${PYTHONPATH:+:$PYTHONPATH}
fi
echo "python: $("$PY" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
echo "jevons: from the working tree $ROOT (PYTHONPATH)"

# --- 2. what is missing, and can CuPy run -----------------------------------------------
missing=$("$PY" - "$DRY" <<'EOF'
import importlib, sys
mods = ["numpy", "scipy", "pydantic", "yaml", "typer", "rich", "matplotlib",
        "array_api_compat", "array_api_strict", "pytest", "hypothesis", "jsonschema"]
if sys.argv[1] == "0":
    mods.append("cupy")
gone = []
for m in mods:
    try:
        importlib.import_module(m)
    except Exception:  # noqa: BLE001 - any failure means missing here
        gone.append(m)
print(" ".join(gone))
EOF
)
if [[ -n $missing ]]; then
  echo "missing Python packages: $missing"
  echo "bring them as wheels: on a machine with network, in this repository," \
    "'bash benchmarks/gpu_check.sh --prepare-wheels missing' (or 'all'), then carry" \
    "wheels/ here; CuPy itself: see docs/backends.md"
  exit 3
fi
if ((DRY)); then
  echo "dry run: array_api_strict stands in for CuPy; nothing runs on a GPU"
  ARRAY_BACKENDS=numpy,strict
else
  if ! "$PY" -c '
import sys
from simulator.backends import cupy_status
s = cupy_status()
print(("cupy: " if s.usable else "cupy cannot run here: ") + s.detail)
sys.exit(0 if s.usable else 2)'; then
    exit 2
  fi
  ARRAY_BACKENDS=numpy,strict,cupy
fi
echo

status=0
# --- 3. the gpu tests -------------------------------------------------------------------
step 110 "pytest -m gpu (ARRAY_BACKEND=$ARRAY_BACKENDS)" \
  env ARRAY_BACKEND=$ARRAY_BACKENDS "$PY" -m pytest -q -m gpu -p no:cacheprovider -rs \
  tests/unit || status=1

# --- 4. the command line, end to end ----------------------------------------------------
# (the tables on stdout are left out; stderr says where it ran and how long it took)
if ((DRY)); then cli=(-n 2000 --backend auto); else cli=(-n 100000 --backend cupy); fi
step 40 "jevons run scenarios/deepseek.yaml ${cli[*]}" bash -c '"$@" >/dev/null' _ \
  "$PY" -m simulator run scenarios/deepseek.yaml --seed 1 "${cli[@]}" || status=1

# --- 5. agreement and speed -------------------------------------------------------------
args=(--budget "$(($(left) - 10))")
if ((DRY)); then args+=(--dry-run); fi
if [[ -n $REPORT ]]; then args+=(--report "$REPORT"); fi
step $(($(left) - 5)) "CuPy against NumPy: agreement and speed" \
  "$PY" benchmarks/gpu_check.py "${args[@]}" || status=1

echo "gpu check: $( ((status == 0)) && echo passed || echo FAILED) in $((SECONDS - START)) s"
exit "$status"
