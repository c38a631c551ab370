#!/usr/bin/env bash
# Fetches the build dependencies of the native tests and benchmarks that a GPU
# machine without internet may lack (doctest, OpenBLAS and its Fortran runtime)
# as Debian packages into .deps/debs/ (gitignored), so the folder can travel
# with the working tree. scripts/gpu-check.sh unpacks them (dpkg -x) into
# .deps/root/ when the system has no doctest or OpenBLAS of its own. See
# docs/gpu-check.md.
#
# The packages stay packed: OpenBLAS's shared library alone is 35 MiB unpacked
# (every CPU's kernels) and 5 MiB in its .deb, and the whole set is about 13 MiB.
#
# Run on a Debian/Ubuntu x86-64 machine with apt access (no root needed:
# `apt-get download` only fetches). Usage: scripts/fetch-gpu-deps.sh [--unpack]
#   --unpack  also unpack them into .deps/root/ here (to try gpu-check.sh's use
#             of them on this machine).
set -euo pipefail
cd "$(dirname "$0")/.."

# doctest-dev: header-only, with its CMake package. libopenblas-pthread-dev:
# cblas.h and the libopenblas.so link; libopenblas0-pthread: the shared library;
# libgfortran5 and libquadmath0: what libopenblas.so.0 needs at run time (often
# absent on machines without a Fortran compiler).
packages=(doctest-dev libopenblas-pthread-dev libopenblas0-pthread libgfortran5 libquadmath0)

rm -rf .deps/debs .deps/root
mkdir -p .deps/debs
# apt-get download writes into the current directory.
(cd .deps/debs && apt-get download "${packages[@]}")
echo "fetched into .deps/debs:"
ls -l .deps/debs
du -sh .deps/debs

if [[ ${1:-} == --unpack ]]; then
  mkdir -p .deps/root
  for deb in .deps/debs/*.deb; do dpkg -x "$deb" .deps/root; done
  echo "unpacked into .deps/root"
fi
