"""MS402's rewrite of a torch training step into MindSpore's functional step: the fixed
scripts run on the 2.10 CPU wheel (msfix smoke), and the shapes it must not rewrite are
left alone."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from msfix.engine import fix_text, lint_text
from msfix.rule import rule_by_code

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "MS402"
MS402 = [rule_by_code("MS402")]


def _msfix(*args, cwd):
    return subprocess.run([sys.executable, "-m", "msfix", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


@pytest.mark.parametrize("name", ["bad.py", "bad_accuracy_in_loop.py"])
def test_the_rewritten_step_trains_on_the_wheel(tmp_path, name):
    script = tmp_path / "train.py"
    shutil.copyfile(FIXTURES / name, script)
    r = _msfix("fix", "--write", "--unsafe-fixes", "--select", "MS402,MS403", str(script), cwd=tmp_path)
    assert r.returncode in (0, 1), r.stderr
    text = script.read_text()
    assert ".backward()" not in text and ".zero_grad()" not in text and ".step()" not in text
    assert "value_and_grad(" in text
    r = _msfix("smoke", str(script), cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "PASSED" in r.stdout


def test_the_rewritten_helper_loop_runs_on_the_wheel(tmp_path):
    # bad_loop_function.py trains over a Python list of tensors (no dataset, so smoke
    # counts no step): run it as a script on the wheel instead
    script = tmp_path / "train.py"
    shutil.copyfile(FIXTURES / "bad_loop_function.py", script)
    _msfix("fix", "--write", "--unsafe-fixes", "--select", "MS402,MS403", str(script), cwd=tmp_path)
    assert "value_and_grad(" in script.read_text() and ".backward()" not in script.read_text()
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]


def _fixes(src):
    return [d for d in lint_text(src, MS402).diagnostics if d.fix is not None]


HEAD = ("import mindspore as ms\nfrom mindspore import nn\nnet = nn.Dense(4, 2)\nloss_fn = nn.MSELoss()\n"
        "optimizer = nn.SGD(net.trainable_params(), 0.01)\n")


def test_code_between_backward_and_step_gets_no_rewrite():
    src = HEAD + ("for x, y in data:\n    optimizer.zero_grad()\n    loss = loss_fn(net(x), y)\n    loss.backward()\n"
                  "    print('grads done')\n    optimizer.step()\n")
    assert [d.code for d in lint_text(src, MS402).diagnostics] == ["MS402"] * 3
    assert _fixes(src) == []


def test_a_loss_that_is_not_a_name_gets_no_rewrite():
    src = HEAD + ("for x, y in data:\n    optimizer.zero_grad()\n    out = {'loss': loss_fn(net(x), y)}\n"
                  "    out['loss'].backward()\n    optimizer.step()\n")
    assert _fixes(src) == []


def test_the_step_is_hoisted_out_of_both_loops_and_loop_names_become_parameters():
    src = HEAD + ("for epoch in range(2):\n    for x, y in data:\n        optimizer.zero_grad()\n"
                  "        loss = loss_fn(net(x), y)\n        loss.backward()\n        optimizer.step()\n")
    fixed = fix_text(src, MS402, unsafe=True)[0]
    assert fixed == HEAD + (
        "def forward_fn(x, y):\n    loss = loss_fn(net(x), y)\n    return loss\n\n\n"
        "grad_fn = ms.value_and_grad(forward_fn, None, optimizer.parameters)\n\n"
        "for epoch in range(2):\n    for x, y in data:\n        loss, grads = grad_fn(x, y)\n"
        "        optimizer(grads)\n")


def test_a_name_bound_in_the_outer_loop_keeps_the_definition_inside_it():
    src = HEAD + ("for epoch in range(2):\n    scale = 1.0 / (epoch + 1)\n    for x, y in data:\n"
                  "        loss = loss_fn(net(x) * scale, y)\n        loss.backward()\n        optimizer.step()\n"
                  "        optimizer.zero_grad()\n")
    fixed = fix_text(src, MS402, unsafe=True)[0]
    assert "    def forward_fn(x, y):\n        loss = loss_fn(net(x) * scale, y)\n" in fixed
    assert "zero_grad" not in fixed and "        loss, grads = grad_fn(x, y)\n        optimizer(grads)\n" in fixed


def test_the_new_names_do_not_clash_with_the_script():
    src = HEAD + ("def forward_fn():\n    pass\ngrads = 0\nfor x, y in data:\n    loss = loss_fn(net(x), y)\n"
                  "    loss.backward()\n    optimizer.step()\n")
    assert _fixes(src) == []  # `grads` is the script's own name: no rewrite
    src2 = src.replace("grads = 0\n", "")
    fixed = fix_text(src2, MS402, unsafe=True)[0]
    assert "def forward_fn2(x, y):" in fixed and "grad_fn = ms.value_and_grad(forward_fn2," in fixed
