"""msfix smoke parts that need no MindSpore: crash map, classification, synthetic formats, rendering."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner

from msfix.smoke import synthetic
from msfix.smoke.command import smoke
from msfix.smoke.report import render_json, render_text, short_message
from msfix.smoke.runner import OUTCOMES, SmokeReport, _build_report, load_crash_map, match_crash

# Messages as MindSpore 2.10 (CPU) prints them, from the catalog and real runs.
CRASHES = [
    ("NameError", "name 'resnet50' is not defined", "MS401"),
    ("AttributeError", "module 'mindspore.nn' has no attribute 'ResNet50'", "MS101"),
    ("AttributeError", "module 'mindspore.ops' has no attribute 'ResizeBilinear'", "MS101"),
    ("ValueError", "num_parallel_workers exceeds the boundary between 1 and 2!", "MS202"),
    (
        "TypeError",
        "For primitive[Conv2D], the input type must be same.\nname:[w]:Ref[Tensor[Float32]].\n"
        "name:[x]:Tensor[UInt8].",
        "MS203",
    ),
    (
        "TypeError",
        "For 'SparseSoftmaxCrossEntropyWithLogits', the type of 'labels_type' must be a type of "
        "{Tensor[Int32], Tensor[Int64]}, but got Tensor[UInt32].",
        "MS204",
    ),
    (
        "ValueError",
        "For 'Conv2D', the 'pad' must be zero when 'pad_mode' is not 'pad', but got 'pad': 1 and 'pad_mode': same.",
        "MS304",
    ),
    ("ValueError", "There is no valid data in dataset, please check dataset file firstly.", "MS207"),
    (
        "ValueError",
        "For 'load_checkpoint', the checkpoint file: ./checkpoints/resnet50-200_1000.ckpt does not exist, "
        "please check whether the 'ckpt_file_name' is correct.",
        "MS501",
    ),
    ("TypeError", "__init__() got an unexpected keyword argument 'is_grad'", "MS105"),
]


@pytest.mark.parametrize("exc_type,message,rule", CRASHES)
def test_crash_map_maps_real_messages(exc_type, message, rule):
    entry = match_crash(exc_type, message)
    assert entry is not None and entry["rule"] == rule


def test_crash_map_does_not_map_unrelated_failures():
    assert match_crash("RuntimeError", "Unsupported device target Ascend.") is None
    assert match_crash("AttributeError", "'Tensor' object has no attribute 'frobnicate'") is None


def test_crash_map_covers_the_torch_training_loop_and_api():
    assert match_crash("AttributeError", "'Tensor' object has no attribute 'backward'")["rule"] == "MS402"
    assert match_crash("AttributeError", "'Net' object has no attribute 'parameters'")["rule"] == "MS403"
    assert match_crash("ValueError", "The argument 'prefix' must be callable or string that does not contain '/'")[
        "rule"] == "MS502"
    assert match_crash("ValueError", "the pad must be zero") is None  # no ValueError: pad_mode text
    assert match_crash(None, "anything") is None


def test_crash_map_is_well_formed():
    raw = json.loads((Path(__file__).resolve().parents[1] / "msfix/smoke/crash_map.json").read_text())
    for entry in raw["entries"]:
        # the shared runtime-error table (msfix diagnose reads it too; tests/test_diagnose.py checks the rest)
        assert set(entry) <= {"id", "pattern", "exception", "rule", "title", "cause", "fix", "devices", "outcome",
                              "evidence"}
        assert entry.get("outcome", "crashed") in OUTCOMES
        assert entry["rule"] is None or entry["rule"].startswith("MS")
    assert len(load_crash_map()) == len(raw["entries"])


def test_no_valid_data_is_no_steps_and_lossmonitor_nan_is_diverged():
    assert match_crash("ValueError", "There is no valid data in dataset")["outcome"] == "no-steps"
    entry = match_crash(
        "ValueError",
        "In epoch: 1 step: 2, loss is NAN or INF, training process cannot continue, terminating training.",
    )
    assert entry["outcome"] == "diverged"


# ---------------------------------------------------------------------------
# classification of a child's result


def _report(result, returncode=0, timed_out=False):
    return _build_report(
        script="s.py", result=result, returncode=returncode, timed_out=timed_out,
        timeout=5.0, wall=1.0, stdout="", stderr="", python="py",
    )


def _result(**kw):
    base = {"train_steps": 0, "loop_steps": 0, "losses": [], "finished": True}
    base.update(kw)
    return base


def test_classification():
    assert _report(_result(train_steps=3, losses=[2.0, 1.5, 1.2])).outcome == "passed"
    r = _report(_result(train_steps=3, losses=[2.0, 1.5, 1.2]))
    assert (r.steps, r.first_loss, r.last_loss) == (3, 2.0, 1.2)
    assert _report(_result()).outcome == "no-steps"
    assert _report(None, returncode=None, timed_out=True).outcome == "timed-out"
    diverged = _report(_result(train_steps=2, losses=[2.0, "nan"], nonfinite_loss={"value": "nan", "step": 2}))
    assert diverged.outcome == "diverged" and diverged.losses == [2.0, "nan"]
    assert any("step 2" in n["text"] for n in diverged.notes)
    crashed = _report(
        _result(finished=True, exception={"type": "NameError", "message": "name 'x' is not defined", "script_line": 7}),
        returncode=1,
    )
    assert (crashed.outcome, crashed.script_line, crashed.rule_code) == ("crashed", 7, "MS401")
    assert crashed.location == "s.py:7"
    killed = _report(_result(finished=False), returncode=-9)
    assert killed.outcome == "crashed" and killed.exception_type == "SIGKILL"
    assert _report(None, returncode=70).exception_type == "SmokeError"
    exited = _report(_result(train_steps=3), returncode=3)
    assert exited.outcome == "crashed" and exited.exception_type == "SystemExit"
    assert _report(_result(train_steps=3, finished=False)).outcome == "crashed"


# ---------------------------------------------------------------------------
# synthetic data


def test_cifar10_binary_layout_and_usage_files(tmp_path):
    synthetic.write_cifar10(tmp_path / "c", records_per_file=20, test_records=10)
    names = sorted(p.name for p in (tmp_path / "c").iterdir())
    assert names == [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    assert (tmp_path / "c/data_batch_3.bin").stat().st_size == 20 * (1 + 3072)
    assert (tmp_path / "c/test_batch.bin").stat().st_size == 10 * (1 + 3072)
    data = (tmp_path / "c/data_batch_1.bin").read_bytes()
    labels = [data[i * 3073] for i in range(20)]
    assert set(labels) == set(range(10))
    synthetic.write_cifar10(tmp_path / "t", records_per_file=5, splits=("test",))
    assert [p.name for p in (tmp_path / "t").iterdir()] == ["test_batch.bin"]
    assert synthetic.DEFAULT_CIFAR_RECORDS_PER_FILE == 10000  # what MindSpore's reader assumes


def test_cifar100_and_mnist_layouts(tmp_path):
    synthetic.write_cifar100(tmp_path / "c100", train_records=30, test_records=10)
    train = (tmp_path / "c100/train.bin").read_bytes()
    assert len(train) == 30 * (2 + 3072)
    coarse, fine = train[0], train[1]
    assert coarse == fine // 5 and 0 <= fine < 100
    synthetic.write_mnist(tmp_path / "m", train_records=40, test_records=12)
    images = (tmp_path / "m/t10k-images-idx3-ubyte").read_bytes()
    assert struct.unpack(">IIII", images[:16]) == (2051, 12, 28, 28)
    assert len(images) == 16 + 12 * 784
    labels = (tmp_path / "m/train-labels-idx1-ubyte").read_bytes()
    assert struct.unpack(">II", labels[:8]) == (2049, 40) and len(labels) == 48
    assert max(labels[8:]) <= 9


def test_image_folder_png_files(tmp_path):
    synthetic.write_image_folder(tmp_path / "f", classes=["cat", "dog"], images_per_class=3, size=8)
    assert sorted(p.name for p in (tmp_path / "f").iterdir()) == ["cat", "dog"]
    files = sorted((tmp_path / "f/dog").iterdir())
    assert len(files) == 3
    assert files[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    synthetic.write_image_folder(tmp_path / "g", classes=2, images_per_class=1, extension="JPEG")
    assert [p.name for p in (tmp_path / "g/class_1").iterdir()] == ["0000.JPEG"]


def test_cifar_labels_are_learnable(tmp_path):
    """A nearest-class-mean classifier on channel means beats chance by far."""
    synthetic.write_cifar10(tmp_path, records_per_file=200, test_records=200)

    def records(name):
        data = (tmp_path / name).read_bytes()
        for i in range(len(data) // 3073):
            rec = data[i * 3073:(i + 1) * 3073]
            yield rec[0], [sum(rec[1 + c * 1024:1 + (c + 1) * 1024]) / 1024 for c in range(3)]

    sums = {k: [0.0, 0.0, 0.0, 0] for k in range(10)}
    for label, feat in records("data_batch_1.bin"):
        s = sums[label]
        for c in range(3):
            s[c] += feat[c]
        s[3] += 1
    centroids = {k: [s[c] / s[3] for c in range(3)] for k, s in sums.items()}
    hits = total = 0
    for label, feat in records("test_batch.bin"):
        guess = min(centroids, key=lambda k: sum((feat[c] - centroids[k][c]) ** 2 for c in range(3)))
        hits += guess == label
        total += 1
    assert hits / total > 0.6  # chance is 0.1


# ---------------------------------------------------------------------------
# rendering and CLI parsing


def test_render_text_and_json():
    report = SmokeReport(
        script="train.py", outcome="crashed", exception_type="ValueError",
        message="For 'Conv2D', the 'pad' must be zero [x]\n\n----\n- C++ Call Stack:\nfoo.cc:1",
        script_line=9, rule_code="MS304", rule_title="Conv2d padding", steps=0, stdout="out", stderr="err",
    )
    text = render_text(report)
    assert "train.py:9" in text and "MS304" in text and "CRASHED" in text
    assert "C++ Call Stack" not in text and "[x]" in text
    data = json.loads(render_json(report))
    assert data["outcome"] == "crashed" and data["location"] == "train.py:9"
    assert data["stdout"] == "out" and data["stderr"] == "err"
    assert short_message("a\nb\nc", max_lines=2) == "a\nb\n..."


def test_cli_rejects_bad_options(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("print(1)\n")
    runner = CliRunner()
    assert runner.invoke(smoke, [str(script), "--device", "TPU"]).exit_code == 2
    assert runner.invoke(smoke, [str(script), "--steps", "0"]).exit_code == 2
    assert runner.invoke(smoke, [str(tmp_path / "missing.py")]).exit_code == 2
    help_text = runner.invoke(smoke, ["--help"]).output
    for option in ("--device", "--steps", "--epochs", "--timeout", "--python", "--output-format", "--verbose"):
        assert option in help_text


def test_cli_batch_size_is_a_number_or_script(tmp_path, monkeypatch):
    import msfix.smoke.runner as runner_mod

    script = tmp_path / "s.py"
    script.write_text("print(1)\n")
    seen = []

    def fake_run_smoke(path, **kwargs):
        seen.append(kwargs)
        return SmokeReport(script=str(path), outcome="passed", steps=1)

    monkeypatch.setattr(runner_mod, "run_smoke", fake_run_smoke)
    runner = CliRunner()
    assert runner.invoke(smoke, [str(script)]).exit_code == 0
    assert runner.invoke(smoke, [str(script), "--batch-size", "script"]).exit_code == 0
    assert runner.invoke(smoke, [str(script), "--batch-size", "32", "--eval-steps", "2"]).exit_code == 0
    # the CLI defaults are run_smoke's defaults
    assert seen[0]["batch_size"] == runner_mod.DEFAULT_BATCH_SIZE
    assert seen[0]["steps"] == runner_mod.DEFAULT_STEPS and seen[0]["eval_steps"] == runner_mod.DEFAULT_EVAL_STEPS
    assert seen[1]["batch_size"] is None
    assert seen[2]["batch_size"] == 32 and seen[2]["eval_steps"] == 2
    for bad in ("0", "-3", "big"):
        assert runner.invoke(smoke, [str(script), "--batch-size", bad]).exit_code == 2
    assert len(seen) == 3


def test_timings_and_batch_caps_reach_the_report():
    result = {
        "finished": True, "train_steps": 3, "losses": [2.3, 2.1, 2.0],
        "batch_caps": [{"script": 32, "smoke": 8, "script_line": 50}],
        "timings": {"bootstrap": 3.0, "synthetic_data": 2.0, "train": 10.0, "first_step": 5.0,
                    "step_times": [2.6, 2.4], "eval": 1.5, "checkpoint_save": 0.5},
    }
    report = _build_report(script="t.py", result=result, returncode=0, timed_out=False, timeout=60,
                           wall=20.0, stdout="", stderr="", python="py")
    assert report.outcome == "passed"
    assert report.batch_caps == [{"script": 32, "smoke": 8, "script_line": 50}]
    t = report.timings
    assert (t["startup"], t["synthetic_data"], t["train"], t["first_step"], t["eval"]) == (3.0, 2.0, 10.0, 5.0, 1.5)
    assert t["step"] == 2.6 and t["later_steps"] == 2  # the median of the later steps (upper for two)
    assert t["other"] == 3.5  # 20 - (3 + 2 + 10 + 1.5); checkpoint saving happens within train
    text = " ".join(render_text(report).split())  # rich wraps at 100 columns
    assert "batch 32 -> 8 for the smoke run (line 50)" in text
    assert "train 10.0 s (first step 5.0 s, then 2.60 s/step, checkpoints 0.5 s)" in text
    assert "eval 1.5 s" in text and "other 3.5 s" in text
