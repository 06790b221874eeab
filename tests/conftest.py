import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "fixtures" / "seed" / "train.py"

# The test suite writes only inside the checkout and temporary directories, never under
# ~/.cache: the corpus download (tools/corpus.py: MSFIX_CORPUS_DIR, else XDG_CACHE_HOME),
# and whatever the tools the tests run (pip, pre-commit) cache, go under .pytest_cache/
# (git-ignored). Set at import so that module- and session-scoped fixtures see it too.
LOCAL_CACHE = ROOT / ".pytest_cache" / "msfix-test-cache"
os.environ["XDG_CACHE_HOME"] = str(LOCAL_CACHE)
os.environ.setdefault("MSFIX_CORPUS_DIR", str(LOCAL_CACHE / "msfix-corpus"))


# Tests that run the MindSpore wheel, build wheels or venvs, run pre-commit, or read a
# whole corpus: `pytest -m "not slow"` leaves them out for a fast edit-test loop (the
# README's test command runs everything).
SLOW_FILES = {
    "test_smoke.py", "test_smoke_notebook.py", "test_smoke_device.py", "test_fix_smoke.py", "test_fix_repair.py",
    "test_seed_end_to_end.py", "test_precommit.py", "test_wheel.py", "test_corpus.py", "test_realcode.py",
    "test_reliability.py", "test_data_fixtures_run.py", "test_network_rules.py", "test_training_rules.py",
    "test_diagnose.py", "test_torch_map.py", "test_mindcv.py", "test_new_rule.py", "test_lint.py",
    "test_api_index.py", "test_api_rules.py", "test_version_rules.py", "test_server.py", "test_cli_ruff_habits.py",
    "test_broken_suite.py",
    "test_shape_rules.py", "test_torch_step.py", "test_fixes_run.py",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in SLOW_FILES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def seed_copy(tmp_path) -> Path:
    dst = tmp_path / "train.py"
    shutil.copyfile(SEED, dst)
    return dst


@pytest.fixture(autouse=True)
def _hermetic_cache(tmp_path_factory, monkeypatch):
    """Keep the result cache of CLI runs out of the repository."""
    monkeypatch.setenv("MSFIX_CACHE_DIR", str(tmp_path_factory.mktemp("msfix-cache")))
