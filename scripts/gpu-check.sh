#!/usr/bin/env bash
# The GPU check: on a Linux machine with an NVIDIA GPU and the CUDA toolkit but
# no Node.js, configure and build the native library, tests and benchmarks,
# run the native tests, run the GPU tests again under compute-sanitizer
# memcheck, run the benchmarks, and write bench/results/<gpu>-<date>.{json,md}.
# See docs/gpu-check.md.
#
# Usage: scripts/gpu-check.sh [--dry-run] [--quick] [--jobs N] [--build-dir DIR]
#                             [--results-dir DIR] [--copy-to DIR]
#   --dry-run      no GPU needed (also chosen when nvidia-smi finds none): build
#                  everything, run the CPU and SIMT-emulated tests, skip memcheck,
#                  run the benchmarks with small sizes; results go to
#                  <build-dir>/results unless --results-dir says otherwise.
#   --quick        small benchmark sizes on a GPU too.
#   --copy-to DIR  also copy the results and the stage logs into DIR (each
#                  stage's log as it ends, so a run killed from outside still
#                  leaves them there).
# Environment: GPU_CHECK_BUDGET (seconds for everything; default 570 with a
# GPU, 3600 in dry-run), CUDA_ARCH (default: the GPU's compute capability),
# DYNASPARSE_CMAKE_ARGS (more CMake arguments), DYNASPARSE_COMMIT (the commit
# to record where the tree has no .git).
#
# Every stage is time-boxed and the script goes on when one fails, recording
# it. Exit status: 0 when configure, build, tests and memcheck passed (a stage
# that could not run for lack of a GPU counts as skipped), 1 otherwise.
# Benchmark failures are recorded in the results but do not change it.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

dry_run=0
quick=0
jobs=$(nproc 2>/dev/null || echo 2)
build_dir=build-gpu
results_dir=""
copy_to=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --dry-run | --no-gpu) dry_run=1 ;;
    --quick) quick=1 ;;
    --jobs) jobs=$2; shift ;;
    --build-dir) build_dir=$2; shift ;;
    --results-dir) results_dir=$2; shift ;;
    --copy-to) copy_to=$2; shift ;;
    -h | --help) sed -n '2,/^[^#]/{/^#/p}' "$0"; exit 0 ;;
    *) echo "gpu-check: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

t_start=$(date +%s)
gpu_name=""
if [[ $dry_run == 0 ]]; then
  if command -v nvidia-smi >/dev/null && gpu_name=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n1) && [[ -n $gpu_name ]]; then
    :
  else
    echo "gpu-check: nvidia-smi finds no GPU; running as --dry-run"
    dry_run=1
    gpu_name=""
  fi
fi
if [[ $dry_run == 1 ]]; then
  budget=${GPU_CHECK_BUDGET:-3600}
  quick=1
else
  budget=${GPU_CHECK_BUDGET:-570}
