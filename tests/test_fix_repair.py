"""`msfix fix --smoke` as a repair loop (msfix/smoke/repair.py).

The message parsing and the crash -> layer mapping are tested on messages captured on
the MindSpore 2.10 CPU wheel (tests/data/repair/*.log, with the scripts that produced
them; paths rewritten). The loop's stopping rules run with a stand-in runner. The CLI
tests run the real wheel on scripts in temporary directories."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from msfix.diagnose import parse_log
from msfix.smoke.repair import (ShapeCrash, crash_site, find_repair, layer_repair, parse_shape_crash,
                                repair_loop, rule_repair)
from msfix.smoke.runner import SmokeReport

DATA = Path(__file__).resolve().parent / "data" / "repair"
HAS_MINDSPORE = importlib.util.find_spec("mindspore") is not None
needs_wheel = pytest.mark.skipif(not HAS_MINDSPORE, reason="needs the MindSpore wheel (pip install 'msfix[smoke]')")

CAPTURED = {  # log -> (numbers in the message, the repair msfix makes at the crash)
    "dense_py": (ShapeCrash("MatMul", 256, 400), "fc1 in_channels 400 -> 256"),
    "dense_graph": (ShapeCrash("MatMul", 256, 400), "fc1 in_channels 400 -> 256"),
    "conv_py": (ShapeCrash("Conv2D", 1, 3, 1), "conv1 in_channels 3 -> 1"),
    "conv_graph": (ShapeCrash("Conv2D", 1, 3, 1), "conv1 in_channels 3 -> 1"),
    # nn.Conv1d runs Conv2D; mint.nn.Linear runs Dense (a message no crash-map entry has:
    # the line still comes from the network's graph notes)
    "conv1d_py": (ShapeCrash("Conv2D", 1, 3, 1), "conv in_channels 3 -> 1"),
    "linear_graph": (ShapeCrash("Dense", 256, 400), "head in_features 400 -> 256"),
}
WRITTEN = {"dense_py": "nn.Dense(256, 120)", "dense_graph": "nn.Dense(256, 120)",
           "conv_py": "nn.Conv2d(1, 6, 5, pad_mode='valid')", "conv_graph": "nn.Conv2d(1, 6, 5, pad_mode='valid')",
           "conv1d_py": "nn.Conv1d(in_channels=1, out_channels=8", "linear_graph": "mint.nn.Linear(256, 10)"}


def _report_from_log(name: str, script: str = "") -> SmokeReport:
    """A crashed run's report as the runner builds it: the exception and the stderr."""
    log = (DATA / f"{name}.log").read_text(encoding="utf-8")
    blocks, _ = parse_log(log)
    last = blocks[-1]
    return SmokeReport(script=script or f"{name}.py", outcome="crashed", exception_type=last.exception,
                       message=last.message, stderr=log)


@pytest.mark.parametrize("name", sorted(CAPTURED))
def test_shape_numbers_parsed_from_captured_messages(name):
    assert parse_shape_crash(_report_from_log(name).message) == CAPTURED[name][0]


def test_other_messages_have_no_shape_numbers():
    assert parse_shape_crash("ValueError: For 'MatMul' the input dimensions must be equal") is None
    assert parse_shape_crash(None) is None
    assert parse_shape_crash("TypeError: For primitive[SparseSoftmaxCrossEntropyWithLogits], ...") is None


@pytest.mark.parametrize("name", sorted(CAPTURED))
def test_captured_crash_maps_to_the_layer_of_the_construct_line(name):
    script = DATA / f"{name}.py"
    text = script.read_text(encoding="utf-8")
    report = _report_from_log(name)
    site = crash_site(report, script)
    # PyNative: the innermost script frame; graph mode: the network's construct notes
    # (the traceback itself only reaches `net(...)` at line 13)
    assert site.line == 10
    repair, why = find_repair(text, report, site)
    assert repair is not None, why
    assert repair.description == CAPTURED[name][1]
    fixed = repair.apply(text)
    assert WRITTEN[name] in fixed
    assert sum(a != b for a, b in zip(text.splitlines(), fixed.splitlines())) == 1


