#!/usr/bin/env bash
# Runs the jest suite (or the files given) against an addon built with
# AddressSanitizer + UndefinedBehaviorSanitizer: the fuzz test then checks the
# binding's validation for memory errors, not only for the right exceptions.
# Builds into build-asan-addon (CPU only). Not part of CI (takes a few minutes);
# see docs/hardening.md. Under ASan, freed memory sits in a quarantine, so the
# RSS checks of test/leaks.test.ts are skipped (bytesInUse is still checked).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${DYNASPARSE_BUILD_JOBS:-$(nproc)}
node node_modules/cmake-js/bin/cmake-js build --out build-asan-addon --CDDYNASPARSE_SANITIZE=ON --CDDYNASPARSE_CUDA=OFF --parallel "$jobs"
LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)" \
ASAN_OPTIONS=${ASAN_OPTIONS:-allocator_may_return_null=1:detect_leaks=0} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
DYNASPARSE_ADDON=build-asan-addon/Release/dynasparse.node \
  npx jest "$@"
