"""The training/checkpoint/hyperparameter fixtures on the real MindSpore CPU wheel:
each bad fixture fails the way the rule says, on the flagged line, and its fixed
version gets past it. Runs go through `msfix smoke` (synthetic MNIST/CIFAR files in
the real formats, written per run), in a child process: the test process never
imports MindSpore."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from msfix.engine import lint_text
from msfix.rule import rule_by_code
from msfix.smoke.runner import run_smoke

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mindspore") is None,
    reason="needs MindSpore in this interpreter",
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

# (fixture, exception type, message fragment)
CRASHES = [
    ("MS402/bad.py", "AttributeError", "zero_grad"),
    ("MS402/bad_loop_function.py", "AttributeError", "zero_grad"),
    ("MS403/bad.py", "AttributeError", "cuda"),
    ("MS403/bad_attributes.py", "AttributeError", "param_groups"),
    ("MS404/bad.py", "RuntimeError", "Map must be consistent"),
    ("MS405/bad.py", "TypeError", "must be int"),
    ("MS406/bad.py", "ValueError", "'metrics' can not be None"),
    ("MS407/bad.py", "TypeError", "should be a dict"),
    ("MS409/bad.py", "ValueError", "loss_scale_manager=None"),
    ("MS502/bad.py", "ValueError", "does not contain '/'"),
    ("MS601/bad.py", "TypeError", "type of 'momentum' should be 'float'"),
    ("MS501/bad_save_checkpoint.py", "ValueError", "format must same"),
]

# fixed versions that must run to the end (no training step is fine for scripts without one)
RUNS = ["MS403/bad.unsafe-fixed.py", "MS404/bad.fixed.py", "MS405/bad.fixed.py", "MS502/bad.fixed.py"]


def _flagged_lines(path: Path) -> set:
    """Lines with an error of the folder's rule, and lines its messages point to."""
    code = path.parent.name
    out = lint_text(path.read_text(), [rule_by_code(code)], path=path.name)
    lines = set()
    for d in out.diagnostics:
        if d.severity.value == "error":
            lines.add(d.span.line)
            if code == "MS404":  # reported on value_and_grad, fails where the optimizer is called
                lines.update(int(x) for x in re.findall(r"\(line (\d+)\)", d.message))
    return lines


@pytest.mark.parametrize("name,exc,fragment", CRASHES, ids=[c[0] for c in CRASHES])
def test_bad_fixture_fails_on_a_flagged_line(name, exc, fragment):
    path = FIXTURES / name
    report = run_smoke(path)
    assert report.outcome == "crashed", (report.outcome, report.message)
    assert report.exception_type == exc, report.message
    assert fragment in report.message
    assert report.script_line in _flagged_lines(path)


@pytest.mark.parametrize("name", RUNS)
def test_fixed_fixture_runs(name):
    report = run_smoke(FIXTURES / name)
    assert report.outcome in ("passed", "no-steps"), (report.outcome, report.exception_type, report.message)


def test_amp_fixed_script_builds_every_o2_network_on_cpu():
    # every O2 build gets loss_scale_manager=None (line 12's explicit DynamicLossScaleManager
    # too): the fixed script builds all three on the CPU wheel without the ValueError
    report = run_smoke(FIXTURES / "MS409" / "bad.unsafe-fixed.py")
    assert report.exception_type is None, report.stderr[-2000:]
    assert report.returncode == 0
    bad = run_smoke(FIXTURES / "MS409" / "bad.py")
    assert bad.exception_type == "ValueError"


