"""Guest instructions per token on ARM CPU models, ours against llama.cpp, counted under qemu-user.

There is no ARM board here and qemu's wall time says nothing about a Pi's; the number of guest
instructions a run executes is exact and repeatable. A TCG plugin of our own
(bench/arm_count/insn_count_plugin.c, built with the host gcc) counts them under Debian's dynamic
``qemu-aarch64`` (QEMU 7.2; the static build cannot load plugins).

Both engines do the same work on one thread: a prefill of P fixed prompt tokens in one batch, then
D greedy decode steps (bench/arm_count/ple_count.cpp over ple::Model / ple::Session, and
bench/arm_count/llama_count.cpp over llama.cpp's C API). Per-token counts are differences of
runs, so loading drops out:

    per decoded token = (count(P1, D) - count(P1, 1)) / (D - 1)
    per prompt token  = (count(P2, 1) - count(P1, 1)) / (P2 - P1)

Builds (all static aarch64, with cmake/toolchain-aarch64-linux-gnu.cmake):
- ours: the core (``ple_core``, ``-DPYLLAMA_EDGE_PYTHON=OFF``) in build/arm64-count of the checkout;
- llama.cpp: ``vendor/llama.cpp`` of the llama-cpp-python sdist, ``GGML_NATIVE=OFF``, OpenMP off,
  only the ``llama`` library target, with ``GGML_CPU_ARM_ARCH`` per CPU model (ARCH below), cached
  in CACHE/build-<version>-<arch> so later runs reuse it. Counts are cached too, in
  CACHE/counts.json, keyed by the binary's hash, the model file (path, size, mtime), CPU, P and D
  (merged under a lock, so concurrent runs of the script keep each other's counts).

With --by-symbol TOP every run is repeated with the plugin counting per guest function
(by_symbol=on), and the TOP functions per decoded and per prompt token are printed for each engine.

Usage (see bench/README.md, "ARM instruction counts"):
    python bench/arm_insn_count.py MODEL.gguf [MODEL ...] --cpu cortex-a76 [--cpu max] \
        --prompt 16 32 --decode 4 [--lock /tmp/ple-build.lock] [--by-symbol 12]

Needs: g++-aarch64-linux-gnu, qemu-user (dynamic qemu-aarch64), cmake, gcc, pip (for the sdist).
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent / "arm_count"
TOOLCHAIN = ROOT / "cmake" / "toolchain-aarch64-linux-gnu.cmake"
SYSROOT = "/usr/aarch64-linux-gnu"

# qemu CPU model -> llama.cpp's GGML_CPU_ARM_ARCH for the board it stands for.
ARCH = {
    "cortex-a72": "armv8-a",  # Raspberry Pi 4: NEON, no dotprod
    "cortex-a76": "armv8.2-a+dotprod+fp16",  # Raspberry Pi 5: dotprod, no i8mm
    "max": "armv8.6-a+dotprod+fp16+i8mm",  # i8mm
}

_INSNS = re.compile(r"^insns: (\d+)$", re.M)
_SYMBOL = re.compile(r"^symbol: (\d+) (.*)$", re.M)


def parse_count(text: str) -> int:
    """The plugin's total from qemu's log output; exactly one "insns: N" line is expected."""
    found = _INSNS.findall(text)
    if len(found) != 1:
        raise ValueError(f"expected one 'insns: N' line, found {len(found)}")
    return int(found[0])


def function_name(demangled: str) -> str:
    """A demangled symbol without its clone suffixes, parameter list and qualifiers
    ("ns::f<int>(float*) const [clone .isra.0]" -> "ns::f<int>"); "(anonymous namespace)" stays."""
    name = re.sub(r"( \[clone [^]]*\])+$", "", demangled).strip()
    name = re.sub(r"( const| volatile| &&| &)+$", "", name)
    if not name.endswith(")"):
        return name
    depth = 0
    for i in range(len(name) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(name[i], 0)
        if depth == 0:
            return name[:i] or name
    return name


def parse_symbols(text: str) -> dict[str, int]:
    """The plugin's per-function counts ("symbol: N NAME" lines, by_symbol=on), names demangled
    and cut before their argument lists, so a kernel's clones and overloads add up."""
    raw = {name: int(n) for n, name in _SYMBOL.findall(text)}
    names = list(raw)
    plain = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True,
                           check=True).stdout.split("\n")[:len(names)]
    out: dict[str, int] = {}
    for name, readable in zip(names, plain):
        short = function_name(readable)
        out[short] = out.get(short, 0) + raw[name]
    return out


