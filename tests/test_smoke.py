"""msfix smoke with the real MindSpore (CPU wheel) in a child process.

Each child run costs a few seconds (MindSpore import + a few steps), so runs
are made once per module (``smoke_run`` cache) and shared between tests.
The parent test process never imports MindSpore.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from msfix.smoke.command import smoke
from msfix.smoke.report import render_text
from msfix.smoke.runner import DEFAULT_BATCH_SIZE, SmokeUnavailable, run_smoke

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mindspore") is None,
    reason="smoke tests need MindSpore in this interpreter (pip install 'msfix[smoke]')",
)

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "smoke"
SEED = ROOT / "fixtures" / "seed" / "train.py"  # the seed exactly as in shared/seed (tests/test_fixtures.py)


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


@pytest.fixture(scope="module")
def smoke_temp_root(tmp_path_factory):
    """All smoke runs of this module create their temp dirs here, so we can check cleanup."""
    root = tmp_path_factory.mktemp("smoke-tmp")
    old = tempfile.tempdir
    tempfile.tempdir = str(root)
    try:
        yield root
    finally:
        tempfile.tempdir = old


@pytest.fixture(scope="module")
def smoke_run(smoke_temp_root):
    cache: dict = {}

    def run(name, *script_args: str, **kwargs):
        """`name`: a script in fixtures/smoke (without .py), or a Path."""
        key = (str(name), script_args, tuple(sorted(kwargs.items())))
        if key not in cache:
            path = name if isinstance(name, Path) else FIXTURES / f"{name}.py"
            cache[key] = run_smoke(path, script_args=script_args, **kwargs)
        return cache[key]

    return run


# ---------------------------------------------------------------------------
# the seed


def test_fixed_seed_passes_within_a_minute(smoke_run):
    report = smoke_run("seed_fixed")
    assert report.outcome == "passed", report.stderr[-3000:]
    assert report.wall_time < 60
    # Model.train capped to 1 epoch x 3 steps although the script asks 200 epochs
    assert report.train_steps == 3 and report.steps == 3
    assert len(report.losses) == 3 and all(math.isfinite(x) for x in report.losses)
    assert report.first_loss == report.losses[0] and report.last_loss == report.losses[-1]
    assert report.stdout.count("loss is") == 3  # LossMonitor printed each capped step
    # ModelCheckpoint(save_checkpoint_steps=1000) only writes its final checkpoint
    assert report.checkpoints == ["checkpoints/resnet50-1_3.ckpt"]
    assert set(report.eval_metrics) == {"Accuracy"}
    assert 0.0 <= report.eval_metrics["Accuracy"] <= 1.0
    usages = [(d["reader"], d["usage"], d["original_dir"]) for d in report.datasets]
    assert usages == [
        ("Cifar10Dataset", "train", "/path/to/cifar-10/"),
        ("Cifar10Dataset", "test", "/path/to/cifar-10/"),
    ]
    assert report.exception_type is None and report.rule_code is None
    # batch 32 over the synthetic CIFAR-10 runs at the smoke batch cap, train and test pipelines
    seed_fixed = FIXTURES / "seed_fixed.py"
    assert report.batch_caps == [
        {"script": 32, "smoke": DEFAULT_BATCH_SIZE, "script_line": _line_of(seed_fixed, "train_data.batch(")},
        {"script": 32, "smoke": DEFAULT_BATCH_SIZE, "script_line": _line_of(seed_fixed, "test_data.batch(")},
    ]
    assert report.capped_run is None
    t = report.timings
    assert t["startup"] > 0 and t["synthetic_data"] > 0 and t["eval"] > 0 and t["checkpoint_save"] > 0
    assert t["first_step"] <= t["train"] and t["later_steps"] == 2
    assert t["startup"] + t["synthetic_data"] + t["train"] + t["eval"] <= report.wall_time
    assert report.network["class"] == "__main__.ResNet50" and report.network["parameters"] > 0


def test_unfixed_seed_crashes_with_nameerror_on_its_line(smoke_run):
    script = SEED
    report = smoke_run(SEED)
    assert report.outcome == "crashed"
    assert report.exception_type == "NameError"
    assert "resnet50" in report.message
    line = _line_of(script, "resnet50.get_parameters()")
    assert report.script_line == line == 33
    assert report.location == f"{script}:{line}"
    assert report.rule_code == "MS401"
    assert report.steps == 0
    # num_parallel_workers=8 on this host is let through and reported, not raised
    if (os.cpu_count() or 1) < 8:
        assert any(n["rule"] == "MS202" for n in report.notes)


@pytest.mark.skipif((os.cpu_count() or 1) >= 8, reason="needs a host with fewer than 8 CPUs")
def test_unfixed_seed_on_this_host_without_worker_lowering_is_ms202(smoke_run):
    report = smoke_run(SEED, allow_host_workers=False)
    assert report.outcome == "crashed"
    assert report.exception_type == "ValueError"
    assert "num_parallel_workers exceeds the boundary" in report.message
    assert report.rule_code == "MS202"
    assert report.script_line == _line_of(SEED, "train_data = ds.Cifar10Dataset(")


# ---------------------------------------------------------------------------
# outcomes


def test_conv2d_padding_without_pad_mode_maps_to_ms304():
    script = FIXTURES / "conv_pad.py"
    result = CliRunner().invoke(smoke, [str(script), "--verbose"])
    assert result.exit_code == 1, result.output
    # --verbose shows the child's output: the script's traceback is on its stderr
    assert "script stderr" in result.output and "Traceback" in result.output
    line = _line_of(script, "nn.Conv2d(3, 16, 3, padding=1)")
    assert f"conv_pad.py:{line}" in result.output
    assert "ValueError" in result.output and "pad_mode" in result.output
    assert "MS304" in result.output
    assert "CRASHED" in result.output


@pytest.mark.parametrize("args,rule,dtype", [((), "MS203", "UInt8"), (("--labels",), "MS204", "UInt32")])
def test_raw_cifar_dtypes_map_to_their_rules(smoke_run, args, rule, dtype):
    report = smoke_run("raw_cifar", *args)
    assert report.outcome == "crashed"
    assert report.exception_type == "TypeError" and dtype in report.message
    assert report.rule_code == rule
    assert report.script_line == _line_of(FIXTURES / "raw_cifar.py", ".train(1, data)")


def test_batch_larger_than_dataset_is_no_steps(smoke_run):
    report = smoke_run("batch_too_big")
    assert report.outcome == "no-steps"
    assert report.rule_code == "MS207"
    assert report.exception_type == "ValueError"
    assert report.script_line == _line_of(FIXTURES / "batch_too_big.py", ".train(5, data)")
    assert report.batch_caps == []  # the script's own data keeps its batch: 64 > 10 rows stays a finding


def test_custom_loop_over_empty_dataset_is_no_steps(smoke_run):
    report = smoke_run("batch_too_big", "--loop")
    assert report.outcome == "no-steps"
    assert report.exception_type is None
    assert "loop done" in report.stdout
    assert report.steps == 0


def test_momentum_above_one_diverges(smoke_run):
    report = smoke_run("diverge")
    assert report.outcome == "diverged"
    assert any(isinstance(x, str) and x in ("nan", "inf", "-inf") for x in report.losses)
    assert math.isfinite(report.first_loss)
    assert not math.isfinite(report.last_loss)
    assert any("NaN/inf" in n["text"] for n in report.notes)
    # it diverged at the smoke batch too; the script's batch size (32) decided
    assert report.capped_run["outcome"] == "diverged" and report.capped_run["batch_caps"][0]["script"] == 32
    assert report.batch_caps == []


def test_crash_at_the_smoke_batch_is_rerun_at_the_script_batch(smoke_run):
    """Code written for the script's batch size (a reshape to 32 rows) crashes at the capped
    batch: the re-run at batch 32 passes, and the report says what happened at the cap."""
    path = FIXTURES / "fixed_batch_reshape.py"
    report = smoke_run("fixed_batch_reshape")
    assert report.outcome == "passed", (report.message, report.stderr[-3000:])
    assert report.loop_steps == 3 and report.batch_caps == []  # the re-run: no cap
    capped = report.capped_run
    assert capped["outcome"] == "crashed" and capped["exception_type"] == "ValueError"
    # the 2.10 wheel (PyNative) raises the reshape's shape error where x is first used
    assert capped["script_line"] == _line_of(path, "grad_fn(x, label)")
    assert capped["batch_caps"] == [{"script": 32, "smoke": DEFAULT_BATCH_SIZE,
                                     "script_line": _line_of(path, "data.batch(BATCH")}]
    assert report.wall_time > capped["wall_time"] > 0  # both runs counted
    text = " ".join(render_text(report).split())
    assert "re-run at the script's batch size, it passed" in text


def test_batch_dependent_crash_at_the_script_batch_size(smoke_run):
    """`--batch-size script`: no cap, the reshape to 16 rows of a batch of 32 crashes on its line."""
    path = FIXTURES / "fixed_batch_reshape.py"
    report = smoke_run("fixed_batch_reshape", "16", batch_size=None)
    assert report.outcome == "crashed"
    assert report.exception_type == "ValueError" and str(32 * 28 * 28) in report.message
    assert report.script_line == _line_of(path, "grad_fn(x, label)")
    assert report.batch_caps == [] and report.capped_run is None


def test_value_and_grad_loop_over_mnist_honours_step_cap(smoke_run):
    report = smoke_run("mnist_value_and_grad")
    assert report.outcome == "passed", report.stderr[-3000:]
    # the script loops 3 epochs over 60000/64 batches; the cap is 1 epoch x 3 steps
    printed = re.findall(r"^epoch (\d+) step (\d+) loss", report.stdout, re.M)
    assert printed == [("0", "0"), ("0", "1"), ("0", "2")]
    assert report.loop_steps == 3 and report.train_steps == 0
    assert len(report.losses) == 3  # losses seen through value_and_grad
    assert all(math.isfinite(x) for x in report.losses)
    assert [d["reader"] for d in report.datasets] == ["MnistDataset"]
    # the second epoch's pass ends the script cleanly, and the report says so
    assert "STEPS_RUN" not in report.stdout
    assert any("epoch cap" in n["text"] for n in report.notes)


def test_value_and_grad_under_jit_still_compiles_and_caps_epochs(smoke_run):
    report = smoke_run("mnist_value_and_grad", "--jit", steps=2, epochs=2)
    assert report.outcome == "passed", report.stderr[-3000:]
    printed = re.findall(r"^epoch (\d+) step (\d+) loss", report.stdout, re.M)
    assert printed == [("0", "0"), ("0", "1"), ("1", "0"), ("1", "1")]
    assert report.loop_steps == 4


def test_peek_then_batch_and_second_pass(smoke_run):
    """A peek iterator on the raw dataset must not break a later .batch() (one consumer per node)."""
    report = smoke_run("reuse_pipeline")
    assert report.outcome == "passed", report.stderr[-3000:]
    assert "peek ['x', 'y']" in report.stdout
    assert report.loop_steps == 4  # 1 peeked row + 3 capped training batches
    assert len(report.losses) == 3  # TrainOneStepCell outputs


def test_image_folder_script_passes(smoke_run):
    report = smoke_run("image_folder")
    assert report.outcome == "passed", report.stderr[-3000:]
    assert report.train_steps == 3
    assert [d["reader"] for d in report.datasets] == ["ImageFolderDataset"] * 2
    assert set(report.eval_metrics) == {"acc"}


def test_imagenet_style_pipeline_with_more_workers_than_cpus(smoke_run):
    report = smoke_run("imagenet_style")
    assert report.outcome == "passed", report.stderr[-3000:]
    assert report.train_steps == 3
    if (os.cpu_count() or 1) < 16:
        assert [n["rule"] for n in report.notes] == ["MS202"]
        assert "num_parallel_workers=16" in report.notes[0]["text"]


def test_small_mlp_under_15_seconds_and_ascend_script_runs_on_cpu(smoke_temp_root):
    result = CliRunner().invoke(smoke, [str(FIXTURES / "mlp.py"), "--output-format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["outcome"] == "passed"
    assert data["wall_time"] < 15
    assert data["train_steps"] == 3
    # the script asks for Ascend device 3: recorded, and the run uses CPU
    assert data["device"]["call"] == "mindspore.set_device('CPU')"
    assert data["device"]["script_requests"] == [
        {"call": "set_context", "device_target": "Ascend", "device_id": 3}
    ]
    assert data["eval_metrics"]["acc"] >= 0


def test_device_ascend_is_requested_through_set_device(smoke_run):
    """No Ascend here: the bootstrap's set_device('Ascend') reaches the CPU wheel, which refuses it."""
    report = smoke_run("mlp", device="Ascend")
    assert report.device["requested"] == "Ascend"
    assert report.device["call"] == "mindspore.set_device('Ascend')"
    assert report.outcome == "crashed"
    assert report.exception_type == "RuntimeError"
    assert "Unsupported device target Ascend" in report.message
    assert report.steps == 0 and report.datasets == []  # the script itself never ran


