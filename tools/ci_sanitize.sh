#!/usr/bin/env bash
# CI sanitizer stage (issue 6), called at the end of .ci/run:
#  1. the native tests and the fuzz-corpus replays, built with ASan+UBSan and -Werror;
#  2. the extension built with ASan+UBSan into a temporary copy of the package, and a Python smoke
#     (SmolLM2 + a synthetic model, corrupt GGUF files, bad input) with libasan preloaded;
#  3. if clang and libFuzzer can be installed: a bounded libFuzzer run of each C++ harness;
#  4. a bounded atheris run of the chat-template harness (Python).
# Budget: about 8 minutes on 2 cores. FUZZ_SECONDS (default 60) bounds each harness.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
start=$(date +%s)
jobs=$(nproc)
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
stamp() { echo "   [$(( $(date +%s) - start )) s]"; }

echo "== sanitizer stage 1: native tests under ASan+UBSan"
cmake -S . -B build/san-native "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DPYLLAMA_EDGE_SANITIZE=ON \
  -DPYLLAMA_EDGE_WERROR=ON -DPYLLAMA_EDGE_PYTHON=OFF >/dev/null
cmake --build build/san-native -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/san-native --output-on-failure
stamp

echo "== sanitizer stage 2: Python smoke with the extension built with ASan+UBSan"
python3 -c "import pybind11" 2>/dev/null || python3 -m pip install -q "pybind11>=2.12"  # plain cmake build
cmake -S . -B build/san-python "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DPYLLAMA_EDGE_SANITIZE=ON \
  -DPYLLAMA_EDGE_WERROR=ON -DPYLLAMA_EDGE_TESTS=OFF -DPYLLAMA_EDGE_INPLACE=OFF \
  -DPython_EXECUTABLE="$(command -v python3)" >/dev/null
cmake --build build/san-python -j "$jobs"
pkg=$(mktemp -d)
trap 'rm -rf "$pkg"' EXIT
cp -r pyllama_edge "$pkg/"
rm -f "$pkg"/pyllama_edge/_core*.so
cp build/san-python/_core*.so "$pkg/pyllama_edge/"
# libstdc++ is preloaded with libasan: python3 does not link it, and ASan's __cxa_throw
# interceptor must find it at start-up (else: "CHECK failed ... real___cxa_throw").
preload="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libstdc++.so)"
# Python's own allocations are never freed at exit by design: leak checking off here (stage 1
# checks leaks of the core). The package copy comes first on sys.path; run from outside the
# checkout so its pyllama_edge/ (no sanitized _core) does not shadow it. -s: a sanitizer report
# goes to stderr and must not be swallowed by pytest's capture when the process aborts. -m '':
# every tier of the listed files (test_fuzz_api.py is in the fuzz tier).
(cd "$pkg" && PYTHONPATH="$pkg" LD_PRELOAD="$preload" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  python3 -m pytest -p no:cacheprovider -q -s -m '' "$root/tests/test_smoke.py" "$root/tests/test_gguf_corrupt.py" \
    "$root/tests/test_bad_input.py" "$root/tests/test_concurrency.py" "$root/tests/test_fuzz_api.py" \
    -k "not mutated")
stamp

echo "== sanitizer stage 3: bounded libFuzzer runs"
if ! command -v clang++ >/dev/null 2>&1; then
  apt-get install -y -q clang libclang-rt-14-dev >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q clang libclang-rt-14-dev >/dev/null 2>&1; } || true
fi
if ! command -v clang++ >/dev/null 2>&1; then
  echo "   FAILED: clang could not be installed, the bounded fuzz runs cannot happen"
  exit 1
fi
CXX=clang++ cmake -S . -B build/fuzz "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DPYLLAMA_EDGE_FUZZ=ON \
  -DPYLLAMA_EDGE_PYTHON=OFF -DPYLLAMA_EDGE_TESTS=OFF >/dev/null
cmake --build build/fuzz -j "$jobs"
# Both harnesses at once (one core each); each keeps its own work corpus and artifacts.
failed=0
pids=()
for h in gguf tokenizer; do
  work="build/fuzz/run-$h"
  rm -rf "$work" && mkdir -p "$work/corpus" "$work/artifacts"
  cp tests/fuzz/corpus/"$h"/* "$work/corpus/"
  if [ "$h" = gguf ]; then cp tests/fuzz/corpus/vocab/* "$work/corpus/"; fi
  build/fuzz/${h}_fuzz -max_total_time="${FUZZ_SECONDS:-60}" -timeout=10 -rss_limit_mb=2048 -max_len=200000 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/log" 2>&1 &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || true; done
for h in gguf tokenizer; do
  work="build/fuzz/run-$h"
  echo "   ${h}_fuzz: $(grep -E '^Done [0-9]+ runs' "$work/log" | tail -n 1);" \
       "coverage $(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$work/log" | tail -n 1)"
  if [ -n "$(ls -A "$work/artifacts")" ]; then
    echo "   $h: libFuzzer found failing inputs (add them to tests/fuzz/regressions/$h/):"
    ls "$work/artifacts"
    grep -E "ERROR|SUMMARY|runtime error|tokenizer_fuzz:" "$work/log" | head -n 20
    failed=1
  fi
done
[ "$failed" = 0 ] || exit 1
stamp

echo "== sanitizer stage 4: bounded atheris (libFuzzer) run of the chat-template harness"
python3 -c "import atheris" 2>/dev/null || python3 -m pip install -q atheris
work="build/fuzz/run-chat_template"
rm -rf "$work" && mkdir -p "$work/corpus" "$work/artifacts"
cp tests/fuzz/corpus/chat_template/* "$work/corpus/"
# Runs against the installed package (the README's pip install); the harness imports it by name.
if ! (cd "$work" && python3 "$root/tests/fuzz/chat_template_fuzz.py" -max_total_time="${FUZZ_SECONDS:-60}" \
      -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$PWD/artifacts/" corpus >log 2>&1); then
  echo "   chat_template_fuzz failed (add the input to tests/fuzz/regressions/chat_template/):"
  ls "$work/artifacts"
  grep -E "Error|SUMMARY" "$work/log" | head -n 20
  exit 1
fi
echo "   chat_template_fuzz: $(grep -E '^stat::number_of_executed_units' "$work/log");" \
     "$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$work/log" | tail -n 1)"
stamp
echo "sanitizer stage passed"