def per_token(base: int, decoded: int, prompted: int, p1: int, p2: int, d: int) -> tuple[float, float]:
    """(per decoded token, per prompt token) from the counts of runs (P1, 1), (P1, D), (P2, 1)."""
    return (decoded - base) / (d - 1), (prompted - base) / (p2 - p1)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Runner:
    """Runs build and emulation commands, each under the shared lock file when one is given."""

    def __init__(self, lock: str | None, jobs: int):
        self.lock = lock
        self.jobs = jobs

    def run(self, cmd: list[str], **kw) -> subprocess.CompletedProcess:
        if self.lock:
            cmd = ["flock", self.lock, *cmd]
        return subprocess.run(cmd, check=True, **kw)


def file_hash(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def build_plugin(r: Runner, cache: Path) -> Path:
    src = HERE / "insn_count_plugin.c"
    out = cache / f"libinsn_count-{file_hash(src)}.so"
    if not out.exists():
        r.run(["gcc", "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", str(src), "-o", str(out)])
    return out


def build_ours(r: Runner) -> Path:
    build = ROOT / "build" / "arm64-count"
    if not (build / "CMakeCache.txt").exists():
        r.run(["cmake", "-S", str(ROOT), "-B", str(build), f"-DCMAKE_TOOLCHAIN_FILE={TOOLCHAIN}",
               "-DCMAKE_BUILD_TYPE=Release", "-DPYLLAMA_EDGE_PYTHON=OFF", "-DPYLLAMA_EDGE_TESTS=OFF"],
              stdout=subprocess.DEVNULL)
    r.run(["cmake", "--build", str(build), "--target", "ple_core", "-j", str(r.jobs)])
    out = build / "ple_count"
    r.run(["aarch64-linux-gnu-g++", "-std=c++17", "-O2", "-static", f"-I{ROOT / 'csrc'}",
           str(HERE / "ple_count.cpp"), str(build / "libple_core.a"), "-lpthread", "-o", str(out)])
    return out


def fetch_sdist(version: str, cache: Path) -> Path:
    """vendor/llama.cpp of the llama-cpp-python sdist, unpacked once into the cache."""
    src = cache / f"src-{version}"
    if (src / "vendor" / "llama.cpp" / "CMakeLists.txt").exists():
        return src
    sdists = cache.parent / "sdist"
    tarball = sdists / f"llama_cpp_python-{version}.tar.gz"
    if not tarball.exists():
        # Source only for llama-cpp-python itself (its build requirements may come as wheels).
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary",
                        "llama-cpp-python", f"llama-cpp-python=={version}", "-d", str(sdists)], check=True)
    tmp = cache / f"src-{version}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    with tarfile.open(tarball) as tf:
        tf.extractall(tmp)
    (tmp / f"llama_cpp_python-{version}").rename(src)
    tmp.rmdir()
    return src


def build_llama(r: Runner, cache: Path, version: str, arch: str) -> Path:
    src = fetch_sdist(version, cache)
    build = cache / f"build-{version}-{arch.replace('+', '_')}"
    if not (build / "CMakeCache.txt").exists():
        r.run(["cmake", "-S", str(src / "vendor" / "llama.cpp"), "-B", str(build), "-G", "Ninja",
               f"-DCMAKE_TOOLCHAIN_FILE={TOOLCHAIN}", "-DCMAKE_BUILD_TYPE=Release", "-DGGML_NATIVE=OFF",
               f"-DGGML_CPU_ARM_ARCH={arch}", "-DGGML_OPENMP=OFF", "-DBUILD_SHARED_LIBS=OFF",
               "-DGGML_BACKEND_DL=OFF", "-DLLAMA_CURL=OFF", "-DLLAMA_BUILD_COMMON=OFF",
               "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF", "-DLLAMA_BUILD_TOOLS=OFF",
               "-DLLAMA_BUILD_SERVER=OFF"], stdout=subprocess.DEVNULL)
    # One lock acquisition per library, so a long build does not hold the machine in one piece.
    for target in ("ggml-base", "ggml-cpu", "ggml", "llama"):
        r.run(["cmake", "--build", str(build), "--target", target, "-j", str(r.jobs)])
    drv = HERE / "llama_count.cpp"
    out = build / f"llama_count-{file_hash(drv)}"
    if not out.exists():
        lib = build / "src" / "libllama.a"
        ggml = build / "ggml" / "src"
        r.run(["aarch64-linux-gnu-g++", "-std=c++17", "-O2", "-static",
               f"-I{src / 'vendor/llama.cpp/include'}", f"-I{src / 'vendor/llama.cpp/ggml/include'}",
               str(drv), str(lib), str(ggml / "libggml.a"), str(ggml / "libggml-cpu.a"),
               str(ggml / "libggml-base.a"), "-lpthread", "-o", str(out)])
    return out


