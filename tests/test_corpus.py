"""Issue 6 reliability over the real MindSpore corpus (1,090 files from 8 PyPI packages,
downloaded by tools/corpus.py into the user cache, never committed): no crash or
traceback; `fix --write --unsafe-fixes` output re-parses; a second pass changes nothing;
files without fixes are not rewritten."""

import shutil
import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from corpus import corpus_files, ensure_corpus  # noqa: E402


@pytest.fixture(scope="module")
def corpus_copy(tmp_path_factory):
    src = ensure_corpus()
    dst = tmp_path_factory.mktemp("corpus") / "src"
    shutil.copytree(src, dst)
    return dst


def _snapshot(root: Path):
    return {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(root.rglob("*.py"))}


def _fix(root: Path):
    return subprocess.run([sys.executable, "-m", "msfix", "fix", "--write", "--unsafe-fixes", "--no-cache",
                           "--output-format", "concise", str(root)], capture_output=True, text=True, timeout=1800)


def test_corpus_is_the_expected_one(corpus_copy):
    files = corpus_files(corpus_copy)
    assert len(files) == 1090
    assert sum(f.read_bytes().count(b"\n") for f in files) == 212187


def test_fix_over_the_corpus(corpus_copy):
    before = _snapshot(corpus_copy)
    first = _fix(corpus_copy)
    assert "Traceback" not in first.stderr
    assert "internal error" not in first.stderr
    # every error line names a file and is a parse error of a file that is not Python 3
    for line in first.stderr.splitlines():
        assert line.startswith("msfix: error: "), line
        assert "does not parse" not in line, line  # a fix broke a file
        assert "syntax error" in line or "cannot parse" in line, line
    assert first.returncode in (0, 1, 2)
    after = _snapshot(corpus_copy)
    changed = [p for p in after if after[p][1] != before[p][1]]
    assert changed, "the corpus has fixable problems; nothing was fixed"
    for p in changed:
        cst.parse_module(after[p][1])  # every fixed file re-parses
    for p in after:
        if p not in changed:
            assert after[p][0] == before[p][0], f"{p} was rewritten without a change"
    second = _fix(corpus_copy)
    assert "Traceback" not in second.stderr
    assert "does not parse" not in second.stderr
    assert any(line.startswith("Fixed 0 problems") for line in second.stdout.splitlines()), second.stdout[-500:]
    assert _snapshot(corpus_copy) == after
