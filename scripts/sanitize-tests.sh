#!/usr/bin/env bash
# Builds the native tests (test/native, including the emulated CUDA kernel tests
# under test/native/cuda) with AddressSanitizer + UndefinedBehaviorSanitizer
# (CMake option DYNASPARSE_SANITIZE) into build-sanitize and runs them with CTest.
#
# The build is CPU-only (-DDYNASPARSE_CUDA=OFF): the sanitizers instrument host
# code, nvcc cannot pass -fsanitize to device code, and CI has no GPU to run real
# kernels on. The CUDA kernel sources are still covered: the SIMT emulation tests
# compile cuda/*.cu with the host compiler, so they run instrumented.
#
# It also builds without the AVX2 clones (-DDYNASPARSE_SIMD_CLONES=OFF): the
# other test builds run the AVX2 copy of every hot loop on an AVX2 machine, so
# this one is where the baseline x86-64 copy (what a CPU without AVX2 runs) is
# checked against the same bit-for-bit references.
#
# BUILD_DIR (default build-sanitize), DYNASPARSE_BUILD_JOBS (default nproc) and
# extra CMake arguments via DYNASPARSE_CMAKE_ARGS; extra arguments go to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build-sanitize}
jobs=${DYNASPARSE_BUILD_JOBS:-$(nproc)}
# allocator_may_return_null: the E_OOM tests ask for absurd sizes and expect a
# null from the allocator (ASan would abort instead). detect_leaks: LeakSanitizer
# also checks that the tests free what they allocate.
export ASAN_OPTIONS=${ASAN_OPTIONS:-allocator_may_return_null=1:detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
start=$(date +%s)
# shellcheck disable=SC2086
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDYNASPARSE_BUILD_TESTS=ON -DDYNASPARSE_SANITIZE=ON \
  -DDYNASPARSE_SIMD_CLONES=OFF -DDYNASPARSE_CUDA=OFF ${DYNASPARSE_CMAKE_ARGS:-} >"$build_dir.configure.log" 2>&1 \
  || { cat "$build_dir.configure.log"; exit 1; }
cmake --build "$build_dir" --parallel "$jobs"
built=$(date +%s)
echo "sanitize-tests: built in $((built - start)) s with $jobs jobs"
ctest --test-dir "$build_dir" --output-on-failure "$@"
echo "sanitize-tests: tests ran in $(($(date +%s) - built)) s"
