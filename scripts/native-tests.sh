#!/usr/bin/env bash
# Builds and runs the native C++ tests (test/native) with CTest, without Node.js.
# BUILD_DIR (default build-native) and extra CMake arguments via DYNASPARSE_CMAKE_ARGS.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build-native}
jobs=${DYNASPARSE_BUILD_JOBS:-$(nproc)}
# shellcheck disable=SC2086
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DDYNASPARSE_BUILD_TESTS=ON ${DYNASPARSE_CMAKE_ARGS:-} >"$build_dir.configure.log" 2>&1 \
  || { cat "$build_dir.configure.log"; exit 1; }
cmake --build "$build_dir" --parallel "$jobs"
ctest --test-dir "$build_dir" --output-on-failure "$@"
