"""Project issue 14: the command line behaves like ruff where users expect it. Each test
runs the real CLI on real files in a temporary directory."""

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from msfix.cli import main

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "fixtures" / "seed" / "train.py"
BAD = "import mindspore.dataset as ds\nd = ds.MnistDataset('m', num_parallel_workers=16)\n"
# MS102 (safe fix, adds nothing) on line 2; MS202 on line 4 (safe fix adds `import os`, shifting lines)
TWO = ("import mindspore.dataset as ds\n"
       "from mindspore.train.callback import LossMonitor\n"
       "\n"
       "d = ds.MnistDataset('m', num_parallel_workers=16)\n")


def run(*args, cwd=None, input=None, env=None):
    old = os.getcwd()
    try:
        if cwd:
            os.chdir(cwd)
        return CliRunner().invoke(main, list(args), catch_exceptions=False, input=input, env=env)
    finally:
        os.chdir(old)


def msfix(*args, cwd=None, input=None, env=None, timeout=300):
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "msfix", *args], cwd=cwd, input=input, capture_output=True,
                          text=True, env=full_env, timeout=timeout)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def concise_codes(output: str):
    return sorted(re.findall(r"^(\S+?):(\d+):(\d+): (\w+)", output, re.M))


# -- 1. fix reports positions in the file on disk; consistent counts ------------------------
SHIFT = ("import mindspore.dataset as ds\n"
         "from mindspore.train.callback import LossMonitor\n"
         "import mindspore.nn as nn\n"
         "\n"
         "d = ds.MnistDataset('m', num_parallel_workers=16)\n"
         "layer = nn.Dense(3)\n")  # MS106 (no fix) on line 6; MS202's fix adds `import os` above it


def test_fix_dry_run_reports_positions_of_the_file_on_disk(tmp_path):
    f = write(tmp_path / "train.py", SHIFT)
    r = run("fix", "--diff", str(f))
    assert "+import os" in r.output  # the fixed text has one line more above `layer`
    m = re.search(rf"^{re.escape(str(f))}:(\d+):(\d+): MS106", r.output, re.M)
    assert m and (m.group(1), m.group(2)) == ("6", "9"), r.output
    # the snippet is the line on disk and the caret sits under `nn.Dense(3)`
    snippet = r.output[m.end():].splitlines()
    assert snippet[2] == "6 | layer = nn.Dense(3)" and snippet[3] == "  |         ^^^^^^^^^^^"
    # JSON says the same, and agrees with `check` for what remains
    remaining = [(d["code"], d["line"], d["column"], d["end_line"], d["end_column"]) for d in json.loads(
        run("fix", "--output-format", "json", str(f)).output)]
    checked = [(d["code"], d["line"], d["column"], d["end_line"], d["end_column"]) for d in json.loads(
        run("check", "--output-format", "json", str(f)).output)]
    assert remaining == [x for x in checked if x[0] == "MS106"] == [("MS106", 6, 9, 6, 20)]
    # with --write the file is the fixed text, and positions are those of the fixed text
    r = run("fix", "--write", "--output-format", "concise", str(f))
    assert f"{f}:7:9: MS106" in r.output and f.read_text().splitlines()[6] == "layer = nn.Dense(3)"


def test_fix_dry_run_maps_a_column_shifted_on_the_same_line(tmp_path):
    # line 3 has two problems: MS202's safe fix lengthens the line, MS205's unsafe fix is
    # held back; MS205 is reported at its column on disk (and `import os` added above
    # does not shift the line number)
    g = write(tmp_path / "u.py", "import mindspore.dataset as ds\n"
              "d = ds.MnistDataset('m', num_parallel_workers=16).batch(32, drop_remainder=True)\n"
              "ev = ds.MnistDataset('m', usage='test', num_parallel_workers=16).batch(32, drop_remainder=True)\n")
    check = {(d["code"], d["line"], d["column"]) for d in json.loads(
        run("check", "--output-format", "json", str(g)).output)}
    remaining = json.loads(run("fix", "--output-format", "json", str(g)).output)
    assert [d["code"] for d in remaining] == ["MS205"], remaining
    assert {(d["code"], d["line"], d["column"]) for d in remaining} <= check
    text = run("fix", str(g)).output
    assert "3 | ev = ds.MnistDataset('m', usage='test', num_parallel_workers=16).batch(32, drop_remainder=True)" \
        in text


