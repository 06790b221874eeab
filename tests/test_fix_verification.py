"""Safe means safe: every fix round is checked through the script model's name
resolution; a fix that leaves a name unbound is dropped, the other fixes are kept and
the dropped one is reported."""

import json
import subprocess
import sys

import libcst as cst
from click.testing import CliRunner

from msfix.analysis.builder import build_model
from msfix.cli import main
from msfix.diagnostics import Fix, Severity
from msfix.engine import fix_text
from msfix.rule import Rule, rule_by_code


def unresolved(text):
    m = build_model(cst.parse_module(text), text)
    return sorted(r.name for r in m.unresolved_reads())


class RenameToUnbound(Rule):
    """A deliberately broken rule: rewrites `ms.Tensor` to `mst.Tensor` (never bound)."""

    code = "MS999"
    name = "test-broken-fix"
    severity = Severity.WARNING

    def check(self, ctx):
        for ref in ctx.model.refs:
            if ref.qualname == "mindspore.Tensor":
                ctx.report(ref.node, "rename", fix=Fix.safe("Use `mst.Tensor`", ctx.replace(ref.node, "mst.Tensor", ref.top)),
                           top=ref.top)


def test_a_fix_that_leaves_a_name_unbound_is_dropped_and_the_others_kept():
    src = ("import mindspore as ms\nimport mindspore.dataset as ds\n"
           "x = ms.Tensor([1.0])\n"
           "d = ds.MnistDataset('m', num_parallel_workers=16)\n")
    rules = [RenameToUnbound, rule_by_code("MS202")]
    fixed, out, applied, err = fix_text(src, rules)
    assert err is None
    assert "mst" not in fixed  # the broken fix was not applied
    assert "num_parallel_workers=min(16, os.cpu_count() or 1)" in fixed  # MS202's fix was
    assert applied == 1
    assert out.dropped_fixes == ["3:5: MS999 fix not applied: Use `mst.Tensor` would leave `mst` unbound"]
    assert [d.code for d in out.diagnostics] == ["MS999"]  # still reported, unfixed
    assert unresolved(fixed) == []


def test_ms102_binds_the_import_before_the_first_use():
    # `import mindspore as ms` comes only after the use: the fix must not point the
    # use at `ms` and delete the only earlier binding
    src = ("from mindspore import context\nfrom mindspore import nn\n\n"
           "context.set_context(mode=context.GRAPH_MODE)\nnet = nn.Dense(2, 2)\n\n"
           "import mindspore as ms\nx = ms.Tensor([1.0])\n")
    fixed, out, applied, err = fix_text(src, [rule_by_code("MS102")])
    assert err is None and out.dropped_fixes == []
    assert fixed == ("import mindspore as ms\nfrom mindspore import nn\n\n"
                     "ms.set_context(mode=ms.GRAPH_MODE)\nnet = nn.Dense(2, 2)\n\n"
                     "import mindspore as ms\nx = ms.Tensor([1.0])\n")
    assert unresolved(fixed) == []


def test_ms102_with_other_names_kept_in_the_import():
    src = ("from mindspore import context, nn\n"
           "context.set_context(mode=context.PYNATIVE_MODE)\nnet = nn.Dense(2, 2)\n"
           "import mindspore as ms\n")
    fixed, out, _, err = fix_text(src, [rule_by_code("MS102")])
    assert err is None and out.dropped_fixes == []
    assert fixed.splitlines()[:2] == ["from mindspore import nn", "import mindspore as ms"]
    assert "ms.set_context(mode=ms.PYNATIVE_MODE)" in fixed
    assert unresolved(fixed) == []


def test_ms102_in_a_notebook_whose_import_is_in_a_later_cell(tmp_path):
    cells = [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": ["from mindspore import context\n", "context.set_context(mode=context.GRAPH_MODE)"]},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": ["import mindspore as ms\n", "print(ms.Tensor([1.0]))"]},
    ]
    p = tmp_path / "nb.ipynb"
    p.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")
    r = CliRunner().invoke(main, ["fix", "--write", "--select", "MS102", str(p)])
    assert r.exit_code == 0, r.output
    nb = json.loads(p.read_text(encoding="utf-8"))
    first = "".join(nb["cells"][0]["source"])
    assert first == "import mindspore as ms\nms.set_context(mode=ms.GRAPH_MODE)"
    # the fixed cells run in order (as Jupyter runs them) without NameError
    code = first + "\n" + "".join(nb["cells"][1]["source"]) + "\n"
    assert unresolved(code) == []


def test_the_cli_reports_a_dropped_fix(tmp_path, monkeypatch):
    import msfix.rule as rule_mod

    f = tmp_path / "t.py"
    f.write_text("import mindspore as ms\nx = ms.Tensor([1.0])\n", encoding="utf-8")
    real = rule_mod.all_rules()
    monkeypatch.setattr(rule_mod, "all_rules", lambda: (*real, RenameToUnbound))
    r = CliRunner().invoke(main, ["fix", "--write", "--select", "MS999", str(f)])
    assert "MS999 fix not applied: Use `mst.Tensor` would leave `mst` unbound" in r.output
    assert f.read_text(encoding="utf-8") == "import mindspore as ms\nx = ms.Tensor([1.0])\n"


def test_scoping_rules_of_the_resolver():
    src = ("import mindspore as ms\n"
           "f = [lambda t: t + 1]\n"
           "d = {k: v for k, v in {}.items()}\n"
           "print(never)\n"
           "print(early)\nearly = 1\n"
           "def g():\n    global G\n    G = 1\n    return later + G\n"
           "later = 2\n"
           "class C:\n    a = 1\n    b = a\n    def m(self):\n        return a\n"
           "try:\n    pass\nexcept Exception as e:\n    print(e)\n"
           "if (w := 3):\n    print(w, G)\n")
    assert unresolved(src) == ["a", "early", "never"]


def test_global_statement_at_module_level():
    # valid Python (notebooks have it); it must not send the resolver in circles
    assert unresolved("global x\nx = 1\nprint(x, y)\n") == ["y"]


def test_resolver_agrees_with_python_on_a_run(tmp_path):
    # what the resolver calls unbound really raises NameError, and the rest runs
    src = "x = [lambda t: t]\ny = {k: k for k in range(2)}\nprint(x, y)\nprint(undefined_name)\n"
    assert unresolved(src) == ["undefined_name"]
    p = tmp_path / "s.py"
    p.write_text(src, encoding="utf-8")
    r = subprocess.run([sys.executable, str(p)], capture_output=True, text=True)
    assert "NameError: name 'undefined_name' is not defined" in r.stderr
