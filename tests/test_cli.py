"""The command line, end to end on real files in a temp dir."""

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from msfix.cli import main
from msfix.rule import all_rules

BAD = "import mindspore.dataset as ds\nd = ds.MnistDataset('m', num_parallel_workers=16)\n"
CLEAN = "import mindspore.nn as nn\nlayer = nn.Dense(3, 4)\n"


def run(*args, cwd=None):
    runner = CliRunner()
    old = os.getcwd()
    try:
        if cwd:
            os.chdir(cwd)
        return runner.invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def write(path: Path, text: str, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, **kw)
    return path


def test_check_clean_file_exits_0(tmp_path):
    f = write(tmp_path / "ok.py", CLEAN)
    r = run("check", str(f))
    assert r.exit_code == 0
    assert "All checks passed!" in r.output


def test_check_reports_path_line_col_code_and_exits_1(tmp_path):
    f = write(tmp_path / "bad.py", BAD)
    r = run("check", str(f))
    assert r.exit_code == 1
    first = r.output.splitlines()[0]
    assert first.startswith(f"{f}:2:47: MS202 [*] `num_parallel_workers=16` raises ValueError")
    assert "2 | d = ds.MnistDataset('m', num_parallel_workers=16)" in r.output
    assert "Found 1 problem (1 error, 0 warnings)." in r.output
    assert "1 fixable with `msfix fix --write`" in r.output


def test_json_output_fields(tmp_path):
    f = write(tmp_path / "bad.py", BAD)
    r = run("check", str(f), "--output-format", "json")
    assert r.exit_code == 1
    items = json.loads(r.output)
    assert len(items) == 1
    d = items[0]
    assert {k: d[k] for k in ("file", "line", "column", "end_line", "end_column", "code", "severity")} == {
        "file": str(f), "line": 2, "column": 47, "end_line": 2, "end_column": 49, "code": "MS202",
        "severity": "error"}
    assert d["fix"]["applicability"] == "safe"
    assert "os.cpu_count()" in d["fix"]["message"]


def test_select_and_ignore_with_prefixes(tmp_path):
    f = write(tmp_path / "s.py", (Path(__file__).parent.parent / "fixtures/seed/train.py").read_text())
    codes = lambda r: {d["code"] for d in json.loads(r.output)}  # noqa: E731
    assert codes(run("check", str(f), "--output-format", "json", "--select", "MS2")) == {
        "MS201", "MS202", "MS203", "MS204", "MS205"} & codes(run("check", str(f), "--output-format", "json"))
    everything = codes(run("check", str(f), "--output-format", "json"))
    assert "MS202" not in codes(run("check", str(f), "--output-format", "json", "--ignore", "MS202"))
    assert codes(run("check", str(f), "--output-format", "json", "--select", "MS2", "--ignore", "MS20")) == \
        {c for c in everything if c.startswith("MS2") and not c.startswith("MS20")}
    assert codes(run("check", str(f), "--output-format", "json", "--select", "MS501,MS401")) == {"MS501", "MS401"}


def test_unknown_code_is_a_usage_error(tmp_path):
    f = write(tmp_path / "ok.py", CLEAN)
    r = run("check", str(f), "--select", "XYZ9")
    assert r.exit_code == 2
    assert "unknown rule code or prefix `XYZ9`" in r.output


def test_noqa_bare_and_with_code(tmp_path):
    f = write(tmp_path / "n.py", "import mindspore.dataset as ds\n"
              "a = ds.MnistDataset('m', num_parallel_workers=16)  # noqa: MS202\n"
              "b = ds.MnistDataset('m', num_parallel_workers=16)  # noqa\n"
              "c = ds.MnistDataset('m', num_parallel_workers=16)  # noqa: MS101\n")
    r = run("check", str(f), "--output-format", "json", "--select", "MS202")
    assert [d["line"] for d in json.loads(r.output)] == [4]


