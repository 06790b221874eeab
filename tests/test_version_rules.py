"""Version-aware API rules (project issue 13): the same 1.x-era and 2.x-era scripts
checked and fixed at 1.5, 1.8, 2.0 and 2.10 through the command line, each in a
temporary directory. MS102 (old module path) only where the target has the new home,
MS103 (name missing at the target) with the target's own spelling, MS104 (deprecated,
still there) and MS804 (Parameter methods in compiled code). The 1.x facts come from
the API index (read from the real wheels); the GRAPH_MODE facts are run on the
installed 2.10 wheel."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from msfix.cli import main
from msfix.engine import lint_text
from msfix.knowledge.api import load_index
from msfix.knowledge.moves import related_modules, target_spelling
from msfix.rule import all_rules

SELECT = "MS102,MS103,MS104,MS804"

OLD = textwrap.dedent('''\
    import mindspore.nn as nn
    import mindspore.dataset as ds
    import mindspore.dataset.vision.c_transforms as CV
    import mindspore.dataset.transforms.c_transforms as C
    from mindspore import context
    from mindspore.train.callback import ModelCheckpoint, LossMonitor
    from mindspore.train.serialization import load_checkpoint
    import mindspore.common.dtype as mstype

    context.set_context(mode=context.GRAPH_MODE)
    data = ds.Cifar10Dataset("./data", usage="train", shuffle=True)
    data = data.map(operations=[CV.RandomCrop(32), CV.HWC2CHW()], input_columns="image")
    data = data.map(operations=C.TypeCast(mstype.int32), input_columns="label")


    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.fc = nn.Dense(4, 2)

        def construct(self, x):
            self.fc.weight.set_data(self.fc.weight * 0.5)
            return self.fc(x)
    ''')

NEW = textwrap.dedent('''\
    import mindspore as ms
    import mindspore.nn as nn
    import mindspore.dataset as ds
    import mindspore.dataset.vision as vision
    import mindspore.dataset.transforms as transforms
    from mindspore.dataset.vision import RandomCropDecodeResize
    from mindspore.train import ModelCheckpoint, LossMonitor
    from mindspore import load_checkpoint

    ms.set_context(mode=ms.GRAPH_MODE)
    data = ds.Cifar10Dataset("./data", usage="train", shuffle=True)
    data = data.map(operations=[vision.RandomCrop(32), vision.HWC2CHW(), RandomCropDecodeResize(32)], input_columns="image")
    data = data.map(operations=transforms.TypeCast(ms.int32), input_columns="label")


    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.fc = nn.Dense(4, 2)

        def construct(self, x):
            self.fc.weight.set_data(self.fc.weight * 0.5)
            return self.fc(x)
    ''')

MS804_LINE = (22, 9, "MS804")

# (line, column, code) of every diagnostic, per script and target
EXPECTED = {
    ("old", "1.5"): [(7, 6, "MS102"), MS804_LINE],
    ("old", "1.8"): [(3, 8, "MS104"), (4, 8, "MS104"), (5, 23, "MS102"), (6, 6, "MS102"), (7, 6, "MS102"), MS804_LINE],
    ("old", "2.0"): [(3, 8, "MS104"), (4, 8, "MS104"), (5, 23, "MS102"), (6, 6, "MS102"), (7, 6, "MS102"), MS804_LINE],
    ("old", "2.10"): [(3, 8, "MS103"), (4, 8, "MS103"), (5, 23, "MS102"), (6, 6, "MS102"), (7, 6, "MS102"), MS804_LINE],
    ("new", "1.5"): [(6, 38, "MS103"), (7, 29, "MS103"), (7, 46, "MS103"), (10, 1, "MS103"), (10, 21, "MS103"),
                     (12, 29, "MS103"), (12, 52, "MS103"), (13, 28, "MS103"), MS804_LINE],
    ("new", "1.8"): [MS804_LINE],
    ("new", "2.0"): [MS804_LINE],
    ("new", "2.10"): [MS804_LINE],
}

ASSIGN = "        ops.assign(self.fc.weight, self.fc.weight * 0.5)\n"

# the 1.x script once fixed at 1.8 and later: the 2.x layout
OLD_FIXED_2X = (OLD
                .replace("import mindspore.dataset.vision.c_transforms as CV", "import mindspore.dataset.vision as CV")
                .replace("import mindspore.dataset.transforms.c_transforms as C", "import mindspore.dataset.transforms as C")
                .replace("from mindspore import context", "import mindspore as ms")
                .replace("from mindspore.train.callback import", "from mindspore.train import")
                .replace("from mindspore.train.serialization import", "from mindspore import")
                .replace("import mindspore.common.dtype as mstype\n", "import mindspore.common.dtype as mstype\nfrom mindspore import ops\n")
                .replace("context.set_context(mode=context.GRAPH_MODE)", "ms.set_context(mode=ms.GRAPH_MODE)")
                .replace("        self.fc.weight.set_data(self.fc.weight * 0.5)\n", ASSIGN))

FIXED = {
    # 1.5: only the checkpoint import has a new home (mindspore.load_checkpoint since 1.1)
    ("old", "1.5"): (OLD.replace("from mindspore.train.serialization import", "from mindspore import")
                     .replace("import mindspore.common.dtype as mstype\n",
                              "import mindspore.common.dtype as mstype\nfrom mindspore import ops\n")
                     .replace("        self.fc.weight.set_data(self.fc.weight * 0.5)\n", ASSIGN)),
    ("old", "1.8"): OLD_FIXED_2X,
    ("old", "2.0"): OLD_FIXED_2X,
    ("old", "2.10"): OLD_FIXED_2X,
    # 1.5: every 2.x name spelled the 1.5 way
    ("new", "1.5"): (NEW.replace("from mindspore.dataset.vision import", "from mindspore.dataset.vision.c_transforms import")
                     .replace("from mindspore.train import", "from mindspore.train.callback import")
                     # a use through a submodule the script does not import gets its import
                     .replace("from mindspore import load_checkpoint\n",
                              "from mindspore import load_checkpoint\nimport mindspore.context\n"
                              "import mindspore.dataset.transforms.c_transforms\nfrom mindspore import ops\n")
                     .replace("ms.set_context(mode=ms.GRAPH_MODE)", "ms.context.set_context(mode=ms.context.GRAPH_MODE)")
                     .replace("vision.RandomCrop(32), vision.HWC2CHW()", "vision.c_transforms.RandomCrop(32), vision.c_transforms.HWC2CHW()")
                     .replace("transforms.TypeCast(", "transforms.c_transforms.TypeCast(")
                     .replace("        self.fc.weight.set_data(self.fc.weight * 0.5)\n", ASSIGN)),
}
for _v in ("1.8", "2.0", "2.10"):
    FIXED[("new", _v)] = (NEW.replace("from mindspore import load_checkpoint\n",
                                      "from mindspore import load_checkpoint\nfrom mindspore import ops\n")
                          .replace("        self.fc.weight.set_data(self.fc.weight * 0.5)\n", ASSIGN))

CASES = [pytest.param(s, v, id=f"{s}-{v}") for s in ("old", "new") for v in ("1.5", "1.8", "2.0", "2.10")]


def run(cwd: Path, *args):
    old = os.getcwd()
    try:
        os.chdir(cwd)
        return CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def write(tmp_path: Path, which: str) -> Path:
    path = tmp_path / "train.py"
    path.write_text(OLD if which == "old" else NEW, encoding="utf-8")
    return path


def check(tmp_path: Path, version: str, select: str = SELECT) -> list:
    res = run(tmp_path, "check", "--no-cache", "--select", select, "--output-format", "json",
              "--target-version", version, "train.py")
    assert res.exit_code in (0, 1), res.output
    return json.loads(res.output)


@pytest.mark.parametrize("which,version", CASES)
def test_check_at_each_target(tmp_path, which, version):
    write(tmp_path, which)
    diags = check(tmp_path, version)
    assert [(d["line"], d["column"], d["code"]) for d in diags] == EXPECTED[(which, version)]


@pytest.mark.parametrize("which,version", CASES)
def test_fix_at_each_target(tmp_path, which, version):
    path = write(tmp_path, which)
    res = run(tmp_path, "fix", "--no-cache", "--select", SELECT, "--unsafe-fixes", "--write",
              "--target-version", version, "train.py")
    assert res.exit_code in (0, 1), res.output
    fixed = path.read_text(encoding="utf-8")
    assert fixed == FIXED[(which, version)]
    # nothing left of these rules at that target: the fixes spell names as the target does
    assert check(tmp_path, version) == []


def test_messages_name_the_target_spelling(tmp_path):
    write(tmp_path, "new")
    by_line = {(d["line"], d["column"]): d for d in check(tmp_path, "1.5")}
    d = by_line[(6, 38)]
    assert d["message"] == ("`mindspore.dataset.vision.RandomCropDecodeResize` does not exist in MindSpore 1.5: "
                            "added in 1.8; MindSpore 1.5 spells it "
                            "`mindspore.dataset.vision.c_transforms.RandomCropDecodeResize`")
    assert d["fix"]["applicability"] == "safe"
    d = by_line[(10, 1)]
    assert "added in 1.6" in d["message"] and "spells it `mindspore.context.set_context`" in d["message"]
    assert d["fix"]["applicability"] == "safe"
    d = by_line[(13, 28)]
    assert "spells it `mindspore.dataset.transforms.c_transforms.TypeCast`" in d["message"]
    assert d["fix"]["applicability"] == "safe"
    # two 1.5 modules have RandomCrop: the C++ one is proposed, as a guess
    d = by_line[(12, 29)]
    assert d["message"].endswith("spells it `mindspore.dataset.vision.c_transforms.RandomCrop` "
                                 "(also in `mindspore.dataset.vision.py_transforms`)")
    assert d["fix"]["applicability"] == "unsafe"


def test_ms102_message_says_since_when(tmp_path):
    write(tmp_path, "old")
    msgs = {d["line"]: d["message"] for d in check(tmp_path, "1.8", "MS102")}
    assert msgs[5] == ("`mindspore.context` is the old path: `set_context` and the mode constants are in "
                       "`mindspore` since 1.6; import from `mindspore`")
    assert msgs[6] == ("`mindspore.train.callback` is the old path: callbacks are in `mindspore.train` "
                       "since 1.8; import from `mindspore.train`")


@pytest.mark.parametrize("version,reported", [("1.5", False), ("1.6", True), ("1.8", True)])
def test_ms102_context_only_once_the_target_has_set_context(tmp_path, version, reported):
    (tmp_path / "train.py").write_text("from mindspore import context\ncontext.set_context(mode=context.GRAPH_MODE)\n")
    assert bool(check(tmp_path, version, "MS102")) is reported


@pytest.mark.parametrize("version,reported", [("1.8", False), ("1.10", False), ("2.0", True)])
def test_ms102_metrics_move_in_2_0(tmp_path, version, reported):
    # callbacks are in mindspore.train from 1.8, metrics only from 2.0
    (tmp_path / "train.py").write_text("from mindspore.nn.metrics import Accuracy\n")
    assert bool(check(tmp_path, version, "MS102")) is reported


def test_from_import_with_two_destinations_is_split(tmp_path):
    # at 1.7, RandomCropDecodeResize is only in vision.c_transforms; Inter stays in vision
    path = tmp_path / "train.py"
    path.write_text("from mindspore.dataset.vision import Inter, RandomCropDecodeResize\n"
                    "op = RandomCropDecodeResize(32, interpolation=Inter.LINEAR)\n")
    diags = check(tmp_path, "1.7", "MS103")
    assert [(d["line"], d["column"], d["code"]) for d in diags] == [(1, 45, "MS103")]
    res = run(tmp_path, "fix", "--no-cache", "--select", "MS103", "--write", "--target-version", "1.7", "train.py")
    assert res.exit_code == 0, res.output
    assert path.read_text() == ("from mindspore.dataset.vision import Inter\n"
                                "from mindspore.dataset.vision.c_transforms import RandomCropDecodeResize\n"
                                "op = RandomCropDecodeResize(32, interpolation=Inter.LINEAR)\n")


@pytest.mark.parametrize("which,version", CASES)
def test_one_report_per_place(which, version):
    text = OLD if which == "old" else NEW
    out = lint_text(text, list(all_rules()), target_version=version)
    places = [(d.span.line, d.span.column) for d in out.diagnostics if d.code in ("MS101", "MS102", "MS103", "MS104")]
    assert len(places) == len(set(places)), [(d.code, d.span.line, d.message) for d in out.diagnostics]


# ---------------------------------------------------------------------------- moves
def test_target_spelling_from_the_index():
    idx = load_index()
    v17 = idx.resolve_version("1.7")
    sp = target_spelling(idx, "mindspore.dataset.transforms.TypeCast", v17)
    assert (sp.qualname, sp.safe) == ("mindspore.dataset.transforms.c_transforms.TypeCast", True)
    sp = target_spelling(idx, "mindspore.dataset.vision.RandomCropDecodeResize", v17)
    assert (sp.qualname, sp.safe) == ("mindspore.dataset.vision.c_transforms.RandomCropDecodeResize", True)
    sp = target_spelling(idx, "mindspore.dataset.vision.RandomCrop", v17)
    assert sp.qualname == "mindspore.dataset.vision.c_transforms.RandomCrop" and not sp.safe
    assert sp.others == ("mindspore.dataset.vision.py_transforms.RandomCrop",)
    # vision.Normalize (1.8) takes is_hwc; c_transforms.Normalize (1.7) does not
    sp = target_spelling(idx, "mindspore.dataset.vision.Normalize", v17)
    assert not sp.safe and "parameters differ" in sp.note
    # a name the target lacks everywhere has no spelling
    assert target_spelling(idx, "mindspore.set_device", idx.resolve_version("2.0")) is None
    # a name that exists at the target needs none
    assert target_spelling(idx, "mindspore.set_context", idx.resolve_version("2.10")) is None


def test_related_modules_pair_both_ways():
    assert related_modules("mindspore.dataset.vision") == ("mindspore.dataset.vision.c_transforms",
                                                          "mindspore.dataset.vision.py_transforms")
    assert related_modules("mindspore.train.callback") == ("mindspore.train",)


# ---------------------------------------------------------------------------- MS804 on the wheel
CELL = textwrap.dedent('''\
    import numpy as np
    import mindspore as ms
    from mindspore import nn, Tensor

    ms.set_context(mode=ms.GRAPH_MODE)


    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.fc = nn.Dense(2, 2, weight_init="ones")

        def construct(self, x):
            self.fc.weight.set_data(self.fc.weight * 0.5)
            return self.fc(x)


    net = Net()
    out = net(Tensor(np.ones((1, 2), np.float32)))
    print("WEIGHT", net.fc.weight.asnumpy().ravel().tolist())
    ''')


def _run_script(path: Path):
    return subprocess.run([sys.executable, str(path)], cwd=path.parent, capture_output=True, text=True, timeout=600)


def test_ms804_claim_and_fix_on_the_installed_wheel(tmp_path):
    pytest.importorskip("mindspore")
    path = tmp_path / "cell.py"
    path.write_text(CELL)
    res = run(tmp_path, "check", "--no-cache", "--select", "MS804", "--output-format", "json", "cell.py")
    diags = json.loads(res.output)
    assert [(d["line"], d["code"]) for d in diags] == [(14, "MS804")]
    before = _run_script(path)
    assert before.returncode != 0
    assert "method 'set_data' is not supported in 'construct'" in before.stderr
    res = run(tmp_path, "fix", "--no-cache", "--select", "MS804", "--unsafe-fixes", "--write", "cell.py")
    assert res.exit_code == 0, res.output
    assert "ops.assign(self.fc.weight, self.fc.weight * 0.5)" in path.read_text()
    after = _run_script(path)
    assert after.returncode == 0, after.stderr[-2000:]
    assert "WEIGHT [0.5, 0.5, 0.5, 0.5]" in after.stdout


def test_sibling_spelling_for_a_name_the_module_never_had():
    from msfix.knowledge.moves import sibling_spelling

    idx = load_index()
    v17 = idx.resolve_version("1.7")
    sp = sibling_spelling(idx, "mindspore.dataset.transforms.c_transforms.RandomCrop", v17)
    assert (sp.qualname, sp.safe) == ("mindspore.dataset.vision.c_transforms.RandomCrop", True)
    sp = sibling_spelling(idx, "mindspore.dataset.vision.c_transforms.TypeCast", v17)
    assert (sp.qualname, sp.safe) == ("mindspore.dataset.transforms.c_transforms.TypeCast", True)
    sp = sibling_spelling(idx, "mindspore.nn.relu", idx.resolve_version("2.10"))
    assert sp.qualname == "mindspore.ops.relu" and not sp.safe
    # a name some release has is target_spelling's case
    assert sibling_spelling(idx, "mindspore.dataset.vision.RandomCrop", v17) is None


def test_a_defining_module_only_is_proposed_as_unsafe():
    # nn.CrossEntropyLoss is exported from 1.8.1; 1.8.0 has the class in nn.loss.loss only
    idx = load_index()
    sp = target_spelling(idx, "mindspore.nn.CrossEntropyLoss", "1.8.0")
    assert sp.qualname == "mindspore.nn.loss.loss.CrossEntropyLoss" and not sp.safe
    assert "does not export it" in sp.note


def test_a_use_through_an_unimported_submodule_imports_it(tmp_path):
    path = tmp_path / "train.py"
    path.write_text("import mindspore.dataset.vision as vision\nop = vision.RandomCropDecodeResize(32)\n")
    res = run(tmp_path, "fix", "--no-cache", "--select", "MS103", "--write", "--target-version", "1.7", "train.py")
    assert res.exit_code == 0, res.output
    assert path.read_text() == ("import mindspore.dataset.vision as vision\n"
                                "import mindspore.dataset.vision.c_transforms\n"
                                "op = vision.c_transforms.RandomCropDecodeResize(32)\n")


NO_MODE = textwrap.dedent('''\
    from mindspore import nn


    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.fc = nn.Dense(4, 2)

        def construct(self, x):
            self.fc.weight.set_data(self.fc.weight * 0.5)
            return self.fc(x)
    ''')


@pytest.mark.parametrize("version,lines", [("1.5", [10]), ("1.10", [10]), ("2.0", []), ("2.10", [])])
def test_ms804_graph_mode_is_the_default_before_2_0(tmp_path, version, lines):
    # no set_context: 1.x compiles construct (GRAPH_MODE default), 2.x runs it in PyNative
    (tmp_path / "train.py").write_text(NO_MODE)
    diags = check(tmp_path, version, "MS804")
    assert [d["line"] for d in diags] == lines
    if lines:
        assert f"GRAPH_MODE is the default mode before 2.0 (the target is {version})" in diags[0]["message"]


def test_ms804_pynative_set_explicitly_at_1x(tmp_path):
    (tmp_path / "train.py").write_text("from mindspore import context\n"
                                       "context.set_context(mode=context.PYNATIVE_MODE)\n" + NO_MODE)
    assert check(tmp_path, "1.8", "MS804") == []


def test_ms101_names_the_module_that_has_it_at_the_target_and_imports_it(tmp_path):
    # `RandomCrop` never lived in transforms.c_transforms: at 1.7 it is in vision.c_transforms
    f = tmp_path / "a.py"
    f.write_text("import mindspore.dataset as ds\n"
                 "import mindspore.dataset.transforms.c_transforms as C\n\n"
                 "data = ds.MnistDataset('m')\n"
                 "data = data.map([C.RandomCrop(28), C.TypeCast(1)], 'image')\n", encoding="utf-8")
    r = CliRunner().invoke(main_cli(), ["check", "--no-cache", "--target-version", "1.7", "--output-format", "concise",
                                        str(f)])
    assert r.exit_code == 1
    assert ("MS101 `mindspore.dataset.transforms.c_transforms` has no attribute `RandomCrop` in MindSpore 1.7.0"
            in r.output)
    assert "MindSpore 1.7.0 has it as `mindspore.dataset.vision.c_transforms.RandomCrop`" in r.output
    r = CliRunner().invoke(main_cli(), ["fix", "--write", "--unsafe-fixes", "--no-cache", "--target-version", "1.7",
                                        str(f)])
    assert r.exit_code == 0, r.output
    assert f.read_text(encoding="utf-8") == (
        "import mindspore.dataset as ds\n"
        "import mindspore.dataset.transforms.c_transforms as C\n"
        "from mindspore.dataset.vision import c_transforms\n\n"
        "data = ds.MnistDataset('m')\n"
        "data = data.map([c_transforms.RandomCrop(28), C.TypeCast(1)], 'image')\n")


def main_cli():
    from msfix.cli import main

    return main
