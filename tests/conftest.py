import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "fixtures" / "seed" / "train.py"


@pytest.fixture
def seed_copy(tmp_path) -> Path:
    dst = tmp_path / "train.py"
    shutil.copyfile(SEED, dst)
    return dst


@pytest.fixture(autouse=True)
def _hermetic_cache(tmp_path_factory, monkeypatch):
    """Keep the result cache of CLI runs out of the repository."""
    monkeypatch.setenv("MSFIX_CACHE_DIR", str(tmp_path_factory.mktemp("msfix-cache")))