fi
[[ -n $results_dir ]] || { if [[ $dry_run == 1 ]]; then results_dir=$build_dir/results; else results_dir=bench/results; fi; }
logs=$build_dir/gpu-check-logs
mkdir -p "$logs" "$results_dir"
rm -f "$logs"/*.log "$logs"/stages.tsv

# --- stages: name, time box, command; status ok / failed / timeout / skipped --
# The time box is also cut to what is left of the budget (15 s kept for the report).
failed_required=0
run_stage() {
  local name=$1 box=$2 required=$3
  shift 3
  local now left t0 rc status
  now=$(date +%s)
  left=$((budget - (now - t_start) - 15))
  if ((left < box)); then box=$left; fi
  if ((box <= 0)); then
    printf '%s\tskipped\t0\tbudget spent\n' "$name" >>"$logs/stages.tsv"
    echo "== $name: skipped (the time budget is spent)"
    [[ $required == 1 ]] && failed_required=1
    return 1
  fi
  echo "== $name (at most ${box}s)"
  t0=$(date +%s)
  timeout --kill-after=10 "$box" "$@" >"$logs/$name.log" 2>&1
  rc=$?
  case $rc in
    0) status=ok ;;
    77) status=skipped ;;
    124 | 137) status=timeout ;;
    *) status=failed ;;
  esac
  local note="exit $rc"
  # A program that skips itself (exit 77) says why on its last line.
  [[ $rc == 77 ]] && note="$note: $(tail -n1 "$logs/$name.log" | tr '\t' ' ')"
  printf '%s\t%s\t%s\t%s\n' "$name" "$status" "$(($(date +%s) - t0))" "$note" >>"$logs/stages.tsv"
  echo "   $status in $(($(date +%s) - t0))s (exit $rc; log $logs/$name.log)"
  if [[ $status == failed || $status == timeout ]]; then
    tail -n 25 "$logs/$name.log" | sed 's/^/   | /'
    [[ $required == 1 ]] && failed_required=1
  fi
  copy_logs_so_far
  [[ $status == ok ]]
}
# With --copy-to, each stage's log and the stage table are copied there as the
# stage ends, so that a run cut short from outside (a device session's time
# limit) still brings back what it did.
copy_logs_so_far() {
  [[ -n $copy_to ]] || return 0
  mkdir -p "$copy_to/logs" && cp "$logs"/*.log "$logs/stages.tsv" "$copy_to/logs/" 2>/dev/null
  return 0
}
skip_stage() {
  printf '%s\tskipped\t0\t%s\n' "$1" "$2" >>"$logs/stages.tsv"
  echo "== $1: skipped ($2)"
  copy_logs_so_far
}

# --- dependencies: doctest and OpenBLAS from .deps/debs when the system lacks them
cmake_args=(-DCMAKE_BUILD_TYPE=Release -DDYNASPARSE_BUILD_TESTS=ON -DDYNASPARSE_BUILD_BENCH=ON)
have_header() { echo "#include <$1>" | ${CXX:-c++} -E -x c++ - >/dev/null 2>&1; }
have_openblas() {
  { have_header cblas.h || have_header openblas/cblas.h; } &&
    { ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null; } | grep -q 'libopenblas\.so'
}
# GPU_CHECK_USE_DEPS=1 takes them from .deps/debs even where the system has them.
use_deps=${GPU_CHECK_USE_DEPS:-0}
deps_doctest=$use_deps deps_blas=$use_deps
have_header doctest/doctest.h || deps_doctest=1
have_openblas || deps_blas=1
if [[ $deps_doctest == 1 || $deps_blas == 1 ]]; then
  if compgen -G ".deps/debs/*.deb" >/dev/null; then
    deps=$root/.deps/root
    if [[ ! -d $deps/usr ]]; then
      mkdir -p "$deps"
      for deb in .deps/debs/*.deb; do
        if command -v dpkg-deb >/dev/null; then
          dpkg-deb -x "$deb" "$deps"
        else  # a .deb is an ar archive holding data.tar.*
          (tmp=$(mktemp -d) && cd "$tmp" && ar x "$root/$deb" && tar -xf data.tar.* -C "$deps" && rm -rf "$tmp")
        fi
      done
    fi
    echo "gpu-check: using $([[ $deps_doctest == 1 ]] && echo "doctest ")$([[ $deps_blas == 1 ]] && echo "OpenBLAS ")unpacked from .deps/debs into $deps"
    [[ $deps_doctest == 1 ]] && cmake_args+=(-Ddoctest_DIR="$deps/usr/lib/cmake/doctest")
    if [[ $deps_blas == 1 ]]; then
      cmake_args+=(-DDYNASPARSE_CBLAS_INCLUDE="$deps/usr/include/x86_64-linux-gnu/openblas-pthread"
        -DDYNASPARSE_OPENBLAS_LIB="$deps/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so")
    fi
    export LD_LIBRARY_PATH="$deps/usr/lib/x86_64-linux-gnu/openblas-pthread:$deps/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  else
    echo "gpu-check: doctest or OpenBLAS missing and no .deps/debs (run scripts/fetch-gpu-deps.sh where apt works)"
  fi
fi

# NVIDIA's pip wheels keep their shared libraries out of the loader's path:
# add them, in front, so the dlopened cuBLAS finds the cuBLASLt and cuSPARSE the
# nvJitLink of their own release rather than an older toolkit's (an older
# nvJitLink fails with "undefined symbol ... version libnvJitLink.so.12").
if command -v python3 >/dev/null; then
  pip_libs=$(python3 - <<'EOF' 2>/dev/null
import glob, os, site
dirs = []
for sp in site.getsitepackages() + [site.getusersitepackages()]:
    dirs += sorted(glob.glob(os.path.join(sp, "nvidia", "*", "lib"))) + glob.glob(os.path.join(sp, "cusparselt", "lib"))
print(":".join(d for d in dirs if os.path.isdir(d)))
EOF
  )
  [[ -n $pip_libs ]] && export LD_LIBRARY_PATH="$pip_libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

# --- CUDA: the GPU's own architecture; in dry-run, build the backend when nvcc is there
nvcc_bin=$(command -v nvcc || true)
[[ -z $nvcc_bin && -x /usr/local/cuda/bin/nvcc ]] && nvcc_bin=/usr/local/cuda/bin/nvcc
if [[ -n $nvcc_bin ]]; then
  cuda_arch=${CUDA_ARCH:-}
  if [[ -z $cuda_arch && $dry_run == 0 ]]; then
    cuda_arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n1 | tr -d ' .')
  fi
  cuda_arch=${cuda_arch:-90}
  cmake_args+=(-DDYNASPARSE_CUDA=ON -DCMAKE_CUDA_COMPILER="$nvcc_bin" -DCMAKE_CUDA_ARCHITECTURES="$cuda_arch")
else
  [[ $dry_run == 0 ]] && echo "gpu-check: no nvcc found: building without the CUDA backend"
  cmake_args+=(-DDYNASPARSE_CUDA=OFF)
fi
# shellcheck disable=SC2206
cmake_args+=(${DYNASPARSE_CMAKE_ARGS:-})

echo "gpu-check: $([[ $dry_run == 1 ]] && echo "dry run (no GPU)" || echo "on $gpu_name"), budget ${budget}s, build dir $build_dir, $jobs jobs"

# --- configure, build, test ----------------------------------------------------
built=0          # the tests are built
benches_built=0  # and the benchmarks
build_box=$([[ $dry_run == 1 ]] && echo 2400 || echo 330)
if run_stage configure 120 1 cmake -S . -B "$build_dir" "${cmake_args[@]}"; then
  if run_stage build "$build_box" 1 cmake --build "$build_dir" --parallel "$jobs"; then
    built=1 benches_built=1
  else
    # A benchmark that does not compile must not keep the tests from running:
    # build again without the benchmarks (the failure above still counts).
    if run_stage configure_without_benchmarks 60 1 cmake -S . -B "$build_dir" -DDYNASPARSE_BUILD_BENCH=OFF &&
      run_stage build_without_benchmarks "$build_box" 1 cmake --build "$build_dir" --parallel "$jobs"; then
      built=1
    else
      # Nor must the library baselines (cuda/baseline.cu, compiled against
      # whatever cuSPARSE / cuSPARSELt / cuBLAS headers this machine has):
      # without them every baseline reports itself missing, and the tests and
      # our kernels' benchmarks still run.
      run_stage configure_without_baselines 60 1 cmake -S . -B "$build_dir" -DDYNASPARSE_BUILD_BENCH=ON \
        -DDYNASPARSE_LIBRARY_BASELINES=OFF &&
        run_stage build_without_baselines "$build_box" 1 cmake --build "$build_dir" --parallel "$jobs" &&
        built=1 benches_built=1
    fi
  fi
else
  skip_stage build "configure failed"
fi

if [[ $built == 1 ]]; then
  run_stage tests 180 1 ctest --test-dir "$build_dir" --output-on-failure --timeout 120 -j "$jobs"
else
  skip_stage tests "build failed"
fi

# Which NVIDIA libraries the baselines loaded, and from where, or why not: a
# library that did not load leaves its comparisons out of gpu_bench, and this
# says so in one place (the report's "Library baselines"). Not required: the
# libraries are optional.
loaded_tool=$build_dir/test/native/cuda_baseline/dynasparse_baselines_loaded
if [[ $built == 1 && -x $loaded_tool ]]; then
  run_stage baselines_loaded 30 0 "$loaded_tool"
else
  skip_stage baselines_loaded "$([[ $built == 1 ]] && echo "no CUDA backend" || echo "build failed")"
fi

# The GPU tests (CTest names cuda_gpu_*) once more under compute-sanitizer memcheck.
memcheck() {
  local sanitizer
  sanitizer=$(command -v compute-sanitizer || ls "$(dirname "$nvcc_bin")"/compute-sanitizer 2>/dev/null || true)
  [[ -n $sanitizer ]] || { echo "compute-sanitizer not found"; return 1; }
  local commands
  commands=$(ctest --test-dir "$build_dir" -R '^cuda_gpu' --show-only=json-v1 | python3 -c '
import json, shlex, sys
for t in json.load(sys.stdin).get("tests", []):
    print(t["name"] + "\t" + " ".join(shlex.quote(a) for a in t["command"]))')
  [[ -n $commands ]] || { echo "no cuda_gpu_* tests in this build"; return 1; }
  local status=0 name command rc output
  output=$(mktemp)
  while IFS=$'\t' read -r name command; do
    echo "--- $name under compute-sanitizer memcheck"
    # Leak checking is left off: the backend's stream, pools and library
    # handles live until exit by design, which it would report.
    eval "\"$sanitizer\" --tool memcheck --error-exitcode 99 $command" 2>&1 | tee "$output"
    rc=${PIPESTATUS[0]}
    echo "--- $name: exit $rc"
    # Some sandboxes (gVisor) run CUDA programs but not the sanitizer: it says
    # "Device not supported" and the program then fails at its first
    # allocation. That is no finding about our code: the stage is skipped,
    # saying why on its last line, rather than failed.
    if grep -q "Device not supported" "$output"; then
      rm -f "$output"
      echo "compute-sanitizer does not support the device on this machine (\"Device not supported\")"
      return 77
    fi
    if [[ $rc != 0 ]]; then status=1; fi
  done <<<"$commands"
  rm -f "$output"
  return $status
}
if [[ $dry_run == 1 ]]; then
  skip_stage memcheck "no GPU"
elif [[ $built == 1 && -n $nvcc_bin ]]; then
  run_stage memcheck 150 1 bash -c "$(declare -f memcheck); build_dir='$build_dir' nvcc_bin='$nvcc_bin' memcheck"
else
  skip_stage memcheck "$([[ $built == 1 ]] && echo "no CUDA backend" || echo "build failed")"
fi

# --- benchmarks -----------------------------------------------------------------
bench_dir=$build_dir/bench/native
if [[ $benches_built == 1 ]]; then
  if [[ -x $bench_dir/gpu_bench ]]; then
    gpu_bench_args=()
    [[ $quick == 1 ]] && gpu_bench_args+=(--quick)
    # gpu_bench stops starting sections 10 s before its stage's time box ends
    # (the box is 180 s or what the budget leaves, as run_stage cuts it).
    gb_box=$((budget - ($(date +%s) - t_start) - 15))
    ((gb_box > 180)) && gb_box=180
    ((gb_box > 20)) && gpu_bench_args+=(--deadline $((gb_box - 10)))
    run_stage gpu_bench 180 0 "$bench_dir/gpu_bench" "${gpu_bench_args[@]}"
  else
    skip_stage gpu_bench "not built (no CUDA backend)"
  fi
  if [[ $quick == 1 ]]; then
    run_stage matmul_bench 60 0 "$bench_dir/matmul_bench" 1
    run_stage topk_bench 60 0 "$bench_dir/topk_bench" 1024 1024 64 0.1 0.01 1
  else
    run_stage matmul_bench 60 0 "$bench_dir/matmul_bench" 3
    run_stage topk_bench 60 0 "$bench_dir/topk_bench" 4096 4096 256 0.1 0.01 3
  fi
else
  for b in gpu_bench matmul_bench topk_bench; do skip_stage $b "the benchmarks did not build"; done
fi

# --- results --------------------------------------------------------------------
gpu_field() { nvidia-smi --query-gpu="$1" --format=csv,noheader 2>/dev/null | head -n1; }
export GC_GPU_NAME=${gpu_name:-none (dry run)}
export GC_DRIVER=$([[ $dry_run == 0 ]] && gpu_field driver_version)
export GC_COMPUTE_CAP=$([[ $dry_run == 0 ]] && gpu_field compute_cap)
export GC_GPU_MEMORY=$([[ $dry_run == 0 ]] && gpu_field memory.total)
export GC_CUDA_DRIVER_VERSION=$([[ $dry_run == 0 ]] && nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: *\([0-9.]*\).*/\1/p' | head -n1)
export GC_NVCC=$([[ -n $nvcc_bin ]] && "$nvcc_bin" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')
export GC_CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n1)
export GC_CPU_COUNT=$(nproc 2>/dev/null)
# The commit: DYNASPARSE_COMMIT when given (a copied tree may have no .git).
if [[ -n ${DYNASPARSE_COMMIT:-} ]]; then
  export GC_COMMIT=$DYNASPARSE_COMMIT