def test_fix_dry_run_on_a_notebook_reports_cell_positions_on_disk(tmp_path):
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                     "source": ["%matplotlib inline\n", "import mindspore.dataset as ds\n"]},
                    {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                     "source": ["ev = ds.MnistDataset('m', usage='test', num_parallel_workers=16)"
                                ".batch(32, drop_remainder=True)"]}],
          "metadata": {"language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5}
    f = write(tmp_path / "nb.ipynb", json.dumps(nb, indent=1))
    check = {(d["code"], d["cell"], d["line"], d["column"]) for d in json.loads(
        run("check", "--output-format", "json", str(f)).output)}
    remaining = json.loads(run("fix", "--output-format", "json", str(f)).output)
    assert [d["code"] for d in remaining] == ["MS205"]
    assert {(d["code"], d["cell"], d["line"], d["column"]) for d in remaining} <= check
    text = run("fix", str(f)).output
    assert "1 | ev = ds.MnistDataset('m', usage='test', num_parallel_workers=16).batch" in text  # the cell on disk


def test_rejected_fix_reports_the_file_as_it_is(tmp_path):
    pytest.importorskip("mindspore")
    f = write(tmp_path / "t.py", TWO + "raise RuntimeError('this script does not run')\n")
    checked = run("check", "--output-format", "concise", str(f))
    proc = msfix("fix", "--write", "--smoke", str(f), timeout=600)
    assert "smoke crashed" in proc.stderr and "file left unchanged" in proc.stderr
    assert f.read_text() == TWO + "raise RuntimeError('this script does not run')\n"
    assert "Fixed 0 problems in 0 files; 2 remaining (1 error, 1 warning)." in proc.stdout
    # every diagnostic at its position in the unchanged file, caret under the code
    assert f"{f}:4:47: MS202" in proc.stdout and "4 | d = ds.MnistDataset('m', num_parallel_workers=16)" \
        in proc.stdout
    assert concise_codes(proc.stdout) == concise_codes(checked.output)
    assert proc.returncode == 1  # problems remain; 2 is for usage and read errors


def test_check_and_fix_count_held_back_unsafe_fixes_alike(tmp_path):
    seed = tmp_path / "train.py"
    seed.write_bytes(SEED.read_bytes())
    c = re.search(r"(\d+) more with `--unsafe-fixes`", run("check", str(seed)).output)
    f = re.search(r"(\d+) unsafe fix(?:es)? held back", run("fix", "--diff", str(seed)).output)
    assert c and f and c.group(1) == f.group(1)


# -- 2. --force-exclude -------------------------------------------------------------------------
def test_force_exclude_applies_exclude_to_named_files(tmp_path):
    write(tmp_path / "msfix.toml", 'exclude = ["generated", "vendor/*.py"]\n')
    gen = write(tmp_path / "generated" / "g.py", BAD)
    ven = write(tmp_path / "vendor" / "v.py", BAD)
    own = write(tmp_path / "src" / "own.py", BAD)
    names = [str(gen.relative_to(tmp_path)), str(ven.relative_to(tmp_path)), str(own.relative_to(tmp_path))]
    r = run("check", "--output-format", "concise", *names, cwd=tmp_path)
    assert {p for p, *_ in concise_codes(r.output)} == set(names)  # named files: always checked
    r = run("check", "--output-format", "concise", "--force-exclude", *names, cwd=tmp_path)
    assert {p for p, *_ in concise_codes(r.output)} == {names[2]}
    r = run("check", "--force-exclude", names[0], cwd=tmp_path)
    assert r.exit_code == 0
    # a subdirectory with its own configuration: the parent's exclude still names it
    write(tmp_path / "generated" / "msfix.toml", "ignore = []\n")
    r = run("check", "--output-format", "concise", "--force-exclude", names[0], cwd=tmp_path)
    assert concise_codes(r.output) == []


# -- 3. nearest configuration per file; extend -----------------------------------------------------
def test_each_file_gets_its_nearest_configuration(tmp_path):
    write(tmp_path / "a.py", BAD)
    write(tmp_path / "sub" / "b.py", BAD)
    write(tmp_path / "sub" / "msfix.toml", 'ignore = ["MS202"]\n')
    for args in (["."], ["sub", "a.py"], ["a.py", "sub"], ["sub/b.py", "a.py"]):
        r = run("check", "--output-format", "concise", *args, cwd=tmp_path)
        assert [p for p, *_ in concise_codes(r.output)] == ["a.py"], (args, r.output)
    # `msfix config FILE` names the configuration `check` uses for it
    r = run("config", "sub/b.py", cwd=tmp_path)
    assert f"# config file: {tmp_path / 'sub' / 'msfix.toml'}" in r.output


def test_extend_inherits_and_the_nearer_file_wins(tmp_path):
    # a path pattern in the extended file is relative to that file's directory (as in ruff)
    write(tmp_path / "pyproject.toml", '[tool.msfix]\nignore = ["MS202"]\nexclude = ["proj/skipme"]\n')
    write(tmp_path / "proj" / "msfix.toml", 'extend = "../pyproject.toml"\nextend-select = []\n')
    write(tmp_path / "proj" / "a.py", BAD + "from mindspore.train.callback import LossMonitor\n")
    write(tmp_path / "proj" / "skipme" / "x.py", BAD)
    r = run("check", "--output-format", "concise", "proj", cwd=tmp_path)
    assert [c for *_, c in concise_codes(r.output)] == ["MS102"]  # MS202 ignored, skipme/ excluded
    r = run("config", "proj/a.py", "--output-format", "json", cwd=tmp_path)
    data = json.loads(r.output)
    assert data["settings"]["ignore"] == ["MS202"]
    assert data["sources"]["ignore"] == f"{tmp_path / 'pyproject.toml'} [tool.msfix]"
    assert data["sources"]["extend-select"] == str(tmp_path / "proj" / "msfix.toml")
    assert data["settings"]["exclude"] == [str(tmp_path / "proj" / "skipme")]
    # the extending file wins key by key
    write(tmp_path / "proj" / "msfix.toml", 'extend = "../pyproject.toml"\nignore = []\n')
    r = run("check", "--output-format", "concise", "proj/a.py", cwd=tmp_path)
    assert sorted(c for *_, c in concise_codes(r.output)) == ["MS102", "MS202"]
    # a cycle and a missing base are one-line errors
    write(tmp_path / "pyproject.toml", '[tool.msfix]\nextend = "proj/msfix.toml"\n')
    r = run("check", "proj/a.py", cwd=tmp_path)
    assert r.exit_code == 2 and "`extend` makes a cycle" in r.output
    write(tmp_path / "proj" / "msfix.toml", 'extend = "nowhere.toml"\n')
    r = run("check", "proj/a.py", cwd=tmp_path)
    assert r.exit_code == 2 and "nowhere.toml, which does not exist" in r.output


def test_config_typo_gets_did_you_mean(tmp_path):
    write(tmp_path / "msfix.toml", 'ignor = ["MS202"]\n')
    write(tmp_path / "a.py", BAD)
    r = run("check", "a.py", cwd=tmp_path)
    assert r.exit_code == 2
    assert "unknown key `ignor`; did you mean `ignore`?" in r.output


# -- 4. no "All checks passed!" when something could not be checked --------------------------
def test_no_all_checks_passed_after_an_error(tmp_path):
    write(tmp_path / "syntax.py", "import mindspore\ndef f(:\n")
    for args in (["nosuch.py"], ["syntax.py"]):
        r = run("check", *args, cwd=tmp_path)
        assert r.exit_code == 2, r.output
        assert "All checks passed!" not in r.output
        assert "1 file could not be checked" in r.output
    r = run("check", "-", cwd=tmp_path, input="import mindspore\ndef f(:\n")
    assert r.exit_code == 2 and "All checks passed!" not in r.output and "syntax error" in r.output
    r = run("check", "-", cwd=tmp_path, input=SEED.read_text())
    assert r.exit_code == 1 and "no such file" not in r.output and "-:15:25: MS101" in r.output


# -- 5. missing flags --------------------------------------------------------------------------
def test_default_path_is_the_current_directory(tmp_path):
    write(tmp_path / "pkg" / "a.py", BAD)
    r = run("check", "--output-format", "concise", cwd=tmp_path)
    assert r.exit_code == 1 and concise_codes(r.output)[0][:1] == (os.path.join("pkg", "a.py"),)


def test_check_fix_and_fix_only_and_show_fixes(tmp_path):
    f = write(tmp_path / "t.py", TWO + "d.batch(4, drop_remainder=True)\n")
    r = run("check", "--fix", "--show-fixes", "t.py", cwd=tmp_path)
    assert "import os" in f.read_text() and "from mindspore.train import LossMonitor" in f.read_text()
    assert "Fixed 2 problems:\n- t.py:\n    1 \u00d7 MS102 (deprecated-module-path)\n" \
           "    1 \u00d7 MS202 (num-parallel-workers-too-high)\n" in r.output
    f.write_text(TWO)
    r = run("check", "--fix-only", "t.py", cwd=tmp_path)
    assert r.exit_code == 0 and "Fixed 2 problems in 1 file." in r.output and "MS202" not in r.output
    assert "min(16, os.cpu_count()" in f.read_text()
    f.write_text(TWO)
    r = run("check", "--fix", "--diff", "t.py", cwd=tmp_path)
    assert "+import os" in r.output and f.read_text() == TWO  # --diff writes nothing


def test_stdin_with_stdin_filename(tmp_path):
    write(tmp_path / "sub" / "msfix.toml", 'ignore = ["MS102"]\n')
    r = run("check", "--output-format", "concise", "-", "--stdin-filename", "sub/t.py", cwd=tmp_path, input=TWO)
    assert r.exit_code == 1
    assert [(p, c) for p, _, _, c in concise_codes(r.output)] == [("sub/t.py", "MS202")]  # sub's config applied
    alone = run("check", "--output-format", "concise", "--stdin-filename", "sub/t.py", cwd=tmp_path, input=TWO)
    assert alone.output == r.output  # as ruff: --stdin-filename without paths reads stdin
    r = run("check", "--fix", "-", "--stdin-filename", "t.py", cwd=tmp_path, input=TWO)
    fixed, _, report = r.output.partition("Fixed")  # fixed text on stdout, then the summary (stderr)
    assert "from mindspore.train import LossMonitor" in fixed and "min(16, os.cpu_count()" in fixed
    r = run("fix", "-", "--stdin-filename", "t.py", cwd=tmp_path, input=TWO)
    assert "--- a/t.py" in r.output and "+import os" in r.output
    # --force-exclude with an excluded stdin name passes the text through unchecked
    write(tmp_path / "msfix.toml", 'exclude = ["gen"]\n')
    r = run("check", "--force-exclude", "-", "--stdin-filename", "gen/t.py", cwd=tmp_path, input=TWO)
    assert r.exit_code == 0 and "MS202" not in r.output


def test_exclude_and_extend_exclude_flags(tmp_path):
    write(tmp_path / "msfix.toml", 'exclude = ["old"]\n')
    for name in ("old/a.py", "new/b.py", "gen/c.py"):
        write(tmp_path / name, BAD)

    def files(*args):
        return sorted({p for p, *_ in concise_codes(run("check", "--output-format", "concise", *args,
                                                        cwd=tmp_path).output)})

    assert files(".") == [os.path.join("gen", "c.py"), os.path.join("new", "b.py")]
    assert files(".", "--extend-exclude", "gen") == [os.path.join("new", "b.py")]
    assert files(".", "--exclude", "new/b.py") == [os.path.join("gen", "c.py"), os.path.join("old", "a.py")]


def test_show_settings(tmp_path):
    write(tmp_path / "sub" / "msfix.toml", 'ignore = ["MS205"]\n')
    write(tmp_path / "sub" / "a.py", BAD)
    r = run("check", "--show-settings", "--ignore", "MS206", "sub/a.py", cwd=tmp_path)
    assert r.exit_code == 0
    assert f"# config file: {tmp_path / 'sub' / 'msfix.toml'}" in r.output
    assert 'ignore = ["MS205", "MS206"]' in r.output
    assert "MS202" not in r.output  # settings only, no check


def test_watch_checks_again_when_a_file_changes(tmp_path):
    f = write(tmp_path / "a.py", "import mindspore\n")
    env = dict(os.environ, MSFIX_WATCH_MAX_RUNS="2", MSFIX_WATCH_INTERVAL="0.1")
    proc = subprocess.Popen([sys.executable, "-m", "msfix", "check", "--watch", "--output-format", "concise", "."],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        first = ""
        while "All checks passed!" not in first and time.time() < deadline:
            first += proc.stdout.readline()
        assert "All checks passed!" in first
        time.sleep(0.3)
        f.write_text(BAD)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert "a.py:2:47: MS202" in out
    assert "watching for changes" in err and "checking again" in err
    assert proc.returncode == 1  # the second (last) run found the problem


def test_explain_is_the_rule_command():
    assert run("explain", "MS202").output == run("rule", "MS202").output
    assert run("explain", "MS202").output.startswith("# MS202 num-parallel-workers-too-high")


# -- 6. colours, pipes, help -------------------------------------------------------------------
def test_colours_on_request_and_never_with_no_color(tmp_path):
    f = write(tmp_path / "a.py", BAD)
    coloured = run("check", str(f), env={"FORCE_COLOR": "1", "NO_COLOR": None})
    assert "\x1b[" in coloured.output
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured.output) == run("check", str(f), env={"FORCE_COLOR": None}).output
    assert "\x1b[" not in run("check", "--no-color", str(f), env={"FORCE_COLOR": "1"}).output
    assert "\x1b[" not in run("check", str(f), env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).output
    assert "\x1b[" not in run("check", str(f), env={"FORCE_COLOR": None, "NO_COLOR": None}).output  # a pipe


def test_rules_in_a_pipe_keeps_whole_names_and_help_keeps_whole_sentences():
    from msfix.rule import all_rules

    proc = msfix("rules")
    lines = proc.stdout.splitlines()
    for rule in all_rules():
        assert any(ln.split()[:2] == [rule.code, rule.name] and ln.endswith(rule.summary) for ln in lines), rule.code
    for args in (["--help"], ["check", "--help"], ["fix", "--help"]):
        out = msfix(*args).stdout
        assert not re.search(r"^(?!Usage:).*\.\.\.$", out, re.M), out  # click cuts long help with "..."
    assert "(e.g.\n" not in msfix("--help").stdout


# -- 8. project URL from the package metadata ---------------------------------------------------
def test_rule_links_use_the_project_url_from_the_metadata(tmp_path):
    import tomllib

    url = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
    f = write(tmp_path / "a.py", BAD)
    log = json.loads(msfix("check", "--output-format", "sarif", str(f), env={"MSFIX_DOCS_URL": ""}).stdout)
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["informationUri"] == url
    assert all(r["helpUri"] == f"{url}/blob/main/docs/rules/{r['id']}.md" for r in driver["rules"])


# -- 9. the tests keep to the checkout and temporary directories ----------------------------
def test_caches_are_inside_the_checkout_or_tmp(tmp_path):
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from corpus import cache_root
    finally:
        sys.path.remove(str(ROOT / "tools"))
    home_cache = Path.home() / ".cache"
    for where in (cache_root(), Path(os.environ["XDG_CACHE_HOME"]), Path(os.environ["MSFIX_CACHE_DIR"])):
        assert home_cache not in where.resolve().parents and where.resolve() != home_cache
    assert ROOT in Path(os.environ["XDG_CACHE_HOME"]).resolve().parents  # pip's and pre-commit's caches too


# -- 11. third-party rules through the `msfix.rules` entry point ---------------------------------
PLUGIN_RULE = '''
from msfix.diagnostics import Severity
from msfix.rule import Example, Rule


class NoMagicLearningRate(Rule):
    code = "{code}"
    name = "team-no-literal-learning-rate"
    severity = Severity.WARNING
    summary = "An optimizer's learning rate must come from the team's config, not a literal."
    doc = "## What it does\\nFlags `learning_rate=<number>`.\\n"
    valid = (Example("import mindspore.nn as nn\\nopt = nn.SGD(p, learning_rate=cfg.lr)\\n"),)
    invalid = (Example("import mindspore.nn as nn\\nopt = nn.SGD(p, learning_rate=0.1)\\n", expect=(2,)),)

    def check(self, ctx):
        import libcst as cst

        for call in ctx.model.calls:
            for arg in call.node.args:
                if arg.keyword is not None and arg.keyword.value == "learning_rate" and \\
                        isinstance(arg.value, (cst.Float, cst.Integer)):
                    yield ctx.report(arg.value, "literal learning rate; read it from the team config")
'''


def _install_plugin(tmp_path, name, code):
    pkg = tmp_path / f"{name}-src"
    write(pkg / name / "__init__.py", PLUGIN_RULE.replace("{code}", code))
    write(pkg / "pyproject.toml", textwrap.dedent(f"""\
        [build-system]
        requires = ["setuptools"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "{name}"
        version = "1.0"
        [project.entry-points."msfix.rules"]
        team = "{name}"
        """))
    target = tmp_path / f"{name}-site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(target), str(pkg)], check=True, capture_output=True, timeout=300)
    return target


def test_plugin_rules_from_an_installed_package(tmp_path):
    site = _install_plugin(tmp_path, "acme_msfix_rules", "ACME101")
    env = {"PYTHONPATH": str(site)}
    f = write(tmp_path / "train.py", "import mindspore.nn as nn\nparams = []\nopt = nn.SGD(params, learning_rate=0.1)\n")
    rules = json.loads(msfix("rules", "--output-format", "json", env=env).stdout)
    assert "ACME101" in {r["code"] for r in rules}
    proc = msfix("check", "--extend-select", "ACME", "--output-format", "concise", str(f), env=env)
    assert f"{f}:3:36: ACME101 literal learning rate" in proc.stdout, proc.stdout + proc.stderr
    proc = msfix("check", "--select", "ACME101", "--output-format", "json", str(f), env=env)
    assert [d["code"] for d in json.loads(proc.stdout)] == ["ACME101"]
    # noqa works for plugin codes; not selected means not run
    f.write_text("import mindspore.nn as nn\nparams = []\nopt = nn.SGD(params, learning_rate=0.1)  # noqa: ACME101\n")
    assert msfix("check", "--select", "ACME", str(f), env=env).returncode == 0
    # without the plugin the code is unknown
    assert msfix("check", "--select", "ACME101", str(f)).returncode == 2


def test_plugin_codes_must_not_collide(tmp_path):
    site = _install_plugin(tmp_path, "clash_msfix_rules", "MS202")
    f = write(tmp_path / "train.py", BAD)
    proc = msfix("check", str(f), env={"PYTHONPATH": str(site)})
    assert proc.returncode == 2
    assert "rule code MS202 (team-no-literal-learning-rate) is already used by msfix" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_ms602_unsafe_fix_changes_the_named_constant_on_disk(tmp_path):
    # issue point 10, through the CLI on a real file: the constant read only by the
    # optimizer changes, the call keeps the name, nothing is left unused
    f = write(tmp_path / "train.py", (
        "import mindspore.dataset as ds\nfrom mindspore import nn, Model\n"
        "learning_rate = 0.1\n"
        "data = ds.MnistDataset('m', usage='train').batch(32)\n"
        "opt = nn.Momentum(net.trainable_params(), learning_rate, 0.9)\n"
        "Model(net, loss, opt).train(10, data)\n"))
    r = run("fix", "--write", "--unsafe-fixes", "--select", "MS602", str(f))
    assert r.exit_code == 0, r.output
    text = f.read_text(encoding="utf-8")
    assert "learning_rate = 0.0125\n" in text
    assert "nn.Momentum(net.trainable_params(), learning_rate, 0.9)" in text
