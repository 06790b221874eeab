"""The API rules (MS101-MS108) follow --target-version: the same script gives different
diagnostics on MindSpore 1.10 and 2.10, through the engine, the CLI and the config."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from msfix.engine import lint_text
from msfix.rule import rule_by_code, select_rules

REPO = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent("""\
    import mindspore as ms
    import mindspore.nn as nn
    import mindspore.dataset.vision.c_transforms as CV
    from mindspore import ms_function

    trans = [CV.Resize((32, 32)), CV.HWC2CHW()]
    drop = nn.Dropout(keep_prob=0.9)
    ms.set_device("CPU")


    @ms_function
    def double(x):
        return x * 2
""")


def codes(text: str, version: str | None, select=("MS10",)) -> list[tuple[int, str]]:
    out = lint_text(text, select_rules(select), path="t.py", target_version=version)
    assert out.internal_errors == []
    return [(d.span.line, d.code) for d in out.diagnostics]


def messages(text: str, version: str | None, code: str) -> list[str]:
    out = lint_text(text, [rule_by_code(code)], path="t.py", target_version=version)
    return [d.message for d in out.diagnostics]


def test_c_transforms_fine_on_1_10_removed_on_2_10():
    old = codes(SCRIPT, "1.10")
    new = codes(SCRIPT, "2.10")
    # 1.10: c_transforms and ms_function exist; set_device does not yet (added in 2.5)
    assert (3, "MS103") not in old and (4, "MS103") not in old
    assert (8, "MS103") in old
    # 2.10: the reverse
    assert (3, "MS103") in new and (4, "MS103") in new
    assert (8, "MS103") not in new


def test_removed_and_added_messages_name_the_versions():
    new = messages(SCRIPT, "2.10", "MS103")
    assert any("mindspore.dataset.vision.c_transforms" in m and "removed in 2.8" in m for m in new)
    assert any("mindspore.ms_function" in m and "removed in 2.6" in m and "mindspore.jit" in m for m in new)
    old = messages(SCRIPT, "1.10", "MS103")
    assert any("mindspore.set_device" in m and "added in 2.5" in m for m in old)


def test_intermediate_version_2_7_still_has_c_transforms():
    got = codes(SCRIPT, "2.7")
    assert (3, "MS103") not in got  # c_transforms last shipped in 2.7.x
    assert (4, "MS103") in got  # ms_function was gone by then


def test_dropout_keep_prob_deprecation_depends_on_version():
    # `p` was added to nn.Dropout in 2.0: on 1.10 keep_prob is the only spelling
    assert (7, "MS104") in codes(SCRIPT, "2.10")
    assert (7, "MS104") not in codes(SCRIPT, "1.10")


def test_set_context_device_deprecation_only_when_set_device_exists():
    text = "import mindspore as ms\nms.set_context(device_target='CPU')\n"
    assert codes(text, "2.10") == [(2, "MS104")]
    assert codes(text, "2.0") == []


def test_signature_rules_use_the_target_signature():
    # nn.Dropout(p=...) is an unknown keyword on 1.10 and fine on 2.10
    text = "import mindspore.nn as nn\ndrop = nn.Dropout(p=0.1)\n"
    assert codes(text, "2.10") == []
    assert codes(text, "1.10") == [(2, "MS105")]
    # ops.split(x, output_num=2) was the 1.x signature
    text = "import mindspore.ops as ops\nparts = ops.split(x, output_num=2)\n"
    assert codes(text, "1.10") == []
    assert codes(text, "2.10") == [(2, "MS105")]


def test_default_target_is_the_installed_version():
    # the dev venv has mindspore 2.10.0: no --target-version behaves as 2.10
    assert codes(SCRIPT, None) == codes(SCRIPT, "2.10")


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "msfix", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "NO_COLOR": "1"})


def test_cli_target_version_option_and_config(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT, encoding="utf-8")
    sel = ["--select", "MS103", "--output-format", "json"]
    new = json.loads(_cli("check", str(script), "--target-version", "2.10", *sel, "--exit-zero").stdout)
    old = json.loads(_cli("check", str(script), "--target-version", "1.10", *sel, "--exit-zero").stdout)
    assert {d["line"] for d in new} == {3, 4}
    assert {d["line"] for d in old} == {8}
    (tmp_path / "pyproject.toml").write_text('[tool.msfix]\ntarget-version = "1.10"\n', encoding="utf-8")
    cfg = json.loads(_cli("check", "train.py", *sel, "--exit-zero", cwd=tmp_path).stdout)
    assert {d["line"] for d in cfg} == {8}


@pytest.mark.parametrize("version", ["2.0", "2.7", "2.10"])
def test_good_fixtures_stay_clean_on_2x(version):
    # the MS105/MS106/MS107 good fixtures only use APIs that exist from 2.0 on
    for code in ("MS105", "MS106", "MS107"):
        text = (REPO / "fixtures" / code / "good.py").read_text(encoding="utf-8")
        assert lint_text(text, [rule_by_code(code)], path="good.py", target_version=version).diagnostics == [], code


def test_fixture_errors_of_the_api_rules_reproduce_on_the_wheel(tmp_path):
    """tools/corpus_report.py's verifier over the bad fixtures: every error of MS101,
    MS103, MS105, MS106 and MS107 fails the same way on the installed MindSpore wheel."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("corpus_report", REPO / "tools" / "corpus_report.py")
    cr = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cr)
    tasks = {}
    for code in ("MS101", "MS103", "MS105", "MS106", "MS107"):
        src = REPO / "fixtures" / code / "bad.py"
        dst = tmp_path / f"{code}.py"
        dst.write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
        _rel, diags, t, err = cr._lint_one((str(dst), str(tmp_path), "2.10.0"))
        assert err is None
        errors = [d for d in diags if d["code"] in cr.API_RULES and d["severity"] == "error"]
        assert len(t) == len(errors), code
        tasks.update(t)
    results = cr.verify(sys.executable, tasks)
    bad = {k: v["text"] for k, v in results.items() if not v["ok"]}
    assert not bad


