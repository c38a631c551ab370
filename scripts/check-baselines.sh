#!/usr/bin/env bash
# Checks the library baselines (cuda/libraries.cu, cuda/baseline.cu) against
# real NVIDIA headers and libraries on a machine that has nvcc but neither (the
# CI image, the sessions without a GPU). Without this, the baselines meet real
# headers only on the GPU machine, where a mismatch costs the run every
# baseline (gpu-check falls back to a build without them), and real libraries
# only there too, where a function missing from one leaves it unloaded.
#
# Two sets, each compiled with cmake/Cuda.cmake's flags (warnings are errors),
# each object checked to reference no library symbol (they are dlopened):
#
# 1. CUDA 13, from NVIDIA's pip wheels: nvidia-cublas, nvidia-cusparse,
#    nvidia-cusparselt-cu13 and nvidia-nvjitlink, the packages the GPU
#    machine's image carries. `pip download` fetches them into .cache/check-baselines/
#    and they are unpacked in their site-packages layout (nvidia/cu13,
#    nvidia/cusparselt). cmake/Cuda.cmake's search (configure only) must find
#    all three there, as on the GPU machine; all three are compiled in, with
#    the library folders it chose; then
#    test/native/cuda_baseline/baselines_loaded_main.cpp is linked with
#    libraries.cu and run with an empty LD_LIBRARY_PATH: it loads each library
#    from the wheel's lib folder as the addon does (beside the headers) and
#    resolves every function the baselines call, and the cuSPARSELt version
#    check runs. No GPU is needed for that. Where pip cannot get the wheels
#    (no index reachable) this part says so and is skipped.
# 2. CUDA 12.4, from Debian 13's non-free nvidia-cuda-dev (the CUDA 12
#    toolkits a GPU machine may have; a private apt list, no root; 934 MB
#    fetched, the headers kept in .cache/check-baselines/cuda-dev/): cuBLAS and cuSPARSE,
#    compiled only. Debian does not package cuSPARSELt; CUSPARSELT_INCLUDE=<dir>
#    adds one.
#
# Usage: scripts/check-baselines.sh [wheels|debian]   (default: both; exit 0 when all passed)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
only=${1:-}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# compile_baselines LABEL LIBDIRS_HEADER NVCC_ARGS...: both files, the objects left in $work/LABEL/.
compile_baselines() {
  local label=$1 libdirs=$2
  shift 2
  mkdir -p "$work/$label/generated"
  # cmake/Cuda.cmake generates this: the folders libraries.cu loads from first.
  cp "$libdirs" "$work/$label/generated/dynasparse_library_dirs.h"
  for source in cuda/libraries.cu cuda/baseline.cu; do
    echo "== $label: $source"
    local object=$work/$label/$(basename "$source" .cu).o
    nvcc -std=c++17 -O3 -DDYNASPARSE_WITH_CUDA=1 -I include -I "$work/$label/generated" "$@" --expt-relaxed-constexpr \
      -Werror=all-warnings -Xcompiler=-Wall,-Wextra,-Werror,-Wno-unused-parameter,-ffp-contract=off \
      --generate-code=arch=compute_90,code=sm_90 -c "$source" -o "$object"
    # A direct reference to a library symbol would make the addon fail to load
    # where the library is missing.
    if nm -u "$object" | grep -E ' (cublas|cusparse)[A-Za-z_0-9]*$'; then
      echo "$source references a library symbol directly (above)" >&2
      return 1
    fi
  done
}

