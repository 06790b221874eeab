"""--output-format json-lines / sarif / github / junit, end to end through the CLI."""

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from msfix import __version__
from msfix.cli import main
from msfix.rule import all_rules

DATA = Path(__file__).resolve().parent / "data"
BAD = ("import mindspore.dataset as ds\n"
       "from mindspore.train.callback import LossMonitor\n"
       "d = ds.MnistDataset('m', num_parallel_workers=16)\n")


def run(*args, cwd):
    old = os.getcwd()
    try:
        os.chdir(cwd)
        return CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


@pytest.fixture
def bad(tmp_path):
    (tmp_path / "src").mkdir()
    f = tmp_path / "src" / "train.py"
    f.write_text(BAD)
    return f


def test_json_lines_one_object_per_line(bad, tmp_path):
    r = run("check", "src", "--output-format", "json-lines", cwd=tmp_path)
    assert r.exit_code == 1
    lines = r.output.splitlines()
    items = [json.loads(x) for x in lines]
    assert [(d["code"], d["line"]) for d in items] == [("MS102", 2), ("MS202", 3)]
    assert all(d["file"] == os.path.join("src", "train.py") for d in items)


def test_sarif_is_valid_sarif_2_1_0(bad, tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    r = run("check", "src", "--output-format", "sarif", cwd=tmp_path)
    assert r.exit_code == 1
    log = json.loads(r.output)
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(log), key=str)
    assert not errors, "\n".join(str(e) for e in errors[:3])
    assert log["version"] == "2.1.0"
    run_ = log["runs"][0]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "msfix" and driver["version"] == __version__
    ids = [x["id"] for x in driver["rules"]]
    assert ids == [r.code for r in all_rules()]
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"].startswith(f"# {rule['id']}")
        assert rule["helpUri"].endswith(f"docs/rules/{rule['id']}.md")
    results = run_["results"]
    assert [x["ruleId"] for x in results] == ["MS102", "MS202"]
    ms202 = results[1]
    assert driver["rules"][ms202["ruleIndex"]]["id"] == "MS202"
    assert ms202["level"] == "error"
    loc = ms202["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "src/train.py", "uriBaseId": "%SRCROOT%"}
    assert loc["region"]["startLine"] == 3 and loc["region"]["startColumn"] > 1
    # the fix: replacing the deleted region with the inserted text is what `msfix fix` does
    rep = ms202["fixes"][0]["artifactChanges"][0]["replacements"]
    text = BAD
    for x in sorted(rep, key=lambda x: -x["deletedRegion"]["charOffset"]):
        off, n = x["deletedRegion"]["charOffset"], x["deletedRegion"]["charLength"]
        text = text[:off] + x["insertedContent"]["text"] + text[off + n:]
    assert "num_parallel_workers=16" not in text


def test_sarif_schema_rejects_a_broken_log():
    """The validation above is not vacuous: the schema catches a missing driver name."""
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    broken = {"version": "2.1.0", "runs": [{"tool": {"driver": {"version": "1"}}}]}
    assert list(jsonschema.Draft4Validator(schema).iter_errors(broken))


def test_github_annotations(bad, tmp_path):
    r = run("check", "src", "--output-format", "github", cwd=tmp_path)
    assert r.exit_code == 1
    lines = r.output.splitlines()
    assert len(lines) == 2
    path = os.path.join("src", "train.py")
    assert lines[0].startswith(f"::warning file={path},line=2,col=")
    assert ",title=MS102::MS102 " in lines[0]
    assert lines[1].startswith(f"::error file={path},line=3,col=")
    assert ",title=MS202::MS202 " in lines[1] and "num_parallel_workers" in lines[1]


def test_github_escapes_newlines_and_percent(tmp_path):
    from msfix.diagnostics import Diagnostic, Severity, Span
    from msfix.engine import FileResult
    from msfix.report.github import report
    import io

    d = Diagnostic("MS999", "x", Severity.ERROR, "50% done\nnext", Span(1, 1, 1, 2), path="a,b:c.py")
    out = io.StringIO()
    report([FileResult("a,b:c.py", diagnostics=[d])], out)
    assert out.getvalue() == "::error file=a%2Cb%3Ac.py,line=1,col=1,endLine=1,endColumn=2,title=MS999::MS999 50%25 done%0Anext\n"


def test_junit_xml(bad, tmp_path):
    (tmp_path / "src" / "clean.py").write_text("import mindspore.nn as nn\nlayer = nn.Dense(3, 4)\n")
    r = run("check", "src", "--output-format", "junit", cwd=tmp_path)
    assert r.exit_code == 1
    root = ET.fromstring(r.output.split("\n", 1)[1])
    assert root.tag == "testsuites" and root.get("tests") == "3" and root.get("failures") == "2"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    train = suites[os.path.join("src", "train.py")]
    cases = train.findall("testcase")
    assert [c.find("failure").get("type") for c in cases] == ["MS102", "MS202"]
    assert "num_parallel_workers" in cases[1].find("failure").get("message")
    clean = suites[os.path.join("src", "clean.py")]
    assert clean.get("failures") == "0" and clean.find("testcase").find("failure") is None


def test_output_format_from_config_is_validated(bad, tmp_path):
    (tmp_path / "msfix.toml").write_text('output-format = "sarif"\n')
    r = run("check", "src", cwd=tmp_path)
    assert json.loads(r.output)["version"] == "2.1.0"
    (tmp_path / "msfix.toml").write_text('output-format = "xml"\n')
    r = run("check", "src", cwd=tmp_path)
    assert r.exit_code == 2 and "output-format 'xml'" in r.output


def test_fix_with_a_machine_format_prints_only_that_format(bad, tmp_path):
    r = run("fix", "src", "--output-format", "sarif", cwd=tmp_path)
    log = json.loads(r.output)  # no diff in front of it
    assert log["runs"][0]["results"] == []  # what remains after the (shown, not written) fixes
    r = run("fix", "src", "--output-format", "github", "--diff", cwd=tmp_path)
    assert r.output.startswith("--- a/src/train.py")
