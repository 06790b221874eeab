"""Issue 2's end-to-end promise: `msfix fix --write --unsafe-fixes` turns the seed into a
script that runs to the end on the real MindSpore 2.10 CPU wheel, on synthetic CIFAR-10
files in the real binary layout (data_batch_1..5.bin, test_batch.bin, 10000 records of
1+3072 bytes each), with epochs and steps capped by the smoke runner, not by editing
the script. `nn.ResNet50` becomes mindcv's `resnet50` (MS101's unsafe fix; mindcv 0.3.0
is in the `smoke` extra): the fixed script runs exactly as written, under `msfix smoke`'s
default caps (issue 12: the wall time of that run is in the README)."""

import json
import subprocess
import sys

import pytest

from msfix.smoke.runner import DEFAULT_BATCH_SIZE, run_smoke
from msfix.smoke.synthetic import write_cifar10


def test_synthetic_cifar_files_have_the_real_layout(tmp_path):
    write_cifar10(tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    for p in tmp_path.iterdir():
        assert p.stat().st_size == 10000 * (1 + 3072)


def test_fixed_seed_runs_to_the_end(seed_copy):
    pytest.importorskip("mindcv", reason="the fixed seed uses mindcv's resnet50 (pip install 'msfix[smoke]')")
    fix = subprocess.run([sys.executable, "-m", "msfix", "fix", "--write", "--unsafe-fixes", str(seed_copy)],
                         capture_output=True, text=True)
    assert fix.returncode == 0, fix.stdout + fix.stderr  # everything fixed, MS101 included
    check = subprocess.run([sys.executable, "-m", "msfix", "check", str(seed_copy), "--output-format", "json"],
                           capture_output=True, text=True)
    assert json.loads(check.stdout) == []

    text = seed_copy.read_text()
    assert "nn.ResNet50" not in text
    # `resnet50` is read (undefined) in the seed, so the import takes another name
    assert "from mindcv.models import resnet50 as mindcv_resnet50\n" in text
    assert "self.resnet50 = mindcv_resnet50(num_classes=num_classes)" in text

    # the fixed script exactly as written, through the CLI with its default caps (3 steps, the smoke
    # batch cap on the synthetic CIFAR-10, one eval batch)
    smoke = subprocess.run([sys.executable, "-m", "msfix", "smoke", str(seed_copy), "--output-format", "json",
                            "--no-progress", "--timeout", "600"], capture_output=True, text=True)
    report = json.loads(smoke.stdout)
    assert smoke.returncode == 0 and report["outcome"] == "passed", (
        report["outcome"], report["exception_type"], report["message"], report["stderr"][-3000:])
    assert report["steps"] == 3 and report["train_steps"] == 3 and report["capped_run"] is None
    assert "Accuracy: " in report["stdout"]  # the last line of the script ran
    assert report["checkpoints"] == ["checkpoints/resnet50-1_3.ckpt"]  # the file latest_ckpt_file_name loaded
    assert [(c["script"], c["smoke"]) for c in report["batch_caps"]] == [(32, DEFAULT_BATCH_SIZE)] * 2

    # what was trained is mindcv's resnet50(num_classes=10), nothing in its place
    assert report["network"]["class"] == "__main__.ResNet50"
    assert report["network"]["cells"] == ["mindcv.models.resnet.ResNet"]
    count = subprocess.run([sys.executable, "-c", "from mindcv.models import resnet50; "
                            "print(sum(int(p.size) for p in resnet50(num_classes=10).get_parameters()))"],
                           capture_output=True, text=True, timeout=300)
    assert report["network"]["parameters"] == int(count.stdout.split()[-1]) > 20_000_000


def test_unfixed_seed_does_not_run(seed_copy):
    report = run_smoke(seed_copy, epochs=1, steps=3, timeout=240)
    assert report.outcome == "crashed"
    assert report.exception_type == "NameError"
    assert report.script_line == 33