OLD_SCRIPT = r"""import numpy as np
import mindspore
import mindspore.nn as nn
import mindspore.ops as ops
import mindspore.dataset as ds
import mindspore.dataset.vision.c_transforms as CV
import mindspore.dataset.transforms.c_transforms as C
from mindspore.dataset.vision.c_transforms import Inter
from mindspore import context, ms_function
from mindspore.ops import operations as P
from mindspore.train.callback import LossMonitor
from mindspore import Model

context.set_context(mode=context.PYNATIVE_MODE, device_target="cpu")


def create_dataset(n=64, batch=16):
    imgs = np.random.randint(0, 255, (n, 36, 36, 3)).astype(np.uint8)
    labels = np.random.randint(0, 10, (n,)).astype(np.int32)
    data = ds.NumpySlicesDataset({"image": imgs, "label": labels}, shuffle=True)
    trans = [CV.Resize((32, 32), interpolation=Inter.LINEAR), CV.Rescale(1 / 255.0, 0), CV.HWC2CHW(),
             C.TypeCast(mindspore.float32)]
    data = data.map(trans, "image")
    data = data.map(C.TypeCast(mindspore.int32), "label")
    return data.batch(batch, drop_remainder=True)


class Net(nn.Cell):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, bias=True)
        self.add = P.TensorAdd()
        self.relu = nn.ReLU(inplace=True)
        self.drop = nn.Dropout(keep_prob=0.9)
        self.flatten = nn.Flatten()
        self.fc = nn.Dense(in_features=8 * 32 * 32, out_features=10)

    def construct(self, x):
        x = self.relu(self.conv(x))
        x = self.add(x, x)
        return self.fc(self.flatten(self.drop(x)))


@ms_function
def double(x):
    return x * 2


net = Net()
loss = nn.SoftmaxCrossEntropyWithLogits(is_grad=False, sparse=True, reduction="mean")
opt = nn.Momentum(net.trainable_params(), lr=0.01, momentum=0.9)
model = Model(net, loss, opt)
model.train(1, create_dataset(), callbacks=[LossMonitor()])
print("double", double(mindspore.Tensor([1.0])))
print("OK")
"""


