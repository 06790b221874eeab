#!/usr/bin/env python3
"""Build msfix's registry of mindcv models (run by a developer, not at lint time).

mindcv is MindSpore's model zoo: `nn.ResNet50` does not exist in MindSpore, but
`mindcv.models.resnet50` does. MS101 uses this registry to rewrite model-zoo names to
the mindcv constructor.

What it does: reads the mindcv wheel *statically* (zip + :mod:`ast`, nothing is
imported or run), finds in ``mindcv/models/*.py`` every top-level function decorated
with ``@register_model`` (what ``mindcv.models.list_models()`` returns: the decorator
adds the function to the module's ``__all__``, and ``mindcv/models/__init__.py``
star-imports every model module, so ``from mindcv.models import <name>`` works), and
records its module and its signature: parameter names in order, each with the source
text of its default (``None`` when it has none), and whether it takes ``*args`` /
``**kwargs``. Writes ``msfix/knowledge/data/mindcv_models.json``: sorted keys, no
timestamps, with the wheel's file name and sha256, so a rerun on the same wheel is byte
for byte the same.

Usage::

    python tools/build_mindcv_registry.py                  # download (if needed) + build
    python tools/build_mindcv_registry.py --wheel /tmp/mindcv/mindcv-0.3.0-py3-none-any.whl
    python tools/build_mindcv_registry.py --check          # rebuild in memory, compare

The wheel is fetched with ``pip download --no-deps mindcv==VERSION`` into a cache
directory outside the repository (default ``~/.cache/msfix-mindcv-wheels``).
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

VERSION = "0.3.0"
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "msfix" / "knowledge" / "data" / "mindcv_models.json"
DEFAULT_CACHE = Path(os.path.expanduser("~/.cache/msfix-mindcv-wheels"))
MODELS_DIR = "mindcv/models/"


def _is_register(dec: ast.expr) -> bool:
    if isinstance(dec, ast.Call):
        dec = dec.func
    return (isinstance(dec, ast.Name) and dec.id == "register_model") or \
        (isinstance(dec, ast.Attribute) and dec.attr == "register_model")


def _params(fn: ast.FunctionDef) -> dict:
    a = fn.args
    positional = a.posonlyargs + a.args
    defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    params = [[p.arg, None if d is None else ast.unparse(d)] for p, d in zip(positional, defaults)]
    kwonly = [[p.arg, None if d is None else ast.unparse(d)] for p, d in zip(a.kwonlyargs, a.kw_defaults)]
    return {
        "params": params,
        "kwonly": kwonly,
        "varargs": a.vararg is not None,
        "kwargs": a.kwarg is not None,
    }


def models_in_sources(files) -> dict:
    """{model name: {"module": ..., "params": [[name, default source or None], ...], ...}}
    from (path inside the package, source text) pairs, e.g. "mindcv/models/resnet.py"."""
    out: dict = {}
    for name, text in sorted(files):
        if not (name.startswith(MODELS_DIR) and name.endswith(".py")) or "/" in name[len(MODELS_DIR):]:
            continue  # only the model modules themselves (layers/ has no registered models)
        tree = ast.parse(text, filename=name)
        module = "mindcv.models." + name[len(MODELS_DIR):-3]
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and any(_is_register(d) for d in node.decorator_list):
                if node.name in out:
                    raise SystemExit(f"{node.name} registered twice ({out[node.name]['module']}, {module})")
                out[node.name] = {"module": module, **_params(node)}
    return out


def models_in_wheel(wheel: Path) -> dict:
    with zipfile.ZipFile(wheel) as z:
        return models_in_sources((i.filename, z.read(i).decode("utf-8")) for i in z.infolist()
                                 if i.filename.startswith(MODELS_DIR))


def models_in_package(package_dir: Path) -> dict:
    """The same, from an installed `mindcv` package directory (read, never imported)."""
    root = Path(package_dir).parent
    return models_in_sources((p.relative_to(root).as_posix(), p.read_text(encoding="utf-8"))
                             for p in (Path(package_dir) / "models").glob("*.py"))


def build(wheel: Path) -> str:
    data = {
        "_comment": ("mindcv model registry read statically from the wheel named in `source` by "
                     "tools/build_mindcv_registry.py (do not edit by hand): every @register_model "
                     "function of mindcv/models, importable as `from mindcv.models import <name>`, "
                     "with its module and parameters ([name, default source or null])."),
        "source": {
            "package": "mindcv",
            "version": VERSION,
            "wheel": wheel.name,
            "sha256": hashlib.sha256(wheel.read_bytes()).hexdigest(),
        },
        "models": models_in_wheel(wheel),
    }
    # one model a line: small, and a diff of a new wheel reads model by model
    lines = ["{"]
    for key in ("_comment", "source"):
        lines.append(f" {json.dumps(key)}: {json.dumps(data[key], sort_keys=True, ensure_ascii=False)},")
    lines.append(' "models": {')
    models = data["models"]
    for i, name in enumerate(sorted(models)):
        comma = "," if i < len(models) - 1 else ""
        lines.append(f"  {json.dumps(name)}: {json.dumps(models[name], sort_keys=True, ensure_ascii=False)}{comma}")
    lines += [" }", "}"]
    text = "\n".join(lines) + "\n"
    assert json.loads(text) == data
    return text


def fetch(cache: Path) -> Path:
    wheel = cache / f"mindcv-{VERSION}-py3-none-any.whl"
    if not wheel.exists():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", f"mindcv=={VERSION}",
                        "-d", str(cache)], check=True)
    if not wheel.exists():
        raise SystemExit(f"pip download did not produce {wheel}")
    return wheel


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wheel", type=Path, help="the mindcv wheel to read (default: download into --cache)")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--check", action="store_true", help="rebuild in memory and compare with the shipped file")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    wheel = args.wheel or fetch(args.cache)
    text = build(wheel)
    if args.check:
        have = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if have != text:
            print(f"{args.out} differs from a rebuild from {wheel.name}", file=sys.stderr)
            return 1
        print(f"{args.out}: up to date ({wheel.name})")
        return 0
    args.out.write_text(text, encoding="utf-8", newline="\n")
    n = len(json.loads(text)["models"])
    print(f"wrote {args.out} ({n} models from {wheel.name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
