"""Reliability: bad input never crashes msfix, fixes never break code or touch bytes
outside their ranges, and random edits of the fixtures never crash the engine."""

import os
import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from msfix.engine import apply_edits, fix_text, lint_text, select_edits
from msfix.rule import all_rules, rule_by_code

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
BAD_FIXTURES = sorted(p for p in FIXTURES.glob("*/bad*.py")
                      if not p.name.endswith(("fixed.py",)) and p.parent.name != "smoke")
DEFECT = "import mindspore.dataset as ds\nd = ds.MnistDataset('m', num_parallel_workers=16)\n"


def msfix(*args, **kw):
    return subprocess.run([sys.executable, "-m", "msfix", *args], capture_output=True, text=True, **kw)


def _one_line_errors(stderr: str):
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert "Traceback" not in stderr
    return lines


def test_large_generated_file_finishes(tmp_path):
    big = tmp_path / "big.py"
    # generated code: long constant lines, as in exported weights or lookup tables
    body = "".join(f'W{i} = "{i * 2654435761:032x}{i * 40503:032x}{i * 7:032x}{i:032x}"  # generated\n'
                   for i in range(40_000))
    big.write_text("import mindspore.nn as nn\nlayer = nn.Dense(3, 4)\n" + body)
    assert big.stat().st_size > 5_000_000
    ok = tmp_path / "ok.py"
    ok.write_text(DEFECT)
    proc = msfix("check", str(big), str(ok), "--output-format", "concise", timeout=600)
    assert proc.returncode == 1, proc.stderr
    assert f"{ok}:2:47: MS202" in proc.stdout


def test_file_over_the_size_limit_is_skipped_with_a_message(tmp_path):
    big = tmp_path / "big.py"
    big.write_text("import mindspore\n" + "x = 1\n" * 200_000)
    ok = tmp_path / "ok.py"
    ok.write_text(DEFECT)
    proc = msfix("check", str(big), str(ok), "--config", "max-file-size=100000", "--output-format", "concise")
    assert proc.returncode == 2
    errors = _one_line_errors(proc.stderr)
    assert len(errors) == 1 and str(big) in errors[0] and "size limit" in errors[0]
    assert f"{ok}:2:47: MS202" in proc.stdout


def test_directory_symlink_loop_terminates(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text(DEFECT)
    os.symlink(tmp_path, tmp_path / "pkg" / "loop")
    os.symlink(tmp_path / "pkg" / "self", tmp_path / "pkg" / "self")  # a link to itself
    proc = msfix("check", str(tmp_path), "--output-format", "concise", timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.count("MS202") == 1
    # the self-referencing link named explicitly: one line, exit 2
    proc = msfix("check", str(tmp_path / "pkg" / "self"), str(tmp_path / "pkg" / "a.py"))
    assert proc.returncode == 2
    errors = _one_line_errors(proc.stderr)
    assert len(errors) == 1 and "self" in errors[0]


def test_file_without_read_permission(tmp_path):
    secret = tmp_path / "secret.py"
    secret.write_text(DEFECT)
    secret.chmod(0o000)
    ok = tmp_path / "ok.py"
    ok.write_text(DEFECT)
    os.chmod(tmp_path, 0o755)
    for parent in tmp_path.parents:
        if parent == Path("/"):
            break
        if not os.stat(parent).st_mode & 0o001:
            os.chmod(parent, os.stat(parent).st_mode | 0o001)  # let the unprivileged user traverse
    cmd = [sys.executable, "-m", "msfix", "check", "--no-cache", str(secret), str(ok), "--output-format", "concise"]
    if os.geteuid() == 0:  # root reads anything: run as an unprivileged user
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    errors = _one_line_errors(proc.stderr)
    assert errors == [f"msfix: error: {secret}: permission denied"]
    assert f"{ok}:2:47: MS202" in proc.stdout


def test_bom_file_is_checked_correctly(tmp_path):
    f = tmp_path / "bom.py"
    f.write_bytes(b"\xef\xbb\xbf" + DEFECT.encode())
    proc = msfix("check", str(f), "--output-format", "concise")
    assert proc.returncode == 1
    assert f"{f}:2:47: MS202" in proc.stdout  # columns are not shifted by the BOM


def test_gbk_file_is_checked_correctly(tmp_path):
    f = tmp_path / "gbk.py"
    f.write_bytes("# -*- coding: gbk -*-\n# 训练脚本\n".encode("gbk") + DEFECT.encode())
    proc = msfix("check", str(f), "--output-format", "concise")
    assert proc.returncode == 1, proc.stderr
    assert f"{f}:4:47: MS202" in proc.stdout


def test_crlf_positions_and_fix(tmp_path):
    f = tmp_path / "crlf.py"
    f.write_bytes(DEFECT.replace("\n", "\r\n").encode())
    proc = msfix("check", str(f), "--output-format", "concise")
    assert f"{f}:2:47: MS202" in proc.stdout
    msfix("fix", "--write", str(f))
    assert b"\n" not in f.read_bytes().replace(b"\r\n", b"")


@pytest.mark.parametrize("path", BAD_FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixes_touch_only_their_ranges(path):
    """The fixed text is the original with exactly the fixes' edit ranges replaced: every
    byte outside them, line endings included, is copied unchanged and in order."""
    rules = list(all_rules()) if path.parent.name == "seed" else [rule_by_code(path.parent.name)]
    text = path.read_text()
    out = lint_text(text, rules)
    edits, n = select_edits(out.diagnostics, unsafe=True)
    fixed = apply_edits(text, edits)
    # walk the original: outside edit ranges, text must be copied unchanged and in order
    pos = 0
    rebuilt = []
    for e in sorted(edits, key=lambda e: (e.start, e.end)):
        rebuilt.append(text[pos:e.start])
        rebuilt.append(e.text)
        pos = e.end
    rebuilt.append(text[pos:])
    assert "".join(rebuilt) == fixed
    for e in edits:
        assert 0 <= e.start <= e.end <= len(text)
        assert text.count("\n", 0, e.start) == text[:e.start].count("\n")
    cst.parse_module(fixed)


def _mutations(lines):
    ops = st.one_of(
        st.tuples(st.just("del"), st.integers(0, max(0, len(lines) - 1))),
        st.tuples(st.just("dup"), st.integers(0, max(0, len(lines) - 1))),
        st.tuples(st.just("swap"), st.integers(0, max(0, len(lines) - 1)), st.integers(0, max(0, len(lines) - 1))),
    )
    return st.lists(ops, min_size=1, max_size=4)


def _apply(lines, muts):
    lines = list(lines)
    for m in muts:
        if not lines:
            break
        i = m[1] % len(lines)
        if m[0] == "del":
            del lines[i]
        elif m[0] == "dup":
            lines.insert(i, lines[i])
        else:
            j = m[2] % len(lines)
            lines[i], lines[j] = lines[j], lines[i]
    return "".join(lines)


SOURCES = [p.read_text() for p in BAD_FIXTURES]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(range(len(SOURCES))), st.data())
def test_random_line_edits_never_crash_or_break_fixes(index, data):
    lines = SOURCES[index].splitlines(keepends=True)
    text = _apply(lines, data.draw(_mutations(lines)))
    try:
        cst.parse_module(text)
    except Exception:
        return  # not Python any more: the engine reports it as a syntax error (tested elsewhere)
    rules = all_rules()
    out = lint_text(text, rules)
    assert out.internal_errors == []
    fixed, remaining, _, err = fix_text(text, rules, unsafe=True)
    assert err is None, err
    cst.parse_module(fixed)
