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


@pytest.fixture
def seed_copy(tmp_path) -> Path:
    dst = tmp_path / "train.py"
    shutil.copyfile(SEED, dst)
    return dst


@pytest.fixture(autouse=True)
def _hermetic_cache(tmp_path_factory, monkeypatch):
    """Keep the result cache of CLI runs out of the repository."""
    monkeypatch.setenv("MSFIX_CACHE_DIR", str(tmp_path_factory.mktemp("msfix-cache")))
