"""A wheel built from the tree, installed into a fresh venv, carries every rule and the
knowledge data, and checks the seed without MindSpore installed."""

import json
import subprocess
import sys
import venv
from pathlib import Path

from msfix.rule import all_rules

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_in_fresh_venv_finds_every_rule(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist),
                    str(ROOT)], check=True, capture_output=True)
    wheel = next(dist.glob("msfix-*.whl"))
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", str(wheel)], check=True, capture_output=True)
    out = subprocess.run([str(env_dir / "bin" / "msfix"), "rules", "--output-format", "json"],
                         check=True, capture_output=True, text=True, cwd=tmp_path)
    assert [r["code"] for r in json.loads(out.stdout)] == [r.code for r in all_rules()]
    # the rules and their data work from the installed package, with no MindSpore there
    seed = ROOT / "fixtures" / "seed" / "train.py"
    check = subprocess.run([str(env_dir / "bin" / "msfix"), "check", str(seed), "--output-format", "json"],
                           capture_output=True, text=True, cwd=tmp_path)
    assert check.returncode == 1, check.stderr
    expected = (ROOT / "fixtures" / "seed" / "train.expected.txt").read_text().splitlines()
    assert len(json.loads(check.stdout)) == len(expected)
    no_ms = subprocess.run([str(py), "-c", "import mindspore"], capture_output=True, cwd=tmp_path)
    assert no_ms.returncode != 0
    installed = subprocess.run([str(py), "-c", "import msfix.rules, os; print(os.path.dirname(msfix.rules.__file__))"],
                               check=True, capture_output=True, text=True, cwd=tmp_path).stdout.strip()
    assert installed.startswith(str(env_dir))
