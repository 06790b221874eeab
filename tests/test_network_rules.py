"""The network rules' claims checked on the real MindSpore wheel: each bad fixture fails
(or misbehaves) the way the rule says, and its fixed version runs."""

import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from msfix.engine import lint_text
from msfix.rule import rule_by_code

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"

needs_mindspore = pytest.mark.skipif(
    importlib.util.find_spec("mindspore") is None, reason="needs MindSpore in this interpreter")


def _run(path: Path, prelude: str = "") -> subprocess.CompletedProcess:
    """Run a copy of the script in a scratch directory (GRAPH_MODE needs a source file)."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / path.name
        script.write_text(prelude + path.read_text(encoding="utf-8"), encoding="utf-8")
        env = dict(os.environ, GLOG_v="3", PYTHONDONTWRITEBYTECODE="1")
        return subprocess.run([sys.executable, str(script)], cwd=tmp, capture_output=True, text=True,
                              timeout=300, env=env)


# (fixture, text the bad script's failure contains)
CRASHES = [
    ("MS301/bad", "the method 'construct' is not defined"),
    ("MS302/bad", "_auto_prefix"),
    ("MS304/bad", "the 'pad' must be zero when 'pad_mode' is not 'pad'"),
    ("MS803/bad", "out"),
]


@needs_mindspore
@pytest.mark.parametrize("name,error", CRASHES, ids=[c[0] for c in CRASHES])
def test_bad_fixture_fails_and_fixed_runs(name, error):
    bad = _run(FIXTURES / f"{name}.py")
    assert bad.returncode != 0 and error in bad.stderr, bad.stderr[-2000:]
    fixed = _run(FIXTURES / f"{name}.fixed.py")
    assert fixed.returncode == 0, fixed.stderr[-2000:]


# (fixture, text of the bad script's failure or None when it runs, fixed variants that must run)
MORE = [
    ("MS305/bad", "For 'MatMul'", ["bad.unsafe-fixed"]),  # 28x28 -> 26x26 without stride
    ("MS306/bad", "'keep_prob' should be 'float'", ["bad.fixed", "bad.unsafe-fixed"]),
    ("MS307/bad", None, ["bad.unsafe-fixed"]),
]


@needs_mindspore
@pytest.mark.parametrize("name,error,fixed", MORE, ids=[c[0] for c in MORE])
def test_bad_and_fixed_variants(name, error, fixed):
    bad = _run(FIXTURES / f"{name}.py")
    if error is None:
        assert bad.returncode == 0, bad.stderr[-2000:]
    else:
        assert bad.returncode != 0 and error in bad.stderr, bad.stderr[-2000:]
    folder = (FIXTURES / name).parent
    for variant in fixed:
        out = _run(folder / f"{variant}.py")
        assert out.returncode == 0, f"{variant}: " + out.stderr[-2000:]


@needs_mindspore
def test_ms303_fix_registers_the_parameters():
    bad = _run(FIXTURES / "MS303/bad.py")
    fixed = _run(FIXTURES / "MS303/bad.fixed.py")
    assert bad.returncode == 0 and fixed.returncode == 0, bad.stderr[-2000:] + fixed.stderr[-2000:]
    assert "1 trainable parameters" in bad.stdout  # only the stem conv is registered
    assert "19 trainable parameters" in fixed.stdout


@needs_mindspore
def test_ms803_fixed_runs_in_graph_mode():
    fixed = _run(FIXTURES / "MS803/bad.fixed.py", "import mindspore as _ms\n_ms.set_context(mode=_ms.GRAPH_MODE)\n")
    assert fixed.returncode == 0, fixed.stderr[-2000:]


@needs_mindspore
def test_ms801_bad_fixture_fails_to_compile():
    bad = _run(FIXTURES / "MS801/bad.py")
    assert bad.returncode != 0 and "Unsupported statement 'Try'" in bad.stderr, bad.stderr[-2000:]


def test_graph_rules_need_compiled_code():
    """The same construct is flagged in GRAPH_MODE or under @jit, not in PyNative."""
    body = ("class Net(nn.Cell):\n"
            "    def construct(self, x):\n"
            "        del x\n"
            "        return random.random()\n")
    head = "import random\nimport mindspore as ms\nfrom mindspore import nn\n"
    rules = [rule_by_code("MS801"), rule_by_code("MS802")]
    codes = lambda text: sorted(d.code for d in lint_text(text, rules).diagnostics)  # noqa: E731
    assert codes(head + body) == []
    assert codes(head + "ms.set_context(mode=ms.GRAPH_MODE)\n" + body) == ["MS801", "MS802"]
    assert codes(head + "from mindspore import context\ncontext.set_context(mode=0)\n" + body) == ["MS801", "MS802"]
    assert codes(head + "ms.set_context(mode=ms.PYNATIVE_MODE)\n" + body) == []
    jit_body = body.replace("    def construct", "    @ms.jit\n    def construct")
    assert codes(head + jit_body) == ["MS801", "MS802"]


def test_pool_rule_needs_torch_signals():
    rule = [rule_by_code("MS305")]
    native = "from mindspore import nn\np = nn.MaxPool2d(2)\n"
    ported = native + "c = nn.Conv2d(3, 8, 3, padding=1)\n"
    assert lint_text(native, rule).diagnostics == []
    assert [d.code for d in lint_text(ported, rule).diagnostics] == ["MS305"]


def test_jit_call_marks_function_compiled():
    text = ("import mindspore as ms\n"
            "def train_step(x):\n"
            "    try:\n"
            "        return x\n"
            "    except Exception:\n"
            "        return x\n"
            "train_step = ms.jit(train_step)\n")
    diags = lint_text(text, [rule_by_code("MS801")]).diagnostics
    assert [(d.code, d.span.line) for d in diags] == [("MS801", 3)]
    assert "passed to `ms.jit`" in diags[0].message