def test_a_1x_script_fixed_by_the_api_rules_trains_on_the_wheel(tmp_path):
    """A 1.x training script (c_transforms, ms_function, TensorAdd, keep_prob, torch
    keywords, context device keys) fails on 2.10; after `msfix fix --unsafe-fixes` it
    trains on the installed MindSpore wheel."""
    path = tmp_path / "train.py"
    path.write_text(OLD_SCRIPT, encoding="utf-8")
    before = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=600)
    assert before.returncode != 0
    fixed = _cli("fix", str(path), "--write", "--unsafe-fixes")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    after = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=600)
    assert after.returncode == 0, after.stderr[-3000:]
    assert after.stdout.strip().endswith("OK")


def test_moved_apis_are_deprecation_warnings_before_their_removal():
    on_1_10 = codes(SCRIPT, "1.10", select=("MS104",))
    on_2_0 = codes(SCRIPT, "2.0", select=("MS104",))
    on_2_10 = codes(SCRIPT, "2.10", select=("MS104",))
    assert (3, "MS104") in on_1_10 and (4, "MS104") not in on_1_10  # jit does not exist on 1.10
    assert (3, "MS104") in on_2_0 and (4, "MS104") in on_2_0
    assert (3, "MS104") not in on_2_10 and (4, "MS104") not in on_2_10  # MS103 errors there
    msg = messages(SCRIPT, "2.0", "MS104")
    assert any("mindspore.ms_function" in m and "mindspore.jit" in m for m in msg)
    assert sum("ms_function" in m for m in msg) == 1


PARTIAL = textwrap.dedent("""\
    import mindspore
    from mindspore import nn, ops


    def add(x, y):
        return x + y


    @mindspore.jit()
    def test():
        add_ = ops.partial(add, x=2)
        return add_(y=3)


    print("result", test())
""")


def test_ms105_skips_operator_instances_whose_signature_is_only_args():
    """`ops.partial` is a Primitive instance: the index holds its generic
    `__call__(*args)`, which names no keyword; its keywords go to the function."""
    assert [c for c in codes(PARTIAL, "2.10") if c[1] == "MS105"] == []
    # a callable with an empty signature still gets MS105 (nn.ReLU takes no keyword)
    assert codes("from mindspore import nn\nact = nn.ReLU(inplace=True)\n", "2.10", ("MS105",)) == [(2, "MS105")]


def test_ops_partial_keywords_run_inside_jit_on_the_wheel(tmp_path):
    pytest.importorskip("mindspore")
    script = tmp_path / "partial.py"
    script.write_text(PARTIAL, encoding="utf-8")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "result 5" in out.stdout


def test_ms106_old_signature_fix_runs_on_the_wheel(tmp_path):
    """MS106's fix binds the extra positional arguments as the older signature does:
    `ops.addr(x, v1, v2, 0.5, 2.0)` (1.9/1.10) -> `beta=0.5, alpha=2.0` (keyword-only
    since 2.0), and drops `status` of `amp.all_finite` (optional in 1.10, gone in 2.0)."""
    src = (REPO / "fixtures" / "MS106" / "bad_old_signature.py").read_text(encoding="utf-8")
    assert codes(src, "1.10") == []
    path = tmp_path / "old.py"
    path.write_text(src, encoding="utf-8")
    before = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300)
    assert before.returncode != 0 and "takes 3 positional arguments but 5 were given" in before.stderr
    fixed = _cli("fix", str(path), "--write", "--unsafe-fixes", "--select", "MS106")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    text = path.read_text(encoding="utf-8")
    assert "ops.addr(x, v1, v2, beta=0.5, alpha=2.0)" in text and "amp.all_finite(grads)" in text
    after = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300)
    assert after.returncode == 0, after.stderr[-3000:]
    assert after.stdout.split() == ["(2,", "3)", "2.5", "True"]
