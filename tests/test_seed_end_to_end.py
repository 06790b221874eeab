"""Issue 2's end-to-end promise: `msfix fix --write --unsafe-fixes` turns the seed into a
script that runs to the end on the real MindSpore 2.10 CPU wheel, on synthetic CIFAR-10
files in the real binary layout (data_batch_1..5.bin, test_batch.bin, 10000 records of
1+3072 bytes each), with epochs and steps capped by the smoke runner, not by editing
the script. `nn.ResNet50` has no automatic replacement (MS101 stays), so the test swaps
in a small network after checking that the diagnostic is still there."""

import json
import subprocess
import sys

from msfix.smoke.runner import run_smoke
from msfix.smoke.synthetic import write_cifar10

SMALL_NET = ("nn.SequentialCell([nn.Conv2d(3, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), "
             "nn.Flatten(), nn.Dense(8, num_classes)])")


def test_synthetic_cifar_files_have_the_real_layout(tmp_path):
    write_cifar10(tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    for p in tmp_path.iterdir():
        assert p.stat().st_size == 10000 * (1 + 3072)


def test_fixed_seed_runs_to_the_end(seed_copy):
    fix = subprocess.run([sys.executable, "-m", "msfix", "fix", "--write", "--unsafe-fixes", str(seed_copy)],
                         capture_output=True, text=True)
    assert fix.returncode == 1, fix.stderr  # MS101 remains: no honest automatic replacement
    check = subprocess.run([sys.executable, "-m", "msfix", "check", str(seed_copy), "--output-format", "json"],
                           capture_output=True, text=True)
    remaining = json.loads(check.stdout)
    assert [(d["code"], d["line"]) for d in remaining if d["severity"] == "error"] == [("MS101", 18)]
    assert all(d["fix"] is None for d in remaining)  # what is left has no automatic fix

    text = seed_copy.read_text()
    assert text.count("nn.ResNet50(num_classes=num_classes)") == 1
    seed_copy.write_text(text.replace("nn.ResNet50(num_classes=num_classes)", SMALL_NET))

    report = run_smoke(seed_copy, epochs=1, steps=3, timeout=240)
    assert report.outcome == "passed", (report.exception_type, report.message, report.stderr[-3000:])
    assert report.steps >= 3
    assert "Accuracy: " in report.stdout  # the last line of the script ran
    assert "checkpoints/resnet50-1_3.ckpt" in report.checkpoints  # the file latest_ckpt_file_name loaded


def test_unfixed_seed_does_not_run(seed_copy):
    report = run_smoke(seed_copy, epochs=1, steps=3, timeout=240)
    assert report.outcome == "crashed"
    assert report.exception_type == "NameError"
    assert report.script_line == 33