def test_config_in_pyproject_select_ignore_exclude(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.msfix]\nignore = ["MS202"]\nexclude = ["generated"]\n')
    write(tmp_path / "pkg" / "a.py", BAD)
    write(tmp_path / "generated" / "b.py", "import mindspore.nn as nn\nnn.ResNet50()\n")
    r = run("check", "pkg", "generated", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    write(tmp_path / "pyproject.toml", '[tool.msfix]\nselect = ["MS1"]\n')
    r = run("check", ".", "--output-format", "json", cwd=tmp_path)
    assert {d["code"] for d in json.loads(r.output)} == {"MS101"}


def test_unknown_config_key_names_the_key(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.msfix]\nselcet = ["MS2"]\n')
    write(tmp_path / "a.py", CLEAN)
    r = run("check", "a.py", cwd=tmp_path)
    assert r.exit_code == 2
    assert "unknown key `selcet`" in r.output


def test_directories_recurse_and_skip_venvs_and_git(tmp_path):
    write(tmp_path / "src" / "deep" / "bad.py", BAD)
    write(tmp_path / ".git" / "x.py", BAD)
    write(tmp_path / ".venv" / "lib" / "y.py", BAD)
    write(tmp_path / "build" / "z.py", BAD)
    write(tmp_path / "env2" / "pyvenv.cfg", "home = /usr\n")
    write(tmp_path / "env2" / "lib" / "w.py", BAD)
    write(tmp_path / "notes.txt", BAD)
    r = run("check", str(tmp_path), "--output-format", "json")
    assert [Path(d["file"]).name for d in json.loads(r.output)] == ["bad.py"]


def test_bad_inputs_one_line_error_exit_2_others_still_checked(tmp_path):
    write(tmp_path / "a_syntax.py", "import mindspore\ndef f(:\n")
    (tmp_path / "b_binary.py").write_bytes(b"\x00\x01\x02mindspore\x00")
    (tmp_path / "c_latin1.py").write_bytes(b"import mindspore\nx = '\xe9t\xe9'\n")
    write(tmp_path / "d_bad.py", BAD)
    missing = tmp_path / "nope.py"
    proc = subprocess.run([sys.executable, "-m", "msfix", "check", str(tmp_path), str(missing),
                           "--output-format", "concise"], capture_output=True, text=True)
    assert proc.returncode == 2
    errors = proc.stderr.strip().splitlines()
    assert len(errors) == 4, proc.stderr
    assert any(str(tmp_path / "a_syntax.py") in e and "syntax error at 2:" in e for e in errors)
    assert any(str(tmp_path / "b_binary.py") in e and "binary" in e for e in errors)
    assert any(str(tmp_path / "c_latin1.py") in e and "not valid utf-8" in e for e in errors)
    assert any(str(missing) in e and "no such file" in e for e in errors)
    assert "Traceback" not in proc.stderr
    # the good-but-defective file was still checked
    assert f"{tmp_path / 'd_bad.py'}:2:47: MS202" in proc.stdout


def test_empty_file_is_checked_without_error(tmp_path):
    f = tmp_path / "__init__.py"
    f.write_bytes(b"")
    proc = subprocess.run([sys.executable, "-m", "msfix", "check", str(f)], capture_output=True, text=True)
    assert proc.returncode == 0
    assert proc.stderr.strip().splitlines() == [f"msfix: warning: {f}: empty file, nothing to check"]
    # inside a directory it is just one more file with nothing to report
    proc = subprocess.run([sys.executable, "-m", "msfix", "check", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr == ""


def test_fix_without_write_shows_diff_and_keeps_file(tmp_path):
    f = write(tmp_path / "bad.py", BAD)
    before = f.read_bytes()
    r = run("fix", str(f))
    assert r.exit_code == 1
    assert "+d = ds.MnistDataset('m', num_parallel_workers=min(16, os.cpu_count() or 1))" in r.output
    assert "+import os" in r.output
    assert f.read_bytes() == before


def test_fix_write_applies_safe_fixes_and_exits_0(tmp_path):
    f = write(tmp_path / "bad.py", BAD)
    os.chmod(f, 0o640)
    r = run("fix", "--write", str(f))
    assert r.exit_code == 0, r.output
    assert f.read_text() == ("import mindspore.dataset as ds\nimport os\n"
                             "d = ds.MnistDataset('m', num_parallel_workers=min(16, os.cpu_count() or 1))\n")
    assert oct(f.stat().st_mode & 0o777) == oct(0o640)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".bad.py")]  # no temp file left
    # a second run changes nothing and does not rewrite the file
    mtime = f.stat().st_mtime_ns
    r = run("fix", "--write", str(f))
    assert r.exit_code == 0
    assert f.stat().st_mtime_ns == mtime


def test_unsafe_fixes_are_held_back_and_counted(seed_copy):
    r = run("fix", "--write", str(seed_copy))
    assert "unsafe fixes held back (enable with `--unsafe-fixes`)" in r.output
    text = seed_copy.read_text()
    assert 'usage="train"' not in text  # MS201's fix is unsafe
    assert "nn.ResNet50(num_classes=num_classes)" in text  # so is MS101's
    assert "ckpt_cb.latest_ckpt_file_name" in text  # MS501's is safe
    r = run("fix", "--write", "--unsafe-fixes", str(seed_copy))
    text = seed_copy.read_text()
    assert 'usage="train"' in text and 'usage="test"' in text
    r = run("check", str(seed_copy), "--output-format", "json")
    remaining = json.loads(r.output)
    assert remaining == []  # MS101's nn.ResNet50 -> mindcv resnet50 is unsafe too
    assert "mindcv_resnet50(num_classes=num_classes)" in text


def test_fix_keeps_crlf_bom_and_encoding(tmp_path):
    crlf = tmp_path / "crlf.py"
    crlf.write_bytes(BAD.replace("\n", "\r\n").encode())
    bom = tmp_path / "bom.py"
    bom.write_bytes(b"\xef\xbb\xbf" + BAD.encode())
    gbk = tmp_path / "gbk.py"
    gbk.write_bytes("# -*- coding: gbk -*-\n# 数据集\n".encode("gbk") + BAD.encode("gbk"))
    r = run("fix", "--write", str(crlf), str(bom), str(gbk))
    assert r.exit_code == 0, r.output
    assert crlf.read_bytes() == (b"import mindspore.dataset as ds\r\nimport os\r\n"
                                 b"d = ds.MnistDataset('m', num_parallel_workers=min(16, os.cpu_count() or 1))\r\n")
    assert bom.read_bytes().startswith(b"\xef\xbb\xbfimport mindspore.dataset as ds\nimport os\n")
    raw = gbk.read_bytes()
    assert "# 数据集".encode("gbk") in raw and b"min(16, os.cpu_count() or 1)" in raw


def test_fix_that_breaks_syntax_is_not_written(tmp_path, monkeypatch):
    from msfix import engine
    from msfix.diagnostics import Edit

    f = write(tmp_path / "bad.py", BAD)
    before = f.read_bytes()
    real = engine.select_edits

    def broken(diags, unsafe, *args):
        edits, n = real(diags, unsafe, *args)
        return edits + [Edit(0, 0, "def (\n")], n

    monkeypatch.setattr(engine, "select_edits", broken)
    r = run("fix", "--write", str(f))
    assert r.exit_code == 2
    assert "produced code that does not parse" in r.output
    assert f.read_bytes() == before


def test_rules_table_and_rule_docs():
    r = run("rules", "--output-format", "json")
    codes = [x["code"] for x in json.loads(r.output)]
    assert codes == [rule.code for rule in all_rules()]
    r = run("rule", "MS201")
    assert r.exit_code == 0
    for section in ("# MS201 dataset-split-without-usage", "## What it does", "## Why is this bad?",
                    "## Example", "## Fix safety"):
        assert section in r.output
    assert run("rule", "MS999").exit_code == 2


def test_every_rule_doc_has_the_four_sections():
    for rule in all_rules():
        doc = rule.documentation()
        for section in ("## What it does", "## Why is this bad?", "## Example", "## Fix safety"):
            assert section in doc, f"{rule.code} lacks {section}"


def test_check_never_imports_mindspore_or_runs_the_script(tmp_path):
    marker = tmp_path / "ran.txt"
    script = write(tmp_path / "evil.py", f"import mindspore.nn as nn\nopen({str(marker)!r}, 'w').write('x')\n"
                   "import socket\nsocket.create_connection(('127.0.0.1', 9))\nnn.ResNet50()\n")
    code = ("import sys, runpy\nsys.argv = ['msfix', 'fix', '--write', '--unsafe-fixes', sys.argv[1]]\n"
            "from msfix.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "assert 'mindspore' not in sys.modules, 'mindspore was imported'\n"
            "assert 'numpy' not in sys.modules\n")
    proc = subprocess.run([sys.executable, "-c", code, str(script)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert not marker.exists()


def test_version_and_help():
    assert run("--version").output.startswith("msfix, version")
    assert "check" in run("--help").output


def test_exit_zero(tmp_path):
    f = write(tmp_path / "bad.py", BAD)
    r = run("check", "--exit-zero", str(f))
    assert r.exit_code == 0
    assert "MS202" in r.output


def test_fix_without_write_says_nothing_was_written(tmp_path):
    f = write(tmp_path / "bad.py", BAD)
    r = run("fix", str(f))
    assert "Would fix 1 problem in 1 file; 0 remaining (0 errors, 0 warnings) (nothing written: use `--write`)." \
        in r.output
    r = run("fix", "--write", str(f))
    assert "Fixed 1 problem in 1 file; 0 remaining (0 errors, 0 warnings)." in r.output