NET = '''\
import mindspore as ms
from mindspore import nn
{imports}

class Net(nn.Cell):
    def __init__(self, flag=True):
        super().__init__()
{init}

    def construct(self, x):
{body}
'''


def _net(init: str, body: str, imports: str = "") -> str:
    return NET.format(imports=imports, init=textwrap.indent(textwrap.dedent(init), " " * 8),
                      body=textwrap.indent(textwrap.dedent(body), " " * 8))


def _line(text: str, needle: str) -> int:
    return next(n for n, s in enumerate(text.splitlines(), 1) if needle in s)


def test_layer_found_through_imports_and_attributes_not_names():
    text = _net("self.q7 = Lin(hidden, 10)\nself.act = nn.ReLU()", "return self.act(self.q7(x))",
                imports="from mindspore.nn import Dense as Lin\nhidden = 64")
    repair, why = layer_repair(text, _line(text, "self.q7(x)"), ShapeCrash("MatMul", 32, 64))
    assert repair is not None, why
    assert repair.description == "q7 in_channels 64 -> 32"
    assert "Lin(32, 10)" in repair.apply(text)


def test_keyword_in_channels_and_inherited_layer():
    text = _net("self.head = nn.Dense(out_channels=10, in_channels=400)", "return self.head(x)") + textwrap.dedent('''
        class Child(Net):
            def construct(self, x):
                y = self.head(x)
                return y
        ''')
    repair, why = layer_repair(text, _line(text, "y = self.head(x)"), ShapeCrash("MatMul", 256, 400))
    assert repair is not None, why
    assert "nn.Dense(out_channels=10, in_channels=256)" in repair.apply(text)


def test_layer_inside_a_sequential_cell_is_the_one_built_for_the_crash_size():
    text = _net("self.body = nn.SequentialCell([nn.Dense(400, 120), nn.ReLU(), nn.Dense(120, 10)])",
                "return self.body(x)")
    repair, why = layer_repair(text, _line(text, "self.body(x)"), ShapeCrash("MatMul", 256, 400))
    assert repair is not None, why
    assert repair.description == f"body (nn.Dense at line {_line(text, 'SequentialCell')}) in_channels 400 -> 256"
    assert "nn.SequentialCell([nn.Dense(256, 120), nn.ReLU(), nn.Dense(120, 10)])" in repair.apply(text)


UNKNOWN_SIZES = "import os\nn1 = n2 = int(os.environ['N'])"


@pytest.mark.parametrize("init, body, crash, why", [
    # built in two places: which one ran is not known
    ("if flag:\n    self.fc = nn.Dense(400, 10)\nelse:\n    self.fc = nn.Dense(800, 10)", "return self.fc(x)",
     ShapeCrash("MatMul", 256, 400), "`self.fc` is assigned 2 times"),
    # two Dense layers on the line, neither known to be built for 400
    ("self.a = nn.Dense(n1, 10)\nself.b = nn.Dense(n2, 10)", "return self.a(x) + self.b(x)",
     ShapeCrash("MatMul", 256, 400), "2 candidate nn.Dense layers"),
    # the Dense at the line is built for 120, not for the crash's 400
    ("self.fc = nn.Dense(120, 10)", "return self.fc(x)", ShapeCrash("MatMul", 256, 400), "no nn.Dense"),
    # a Conv2D crash at a line that calls only a Dense
    ("self.fc = nn.Dense(400, 10)", "return self.fc(x)", ShapeCrash("Conv2D", 1, 3), "no nn.Conv2d"),
    # grouped convolution: in_channels alone cannot be rewritten
    ("self.c = nn.Conv2d(4, 4, 3, group=2)", "return self.c(x)", ShapeCrash("Conv2D", 1, 2, 2), "grouped"),
    # not a layer call
    ("self.fc = nn.Dense(400, 10)", "return ms.ops.matmul(x, x)", ShapeCrash("MatMul", 256, 400), "calls no layer"),
])
def test_layer_not_located_uniquely_is_not_guessed(init, body, crash, why):
    text = _net(init, body, imports=UNKNOWN_SIZES)
    repair, got = layer_repair(text, _line(text, body), crash)
    assert repair is None
    assert why in got


