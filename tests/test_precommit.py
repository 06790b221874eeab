"""The pre-commit hooks, through the real `pre-commit` tool: it builds the hook's
virtualenv from this checkout (pip install msfix with libcst/click/rich, no MindSpore)
and runs it on a temporary git repository.

`pre-commit try-repo` uses the checkout's HEAD plus its uncommitted changes to
tracked files (it makes a shadow commit), so this works in a working tree and in a
fresh clone alike. Each run needs PyPI for the hook's dependencies."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pre_commit")

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 900  # building the hook environment pip-installs msfix and its dependencies

BROKEN = (
    "import mindspore.dataset as ds\n"
    "from mindspore.train.callback import LossMonitor\n"
    "train = ds.MnistDataset('./MNIST', num_parallel_workers=16)\n"
)
NOTEBOOK = {
    "cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
               "source": ["%matplotlib inline\n", "import mindspore.dataset as ds\n",
                          "test = ds.MnistDataset('./MNIST', num_parallel_workers=32)"]}],
    "metadata": {"language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5,
}

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def _env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(GIT_AUTHOR_NAME="msfix test", GIT_AUTHOR_EMAIL="test@example.invalid",
               GIT_COMMITTER_NAME="msfix test", GIT_COMMITTER_EMAIL="test@example.invalid",
               PRE_COMMIT_COLOR="never", HOME=os.environ.get("HOME", str(tmp_path)), **extra)
    return env


def _git(repo, *args, env):
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, timeout=120)


def _pre_commit(repo, *args, env):
    proc = subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture
def repo(tmp_path):
    env = _env(tmp_path)
    repo = tmp_path / "project"
    repo.mkdir()
    _git(repo, "init", "-q", env=env)
    (repo / "train.py").write_text(BROKEN)
    (repo / "explore.ipynb").write_text(json.dumps(NOTEBOOK, indent=1) + "\n")
    (repo / "README.md").write_text("ds.MnistDataset('x', num_parallel_workers=64)\n")  # not Python
    _git(repo, "add", ".", env=env)
    return repo, env


def test_try_repo_check_fails_then_fix_then_passes(repo):
    repo, env = repo
    code, out = _pre_commit(repo, "try-repo", str(ROOT), "msfix", "--all-files", env=env)
    assert code == 1, out
    assert "msfix (MindSpore script linter)" in out and "Failed" in out
    assert "train.py:3:" in out and "MS202" in out and "num_parallel_workers=16" in out
    assert "train.py:2:" in out and "MS102" in out
    assert "explore.ipynb:cell 1:3:" in out  # the notebook is checked too
    assert "README.md" not in out

    code, out = _pre_commit(repo, "try-repo", str(ROOT), "msfix-fix", "--all-files", env=env)
    assert code == 1, out  # files were modified
    assert "files were modified by this hook" in out
    text = (repo / "train.py").read_text()
    assert "num_parallel_workers=min(16, os.cpu_count() or 1)" in text
    assert "from mindspore.train import LossMonitor" in text
    nb = json.loads((repo / "explore.ipynb").read_text())
    assert nb["cells"][0]["source"][0] == "%matplotlib inline\n"
    assert "min(32, os.cpu_count() or 1)" in "".join(nb["cells"][0]["source"])

    _git(repo, "add", ".", env=env)
    code, out = _pre_commit(repo, "try-repo", str(ROOT), "msfix", "--all-files", env=env)
    assert code == 0, out
    assert "Passed" in out


def test_hook_environment_has_no_mindspore(repo, tmp_path):
    """The hook installs msfix with libcst, click and rich only (about 46 MB with pip and
    setuptools, measured with pre-commit 4 on Python 3.11); no MindSpore, no NumPy."""
    repo, env = repo
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {ROOT}\n    rev: {head}\n    hooks:\n      - id: msfix\n      - id: msfix-fix\n")
    home = tmp_path / "pre-commit-home"
    env = dict(env, PRE_COMMIT_HOME=str(home))
    code, out = _pre_commit(repo, "install-hooks", env=env)
    assert code == 0, out
    envs = list(home.glob("repo*/py_env-*"))
    assert len(envs) == 1, envs
    py = envs[0] / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    probe = subprocess.run([str(py), "-c", "import importlib.util as u, json; print(json.dumps("
                            "{m: u.find_spec(m) is not None for m in ['msfix', 'libcst', 'mindspore', 'numpy']}))"],
                           capture_output=True, text=True, timeout=120)
    assert json.loads(probe.stdout) == {"msfix": True, "libcst": True, "mindspore": False, "numpy": False}
    size = sum(f.stat().st_size for f in envs[0].rglob("*") if f.is_file() and not f.is_symlink())
    assert size < 100 * 2**20, f"hook environment is {size / 2**20:.0f} MB"


def test_exclude_is_honoured_for_the_files_pre_commit_names(repo):
    """pre-commit names every file on the command line; the hooks pass --force-exclude, so
    `exclude` in the project's configuration still applies (as with ruff's hook)."""
    repo, env = repo
    (repo / "msfix.toml").write_text('exclude = ["generated", "legacy_*.py"]\n')
    (repo / "generated").mkdir()
    (repo / "generated" / "pb2.py").write_text(BROKEN)
    (repo / "legacy_train.py").write_text(BROKEN)
    _git(repo, "add", ".", env=env)
    code, out = _pre_commit(repo, "try-repo", str(ROOT), "msfix", "--all-files", env=env)
    assert code == 1, out  # train.py is still checked
    assert "train.py:3:" in out
    assert "pb2.py" not in out and "legacy_train.py" not in out
    code, out = _pre_commit(repo, "try-repo", str(ROOT), "msfix-fix", "--all-files", env=env)
    assert (repo / "generated" / "pb2.py").read_text() == BROKEN
    assert (repo / "legacy_train.py").read_text() == BROKEN
    assert "min(16, os.cpu_count()" in (repo / "train.py").read_text()
