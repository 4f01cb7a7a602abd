#!/usr/bin/env bash
# CI stage: cross-compiles the whole CMake project for macOS (arm64 and x86_64) with zig's clang
# and its bundled macOS SDK (PyPI's `ziglang`), warnings as errors: the core, the native test
# binary and the other native executables are compiled and linked; every Python extension source
# is compiled against pybind11's and Python's headers. Linking the extension itself needs a macOS
# libpython, which no Linux machine has: that link is the one step left unchecked here.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS

python3 -c "import ziglang" 2>/dev/null || python3 -m pip install --quiet "ziglang>=0.13"
python3 -c "import pybind11" 2>/dev/null || python3 -m pip install --quiet pybind11
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
python_include=$(python3 -c "import sysconfig; print(sysconfig.get_paths()['include'])")
pybind11_include=$(python3 -c "import pybind11; print(pybind11.get_include())")

# The minimum macOS version is the wheels' MACOSX_DEPLOYMENT_TARGET (pyproject.toml).
deployment_target=$(python3 -c "import tomllib; print(tomllib.load(open('pyproject.toml', 'rb'))['tool']['cibuildwheel']['macos']['environment']['MACOSX_DEPLOYMENT_TARGET'])")
for target in "aarch64-macos.$deployment_target" "x86_64-macos.$deployment_target"; do
  echo "== macOS cross build: $target"
  build="build/ci-${target%%.*}"
  cmake -S . -B "$build" "${generator[@]}" -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/zig-macos.cmake \
    -DPLE_ZIG_TARGET="$target" -DPYLLAMA_EDGE_WERROR=ON -DPYLLAMA_EDGE_PYTHON=OFF \
    -DPYLLAMA_EDGE_EXTENSION_OBJECTS=ON -DPYLLAMA_EDGE_EXTENSION_INCLUDE_DIRS="$python_include;$pybind11_include" >/dev/null
  cmake --build "$build" -j "$(nproc)"
  # The products are Mach-O files for the target (not silently host binaries).
  case $target in aarch64-*) arch=arm64 ;; *) arch=x86_64 ;; esac
  python3 - "$build/ple_native_tests" "$arch" <<'PY'
import struct, sys
path, arch = sys.argv[1], sys.argv[2]
magic, cputype = struct.unpack("<II", open(path, "rb").read(8))
want = {"arm64": 0x0100000C, "x86_64": 0x01000007}[arch]
if magic != 0xFEEDFACF or cputype != want:
    sys.exit(f"{path}: not a 64-bit Mach-O {arch} executable (magic {magic:#x}, cputype {cputype:#x})")
print(f"{path}: Mach-O {arch} executable")
PY
done
echo "== macOS cross build: done in $((SECONDS - start)) s"