check_wheels() {
  local cache=.cache/check-baselines/nvidia-wheels
  local site=$root/$cache/site-packages
  local packages=(nvidia-cublas nvidia-cusparse nvidia-cusparselt-cu13 nvidia-nvjitlink)
  if [[ ! -f $site/nvidia/cu13/include/cublas_v2.h || ! -f $site/nvidia/cu13/include/cusparse.h ||
    ! -f $site/nvidia/cusparselt/include/cusparseLt.h || ! -f $site/nvidia/cu13/lib/libnvJitLink.so.13 ]]; then
    rm -rf "$cache" && mkdir -p "$cache/download"
    if ! python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$cache/download" "${packages[@]}"; then
      echo "check-baselines: skipped the CUDA 13 wheels: pip could not download ${packages[*]}"
      rm -rf "$cache"
      return 0
    fi
    # Only include/ and lib/ of the nvidia/ tree, in site-packages layout.
    python3 - "$cache/download" "$site" <<'EOF'
import glob, sys, zipfile
for wheel in sorted(glob.glob(sys.argv[1] + "/*.whl")):
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if name.startswith("nvidia/") and ("/include/" in name or "/lib/" in name):
                z.extract(name, sys.argv[2])
    print("unpacked", wheel.rsplit("/", 1)[-1])
EOF
    rm -rf "$cache/download"
  fi
  local cu13=$site/nvidia/cu13 lt=$site/nvidia/cusparselt
  # cmake/Cuda.cmake's search, which only a GPU machine would otherwise run:
  # it must find all three in this layout (the image's site-packages); the
  # folders it picks for libraries.cu to load from are the ones used below.
  echo "== wheels: cmake/Cuda.cmake finds all three in the site-packages layout"
  if ! DYNASPARSE_NVIDIA_ROOT=$site cmake -S . -B "$work/configure" -DDYNASPARSE_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES=90 >"$work/configure.log" 2>&1; then
    cat "$work/configure.log" >&2
    return 1
  fi
  grep 'dynasparse: .*headers found' "$work/configure.log" | sed 's/^-- //'
  local found=$work/configure/generated/dynasparse_library_dirs.h
  for lib in CUBLAS CUSPARSE CUSPARSELT; do
    if ! grep -q "#define DYNASPARSE_${lib}_LIBDIR " "$found"; then
      echo "check-baselines: cmake/Cuda.cmake did not find the $lib headers of the wheels in $site" >&2
      grep 'dynasparse:' "$work/configure.log" >&2
      return 1
    fi
  done
  compile_baselines wheels "$found" -DDYNASPARSE_HAVE_CUBLAS_HEADERS=1 \
    -DDYNASPARSE_HAVE_CUSPARSE_HEADERS=1 -DDYNASPARSE_HAVE_CUSPARSELT_HEADERS=1 -isystem "$cu13/include" -isystem "$lt/include"
  echo "== wheels: load the libraries and resolve every function (no GPU needed)"
  nvcc -std=c++17 -O2 -DDYNASPARSE_WITH_CUDA=1 -I include test/native/cuda_baseline/baselines_loaded_main.cpp \
    core/error.cpp "$work/wheels/libraries.o" -ldl -o "$work/baselines_loaded"
  env -u LD_LIBRARY_PATH "$work/baselines_loaded" --require-all
  echo "the baselines compile against and load from cuBLAS $(header_version "$cu13/include/cublas_api.h" CUBLAS), cuSPARSE $(header_version "$cu13/include/cusparse.h" CUSPARSE), cuSPARSELt $(header_version "$lt/include/cusparseLt.h" CUSPARSELT)"
}

# header_version FILE PREFIX: MAJOR.MINOR.PATCH from the header's #defines.
header_version() {
  local v=()
  for part in MAJOR MINOR PATCH; do v+=("$(sed -n "s/^#define $2_VER_$part[[:space:]]*\([0-9]*\).*/\1/p" "$1" | head -n1)"); done
  (IFS=.; echo "${v[*]}")
}

check_debian() {
  local cache=.cache/check-baselines/cuda-dev
  local include=$cache/root/usr/include
  if [[ ! -f $include/cusparse.h || ! -f $include/cublas_v2.h ]]; then
    if [[ ! -f /usr/share/keyrings/debian-archive-keyring.gpg ]]; then
      echo "check-baselines: skipped the CUDA 12.4 headers: no Debian archive keyring here to fetch nvidia-cuda-dev with"
      return 0
    fi
    mkdir -p "$cache/apt/lists/partial" "$cache/apt/archives/partial"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie non-free" \
      >"$cache/sources.list"
    local apt_opts=(-o Dir::State="$root/$cache/apt" -o Dir::Cache="$root/$cache/apt"
      -o Dir::Etc::sourcelist="$root/$cache/sources.list" -o Dir::Etc::sourceparts=- -o Debug::NoLocking=1)
    # A few tries: a network hiccup should not fail a CI run.
    local fetched=0
    for attempt in 1 2 3; do
      if apt-get "${apt_opts[@]}" update && (cd "$cache" && apt-get "${apt_opts[@]}" download nvidia-cuda-dev); then
        fetched=1
        break
      fi
      echo "check-baselines: fetching nvidia-cuda-dev failed (attempt $attempt)" >&2
      sleep 10
    done
    [[ $fetched == 1 ]] || { echo "check-baselines: could not fetch nvidia-cuda-dev" >&2; return 1; }
    mkdir -p "$cache/root"
    # Only the library headers: the toolkit's own (library_types.h, cuda_runtime.h)
    # must stay nvcc's, or the check would mix two CUDA versions.
    dpkg-deb --fsys-tarfile "$cache"/nvidia-cuda-dev_*.deb |
      tar -x -C "$cache/root" --wildcards './usr/include/cusparse*' './usr/include/cublas*'
    rm -f "$cache"/nvidia-cuda-dev_*.deb
  fi
  local args=(-DDYNASPARSE_HAVE_CUBLAS_HEADERS=1 -DDYNASPARSE_HAVE_CUSPARSE_HEADERS=1 -isystem "$include")
  if [[ -n ${CUSPARSELT_INCLUDE:-} ]]; then
    args+=(-DDYNASPARSE_HAVE_CUSPARSELT_HEADERS=1 -isystem "$CUSPARSELT_INCLUDE")
  fi
  echo "#pragma once" >"$work/debian-libdirs.h"  # nothing to load: headers only
  compile_baselines debian "$work/debian-libdirs.h" "${args[@]}"
  echo "the baselines compile against cuBLAS $(header_version "$include/cublas_api.h" CUBLAS), cuSPARSE $(header_version "$include/cusparse.h" CUSPARSE)"
}

case $only in
  wheels) check_wheels ;;
  debian) check_debian ;;
  "")  # (not joined with &&, which would turn off set -e inside them)
    check_wheels
    check_debian
    ;;
  *) echo "usage: scripts/check-baselines.sh [wheels|debian]" >&2; exit 2 ;;
esac
