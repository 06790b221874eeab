#!/usr/bin/env python3
"""Download the real MindSpore code corpus used by the benchmark and the corpus checks.

The corpus is the Python code inside these PyPI packages (1,090 .py files, about 212k
lines). It is downloaded with pip into a cache directory outside the repository and
unpacked there; nothing of it is committed.

    python tools/corpus.py            # download (if needed) and print the source root
    python tools/corpus.py --list     # print every .py file
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

PACKAGES = [
    "mindcv==0.3.0",
    "mindocr==0.5.0",
    "mindyolo==0.5.0",
    "mindaudio==0.3.0",
    "troubleshooter==1.0.18",
    "mindspore-gs==1.4.1",
    "mindspore-rl==0.7.0",
    "mindsporetrainer==0.2.0",
]


def cache_root() -> Path:
    base = os.environ.get("MSFIX_CORPUS_DIR")
    if base:
        return Path(base)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "msfix-corpus"


def _unpack(archive: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                if name.endswith(".py") and ".." not in name:
                    target = dest / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(zf.read(name))
    else:
        with tarfile.open(archive) as tf:
            for member in tf.getmembers():
                if member.isfile() and member.name.endswith(".py") and ".." not in member.name:
                    target = dest / member.name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    f = tf.extractfile(member)
                    if f is not None:
                        target.write_bytes(f.read())


def ensure_corpus(packages=PACKAGES, quiet: bool = True) -> Path:
    root = cache_root()
    wheels = root / "wheels"
    src = root / "src"
    wheels.mkdir(parents=True, exist_ok=True)
    for spec in packages:
        name, version = spec.split("==")
        dest = src / f"{name}-{version}"
        if (dest / ".done").exists():
            continue
        norm = name.replace("-", "_").lower()
        found = [p for p in wheels.iterdir() if p.name.lower().replace("-", "_").startswith(f"{norm}_{version}")]
        if not found:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(wheels), spec]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL if quiet else None)
            found = [p for p in wheels.iterdir() if p.name.lower().replace("-", "_").startswith(f"{norm}_{version}")]
        if not found:
            raise SystemExit(f"pip did not download {spec}")
        _unpack(found[0], dest)
        (dest / ".done").write_text(found[0].name)
    return src


def corpus_files(root: Path, packages=PACKAGES):
    out = []
    for spec in packages:
        name, version = spec.split("==")
        out.extend(sorted((root / f"{name}-{version}").rglob("*.py")))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--list", action="store_true", help="print every .py file of the corpus")
    args = ap.parse_args()
    root = ensure_corpus(quiet=False)
    files = corpus_files(root)
    if args.list:
        for f in files:
            print(f)
    else:
        lines = sum(f.read_bytes().count(b"\n") for f in files)
        print(f"{root}  ({len(files)} .py files, {lines} lines)")


if __name__ == "__main__":
    main()