UINT32_JOB = '''\
import mindspore as ms
import mindspore.dataset as ds
from mindspore import nn

data = ds.MnistDataset("./MNIST_Data/train", usage="train").batch(32)
net = nn.Dense(784, 10)
model = ms.Model(net, nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean"), nn.Momentum(
    net.trainable_params(), 0.01, 0.9))
model.train(1, data)
'''


def test_rule_repair_takes_the_rules_one_fix():
    repair, why = rule_repair(UINT32_JOB, "MS204", [9])
    assert repair is not None, why
    assert repair.description.startswith("MS204 fix at line 5: ")
    assert "TypeCast" in repair.apply(UINT32_JOB)
    # a rule without a fix, and a rule with a fix but no diagnostic here
    from msfix.rule import all_rules

    fixless = next(r.code for r in all_rules() if r.fix_applicability is None)
    assert rule_repair(UINT32_JOB, fixless, [9]) == (None, f"the crash maps to {fixless}, which has no fix")
    assert "no fix in this script" in rule_repair(UINT32_JOB, "MS304", [9])[1]


class _Runner:
    """Stands in for run_smoke: replays captured reports, records the texts it ran."""

    def __init__(self, *reports):
        self.reports = list(reports)
        self.texts = []

    def __call__(self, copy, extra_path=()):
        self.texts.append(Path(copy).read_text(encoding="utf-8"))
        report = self.reports.pop(0)
        report.stderr = report.stderr.replace("/tmp/msfix-repair/dense_py.py", str(copy))
        return report


def _loop(text, runner, **kw):
    lines = []
    out = repair_loop(text, "train.py", str.encode, script_dir=Path("."), echo=lines.append, run=runner, **kw)
    assert out.rounds == lines
    return out


DENSE = (DATA / "dense_py.py").read_text(encoding="utf-8")


def test_loop_repairs_then_returns_the_version_that_ran():
    runner = _Runner(_report_from_log("dense_py"), SmokeReport(script="x", outcome="passed"))
    out = _loop(DENSE, runner)
    assert out.status == "ok" and out.repairs == ["fc1 in_channels 400 -> 256"]
    assert out.rounds == ["round 1: crashed at train.py:10 (MatMul 256 vs 400) -> fc1 in_channels 400 -> 256",
                          "round 2: passed"]
    assert runner.texts == [DENSE, out.text] and "nn.Dense(256, 120)" in out.text


def test_loop_stops_at_max_rounds_and_without_unsafe_fixes():
    out = _loop(DENSE, _Runner(_report_from_log("dense_py")), max_rounds=1)
    assert out.status == "rejected" and out.text == DENSE
    assert out.rounds == ["round 1: crashed at train.py:10 (MatMul 256 vs 400) -> not tried: --max-rounds 1 "
                          "reached (fc1 in_channels 400 -> 256)"]
    out = _loop(DENSE, _Runner(_report_from_log("dense_py")), enabled=False)
    assert out.status == "rejected" and out.text == DENSE
    assert out.rounds[0].endswith("-> repair not applied without --unsafe-fixes: fc1 in_channels 400 -> 256")
    assert out.reason == "crashed at train.py:10; the repair (fc1 in_channels 400 -> 256) needs --unsafe-fixes"


def test_loop_stops_when_the_same_crash_comes_back():
    # the repaired layer crashes again with the old numbers: its in_channels is now 256,
    # so it is not the layer built for 400 and nothing else is guessed
    out = _loop(DENSE, _Runner(_report_from_log("dense_py"), _report_from_log("dense_py")))
    assert out.status == "rejected" and out.text == DENSE and len(out.rounds) == 2
    assert out.rounds[1].startswith("round 2: crashed at train.py:10 (MatMul 256 vs 400) -> no repair: ")


# ---------------------------------------------------------------------------
# through the CLI, on the real wheel

