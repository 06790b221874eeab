"""The PyTorch -> MindSpore map (msfix/knowledge/data/torch_map.json, built by
tools/build_torch_map.py from MindSpore's mapping tables), MS410 (torch calls in
MindSpore code) and MS411 (the torch import left after the port)."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from msfix.engine import fix_text, lint_text
from msfix.knowledge.api import load_index
from msfix.knowledge.torch_map import branch_order, counterpart, entries
from msfix.rule import rule_by_code

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "msfix" / "knowledge" / "data" / "torch_map.json"
SOURCE = ROOT.parent / "shared" / "knowledge-sources" / "pytorch_api_mapping"
MS410 = rule_by_code("MS410")
MS411 = rule_by_code("MS411")


def _builder():
    spec = importlib.util.spec_from_file_location("build_torch_map", ROOT / "tools" / "build_torch_map.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ---------------------------------------------------------------------------- builder and data

@pytest.mark.skipif(not SOURCE.is_dir(), reason="the mapping tables are not at hand")
def test_builder_check_rebuilds_the_shipped_file_byte_for_byte():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "build_torch_map.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert _builder().build(SOURCE) == SHIPPED.read_text(encoding="utf-8")


def test_builder_check_fails_on_a_stale_file(tmp_path):
    if not SOURCE.is_dir():
        pytest.skip("the mapping tables are not at hand")
    stale = tmp_path / "torch_map.json"
    stale.write_text(SHIPPED.read_text(encoding="utf-8").replace("mindspore.mint.cat", "mindspore.mint.concat"),
                     encoding="utf-8")
    assert _builder().main(["--check", "--out", str(stale)]) == 1


def test_parsers_read_rows_and_parameter_tables():
    b = _builder()
    table = b.parse_table(
        "| [torch.cat](https://x/torch.cat.html) | [mindspore.ops.cat](https://y) | "
        "[diff](https://www.mindspore.cn/docs/en/r2.2/note/api_mapping/pytorch_diff/cat.html) |\n"
        "| [torch.abs](https://x) | [mindspore.mint.abs](https://y) | [Consistent](https://z) |\n"
        "| torch.foo | | |\n"
        "| [torch.mean](https://x) | [mindspore.ops.mean](https://y) | The functions are consistent, but the "
        "parameter names are inconsistent. |\n")
    assert table["torch.cat"] == {"ms": "mindspore.ops.cat", "kind": "diff", "page": "cat"}
    assert table["torch.abs"]["kind"] == "consistent"
    assert table["torch.foo"] == {"ms": None, "kind": "none"}
    assert table["torch.mean"]["kind"] == "names"
    page = b.parse_diff_page(
        "|Parameters | Parameter 1 | dim | axis | Different parameter names |\n"
        "|  | Parameter 2  | out | - | General difference |\n"
        "|      | Parameter 3 | lr | learning_rate | Same function, different parameter names and default values |\n"
        "|      | Parameter 4 | eps | eps | Consistent function |\n")
    assert page == {"renames": {"dim": "axis", "lr": "learning_rate"}, "dropped": ["out"], "defaults": ["lr"]}
    # rows that pair parameters by position are no renames (torch.Tensor.sum's page)
    page = b.parse_diff_page(
        "| Parameters | Parameter 1 | dim | axis | Both parameters have different names |\n"
        "|      | Parameter 2 | keepdim | dtype | The relative order of `keepdim` and `dtype` are different |\n"
        "|      | Parameter 3 | dtype | keepdims | The relative order of `keepdims` and `dtype` are different |\n")
    assert page == {"renames": {"dim": "axis"}}
    assert entries("torch.Tensor.sum")["r2.2"].renames == {"dim": "axis"}
    assert entries("torch.prod")["r2.2"].renames == {"dim": "axis", "keepdim": "keep_dims"}


def test_known_rows_per_docs_branch():
    cat = entries("torch.cat")
    assert cat["r2.2"].ms == "mindspore.ops.cat" and cat["r2.2"].renames == {"dim": "axis"}
    assert "out" in cat["r2.2"].dropped
    assert cat["r2.6.0"].ms == cat["master"].ms == "mindspore.mint.cat"
    assert cat["master"].kind == "consistent"
    assert cat["r1.10"].ms == "mindspore.ops.Concat"
    linear = entries("torch.nn.Linear")["r2.2"]
    assert linear.ms == "mindspore.nn.Dense"
    assert linear.renames == {"bias": "has_bias", "in_features": "in_channels", "out_features": "out_channels"}


def test_target_version_picks_the_docs_branch_and_an_existing_counterpart():
    idx = load_index()
    assert branch_order("1.8.1")[0] == "r1.10"
    assert branch_order("2.3.0")[0] == "r2.2"
    assert branch_order("2.6.0")[0] == "r2.6.0"
    assert branch_order("2.10.0")[0] == "master"
    mp, _ = counterpart("torch.cat", idx, "2.10.0")
    assert (mp.ms, mp.kind) == ("mindspore.mint.cat", "consistent")
    mp, _ = counterpart("torch.cat", idx, idx.resolve_version("2.2"))
    assert (mp.ms, mp.renames) == ("mindspore.ops.cat", {"dim": "axis"})
    # mindspore.mint is not in 2.0: the r2.2 table's ops/nn counterpart is used
    mp, _ = counterpart("torch.nn.functional.relu", idx, "2.0.0")
    assert mp.ms == "mindspore.ops.relu"
    # the r1.10 table maps to a Primitive; nothing newer exists in 1.10
    mp, _ = counterpart("torch.sum", idx, "1.10.0")
    assert mp.ms == "mindspore.ops.ReduceSum" and mp.kind == "unstated"
    assert counterpart("torch.no_grad", idx, "2.10.0") == (None, None)


# ---------------------------------------------------------------------------- MS410

def _codes(text, rules=(MS410,), version="2.10"):
    return [(d.span.line, d.code) for d in lint_text(text, list(rules), path="t.py",
                                                     target_version=version).diagnostics]


CELL = ("import torch\nimport mindspore as ms\nfrom mindspore import nn\n"
        "class Net(nn.Cell):\n"
        "    def construct(self, x):\n"
        "        return torch.cat([x, x], dim=1)\n")


def test_rename_is_an_unsafe_fix_at_2_2_and_safe_at_2_10():
    out, _, _, err = fix_text(CELL, [MS410], unsafe=False, path="t.py", target_version="2.10")
    assert err is None and "return ms.mint.cat([x, x], dim=1)" in out
    safe, _, _, _ = fix_text(CELL, [MS410], unsafe=False, path="t.py", target_version="2.2")
    assert safe == CELL
    out, _, _, _ = fix_text(CELL, [MS410], unsafe=True, path="t.py", target_version="2.2")
    assert "return ms.ops.cat([x, x], axis=1)" in out


def test_no_fix_without_counterpart_or_when_arguments_do_not_carry_over():
    text = CELL.replace("torch.cat([x, x], dim=1)", "torch.cat([x, x], dim=1, out=x) + torch.no_grad()")
    out, remaining, _, _ = fix_text(text, [MS410], unsafe=True, path="t.py", target_version="2.10")
    assert out == text
    msgs = [d.message for d in remaining.diagnostics]
    assert any("has no parameter `out`" in m for m in msgs)
    assert any("name no MindSpore counterpart" in m and "mindspore.ops.stop_gradient" in m for m in msgs)


def test_import_of_mindspore_is_added_when_the_script_has_none():
    text = ("import torch\nfrom mindspore import nn\nclass Net(nn.Cell):\n"
            "    def construct(self, x):\n        return torch.flatten(x, 1)\n")
    out, _, _, err = fix_text(text, [MS410], unsafe=False, path="t.py", target_version="2.10")
    assert err is None
    assert "import mindspore as ms\n" in out and "return ms.mint.flatten(x, 1)" in out


def test_torch_on_purpose_is_not_reported():
    assert _codes((ROOT / "fixtures" / "MS410" / "good.py").read_text(encoding="utf-8"), (MS410, MS411)) == []
    # torch at module level of a conversion script, mindnlp's torch-style API
    assert _codes("import torch\nimport mindspore as ms\nsd = torch.load('a.pth')\n"
                  "x = torch.cat([torch.ones(2)] * 2)\nms.save_checkpoint([], 'a.ckpt')\n") == []
    assert _codes("from mindnlp.core import ops\nimport mindspore\nfrom mindspore import nn\nclass N(nn.Cell):\n"
                  "    def construct(self, x):\n        return ops.cat([x, x], dim=1)\n") == []


def test_training_loop_and_tensor_arguments_are_mindspore_contexts():
    text = ("import torch\nimport mindspore as ms\nfrom mindspore import nn\n"
            "net = nn.Dense(2, 2)\nopt = nn.SGD(net.trainable_params(), 0.1)\n"
            "grad_fn = ms.value_and_grad(lambda x: net(x).sum(), None, opt.parameters)\n"
            "for x in data:\n    loss, grads = grad_fn(x)\n    opt(grads)\n    print(torch.mean(loss))\n"
            "y = torch.sum(ms.Tensor([1.0]))\n"
            "z = torch.sum(torch.ones(2))\n")
    assert _codes(text) == [(10, "MS410"), (11, "MS410")]


# ---------------------------------------------------------------------------- end to end

HALF_PORTED = '''\
import numpy as np
import torch
import torch.nn.functional as F
import mindspore as ms
from mindspore import nn
import mindspore.dataset as ds


class Net(nn.Cell):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(8, 2)

    def construct(self, x):
        x = torch.cat([x, x], dim=1)
        return F.relu(self.fc(x))


net = Net()
loss_fn = nn.MSELoss()
optimizer = nn.SGD(net.trainable_params(), 0.01)


def forward_fn(x, y):
    return loss_fn(net(x), y)


grad_fn = ms.value_and_grad(forward_fn, None, optimizer.parameters)


def train_step(x, y):
    loss, grads = grad_fn(x, y)
    optimizer(grads)
    return torch.mean(loss)


data = ds.NumpySlicesDataset({"x": np.ones((8, 4), np.float32), "y": np.ones((8, 2), np.float32)},
                             shuffle=False).batch(4)
for step, (x, y) in enumerate(data.create_tuple_iterator()):
    loss = train_step(x, y)
    print("step", step, float(loss.asnumpy()))
'''


# On CPU (set by the script) the ops/nn counterparts are used: the torch loss can stay torch
# (mint.nn.MSELoss has no CPU kernel on 2.10, nn.MSELoss has), and the r2.2 renames are applied.
CPU_PORTED = HALF_PORTED.replace("loss_fn = nn.MSELoss()", "loss_fn = torch.nn.MSELoss()").replace(
    "\n\nclass Net", '\nms.set_device("CPU")\n\n\nclass Net')
EXPECTED = {
    "": ("mindspore.mint.", ["self.fc = ms.mint.nn.Linear(8, 2)", "x = ms.mint.cat([x, x], dim=1)",
                             "return ms.mint.mean(loss)"]),
    "cpu": ("mindspore.", ["self.fc = nn.Dense(8, 2)", "x = ms.ops.cat([x, x], axis=1)",
                           "loss_fn = nn.MSELoss()", "return ms.ops.relu(self.fc(x))"]),
}


@pytest.mark.parametrize("device", ["", "cpu"])
def test_half_ported_script_names_every_torch_call_and_runs_after_the_fix(tmp_path, device):
    text = CPU_PORTED if device else HALF_PORTED
    prefix, lines = EXPECTED[device]
    found = lint_text(text, [MS410], path="t.py", target_version="2.10").diagnostics
    torch_lines = [i + 1 for i, line in enumerate(text.splitlines())
                   if ("torch." in line or "F." in line) and "import" not in line]
    assert sorted(d.span.line for d in found) == torch_lines
    for d in found:
        assert f"counterpart is `{prefix}" in d.message
        if device:
            assert "counterpart is `mindspore.mint." not in d.message
    script = tmp_path / "train.py"
    script.write_text(text, encoding="utf-8")
    msfix = Path(sys.executable).parent / "msfix"
    proc = subprocess.run([str(msfix), "fix", "--write", "--unsafe-fixes", "--target-version", "2.10", str(script)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    fixed = script.read_text(encoding="utf-8")
    assert "torch" not in fixed
    for line in lines:
        assert line in fixed
    # torch is not installed here; the fixed script must not need it
    assert importlib.util.find_spec("torch") is None
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "step 0 " in run.stdout and "step 1 " in run.stdout


# ---------------------------------------------------------------------------- MS411

def test_unused_torch_import_only_in_mindspore_scripts_and_only_when_nothing_reads_it():
    assert _codes("import torch\nimport mindspore as ms\nx = 1\n", (MS411,)) == [(1, "MS411")]
    assert _codes("import torch\nimport mindspore as ms\nx = torch.ones(1)\n", (MS411,)) == []
    assert _codes("from torch import nn, optim\nimport mindspore as ms\nx = nn\n", (MS411,)) == []
    assert _codes("import mindspore as ms\ndef f():\n    import torch\n", (MS411,)) == []


# ---------------------------------------------------------------------------- MS404: optimizer.param_groups

PARAM_GROUPS = '''\
import numpy as np
import mindspore as ms
from mindspore import nn

net = nn.Dense(4, 2)
loss_fn = nn.MSELoss()
optimizer = ms.experimental.optim.SGD(net.trainable_params(), lr=0.01)


def forward_fn(x, y):
    return loss_fn(net(x), y)


grad_fn = ms.value_and_grad(forward_fn, None, optimizer.param_groups)
x = ms.Tensor(np.ones((2, 4), np.float32))
y = ms.Tensor(np.ones((2, 2), np.float32))
loss, grads = grad_fn(x, y)
optimizer(grads)
print("trained")
'''


def test_param_groups_as_weights_is_reported_fixed_and_the_fix_runs(tmp_path):
    ms404 = rule_by_code("MS404")
    found = lint_text(PARAM_GROUPS, [ms404], path="t.py").diagnostics
    assert [(d.span.line, d.code) for d in found] == [(14, "MS404")]
    assert "optimizer.parameters" in found[0].message
    out, remaining, _, err = fix_text(PARAM_GROUPS, [ms404], unsafe=False, path="t.py")
    assert err is None and remaining.diagnostics == []
    assert "ms.value_and_grad(forward_fn, None, optimizer.parameters)" in out
    before, after = tmp_path / "before.py", tmp_path / "after.py"
    before.write_text(PARAM_GROUPS, encoding="utf-8")
    after.write_text(out, encoding="utf-8")
    bad = subprocess.run([sys.executable, str(before)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert bad.returncode != 0 and "RuntimeError" in bad.stderr  # what the message says 2.10 does
    good = subprocess.run([sys.executable, str(after)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert good.returncode == 0 and "trained" in good.stdout, good.stderr[-3000:]
