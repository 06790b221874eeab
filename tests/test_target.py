"""The target MindSpore version: validated when given, else read from the user's project
files, else the installed distribution (metadata), else the newest indexed release
(msfix/target.py, through the command line)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from msfix.cli import main
from msfix.knowledge import api
from msfix.knowledge.api import load_index
from msfix.target import find_requirement, parse_requirement, resolve_target

# ops.relu is a function from 1.9 on (1.8 has only the ops.ReLU primitive): with a 1.8
# target MS103 reports it (added after the target), with 2.10 nothing is wrong here
SCRIPT = "import mindspore as ms\nfrom mindspore import ops\n\nx = ops.relu(ms.Tensor([1.0]))\n"


def run(*args, cwd):
    old = os.getcwd()
    try:
        os.chdir(cwd)
        return CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def project(tmp_path: Path, files: dict) -> Path:
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)  # the repository root: the upward search stops here
    (root / "src").mkdir()
    (root / "src" / "train.py").write_text(SCRIPT)
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    return root


def target_line(result) -> str:
    assert result.exit_code == 0, result.output
    return next(line for line in result.output.splitlines() if line.startswith("target-version = "))


def api_errors(root: Path, *extra):
    r = run("check", "--no-cache", "--select", "MS101,MS103", "--output-format", "json", *extra, "src/train.py",
            cwd=root)
    assert r.exit_code in (0, 1), r.output
    return [d for d in json.loads(r.output) if d["code"] in ("MS101", "MS103")]


# --------------------------------------------------------------------------- project files
def test_requirements_pin(tmp_path):
    root = project(tmp_path, {"requirements.txt": "numpy>=1.20\n# the GPU build\nmindspore-gpu==1.8.1\n"})
    line = target_line(run("config", "src/train.py", cwd=root))
    assert line == 'target-version = "1.8.1"  # from requirements.txt:3 (mindspore-gpu==1.8.1)'
    diags = api_errors(root)
    assert len(diags) == 1 and diags[0]["line"] == 4, diags
    assert diags[0]["message"] == "`mindspore.ops.relu` does not exist in MindSpore 1.8.1: added in 1.9"
    # the same script against the installed 2.10: nothing to report
    (root / "requirements.txt").write_text("numpy\n")
    assert api_errors(root) == []


def test_result_cache_follows_the_project_pin(tmp_path):
    root = project(tmp_path, {"requirements.txt": "mindspore-gpu==1.8.1\n"})
    args = ("check", "--select", "MS103", "--output-format", "json", "--exit-zero", "src/train.py")
    first = json.loads(run(*args, cwd=root).output)
    assert [d["line"] for d in first] == [4]
    (root / "requirements.txt").write_text("mindspore-gpu==1.9.0\n")  # ops.relu exists in 1.9
    assert json.loads(run(*args, cwd=root).output) == []
    (root / "requirements.txt").write_text("mindspore-gpu==1.8.1\n")
    assert json.loads(run(*args, cwd=root).output) == first

def test_requirements_in_a_parent_directory_and_includes(tmp_path):
    root = project(tmp_path, {"requirements/base.txt": "mindspore-ascend==1.7.0\n",
                              "requirements-dev.txt": "pytest\n-r requirements/base.txt\n"})
    line = target_line(run("config", "src/train.py", cwd=root))
    assert line == 'target-version = "1.7.0"  # from requirements/base.txt:1 (mindspore-ascend==1.7.0)'


def test_pyproject_bounded_dependency_picks_newest_inside(tmp_path):
    root = project(tmp_path, {"pyproject.toml": """\
        [project]
        name = "demo"
        dependencies = [
            "numpy<2",
            "mindspore>=1.8,<2",
        ]
        """})
    line = target_line(run("config", "src", cwd=root))
    # 1.10.0 is the newest indexed release below 2
    assert line == 'target-version = "1.10.0"  # from pyproject.toml:5 (mindspore>=1.8,<2)'
    assert len(api_errors(root)) == 0  # ops.relu exists in 1.10


def test_pyproject_optional_and_poetry(tmp_path):
    root = project(tmp_path, {"pyproject.toml": """\
        [project]
        name = "demo"
        [project.optional-dependencies]
        gpu = ["mindspore-gpu ~= 1.6.0"]
        """})
    ix = load_index()
    newest_16 = [v for v in ix.versions if v.startswith("1.6.")][-1]
    assert target_line(run("config", "src", cwd=root)).startswith(f'target-version = "{newest_16}"  # from pyproject.toml:4')
    (root / "pyproject.toml").write_text('[tool.poetry.dependencies]\npython = "^3.7"\nmindspore = "^1.5"\n')
    newest_1 = [v for v in ix.versions if v.startswith("1.")][-1]
    assert target_line(run("config", "src", cwd=root)) == \
        f'target-version = "{newest_1}"  # from pyproject.toml:3 (mindspore = \'^1.5\')'


def test_setup_cfg(tmp_path):
    root = project(tmp_path, {"setup.cfg": """\
        [metadata]
        name = demo

        [options]
        install_requires =
            numpy
            mindspore==1.7.0
        """})
    line = target_line(run("config", "src/train.py", cwd=root))
    assert line == 'target-version = "1.7.0"  # from setup.cfg:7 (mindspore==1.7.0)'


def test_setup_py_is_read_not_run(tmp_path):
    root = project(tmp_path, {"setup.py": """\
        import sys
        from setuptools import setup
        sys.exit("setup.py must not be executed")
        REQUIRES = ["numpy", "mindspore-gpu>=1.5,<1.6"]
        setup(name="demo", install_requires=REQUIRES)
        """})
    ix = load_index()
    newest_15 = [v for v in ix.versions if v.startswith("1.5.")][-1]
    line = target_line(run("config", "src/train.py", cwd=root))
    assert line == f'target-version = "{newest_15}"  # from setup.py:4 (mindspore-gpu>=1.5,<1.6)'


def test_environment_yml_conda_and_pip(tmp_path):
    root = project(tmp_path, {"environment.yml": """\
        name: ms
        channels:
          - mindspore
          - conda-forge
        dependencies:
          - python=3.7
          - mindspore::mindspore-gpu=1.9.0=py37_0  # the conda build
          - pip:
            - tqdm
        """})
    line = target_line(run("config", "src/train.py", cwd=root))
    assert line == 'target-version = "1.9.0"  # from environment.yml:7 (mindspore-gpu=1.9.0=py37_0)'
    (root / "environment.yml").write_text(
        "name: ms\ndependencies:\n  - python=3.9\n  - pip\n  - pip:\n    - mindspore==2.0.0\n")
    line = target_line(run("config", "src/train.py", cwd=root))
    assert line == 'target-version = "2.0.0"  # from environment.yml:6 (mindspore==2.0.0)'


def test_nearest_directory_wins_and_search_stops_at_repository_root(tmp_path):
    (tmp_path / "requirements.txt").write_text("mindspore==1.7.0\n")  # outside the repository
    root = project(tmp_path, {"src/requirements.txt": "mindspore==2.0.0\n", "requirements.txt": "mindspore==1.8.1\n"})
    assert '"2.0.0"  # from src/requirements.txt:1' in target_line(run("config", "src/train.py", cwd=root))
    (root / "src" / "requirements.txt").write_text("mindspore\n")  # not pinned: no information, look further up
    assert '"1.8.1"  # from requirements.txt:1' in target_line(run("config", "src/train.py", cwd=root))
    (root / "requirements.txt").unlink()
    assert find_requirement(root / "src" / "train.py") is None  # ../requirements.txt is another project
    assert "# installed" in target_line(run("config", "src/train.py", cwd=root))


def test_project_pin_not_indexed_falls_back_without_error(tmp_path):
    root = project(tmp_path, {"requirements.txt": "mindspore==2.3.1\n"})
    line = target_line(run("config", "src/train.py", cwd=root))
    assert line.startswith('target-version = "2.0.0"  # from requirements.txt:1 (mindspore==2.3.1')
    (root / "requirements.txt").write_text("mindspore==9.1\n")  # newer than msfix knows: not a usage error
    line = target_line(run("config", "src/train.py", cwd=root))
    assert line.startswith(f'target-version = "{load_index().newest}"  # from requirements.txt:1 (mindspore==9.1;')
    r = run("check", "--no-cache", "src/train.py", cwd=root)
    assert r.exit_code in (0, 1), r.output


# --------------------------------------------------------------------------- precedence
def test_explicit_target_beats_the_project(tmp_path):
    root = project(tmp_path, {"requirements.txt": "mindspore-gpu==1.8.1\n"})
    assert target_line(run("config", "--config", 'target-version="2.10"', "src", cwd=root)) == \
        'target-version = "2.10.0"  # --config (2.10; checked against 2.10.0)'
    assert api_errors(root, "--target-version", "2.10") == []
    (root / "msfix.toml").write_text('target-version = "2.0.0"\n')
    assert target_line(run("config", "src", cwd=root)) == f'target-version = "2.0.0"  # {root / "msfix.toml"}'
    assert len(api_errors(root)) == 0  # 2.0 has ops.relu: the config file, not requirements.txt


# --------------------------------------------------------------------------- nothing in the project
def test_no_project_pin_uses_the_installed_mindspore(tmp_path):
    root = project(tmp_path, {})
    inst = api.installed_mindspore()
    assert inst == ("mindspore", "2.10.0"), "the test environment must have mindspore 2.10.0"
    assert target_line(run("config", "src/train.py", cwd=root)) == \
        'target-version = "2.10.0"  # installed mindspore 2.10.0 (package metadata)'


def test_installed_version_read_from_metadata_not_imported(tmp_path):
    """A dist-info directory first on sys.path stands for an installed 1.7.0 (nothing to import)."""
    site = tmp_path / "site"
    meta = site / "mindspore-1.7.0.dist-info"
    meta.mkdir(parents=True)
    (meta / "METADATA").write_text("Metadata-Version: 2.1\nName: mindspore\nVersion: 1.7.0\n")
    root = project(tmp_path, {})
    code = ("import sys; from click.testing import CliRunner; from msfix.cli import main; "
            "r = CliRunner().invoke(main, ['config', 'src/train.py']); print(r.output); "
            "print('IMPORTED' if 'mindspore' in sys.modules else 'NOT-IMPORTED')")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), *sys.path]))
    out = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True,
                         timeout=120).stdout
    assert 'target-version = "1.7.0"  # installed mindspore 1.7.0 (package metadata)' in out, out
    assert out.split()[-1] == "NOT-IMPORTED"


def test_nothing_installed_uses_the_newest(tmp_path, monkeypatch):
    monkeypatch.setattr(api, "installed_mindspore", lambda: None)
    root = project(tmp_path, {})
    newest = load_index().newest
    assert target_line(run("config", "src/train.py", cwd=root)).startswith(
        f'target-version = "{newest}"  # the newest indexed version')
    assert resolve_target(root / "src" / "train.py").kind == "newest"


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize("spec, nearest", [
    ("3.0", "nearest: {newest} (the newest)"),
    ("1.4", "nearest: 1.3.0 and 1.5.0"),
    ("banana", "is not a version number; nearest: {newest}"),
    ("0.7.0", "nearest: {oldest} (the oldest)"),
])
def test_unknown_target_exits_2_naming_the_nearest(tmp_path, spec, nearest):
    ix = load_index()
    root = project(tmp_path, {})
    r = run("check", "--target-version", spec, "src/train.py", cwd=root)
    assert r.exit_code == 2, r.output
    assert f"--target-version {spec!r}" in r.output
    assert nearest.format(newest=ix.newest, oldest=ix.versions[0]) in r.output
    assert "indexed versions: " + ", ".join(ix.versions) in r.output


def test_unknown_target_in_a_config_file_names_the_file(tmp_path):
    root = project(tmp_path, {"msfix.toml": 'target-version = "1.4"\n'})
    for args in (("check", "src/train.py"), ("config", "src")):
        r = run(*args, cwd=root)
        assert r.exit_code == 2, r.output
        assert f"{root / 'msfix.toml'}: target-version '1.4' names no MindSpore release" in r.output


def test_known_versions_resolve_within_their_line():
    ix = load_index()
    from msfix.target import validate

    assert validate("1.8", ix).startswith("1.8.")
    assert validate("1.8.1", ix) == "1.8.1"
    assert validate("2.7.1", ix) == "2.7.0"
    assert validate("2.5", ix) == "2.5.0.dev20250202"
    assert validate("2.3", ix) == "2.0.0"  # a real release line PyPI does not serve: the nearest older
    assert validate("1.10", ix) == "1.10.0"


# --------------------------------------------------------------------------- requirement syntax
@pytest.mark.parametrize("text, conda, name, pin, clauses", [
    ("mindspore-gpu==1.8.1", False, "mindspore-gpu", "1.8.1", ()),
    ("MindSpore_Ascend >= 1.8, < 2", False, "mindspore-ascend", None, ((">=", "1.8"), ("<", "2"))),
    ("mindspore[extra]==2.2.0 ; python_version >= '3.8'", False, "mindspore", "2.2.0", ()),
    ("mindspore==2.2.*", False, "mindspore", None, (("==", "2.2.*"),)),
    ("mindspore (>=1.5)", False, "mindspore", None, ((">=", "1.5"),)),
    ("https://ms-release.obs.cn-north-4.myhuaweicloud.com/1.8.1/MindSpore/gpu/x86_64/cuda-11.1/"
     "mindspore_gpu-1.8.1-cp37-cp37m-linux_x86_64.whl", False, "mindspore-gpu", "1.8.1", ()),
    ("mindspore @ https://example.org/mindspore-2.2.0-cp39-cp39-linux_x86_64.whl", False, "mindspore", "2.2.0", ()),
    ("mindspore-dev==2.5.0.dev20250202", False, "mindspore-dev", "2.5.0.dev20250202", ()),
    ("mindspore-gpu=1.8.1=py37_0", True, "mindspore-gpu", "1.8.1", ()),
    ("mindspore::mindspore-cpu=2.2", True, "mindspore-cpu", None, (("==", "2.2.*"),)),
    ("mindspore", False, "mindspore", None, ()),
    ("mindspore-gpu==1.8.1 --hash=sha256:0123abcd \\", False, "mindspore-gpu", "1.8.1", ()),
])
def test_parse_requirement(text, conda, name, pin, clauses):
    r = parse_requirement(text, Path("requirements.txt"), 1, conda=conda)
    assert (r.name, r.pin, r.clauses) == (name, pin, clauses)


@pytest.mark.parametrize("text", ["mindspore-lite==2.0", "mindformers==1.0", "mindspore_hub", "-e .", "# mindspore==1.8"])
def test_other_packages_are_not_mindspore(text):
    assert parse_requirement(text, Path("requirements.txt"), 1) is None


# --------------------------------------------------------------------------- language server
def test_language_server_uses_the_project_pin(tmp_path):
    from msfix.server import MsfixServer

    root = project(tmp_path, {"requirements.txt": "mindspore-gpu==1.8.1\n"})
    server = MsfixServer()
    _, target = server._rules_and_target(root / "src" / "train.py")
    assert target == "1.8.1"
    (root / "msfix.toml").write_text('target-version = "2.0"\n')  # explicit wins, as on the command line
    assert server._rules_and_target(root / "src" / "train.py")[1] == "2.0.0"
    (root / "msfix.toml").write_text('target-version = "1.4"\n')  # unknown: a message, then the project's pin
    shown = []
    server.window_show_message = shown.append
    assert server._rules_and_target(root / "src" / "train.py")[1] == "1.8.1"
    assert len(shown) == 1 and "'1.4' names no MindSpore release" in shown[0].message