LENET = '''\
"""LeNet-5 on MNIST."""
import mindspore as ms
import mindspore.dataset as ds
import mindspore.dataset.transforms as transforms
import mindspore.dataset.vision as vision
from mindspore import nn
from mindspore.train import LossMonitor, Model

ms.set_context(mode=ms.GRAPH_MODE)


def create_dataset(data_dir, batch_size=32):
    data = ds.MnistDataset(data_dir, usage="train", shuffle=True)
    data = data.map([vision.Rescale(1.0 / 255.0, 0.0), vision.HWC2CHW()], input_columns="image")
    data = data.map(transforms.TypeCast(ms.int32), input_columns="label")
    return data.batch(batch_size, drop_remainder=True)


class LeNet5(nn.Cell):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, pad_mode="valid")
        self.conv2 = nn.Conv2d(6, 16, 5, pad_mode="valid")
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Dense(16 * 5 * 5, 120)
        self.fc2 = nn.Dense(120, 84)
        self.fc3 = nn.Dense(84, num_classes)

    def construct(self, x):
        x = self.pool(self.relu(self.conv1(x)))
        x = self.pool(self.relu(self.conv2(x)))
        x = self.flatten(x)
        x = self.relu(self.fc1(x))
        x = self.relu(self.fc2(x))
        return self.fc3(x)


net = LeNet5()
loss = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")
opt = nn.Momentum(net.trainable_params(), learning_rate=0.01, momentum=0.9)
model = Model(net, loss, opt, metrics={"acc"})
model.train(1, create_dataset("./MNIST_Data/train"), callbacks=[LossMonitor()])
'''


# The same job with its data pipeline in a sibling module: msfix checks one file at a
# time, so no static rule (MS309 follows the samples' shapes into the network) knows
# what reaches the layers; only the run does.
DATA_DEF = LENET[LENET.index("def create_dataset"):LENET.index("class LeNet5")]
DATA_MODULE = ('import mindspore as ms\nimport mindspore.dataset as ds\nimport mindspore.dataset.transforms as '
               'transforms\nimport mindspore.dataset.vision as vision\n\n\n' + DATA_DEF.rstrip() + "\n")
SPLIT = LENET.replace(DATA_DEF, "").replace(DATA_MODULE[:DATA_MODULE.index("\n\n")].split("\n", 1)[1] + "\n", "").replace("from mindspore.train import LossMonitor, Model\n",
                                            "from mindspore.train import LossMonitor, Model\n\nfrom mnist_data "
                                            "import create_dataset\n")


def _msfix(*args, cwd):
    return subprocess.run([sys.executable, "-m", "msfix", *args], capture_output=True, text=True, cwd=cwd)


def _script(tmp_path, text) -> Path:
    if "from mnist_data import" in text:
        (tmp_path / "mnist_data.py").write_text(DATA_MODULE, encoding="utf-8")
    path = tmp_path / "train.py"
    path.write_text(text, encoding="utf-8")
    return path