class Counter:
    """Instruction counts of single runs, cached in counts.json (a count is exact: no repeats)."""

    def __init__(self, r: Runner, plugin: Path, cache: Path):
        self.r, self.plugin, self.path = r, plugin, cache / "counts.json"
        self.db = json.loads(self.path.read_text()) if self.path.exists() else {}

    def count(self, binary: Path, model: Path, cpu: str, p: int, d: int):
        """The run's total instruction count."""
        return self._count(binary, model, cpu, p, d, by_symbol=False)

    def count_by_symbol(self, binary: Path, model: Path, cpu: str, p: int, d: int) -> dict[str, int]:
        return self._count(binary, model, cpu, p, d, by_symbol=True)

    def _count(self, binary: Path, model: Path, cpu: str, p: int, d: int, by_symbol: bool):
        st = model.stat()
        key = f"{file_hash(binary)} {model.resolve()} {st.st_size} {int(st.st_mtime)} {cpu} {p} {d}"
        key += " by_symbol" if by_symbol else ""
        if key not in self.db:
            plugin = f"{self.plugin},by_symbol=on" if by_symbol else str(self.plugin)
            proc = self.r.run(["qemu-aarch64", "-plugin", plugin, "-d", "plugin", "-cpu", cpu,
                               "-L", SYSROOT, str(binary), str(model), str(p), str(d)],
                              capture_output=True, text=True)
            try:
                total = parse_count(proc.stderr)
            except ValueError as e:
                raise RuntimeError(f"{binary.name}: {e}: {proc.stderr[-500:]}") from None
            value = total
            if by_symbol:
                value = parse_symbols(proc.stderr)
                # Each run of one function's instructions is counted when its first one executes,
                # so a block left early by an exception could make the parts differ from the total.
                if sum(value.values()) != total:
                    log(f"   note: functions add up to {sum(value.values())}, total {total}")
            log(f"   {binary.name} {model.name} {cpu} P={p} D={d}: {total} insns"
                f"{' by symbol' if by_symbol else ''}; {proc.stdout.strip()}")
            self.save(key, value)
        return self.db[key]

    def save(self, key: str, value) -> None:
        """Adds one count to the file. Several runs of the script may share the cache: under a lock,
        the file is read again and merged, so none loses another's counts."""
        with open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            on_disk = json.loads(self.path.read_text()) if self.path.exists() else {}
            on_disk[key] = value
            self.db.update(on_disk)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            with os.fdopen(fd, "w") as f:
                f.write(json.dumps(on_disk, indent=1, sort_keys=True))
                f.flush()
                os.fsync(f.fileno())
            tmp.replace(self.path)

    def per_token(self, binary: Path, model: Path, cpu: str, p1: int, p2: int, d: int) -> tuple[float, float]:
        base = self.count(binary, model, cpu, p1, 1)
        return per_token(base, self.count(binary, model, cpu, p1, d), self.count(binary, model, cpu, p2, 1),
                         p1, p2, d)


