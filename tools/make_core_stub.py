"""Writes pyllama_edge/_core.pyi from the compiled module (run after a binding changes; the test
tests/test_core_stub.py fails until the stub matches the module).

    pip install pybind11-stubgen && python tools/make_core_stub.py   # from outside the checkout's
                                                                      # package, see below

pybind11-stubgen writes one file per submodule (a `_core/` stub package); the package keeps one
`_core.pyi` beside the extension, so each submodule becomes a private ``ModuleType`` subclass
whose static methods are the submodule's functions, and ``name: _NameModule`` declares it.
The module imported is the installed ``pyllama_edge._core`` (the checkout's folder has no compiled
core): run it with the interpreter the package is installed in, from any directory but the
repository root.
"""
from __future__ import annotations

import ast
import re
import subprocess
import sys
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "pyllama_edge" / "_core.pyi"


def _submodule_class(name: str, text: str) -> str:
    """A submodule stub as `class _<Name>Module(types.ModuleType)` with static methods."""
    tree = ast.parse(text)
    lines = text.splitlines()
    body = [f"class _{name.title()}Module(types.ModuleType):"]
    doc = ast.get_docstring(tree)
    if doc:
        body.append(f'    """{doc.strip()}"""')
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            start = (node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1
            body.append("    @staticmethod")
            body += ["    " + line for line in lines[start:node.end_lineno]]
    return "\n".join(body)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pybind11_stubgen", "pyllama_edge._core", "-o", tmp], check=True)
        folder = Path(tmp) / "pyllama_edge" / "_core"
        text = (folder / "__init__.pyi").read_text()
        classes = []
        for sub in sorted(folder.glob("*.pyi")):
            if sub.name == "__init__.pyi":
                continue
            name = sub.stem
            classes.append(_submodule_class(name, sub.read_text()))
            text = re.sub(rf"^from \. import {name}\n", "", text, flags=re.M)
            text = text.rstrip("\n") + f"\n{name}: _{name.title()}Module\n"
        if classes:
            # The submodule classes go before the first class of the module.
            text = text.replace("import typing\n", "import types\nimport typing\n", 1)
            first = re.search(r"^class ", text, flags=re.M)
            text = text[:first.start()] + "\n".join(classes) + "\n" + text[first.start():]
    text = text.replace('"""\npyllama_edge native core\n"""',
                        '"""\npyllama_edge native core (type stubs written by tools/make_core_stub.py)\n"""', 1)
    OUT.write_text(text)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
