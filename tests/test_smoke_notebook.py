"""msfix smoke on notebooks (code cells run in order as one script, crash lines mapped
back to cells), smoke not blaming a script for its own caps, and the live progress
display. Real MindSpore CPU wheel in a child process; a few small runs."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from msfix.smoke.command import smoke
from msfix.smoke.runner import run_smoke

pytestmark = pytest.mark.skipif(importlib.util.find_spec("mindspore") is None,
                                reason="smoke tests need MindSpore in this interpreter")

ROOT = Path(__file__).resolve().parents[1]
CKPT = ROOT / "fixtures" / "smoke" / "ckpt_after_full_run.py"


def code(*lines):
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": list(lines)}


DATA = code("import numpy as np\n", "import mindspore as ms\n", "from mindspore import dataset as ds, nn\n",
            "from mindspore.train import Model\n",
            "x = np.random.default_rng(0).standard_normal((64, 4)).astype(np.float32)\n",
            "data = ds.NumpySlicesDataset({'x': x, 'y': (x.sum(1) > 0).astype(np.int32)}).batch(8)\n")
TRAIN = code("net = nn.Dense(4, 2)\n",
             "model = Model(net, nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction='mean'),\n",
             "              nn.SGD(net.trainable_params(), 0.1))\n",
             "%time model.train(20, data)\n")


def write_notebook(path: Path, cells) -> Path:
    nb = {"cells": cells, "metadata": {"language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return path


def test_notebook_cells_run_in_order_with_live_progress_when_asked(tmp_path):
    (tmp_path / "helpers.py").write_text("SCALE = 2\n")  # a sibling module, as next to a notebook
    nb = write_notebook(tmp_path / "train.ipynb", [
        {"cell_type": "markdown", "metadata": {}, "source": ["# tiny\n"]},
        code("!pip install mindspore\n", "%matplotlib inline\n"),
        DATA,
        code("%%bash\n", "exit 1\n"),  # not Python: skipped, never run as Python
        TRAIN,
        code("  from helpers import SCALE\n", "  display(SCALE * net.weight.shape[0])\n"),  # leading indent
    ])
    r = CliRunner().invoke(smoke, [str(nb), "--output-format", "json", "--progress"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["outcome"] == "passed", data["stderr"][-2000:]
    assert data["train_steps"] == 3  # `%time model.train(...)` ran its statement, capped
    assert "4" in data["stdout"].split()  # the last cell ran: display(2 * 2)
    # the live display, asked for with --progress, went to stderr
    assert "smoke train.ipynb:" in r.stderr and "importing MindSpore" in r.stderr


def test_notebook_crash_is_reported_at_its_cell_and_line(tmp_path):
    crash = code("model = Model(network)\n")  # cell 3, line 1: NameError
    nb = write_notebook(tmp_path / "bad.ipynb", [DATA, code("net = nn.Dense(4, 2)\n"), crash])
    report = run_smoke(nb)
    assert report.outcome == "crashed" and report.exception_type == "NameError"
    assert (report.cell, report.script_line) == (3, 1)
    assert report.location == f"{nb}:cell 3:1"
    assert report.rule_code == "MS401"


def test_a_notebook_that_cannot_be_run_is_refused_with_one_line(tmp_path):
    nb = write_notebook(tmp_path / "broken.ipynb", [DATA, code("print(data\n")])
    r = CliRunner().invoke(smoke, [str(nb)])
    assert r.exit_code == 2
    assert r.stdout == ""
    [line] = r.stderr.splitlines()
    assert line.startswith(f"msfix smoke: {nb}: cannot run this notebook: cell 2:1:6: syntax error: ")
    not_json = tmp_path / "junk.ipynb"
    not_json.write_text("import mindspore\nprint('never run as Python')\n")
    r = CliRunner().invoke(smoke, [str(not_json)])
    assert r.exit_code == 2 and len(r.stderr.splitlines()) == 1 and "not valid JSON" in r.stderr


def test_checkpoint_only_the_full_run_writes_is_the_caps_fault_and_no_rule():
    # through the real CLI in a pipe: no progress display, nothing extra on stderr
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    proc = subprocess.run([sys.executable, "-m", "msfix", "smoke", str(CKPT), "--output-format", "json"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert proc.stderr == ""
    data = json.loads(proc.stdout)
    assert data["outcome"] == "passed" and data["exception_type"] is None and data["rule_code"] is None
    assert data["cap_stop"]["file"] == "ckpt/tiny-4_8.ckpt"
    assert data["cap_stop"]["script_line"] == 31
    [note] = data["notes"]
    assert note["rule"] is None and "tiny-4_8.ckpt is epoch 4, step 8" in note["text"]
    assert "capped at 1 epoch(s) of 3 step(s)" in note["text"]
    assert data["checkpoints"] == ["ckpt/tiny-1_3.ckpt"]


def test_a_checkpoint_missing_within_the_caps_is_still_the_scripts_fault():
    report = run_smoke(CKPT, script_args=("tiny-1_2.ckpt",))  # never written, even by a full run
    assert report.outcome == "crashed" and report.rule_code == "MS501"
    assert report.cap_stop is None


def _smoke_on_a_terminal(tmp_path, env_extra):
    """`msfix smoke` with stderr on a pseudo-terminal (stdout a pipe); returns what the
    terminal received."""
    import pty
    import select

    script = tmp_path / "quick.py"
    script.write_text("import mindspore\nprint('hi')\n")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(env_extra)
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "msfix", "smoke", str(script)], stdout=subprocess.PIPE,
                            stderr=slave, env=env)
    os.close(slave)
    seen = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            seen += chunk
        elif proc.poll() is not None:
            break
    proc.communicate(timeout=300)
    os.close(master)
    return seen.decode("utf-8", "replace")


def test_live_progress_by_default_on_a_terminal_but_not_in_ci(tmp_path):
    assert "smoke quick.py:" in _smoke_on_a_terminal(tmp_path, {})
    assert _smoke_on_a_terminal(tmp_path, {"CI": "true"}) == ""
