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
