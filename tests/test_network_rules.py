"""The network rules' claims checked on the real MindSpore wheel: each bad fixture fails
(or misbehaves) the way the rule says, and its fixed version runs."""

import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from msfix.engine import fix_text, lint_text
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


@needs_mindspore
def test_ms801_fixed_try_del_and_imports_compile_in_graph_mode():
    """The unsafe fix keeps the try body (then else, then finally), the safe ones move the
    local imports to the top and drop `del` of locals: the script then compiles and runs."""
    bad = _run(FIXTURES / "MS801/bad_fixable.py")
    assert bad.returncode != 0 and "Unsupported statement 'Try'" in bad.stderr, bad.stderr[-2000:]
    fixed = _run(FIXTURES / "MS801/bad_fixable.unsafe-fixed.py")
    assert fixed.returncode == 0, fixed.stderr[-2000:]
    assert "(2, 4) (2, 4)" in fixed.stdout


@needs_mindspore
def test_ms801_safe_fixes_alone_compile_in_graph_mode(tmp_path):
    text = ("import numpy as np\nimport mindspore as ms\nfrom mindspore import nn\n"
            "ms.set_context(mode=ms.GRAPH_MODE)\n"
            "class Net(nn.Cell):\n"
            "    def construct(self, x):\n"
            "        import math\n"
            "        y = x * math.pi\n"
            "        del x\n"
            "        return y\n"
            "print(Net()(ms.Tensor(np.ones(2, np.float32))))\n")
    script = tmp_path / "net.py"
    script.write_text(text, encoding="utf-8")
    assert "Unsupported statement 'Import'" in _run(script).stderr
    fixed, _, n, err = fix_text(text, [rule_by_code("MS801")])
    assert err is None and n == 2
    assert "import math" in fixed.splitlines()[:4] and "del x" not in fixed
    script.write_text(fixed, encoding="utf-8")
    out = _run(script)
    assert out.returncode == 0 and "3.14" in out.stdout, out.stderr[-2000:]


@needs_mindspore
def test_ms801_open_without_with_runs_once_at_compile_time(tmp_path):
    """Why `with open(...)` has no fix: written as `f = open(...)` it compiles (JIT
    Fallback) but the file is written once, when the graph is compiled, not per call."""
    log = tmp_path / "log.txt"
    script = tmp_path / "net.py"
    script.write_text(
        "import numpy as np\nimport mindspore as ms\nfrom mindspore import nn\n"
        "ms.set_context(mode=ms.GRAPH_MODE)\n"
        "class Net(nn.Cell):\n"
        "    def construct(self, x):\n"
        f"        f = open({str(log)!r}, 'a')\n"
        "        f.write('step\\n')\n"
        "        f.close()\n"
        "        return x * 2\n"
        "net = Net()\n"
        "for i in range(3):\n"
        "    net(ms.Tensor(np.ones(2, np.float32)) + i)\n", encoding="utf-8")
    out = _run(script)
    assert out.returncode == 0, out.stderr[-2000:]
    assert log.read_text().count("step") == 1


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


def test_ms801_import_fix_is_safe_only_for_modules_known_to_be_installed():
    def fixes(head, local):
        text = (f"import mindspore as ms\n{head}"
                "@ms.jit\n"
                "def step(x):\n"
                f"    {local}\n"
                "    return x\n")
        diags = lint_text(text, [rule_by_code("MS801")]).diagnostics
        return [d.fix.applicability.value if d.fix else None for d in diags]

    assert fixes("", "import math") == ["safe"]  # standard library
    assert fixes("", "from mindspore import mint") == ["safe"]
    assert fixes("import numpy as np\n", "import numpy") == ["safe"]  # the script imports numpy already
    assert fixes("", "import scipy.special") == ["unsafe"]  # now imported at start-up, maybe not installed
    assert fixes("", "from . import helpers") == ["unsafe"]
    assert fixes("np = 1\n", "import numpy as np") == [None]  # the module binds `np` to something else
    assert fixes("", "if x:\n        import math") == [None]  # conditional: moving it would not be