elif commit=$(git rev-parse HEAD 2>/dev/null); then
  export GC_COMMIT=$commit$(git diff --quiet HEAD 2>/dev/null || echo "+dirty")
else
  export GC_COMMIT="unknown (no git repository; set DYNASPARSE_COMMIT)"
fi
export GC_DRY_RUN=$dry_run GC_QUICK=$quick GC_LOGS=$logs GC_BUDGET=$budget
export GC_ELAPSED=$(($(date +%s) - t_start))
slug=$(printf '%s' "${gpu_name:-no-gpu-dry-run}" | tr '[:upper:]' '[:lower:]' | sed 's/[^a-z0-9]\{1,\}/-/g; s/^-//; s/-$//')
stem=$results_dir/$slug-$(date -u +%Y-%m-%d)
python3 scripts/gpu-check-report.py "$stem" || echo "gpu-check: the report failed (the stage logs are still in $logs)"
echo "gpu-check: results in $stem.json and $stem.md"
if [[ -n $copy_to ]]; then
  # Each part on its own: a missing report must not keep the logs from coming back.
  mkdir -p "$copy_to"
  for f in "$stem.json" "$stem.md"; do [[ -f $f ]] && cp "$f" "$copy_to"/; done
  tar -czf "$copy_to/gpu-check-logs.tar.gz" -C "$logs" .
fi

echo "gpu-check: done in $(($(date +%s) - t_start))s"
column -t -s $'\t' "$logs/stages.tsv" 2>/dev/null || cat "$logs/stages.tsv"
if [[ $failed_required == 1 ]]; then
  echo "gpu-check: FAILED (configure, build, tests or memcheck)"
  exit 1
fi
exit 0
