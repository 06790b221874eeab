"""`check --add-noqa` and MS001 unused-noqa, end to end with every rule enabled."""

import os

from click.testing import CliRunner

from msfix.add_noqa import add_noqa
from msfix.cli import main
from msfix.engine import fix_text, lint_text
from msfix.rule import all_rules, rule_by_code

SCRIPT = (
    "import mindspore.dataset as ds\n"
    "from mindspore.train.callback import LossMonitor  # callbacks\n"
    "d = ds.MnistDataset('m', num_parallel_workers=16)  # noqa: E501\n"
    "e = ds.MnistDataset('m',\n"
    "                    num_parallel_workers=8)\n"
    "doc = '''\n"
    "ds.MnistDataset('m', num_parallel_workers=8)'''\n"
)


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_add_noqa_then_check_passes(tmp_path):
    f = tmp_path / "train.py"
    f.write_bytes(SCRIPT.replace("\n", "\r\n").encode())
    mode = os.stat(f).st_mode
    sel = ("--select", "MS001,MS102,MS202")  # other rules may fire on this snippet too
    r = run("check", "--add-noqa", *sel, str(f))
    assert r.exit_code == 0, r.output
    assert "Added 3 noqa directives to 1 file." in r.output
    text = f.read_bytes().decode()
    assert text.count("\r\n") == SCRIPT.count("\n")  # line endings kept
    lines = text.split("\r\n")
    assert lines[1] == "from mindspore.train.callback import LossMonitor  # callbacks  # noqa: MS102"
    assert lines[2] == "d = ds.MnistDataset('m', num_parallel_workers=16)  # noqa: E501, MS202"  # merged
    assert lines[4] == "                    num_parallel_workers=8)  # noqa: MS202"
    assert os.stat(f).st_mode == mode
    r = run("check", *sel, str(f))
    assert r.exit_code == 0, r.output  # everything suppressed, and no noqa is unused
    r = run("check", "--add-noqa", *sel, str(f))
    assert "Added 0 noqa directives" in r.output


def test_add_noqa_skips_lines_ending_inside_a_string():
    text = "x = '''\nabc'''\ny = 1 + \\\n    2\n"
    new, n, skipped = add_noqa(text, {1: ["MS101"], 3: ["MS101"], 4: ["MS202"]})
    assert skipped == [1, 3]
    assert n == 1 and new.endswith("    2  # noqa: MS202\n")


def test_add_noqa_keeps_bare_noqa():
    new, n, _ = add_noqa("x = 1  # noqa\n", {1: ["MS101"]})
    assert n == 0 and new == "x = 1  # noqa\n"


def test_unused_noqa_with_all_rules():
    src = ("import mindspore.dataset as ds\n"
           "a = ds.MnistDataset('m', num_parallel_workers=16)  # noqa: MS202\n"
           "b = ds.MnistDataset('m', num_parallel_workers=2)  # noqa: MS202, E501\n"
           "c = ds.MnistDataset('m', num_parallel_workers=2)  # noqa: MS202\n")
    rules = [rule_by_code("MS001"), rule_by_code("MS202")]
    out = lint_text(src, rules)
    got = [(d.code, d.span.line) for d in out.diagnostics]
    assert got == [("MS001", 3), ("MS001", 4)]
    assert "`MS202` reported nothing on this line" in out.diagnostics[0].message
    fixed, remaining, applied, err = fix_text(src, rules)
    assert err is None and applied == 2
    assert fixed.splitlines()[1:] == [
        "a = ds.MnistDataset('m', num_parallel_workers=16)  # noqa: MS202",
        "b = ds.MnistDataset('m', num_parallel_workers=2)  # noqa: E501",
        "c = ds.MnistDataset('m', num_parallel_workers=2)",
    ]
    assert remaining.diagnostics == []


def test_unused_noqa_not_judged_for_unselected_rules(tmp_path):
    f = tmp_path / "t.py"
    f.write_text("import mindspore.dataset as ds\nb = ds.MnistDataset('m')  # noqa: MS202\n")
    r = run("check", str(f), "--select", "MS0,MS202", "--output-format", "concise")
    assert r.exit_code == 1 and "MS001" in r.output
    assert run("check", str(f), "--select", "MS0,MS202", "--ignore", "MS202").exit_code == 0
    assert run("check", str(f), "--select", "MS0,MS202", "--ignore", "MS001").exit_code == 0


def test_unused_noqa_can_itself_be_suppressed():
    src = "import mindspore.dataset as ds\nb = ds.MnistDataset('m')  # noqa: MS202, MS001\n"
    assert lint_text(src, list(all_rules())).diagnostics == []


def test_noqa_inside_a_string_suppresses_nothing():
    # the one noqa parser reads comment tokens only
    rules = [rule_by_code("MS202")]
    src = "import mindspore.dataset as ds\nd = ds.MnistDataset('# noqa', num_parallel_workers=64)\n"
    assert [d.code for d in lint_text(src, rules).diagnostics] == ["MS202"]
    src2 = "import mindspore.dataset as ds\nd = ds.MnistDataset('# noqa: MS202', num_parallel_workers=64)\n"
    assert [d.code for d in lint_text(src2, rules).diagnostics] == ["MS202"]
    commented = "import mindspore.dataset as ds\nd = ds.MnistDataset('m', num_parallel_workers=64)  # NOQA:ms202\n"
    assert lint_text(commented, rules).diagnostics == []


def test_one_parser_for_engine_ms001_and_add_noqa():
    from msfix import noqa
    from msfix.add_noqa import add_noqa

    text = "x = '# noqa: MS202'  # noqa: E402, MS202 keep\ny = 1\n"
    d = noqa.directives(text)
    assert list(d) == [1] and d[1].codes == ("E402", "MS202") and d[1].comment.startswith("# noqa")
    assert noqa.suppressed(d[1], "ms202") and not noqa.suppressed(d[1], "MS201")
    new, n, skipped = add_noqa(text, {1: ["MS201"], 2: ["MS202"]})
    assert new == "x = '# noqa: MS202'  # noqa: E402, MS202, MS201 keep\ny = 1  # noqa: MS202\n"
    assert (n, skipped) == (2, [])
    # MS001 judges the comment's codes, not the string's
    rules = [rule_by_code("MS202"), rule_by_code("MS001")]
    src = ("import mindspore.dataset as ds\n"
           "d = ds.MnistDataset('# noqa: MS202', num_parallel_workers=2)  # noqa: MS202\n")
    out = lint_text(src, rules)
    assert [(x.code, x.span.line, x.span.column) for x in out.diagnostics] == [("MS001", 2, 63)]