# ---------------------------------------------------------------------------
# hygiene


def _snapshot(root: Path) -> dict:
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
    }


def test_user_directory_untouched_and_temp_dir_empty(tmp_path, monkeypatch, smoke_temp_root):
    user = tmp_path / "project"
    user.mkdir()
    script = user / "train.py"
    shutil.copy(FIXTURES / "writes_files.py", script)
    (user / "helper.txt").write_text("keep\n")
    helpers = tmp_path / "helpers"
    helpers.mkdir()
    (helpers / "smoke_helper.py").write_text("VALUE = 'from extra_path'\n")
    other_site = tmp_path / "other-site"
    other_site.mkdir()
    (other_site / "sitecustomize.py").write_text("import sys; print('OTHER_SITECUSTOMIZE_RAN', file=sys.stderr)\n")
    monkeypatch.chdir(user)
    before = _snapshot(user)
    helpers_before = _snapshot(helpers)

    report = run_smoke(
        script,
        script_args=["--out", str(user / "out"), "--helper"],
        extra_path=[helpers],
        env={"PYTHONPATH": str(other_site)},
    )

    assert report.outcome == "passed", report.stderr[-3000:]
    assert "ARGV=['--out', '" + str(user / "out") + "', '--helper']" in report.stdout
    assert "HELPER=from extra_path" in report.stdout
    assert _snapshot(helpers) == helpers_before  # no __pycache__ there either
    # the interpreter's own sitecustomize still runs, after which msfix patches are active
    assert "OTHER_SITECUSTOMIZE_RAN" in report.stderr
    assert _snapshot(user) == before  # no notes.txt, no out/, no __pycache__
    assert report.checkpoints == sorted(report.checkpoints)
    names = [Path(c).name for c in report.checkpoints]
    assert "final.ckpt" in names and "dense-1_2.ckpt" in names
    assert {r["kind"] for r in report.redirected_paths} == {"ModelCheckpoint.directory", "save_checkpoint"}
    assert "reloaded 2" in report.stdout  # load_checkpoint found the redirected file
    assert list(smoke_temp_root.iterdir()) == []


def test_timeout_kills_the_process_group(smoke_temp_root):
    start = time.monotonic()
    report = run_smoke(FIXTURES / "sleeper.py", timeout=10)
    assert time.monotonic() - start < 30
    assert report.outcome == "timed-out"
    match = re.search(r"grandchild (\d+)", report.stdout)
    assert match, report.stdout + report.stderr
    pid = int(match.group(1))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            break
        if re.search(r"State:\s+Z", state):
            break  # killed, waiting to be reaped by init
        time.sleep(0.1)
    else:
        pytest.fail(f"grandchild {pid} still running")
    assert list(smoke_temp_root.iterdir()) == []


def test_interpreter_without_mindspore_exits_2(tmp_path):
    venv = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    with pytest.raises(SmokeUnavailable):
        run_smoke(FIXTURES / "mlp.py", python=str(python))
    result = CliRunner().invoke(smoke, ["--python", str(python), str(FIXTURES / "mlp.py")])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "pip install 'msfix[smoke]'" in lines[0]


def test_importing_smoke_command_does_not_import_mindspore_or_numpy():
    code = (
        "import sys, msfix.smoke.command, msfix.smoke.runner, msfix.smoke.report;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('mindspore', 'numpy')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
