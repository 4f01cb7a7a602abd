"""pyllama_edge/_core.pyi lists exactly what the compiled module has: every public name of _core,
of its classes and of its submodules is in the stub, and the stub names nothing else. After a
binding changes, `python tools/make_core_stub.py` rewrites the stub."""
from __future__ import annotations

import ast
import inspect
import types
from pathlib import Path
from typing import Dict, Set

import pyllama_edge
from pyllama_edge import _core

STUB = Path(pyllama_edge.__file__).with_name("_core.pyi")


def _public(names) -> Set[str]:
    return {n for n in names if not n.startswith("_")}


def _module_names(module: types.ModuleType, prefix: str = "") -> Set[str]:
    """Dotted public names of a compiled module: its attributes, its classes' own members (not
    inherited ones) and, recursively, its submodules'."""
    out: Set[str] = set()
    for name in _public(vars(module)):
        value = getattr(module, name)
        out.add(prefix + name)
        if inspect.isclass(value):
            out |= {f"{prefix}{name}.{member}" for member in _public(vars(value))}
        elif isinstance(value, types.ModuleType):
            out |= _module_names(value, f"{prefix}{name}.")
    return out


def _class_members(node: ast.ClassDef) -> Set[str]:
    members: Set[str] = set()
    for item in node.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            members.add(item.name)
        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            members.add(item.target.id)
        elif isinstance(item, ast.Assign):
            members |= {t.id for t in item.targets if isinstance(t, ast.Name)}
    return _public(members)


def _stub_names(tree: ast.Module) -> Set[str]:
    """Dotted public names the stub declares. A submodule is declared as `name: _SomeModule`,
    where `_SomeModule` is a private class of the stub listing the submodule's functions."""
    classes: Dict[str, ast.ClassDef] = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    out: Set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            out.add(node.name)
            out |= {f"{node.name}.{m}" for m in _class_members(node)}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
            out.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name = node.target.id
            if name.startswith("_"):
                continue
            out.add(name)
            annotation = node.annotation.id if isinstance(node.annotation, ast.Name) else None
            if annotation in classes and annotation.startswith("_"):  # a submodule
                out |= {f"{name}.{m}" for m in _class_members(classes[annotation])}
    return out


def test_stub_lists_exactly_the_public_names_of_the_compiled_module():
    tree = ast.parse(STUB.read_text(encoding="utf-8"))
    compiled, stub = _module_names(_core), _stub_names(tree)
    missing, extra = sorted(compiled - stub), sorted(stub - compiled)
    assert not missing and not extra, (
        f"{STUB.name} is out of sync with the compiled module "
        f"(rewrite it with `python tools/make_core_stub.py`):\n"
        f"  in _core but not in the stub: {', '.join(missing) or '-'}\n"
        f"  in the stub but not in _core: {', '.join(extra) or '-'}")


def test_stub_all_matches_the_module():
    tree = ast.parse(STUB.read_text(encoding="utf-8"))
    declared = next(ast.literal_eval(n.value) for n in tree.body
                    if isinstance(n, ast.AnnAssign) and getattr(n.target, "id", None) == "__all__")
    compiled = sorted(_public(vars(_core)))
    assert sorted(declared) == compiled, (
        f"{STUB.name} __all__ differs from _core's public names: "
        f"missing {sorted(set(compiled) - set(declared))}, extra {sorted(set(declared) - set(compiled))}")