@needs_wheel
def test_dense_size_only_the_run_reveals_is_repaired_written_and_then_passes_smoke(tmp_path):
    path = _script(tmp_path, SPLIT)
    check = _msfix("check", "train.py", "mnist_data.py", cwd=tmp_path)
    assert check.returncode == 0, check.stdout  # nothing static to see
    proc = _msfix("fix", "--write", "--smoke", "--unsafe-fixes", "train.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    fc1 = _line(SPLIT, "x = self.relu(self.fc1(x))")
    rounds = [ln for ln in proc.stderr.splitlines() if ln.startswith("train.py: smoke round")]
    assert rounds == [
        f"train.py: smoke round 1: crashed at train.py:{fc1} (MatMul 256 vs 400) -> fc1 in_channels 400 -> 256",
        "train.py: smoke round 2: passed",
    ]
    assert "train.py: smoke passed: repaired script runs (1 repair)" in proc.stderr
    assert path.read_text(encoding="utf-8") == SPLIT.replace("nn.Dense(16 * 5 * 5, 120)", "nn.Dense(256, 120)")
    smoke = _msfix("smoke", "train.py", cwd=tmp_path)
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr


@needs_wheel
def test_conv_in_channels_repaired_for_grayscale_data(tmp_path):
    # the smoke run's MNIST is 28x28x1, as the real one: a Conv2d built for 3 channels
    text = SPLIT.replace('nn.Conv2d(1, 6, 5, pad_mode="valid")', 'nn.Conv2d(in_channels=3, out_channels=6, '
                         'kernel_size=5, pad_mode="valid")').replace("16 * 5 * 5", "16 * 4 * 4")
    path = _script(tmp_path, text)
    proc = _msfix("fix", "--write", "--smoke", "--unsafe-fixes", "train.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    conv1 = _line(text, "self.conv1(x)")
    assert (f"train.py: smoke round 1: crashed at train.py:{conv1} (Conv2D C_in 1 vs 3) -> conv1 in_channels "
            "3 -> 1") in proc.stderr
    assert path.read_text(encoding="utf-8") == text.replace("in_channels=3,", "in_channels=1,")


@needs_wheel
def test_unrepairable_crash_leaves_the_file_byte_identical(tmp_path):
    text = LENET.replace("16 * 5 * 5", "16 * 4 * 4").replace(
        "net = LeNet5()", 'net = LeNet5()\nraise ValueError("the run stops here")')
    path = _script(tmp_path, text)
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))  # byte-identical: line endings too
    before = path.read_bytes()
    proc = _msfix("fix", "--write", "--smoke", "--unsafe-fixes", "train.py", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert path.read_bytes() == before
    line = _line(text, "raise ValueError")
    assert (f"train.py: smoke round 1: crashed at train.py:{line} (ValueError: the run stops here) -> no repair: "
            "no rewrite is known for this crash") in proc.stderr
    assert (f"train.py: smoke crashed: script does not run; file left unchanged (crashed at train.py:{line}; "
            "no repair: no rewrite is known for this crash)") in proc.stderr


@needs_wheel
def test_without_unsafe_fixes_the_repair_is_named_not_applied(tmp_path):
    path = _script(tmp_path, SPLIT)
    proc = _msfix("fix", "--write", "--smoke", "train.py", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert path.read_text(encoding="utf-8") == SPLIT
    assert "-> repair not applied without --unsafe-fixes: fc1 in_channels 400 -> 256" in proc.stderr


@needs_wheel
def test_crash_of_an_ignored_rule_is_repaired_with_its_fix(tmp_path):
    # MS204 (uint32 MNIST labels) is ignored; the run crashes with its TypeError, which
    # the crash map gives to MS204, whose one fix in the script is then applied
    text = LENET.replace("16 * 5 * 5", "16 * 4 * 4").replace(
        '    data = data.map(transforms.TypeCast(ms.int32), input_columns="label")\n', "")
    path = _script(tmp_path, text)
    proc = _msfix("fix", "--write", "--smoke", "--unsafe-fixes", "--ignore", "MS204", "train.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rounds = [ln for ln in proc.stderr.splitlines() if ln.startswith("train.py: smoke round")]
    assert len(rounds) == 2 and rounds[1] == "train.py: smoke round 2: passed"
    assert "(TypeError: For primitive[SparseSoftmaxCrossEntropyWithLogits]" in rounds[0]
    assert f"-> MS204 fix at line {_line(text, 'MnistDataset')}: " in rounds[0]
    assert "TypeCast(ms.int32)" in path.read_text(encoding="utf-8")


def test_unchanged_file_found_in_a_directory_is_not_run(tmp_path):
    # only a file named on the command line is run when no fix changed it: `fix --smoke .`
    # must not execute every script (setup.py, helpers) of a project
    _script(tmp_path, SPLIT)
    proc = _msfix("fix", "--write", "--smoke", "--unsafe-fixes", ".", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "smoke" not in proc.stderr
    assert (tmp_path / "train.py").read_text(encoding="utf-8") == SPLIT


OFFICIAL_LENET = '''\
import mindspore as ms
from mindspore import nn


class LeNet5(nn.Cell):
    def __init__(self, num_class=10, num_channel=3):
        super().__init__()
        self.conv1 = nn.Conv2d(num_channel, 6, 5, pad_mode='valid')

    def construct(self, x):
        return self.conv1(x)


{builds}
'''


@pytest.mark.parametrize("builds, description, written", [
    # the size comes from the one instantiation's argument
    ("net = LeNet5(10, 3)", "conv1 in_channels 3 -> 1 (`num_channel` of LeNet5(...) at line 14)",
     "net = LeNet5(10, 1)"),
    ("net = LeNet5(num_channel=3)", "conv1 in_channels 3 -> 1 (`num_channel` of LeNet5(...) at line 14)",
     "net = LeNet5(num_channel=1)"),
    # or from the parameter's default, which that instantiation uses
    ("net = LeNet5(num_class=10)", "conv1 in_channels 3 -> 1 (the default of `num_channel` in LeNet5.__init__)",
     "def __init__(self, num_class=10, num_channel=1):"),
])
def test_size_from_an_init_parameter_is_repaired_where_it_is_given(builds, description, written):
    text = OFFICIAL_LENET.format(builds=builds)
    repair, why = layer_repair(text, _line(text, "return self.conv1(x)"), ShapeCrash("Conv2D", 1, 3))
    assert repair is not None, why
    assert repair.description == description
    fixed = repair.apply(text)
    assert written in fixed and "nn.Conv2d(num_channel, 6, 5" in fixed


def test_size_from_a_parameter_of_a_cell_built_twice_is_not_guessed():
    text = OFFICIAL_LENET.format(builds="a = LeNet5(10, 3)\nb = LeNet5(10, 1)")
    repair, why = layer_repair(text, _line(text, "return self.conv1(x)"), ShapeCrash("Conv2D", 1, 3))
    assert repair is None and "the script builds LeNet5 2 times" in why
    text = OFFICIAL_LENET.format(builds="a = LeNet5(10, 1)").replace("nn.Conv2d(num_channel,", "nn.Conv2d(num_channel * 3,")
    repair, why = layer_repair(text, _line(text, "return self.conv1(x)"), ShapeCrash("Conv2D", 1, 3))
    assert repair is None and "computed from the parameter `num_channel`" in why


def test_crash_without_a_table_entry_is_still_placed_at_the_innermost_script_frame():
    report = _report_from_log("dense_py")
    report.stderr = report.stderr.replace("For 'MatMul' the input dimensions must be equal", "something unheard of")
    report.message = report.message.replace("For 'MatMul' the input dimensions must be equal", "something unheard of")
    site = crash_site(report, DATA / "dense_py.py")
    assert site.entry_id is None and site.line == 10 and site.lines == [10, 13]


def test_conv3d_message_and_layer():
    # the 2.10 wheel's text for nn.Conv3d(3, 6, 3) fed 1 channel (a ValueError, Conv2D's is a RuntimeError)
    message = ("For 'Conv3D', 'C_in' of input 'x' shape divide by parameter 'group' must be equal to 'C_in' of "
               "input 'weight' shape: 3, but got 'C_in' of input 'x' shape: 1, and 'group': 1.")
    crash = parse_shape_crash(message)
    assert crash == ShapeCrash("Conv3D", 1, 3, 1)
    text = _net("self.c3 = nn.Conv3d(3, 6, 3)\nself.c2 = nn.Conv2d(3, 6, 3)", "return self.c3(x) + self.c2(x)")
    repair, why = layer_repair(text, _line(text, "return self.c3(x)"), crash)
    assert repair is not None, why
    assert repair.description == "c3 in_channels 3 -> 1" and "nn.Conv3d(1, 6, 3)" in repair.apply(text)


def test_a_failure_while_looking_for_a_repair_writes_nothing(monkeypatch):
    import msfix.smoke.repair as repair

    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(repair, "find_repair", broken)
    out = _loop(DENSE, _Runner(_report_from_log("dense_py")))
    assert out.status == "rejected" and out.text == DENSE
    assert out.rounds[0].endswith("-> no repair: internal error while looking for a repair: KeyError: 'boom'")