def test_ms501_known_size_names_the_files_the_wheel_leaves(tmp_path):
    """bad_known_size.py run in full (no smoke caps): load_checkpoint fails on the
    flagged line, and the files left on disk are exactly those the message names."""
    import subprocess
    import sys

    path = FIXTURES / "MS501" / "bad_known_size.py"
    [d] = [d for d in lint_text(path.read_text(), [rule_by_code("MS501")], path=path.name).diagnostics]
    assert d.severity.value == "error"
    proc = subprocess.run([sys.executable, str(path)], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0 and "ValueError" in proc.stderr and "does not exist" in proc.stderr
    assert f'{path.name}", line {d.span.line}' in proc.stderr
    left = sorted(p.name for p in (tmp_path / "ck").glob("*.ckpt"))
    assert left == ["net-3_10.ckpt", "net-3_8.ckpt"]
    assert all(name in d.message for name in left)


def test_ms501_file_names_match_modelcheckpoint_on_the_wheel(tmp_path):
    """is_written (the rule's model of ModelCheckpoint) against real runs: every
    (epoch, step) name it predicts, and no other, is on disk after training."""
    import subprocess
    import sys

    from msfix.rules.checkpoint.ms501_checkpoint_never_written import is_written

    cases = [(2, 7, 3, 3), (3, 5, 4, 2), (2, 6, 6, 1), (1, 9, 2, 4), (2, 5, 10, 2)]  # epochs, steps/epoch, save, keep
    script = tmp_path / "run.py"
    script.write_text(
        "import sys, numpy as np\n"
        "import mindspore.dataset as ds\nfrom mindspore import nn\n"
        "from mindspore.train import CheckpointConfig, Model, ModelCheckpoint\n"
        "for i, (epochs, spe, save, keep) in enumerate(eval(sys.argv[1])):\n"
        "    x = np.zeros((spe * 2, 4), np.float32)\n"
        "    data = ds.NumpySlicesDataset((x, x[:, :2]), ['x', 'y'], shuffle=False).batch(2)\n"
        "    net = nn.Dense(4, 2)\n"
        "    cb = ModelCheckpoint(prefix='t', directory=f'out{i}',\n"
        "                         config=CheckpointConfig(save_checkpoint_steps=save, keep_checkpoint_max=keep))\n"
        "    Model(net, nn.MSELoss(), nn.SGD(net.trainable_params(), 0.01)).train(epochs, data, callbacks=[cb])\n",
        encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script), repr(cases)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for i, (epochs, spe, save, keep) in enumerate(cases):
        on_disk = {p.name for p in (tmp_path / f"out{i}").glob("*.ckpt")}
        predicted = {f"t-{e}_{s}.ckpt" for e in range(1, epochs + 1) for s in range(1, spe + 1)
                     if is_written(e, s, spe, epochs, save, keep)}
        assert on_disk == predicted, (epochs, spe, save, keep)


def test_ms501_assumed_dataset_size_is_a_warning_that_says_so():
    """The seed's dataset is a CIFAR-10 directory: its size is assumed. The name is
    written by no standard CIFAR-10 size, but it is by 1000 steps per epoch (32000
    images), so the report is a warning naming the assumption, not an error."""
    from msfix.rules.checkpoint.ms501_checkpoint_never_written import is_written, written_for_some_size

    seed = FIXTURES / "seed" / "train.py"
    [d] = lint_text(seed.read_text(), [rule_by_code("MS501")], path="train.py").diagnostics
    assert d.severity.value == "warning" and "assumed" in d.message and "Cifar10Dataset" in d.message
    assert is_written(200, 1000, 1000, 200, 1000, 10)
    assert written_for_some_size(200, 1000, 200, 1000, 10, sink=True) is True
    for spe in (312, 1562, 1875):  # 10000, 50000, 60000 images, batches of 32
        assert not is_written(200, 1000, spe, 200, 1000, 10)
    # no size writes epoch 150's step 1000 when 200 epochs keep the newest 10 saves
    assert written_for_some_size(150, 1000, 200, 1000, 10, sink=True) is False


MS602_SCRIPT = """import mindspore.dataset as ds
from mindspore import nn, Model
{pre}data = ds.MnistDataset('m', usage='train').batch(32)
opt = nn.Momentum(net.trainable_params(), {arg}, 0.9)
Model(net, loss, opt).train(10, data)
{post}"""


@pytest.mark.parametrize("pre,arg,post,edited", [
    # a module-level constant read only by the call: the constant changes
    ("learning_rate = 0.1\n", "learning_rate", "", "learning_rate = 0.0125\n"),
    # read twice: the call's argument changes, the constant stays
    ("LR = 0.1\n", "LR", "print(LR)\n", "nn.Momentum(net.trainable_params(), 0.0125, 0.9)"),
    # bound twice: the same
    ("LR = 0.1\nLR = 0.1\n", "LR", "", "nn.Momentum(net.trainable_params(), 0.0125, 0.9)"),
    # a literal argument
    ("", "0.1", "", "nn.Momentum(net.trainable_params(), 0.0125, 0.9)"),
])
def test_ms602_fix_edits_the_named_constant_only_when_it_is_this_calls(pre, arg, post, edited):
    from msfix.engine import fix_text

    text = MS602_SCRIPT.format(pre=pre, arg=arg, post=post)
    fixed, _out, n, err = fix_text(text, [rule_by_code("MS602")], unsafe=True)
    assert err is None and n == 1
    assert edited in fixed
    if "learning_rate = 0.0125" in edited:
        assert f"({'net.trainable_params(), learning_rate'}, 0.9)" in fixed  # the call is untouched
    elif pre:
        assert pre.splitlines()[0] in fixed  # the constant is untouched


def test_ms602_needs_a_large_batch_recipe_at_a_small_batch():
    text = MS602_SCRIPT.format(pre="", arg="0.01", post="").replace("batch(32)", "batch(3)")
    assert lint_text(text, [rule_by_code("MS602")], path="t.py").diagnostics == []  # effective 0.1
    text = MS602_SCRIPT.format(pre="", arg="0.1", post="").replace("batch(32)", "batch(3)")
    assert [d.code for d in lint_text(text, [rule_by_code("MS602")], path="t.py").diagnostics] == ["MS602"]
