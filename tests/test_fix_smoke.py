"""`msfix fix --write --smoke`: the fixed text is smoke-run from a temporary copy on the
real MindSpore 2.10 CPU wheel and written only if it runs."""

import subprocess
import sys

SMALL_NET = ("nn.SequentialCell([nn.Conv2d(3, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), "
             "nn.Flatten(), nn.Dense(8, num_classes)])")


def _msfix(*args):
    return subprocess.run([sys.executable, "-m", "msfix", *args], capture_output=True, text=True)


def test_fix_smoke_writes_the_seed_when_the_fix_runs(seed_copy):
    # a small network instead of ResNet-50 keeps this run short (the seed as fixed, with
    # mindcv's resnet50, runs in tests/test_seed_end_to_end.py)
    seed_copy.write_text(seed_copy.read_text().replace("nn.ResNet50(num_classes=num_classes)", SMALL_NET))
    proc = _msfix("fix", "--write", "--unsafe-fixes", "--smoke", str(seed_copy))
    # 0, or 1 when warnings without an automatic fix remain; never 2
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    check = _msfix("check", str(seed_copy), "--output-format", "json")
    import json

    assert [d for d in json.loads(check.stdout) if d["severity"] == "error"] == []
    assert "smoke passed: fixed script runs" in proc.stderr
    text = seed_copy.read_text()
    assert 'usage="train"' in text and "net.trainable_params()" in text


def test_fix_smoke_leaves_a_file_whose_fix_cannot_run_byte_identical(seed_copy):
    # nn.ResNet50 becomes mindcv's resnet50 (MS101); nn.LeNet5 has no replacement
    seed_copy.write_text(seed_copy.read_text().replace("nn.ResNet50(num_classes=", "nn.LeNet5(num_classes="))
    before = seed_copy.read_bytes()
    proc = _msfix("fix", "--write", "--unsafe-fixes", "--smoke", str(seed_copy))
    assert proc.returncode == 1  # the file's own diagnostics remain (README: exit 1, not 2)
    assert "smoke crashed: fixed script does not run; file left unchanged" in proc.stderr
    assert "AttributeError" in proc.stderr  # nn.LeNet5 does not exist
    assert seed_copy.read_bytes() == before
