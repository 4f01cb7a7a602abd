"""Quantization error of our quantizer vs llama.cpp's on the same F16 source tensors.

    python bench/quant_error.py [--n-embd 512 --n-ff 1536 --n-layer 2] [--types Q4_0,Q4_K,...] [--pure] [--per-tensor]
    python bench/quant_error.py --record [tests/data/quant_mix_llamacpp.json]

A synthetic Llama-3-shaped F16 file (tools/make_synthetic_llama.py) is quantized to every type by
ple.quantize_model and by llama.cpp (llama_cpp.llama_model_quantize, run in the llama-cpp-python venv via
subprocess), both with llama.cpp's per-tensor mix, or both with every matrix in the base type
(``--pure``). Both outputs are dequantized with gguf.quants.dequantize and compared with the source:
RMSE and max |error| per tensor, over tensors that both quantizers gave the same type ("ratio": RMSE
over all those tensors, ours / llama.cpp; "worst": the largest per-tensor ratio); any tensor whose
type differs between the two files is listed (there should be none).

``--record`` quantizes the fixture models of tools/quant_fixture.py to every file type with
llama.cpp and writes each tensor's type and RMSE (and ours, for reference) to the fixture that
tests/test_quantize_mix.py checks our quantizer against.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT))  # after site-packages: an installed pyllama_edge (with its _core) wins

import gguf  # noqa: E402

import pyllama_edge as ple  # noqa: E402
from tools import quant_fixture  # noqa: E402
from tools.make_synthetic_llama import make_synthetic_llama  # noqa: E402

LLAMACPP_PY = os.environ.get("PLE_LLAMACPP_PYTHON", "/var/cache/ple/llamacpp-venv/bin/python")
# llama.cpp's LLAMA_FTYPE id for each of our file types (Q3_K / Q4_K / Q5_K are its _S types).
FTYPE = {"Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "Q5_0": 8, "Q5_1": 9, "Q2_K": 10, "Q3_K": 11, "Q4_K": 14, "Q5_K": 16,
         "Q6_K": 18, "Q4_K_M": 15, "Q5_K_M": 17}

LLAMACPP_SCRIPT = r"""
import sys, llama_cpp
src, dst, ftype, pure, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1", int(sys.argv[5])
p = llama_cpp.llama_model_quantize_default_params()
p.ftype = ftype
p.pure = pure
p.nthread = threads
rc = llama_cpp.llama_model_quantize(src.encode(), dst.encode(), p)
sys.exit(rc)
"""


def llamacpp_quantize(src: str, dst: str, type_name: str, threads: int, pure: bool = False) -> None:
    subprocess.run([LLAMACPP_PY, "-c", LLAMACPP_SCRIPT, src, dst, str(FTYPE[type_name]), "1" if pure else "0",
                    str(threads)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def llamacpp_version() -> str:
    return subprocess.run([LLAMACPP_PY, "-c", "import llama_cpp; print(llama_cpp.__version__)"], check=True,
                          capture_output=True, text=True).stdout.strip()


def heavy_tailed_copy(src: str, dst: str, df: float, seed: int = 0) -> None:
    """dst: src with every 2-D tensor replaced by Student-t(df) values of the same RMS (F16), a
    stand-in for real weights, whose outliers stress the scale search more than Gaussian ones."""
    from pyllama_edge import GGUFFile
    from pyllama_edge.gguf_writer import StreamingGGUFWriter

    rng = np.random.default_rng(seed)
    with GGUFFile(src) as g:
        alignment, kv = g.alignment, g.metadata_pairs()
    r = gguf.GGUFReader(src)
    table = [(t.name, [int(d) for d in t.shape], int(t.tensor_type), int(t.n_bytes)) for t in r.tensors]
    with StreamingGGUFWriter(dst, kv, table, alignment) as w:
        for t in r.tensors:
            data = np.asarray(t.data)
            if len(t.shape) >= 2:
                x = data.astype(np.float32)
                y = rng.standard_t(df, size=x.shape).astype(np.float32)
                y *= np.sqrt(np.mean(x ** 2)) / np.sqrt(np.mean(y ** 2))
                data = y.astype(data.dtype)
            w.write(np.ascontiguousarray(data))
            w.end_tensor()


def tensors(path: str):
    r = gguf.GGUFReader(path)
    return {t.name: t for t in r.tensors}


def dequant(t) -> np.ndarray:
    return np.asarray(gguf.quants.dequantize(t.data, t.tensor_type), dtype=np.float32).reshape(-1)


def record(path: Path, threads: int) -> int:
    """Quantize every fixture model to every file type with llama.cpp (and ours, for the report) and
    write the fixture: per model the generator arguments, the source digest, shapes and hyper-
    parameters; per file type llama.cpp's type for every tensor and, for ``rmse`` models, its RMSE
    per matrix (ours beside it, for reference only: the test recomputes ours)."""
    import shutil

    work = Path(tempfile.mkdtemp(prefix="quant_fixture_"))
    out = dict(
        about="Per-tensor types and RMSE of llama.cpp's quantizer (llama_model_quantize, normal mix, no imatrix) "
              "on deterministic F16 synthetic Llama files; written by bench/quant_error.py --record, checked by "
              "tests/test_quantize_mix.py. RMSE: gguf.quants.dequantize of the output minus the F16 source, float64.",
        llama_cpp_python=llamacpp_version(), gguf=getattr(gguf, "__version__", None) or _dist_version("gguf"),
        numpy=np.__version__, models=[])
    print(f"llama-cpp-python {out['llama_cpp_python']}")
    print(f"{'model':22} {'type':7} {'diffs':>5} {'RMSE ours':>10} {'RMSE llama':>10} {'ratio':>6} {'worst':>6}")
    for spec in quant_fixture.MODELS:
        src = str(work / f"{spec['name']}.gguf")
        quant_fixture.make_source(Path(src), spec["synthetic"])
        meta = ple.GGUFFile(src).metadata
        arch = meta["general.architecture"]
        entry = dict(name=spec["name"], rmse=spec["rmse"], synthetic=spec["synthetic"],
                     source_sha256=quant_fixture.source_digest(src),
                     hparams={k: meta[k] for k in ("general.architecture", f"{arch}.block_count",
                                                   f"{arch}.attention.head_count", f"{arch}.attention.head_count_kv")},
                     shapes=quant_fixture.shapes(src), file_type={}, types={})
        if spec["rmse"]:
            entry["rmse_llamacpp"], entry["rmse_ours_at_record"] = {}, {}
            ref = quant_fixture.source_values(src)
        for type_name in FTYPE:
            theirs, ours = str(work / "llama.gguf"), str(work / "ours.gguf")
            llamacpp_quantize(src, theirs, type_name, threads)
            ple.quantize_model(src, ours, type_name, threads=threads, progress=False)
            t_theirs, t_ours = quant_fixture.types(theirs), quant_fixture.types(ours)
            entry["types"][type_name] = t_theirs
            entry["file_type"][type_name] = int(ple.GGUFFile(theirs).metadata["general.file_type"])
            diffs = sorted(n for n in t_theirs if t_ours.get(n) != t_theirs[n])
            line = f"{spec['name']:22} {type_name:7} {len(diffs):5d}"
            if spec["rmse"]:
                r_t, r_o = quant_fixture.tensor_rmse(ref, theirs), quant_fixture.tensor_rmse(ref, ours)
                entry["rmse_llamacpp"][type_name] = {n: float(f"{v:.6g}") for n, v in r_t.items()}
                entry["rmse_ours_at_record"][type_name] = {n: float(f"{v:.6g}") for n, v in r_o.items()}
                same = [n for n in r_t if n not in diffs]
                tot = lambda r: float(np.sqrt(sum(r[n] ** 2 * ref[n].size for n in same) /  # noqa: E731
                                              sum(ref[n].size for n in same)))
                worst = max(r_o[n] / r_t[n] for n in same)
                line += f" {tot(r_o):10.3e} {tot(r_t):10.3e} {tot(r_o) / tot(r_t):6.3f} {worst:6.3f}"
            print(line)
            for n in diffs:
                print(f"    type differs: {n}: ours {t_ours.get(n)}, llama.cpp {t_theirs[n]}")
        out["models"].append(entry)
        os.remove(src)
    shutil.rmtree(work, ignore_errors=True)
    path.write_text(_dump_json(out) + "\n")
    print(f"wrote {path}")
    return 0


def _dump_json(obj, indent: str = "") -> str:
    """JSON with one line per mapping or list of plain values (a model's types for one file type, its
    shapes ...): short enough to read and to diff."""
    if isinstance(obj, dict) and any(isinstance(v, (dict, list)) and not _flat(v) for v in obj.values()):
        inner = indent + " "
        items = [f"{inner}{json.dumps(k)}: {_dump_json(v, inner)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(obj, list) and not _flat(obj):
        inner = indent + " "
        return "[\n" + ",\n".join(inner + _dump_json(v, inner) for v in obj) + "\n" + indent + "]"
    return json.dumps(obj)


def _flat(v) -> bool:
    vals = v.values() if isinstance(v, dict) else v
    return all(not isinstance(x, (dict, list)) or (isinstance(x, list) and all(not isinstance(y, (dict, list)) for y in x))
               for x in vals)


def _dist_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n-embd", type=int, default=512)
    ap.add_argument("--n-ff", type=int, default=1536)
    ap.add_argument("--n-layer", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--types", default=",".join(FTYPE))
    ap.add_argument("--per-tensor", action="store_true")
    ap.add_argument("--pure", action="store_true", help="every matrix in the base type, on both sides")
    ap.add_argument("--record", nargs="?", type=Path, const=quant_fixture.FIXTURE, metavar="JSON",
                    help="write the llama.cpp fixture (default tests/data/quant_mix_llamacpp.json) and exit")
    ap.add_argument("--student-t", type=float, default=None, metavar="DF",
                    help="replace the Gaussian weights with Student-t(DF) ones (heavier tails, like real weights)")
    ap.add_argument("--json", type=Path, help="also write the summary rows here")
    a = ap.parse_args()
    if a.record:
        return record(a.record, a.threads)
    work = Path(tempfile.mkdtemp(prefix="quant_error_"))
    src = str(work / "src_f16.gguf")
    make_synthetic_llama(src, n_layer=a.n_layer, n_embd=a.n_embd, n_head=a.n_embd // 64, n_head_kv=a.n_embd // 128,
                         n_ff=a.n_ff, weight_type="F16")
    if a.student_t:
        heavy = str(work / "src_t_f16.gguf")
        heavy_tailed_copy(src, heavy, a.student_t)
        src = heavy
    source = tensors(src)
    ref = {name: dequant(t) for name, t in source.items() if len(t.shape) >= 2}
    rows = []
    dist = f"Student-t({a.student_t:g})" if a.student_t else "Gaussian"
    mode = "pure" if a.pure else "llama.cpp's mix"
    print(f"source: {src} (n_embd {a.n_embd}, n_ff {a.n_ff}, n_layer {a.n_layer}, F16, {dist} weights), {mode}")
    print(f"{'type':8} {'tensors':>7} {'RMSE ours':>10} {'RMSE llama':>10} {'ratio':>6} "
          f"{'worst':>6} {'max ours':>9} {'max llama':>9} {'type diffs':>10}")
    for type_name in a.types.split(","):
        ours_path, theirs_path = str(work / f"ours_{type_name}.gguf"), str(work / f"llama_{type_name}.gguf")
        ple.quantize_model(src, ours_path, type_name, threads=a.threads, progress=False, pure=a.pure)
        llamacpp_quantize(src, theirs_path, type_name, a.threads, pure=a.pure)
        ours, theirs = tensors(ours_path), tensors(theirs_path)
        se_o = se_t = 0.0
        n = 0
        mx_o = mx_t = 0.0
        worst = 0.0  # largest per-tensor RMSE ratio ours / llama.cpp
        diffs = []
        for name, x in ref.items():
            to, tt = ours[name].tensor_type.name, theirs[name].tensor_type.name
            if to != tt:
                diffs.append(f"{name}: ours {to}, llama.cpp {tt}")
                continue
            eo, et = dequant(ours[name]) - x, dequant(theirs[name]) - x
            se_o += float(np.sum(eo.astype(np.float64) ** 2))
            se_t += float(np.sum(et.astype(np.float64) ** 2))
            n += x.size
            mo, mt = float(np.abs(eo).max()), float(np.abs(et).max())
            mx_o, mx_t = max(mx_o, mo), max(mx_t, mt)
            rt = float(np.sqrt(np.mean(et.astype(np.float64) ** 2)))
            if rt > 0:
                worst = max(worst, float(np.sqrt(np.mean(eo.astype(np.float64) ** 2))) / rt)
            if a.per_tensor:
                print(f"    {name:28} {to:5} rmse {np.sqrt(np.mean(eo ** 2)):.3e} vs {np.sqrt(np.mean(et ** 2)):.3e}"
                      f"  max {mo:.3e} vs {mt:.3e}")
        r_o, r_t = (se_o / max(n, 1)) ** 0.5, (se_t / max(n, 1)) ** 0.5
        ratio = r_o / r_t if r_t > 0 else float("nan")
        print(f"{type_name:8} {len(ref) - len(diffs):7d} {r_o:10.3e} {r_t:10.3e} {ratio:6.3f} {worst:6.3f} {mx_o:9.3e} {mx_t:9.3e} "
              f"{len(diffs):10d}")
        for d in diffs:
            print("    type differs:", d)
        rows.append(dict(type=type_name, rmse_ours=r_o, rmse_llamacpp=r_t, ratio=ratio, worst_tensor_ratio=worst, max_ours=mx_o,
                         max_llamacpp=mx_t, type_diffs=diffs))
        os.remove(ours_path)
        os.remove(theirs_path)
    if a.json:
        a.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