def symbol_table(counter: Counter, binary: Path, model: Path, cpu: str, p1: int, p2: int, d: int,
                 top: int) -> list[str]:
    """Markdown rows: the functions taking the most instructions per decoded and per prompt token."""
    runs = [counter.count_by_symbol(binary, model, cpu, p, n) for p, n in ((p1, 1), (p1, d), (p2, 1))]
    names = set().union(*runs)
    rows = []
    for name in names:
        base, decoded, prompted = (run.get(name, 0) for run in runs)
        rows.append((name, *per_token(base, decoded, prompted, p1, p2, d)))
    decode_total = sum(r[1] for r in rows)
    prompt_total = sum(r[2] for r in rows)
    rows.sort(key=lambda r: -(abs(r[1]) + abs(r[2])))
    m = 1e6
    out = [f"\n{binary.name} on {model.name}, {cpu}: per decoded token {decode_total / m:.1f}M, "
           f"per prompt token {prompt_total / m:.1f}M",
           "| function | decode | share | prompt | share |", "|---|---|---|---|---|"]
    for name, dec, pro in rows[:top]:
        out.append(f"| `{name}` | {dec / m:.2f}M | {dec / decode_total:.1%} | {pro / m:.2f}M | "
                   f"{pro / prompt_total:.1%} |")
    rest_d = sum(r[1] for r in rows[top:])
    rest_p = sum(r[2] for r in rows[top:])
    out.append(f"| (the other {max(len(rows) - top, 0)}) | {rest_d / m:.2f}M | {rest_d / decode_total:.1%} | "
               f"{rest_p / m:.2f}M | {rest_p / prompt_total:.1%} |")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", type=Path)
    ap.add_argument("--cpu", action="append", choices=sorted(ARCH), help="qemu CPU model (repeatable)")
    ap.add_argument("--prompt", nargs=2, type=int, default=[16, 32], metavar=("P1", "P2"))
    ap.add_argument("--decode", type=int, default=4, metavar="D", help="decode steps (>= 2)")
    ap.add_argument("--llama-version", default="0.3.36", help="llama-cpp-python sdist version")
    ap.add_argument("--cache", type=Path, default=Path("/var/cache/ple/arm-count"))
    ap.add_argument("--lock", help="flock this file around every build and emulated run")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", choices=["ours", "llama"], help="count one engine only")
    ap.add_argument("--by-symbol", type=int, metavar="TOP", default=0,
                    help="also split each count by guest function and print the TOP functions")
    args = ap.parse_args()
    cpus = args.cpu or ["cortex-a76"]
    p1, p2 = args.prompt
    if not (0 < p1 < p2) or args.decode < 2:
        ap.error("need 0 < P1 < P2 and D >= 2")
    if shutil.which("qemu-aarch64") is None:
        ap.error("qemu-aarch64 (the dynamic qemu-user, which loads plugins) is not installed")
    args.cache.mkdir(parents=True, exist_ok=True)
    r = Runner(args.lock, args.jobs)
    counter = Counter(r, build_plugin(r, args.cache), args.cache)
    ours = build_ours(r) if args.only != "llama" else None

    rows, tables = [], []
    for cpu in cpus:
        llama = build_llama(r, args.cache, args.llama_version, ARCH[cpu]) if args.only != "ours" else None
        for model in args.models:
            o = counter.per_token(ours, model, cpu, p1, p2, args.decode) if ours else None
            ll = counter.per_token(llama, model, cpu, p1, p2, args.decode) if llama else None
            rows.append((model.name, cpu, o, ll))
            if args.by_symbol:
                for binary in (b for b in (ours, llama) if b):
                    tables.extend(symbol_table(counter, binary, model, cpu, p1, p2, args.decode,
                                               args.by_symbol))

    m = 1e6
    print(f"\nguest instructions per token, one thread, P = {p1} -> {p2}, D = {args.decode}, "
          f"llama.cpp = llama-cpp-python {args.llama_version}")
    print("| model | cpu | decode ours | decode llama.cpp | ratio | prompt ours | prompt llama.cpp | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for name, cpu, o, ll in rows:
        cell = []
        for i in (0, 1):
            a = f"{o[i] / m:.1f}M" if o else "-"
            b = f"{ll[i] / m:.1f}M" if ll else "-"
            ratio = f"{o[i] / ll[i]:.2f}" if o and ll else "-"
            cell += [a, b, ratio]
        print(f"| {name} | {cpu} | " + " | ".join(cell) + " |")
    for line in tables:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
