#!/usr/bin/env bash
# Compiles the library baselines (cuda/libraries.cu, cuda/baseline.cu) against
# real cuBLAS and cuSPARSE headers on a machine that has nvcc but not those
# headers (the CI image, the sessions without a GPU). Without this, the
# baselines are compiled only on the GPU machine, where a header mismatch costs
# the run its baselines (gpu-check falls back to a build without them).
#
# The headers come from Debian 13's non-free nvidia-cuda-dev (CUDA 12.4, the
# closest packaged release to the CUDA 12/13 of NVIDIA's wheels; the package is
# 934 MB, its headers kept in .deps/cuda-dev/ (gitignored) after the first run);
# `apt-get download` runs with a private package list, so no root and no change
# to the system's apt sources. cuSPARSELt is not packaged by Debian: pass the
# folder of a cusparseLt.h with CUSPARSELT_INCLUDE=... to check it too.
#
# Usage: scripts/check-baseline-headers.sh   (exit 0 when both files compile)
set -euo pipefail
cd "$(dirname "$0")/.."

cache=.deps/cuda-dev
include=$cache/root/usr/include
if [[ ! -f $include/cusparse.h || ! -f $include/cublas_v2.h ]]; then
  if [[ ! -f /usr/share/keyrings/debian-archive-keyring.gpg ]]; then
    echo "check-baseline-headers: skipped: no Debian archive keyring here to fetch nvidia-cuda-dev with"
    exit 0
  fi
  mkdir -p "$cache/apt/lists/partial" "$cache/apt/archives/partial"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie non-free" \
    > "$cache/sources.list"
  apt_opts=(-o Dir::State="$PWD/$cache/apt" -o Dir::Cache="$PWD/$cache/apt" -o Dir::Etc::sourcelist="$PWD/$cache/sources.list"
    -o Dir::Etc::sourceparts=- -o Debug::NoLocking=1)
  # A few tries: a network hiccup should not fail a CI run.
  fetched=0
  for attempt in 1 2 3; do
    if apt-get "${apt_opts[@]}" update && (cd "$cache" && apt-get "${apt_opts[@]}" download nvidia-cuda-dev); then
      fetched=1
      break
    fi
    echo "check-baseline-headers: fetching nvidia-cuda-dev failed (attempt $attempt)" >&2
    sleep 10
  done
  [[ $fetched == 1 ]] || { echo "check-baseline-headers: could not fetch nvidia-cuda-dev" >&2; exit 1; }
  mkdir -p "$cache/root"
  # Only the library headers: the toolkit's own (library_types.h, cuda_runtime.h)
  # must stay nvcc's, or the check would mix two CUDA versions.
  dpkg-deb --fsys-tarfile "$cache"/nvidia-cuda-dev_*.deb |
    tar -x -C "$cache/root" --wildcards './usr/include/cusparse*' './usr/include/cublas*'
  rm -f "$cache"/nvidia-cuda-dev_*.deb
fi

defines=(-DDYNASPARSE_WITH_CUDA=1 -DDYNASPARSE_HAVE_CUBLAS_HEADERS=1 -DDYNASPARSE_HAVE_CUSPARSE_HEADERS=1)
includes=(-I include -I "$include")
if [[ -n ${CUSPARSELT_INCLUDE:-} ]]; then
  defines+=(-DDYNASPARSE_HAVE_CUSPARSELT_HEADERS=1)
  includes+=(-I "$CUSPARSELT_INCLUDE")
fi
generated=$(mktemp -d)
trap 'rm -rf "$generated"' EXIT
: > "$generated/dynasparse_library_dirs.h"  # cmake/Cuda.cmake writes it; no folders here
for source in cuda/libraries.cu cuda/baseline.cu; do
  echo "== $source"
  # The flags of cmake/Cuda.cmake: warnings are errors.
  nvcc -std=c++17 -O3 "${defines[@]}" "${includes[@]}" -I "$generated" --expt-relaxed-constexpr \
    -Werror=all-warnings -Xcompiler=-Wall,-Wextra,-Werror,-Wno-unused-parameter,-ffp-contract=off \
    --generate-code=arch=compute_90,code=sm_90 -c "$source" -o "$generated/out.o"
  # The libraries are dlopened: a direct reference to one of their symbols would
  # make the addon fail to load where they are missing.
  if nm -u "$generated/out.o" | grep -E ' (cublas|cusparse)[A-Za-z_0-9]*$'; then
    echo "$source references a library symbol directly (above)" >&2
    exit 1
  fi
done
echo "the baselines compile against $(grep -h '#define CUSPARSE_VER_MAJOR\|#define CUBLAS_VER_MAJOR' "$include"/cusparse.h "$include"/cublas_api.h | tr '\n' ' ')"
