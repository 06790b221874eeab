"""`msfix config`: the effective settings and where each comes from."""

import json
import os

from click.testing import CliRunner

from msfix.cli import main


def run(*args, cwd):
    old = os.getcwd()
    try:
        os.chdir(cwd)
        return CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def test_config_text_and_json(tmp_path):
    py = tmp_path / "pyproject.toml"
    py.write_text('[tool.msfix]\nignore = ["MS205"]\nper-file-ignores = { "tests/*" = ["MS202"] }\n')
    (tmp_path / "src").mkdir()
    r = run("config", "src", "--config", "unsafe-fixes=true", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    assert f"# config file: {py} [tool.msfix]" in r.output
    assert f'ignore = ["MS205"]  # {py} [tool.msfix]' in r.output
    assert 'per-file-ignores = { "tests/*" = ["MS202"] }' in r.output
    assert "unsafe-fixes = true  # --config" in r.output
    assert 'select = ["MS"]  # default' in r.output
    assert 'output-format = "text"  # default' in r.output
    r = run("config", "--output-format", "json", cwd=tmp_path)
    data = json.loads(r.output)
    assert data["config-file"] == str(py)
    assert data["settings"]["ignore"] == ["MS205"] and data["sources"]["ignore"].startswith(str(py))
    assert data["settings"]["unsafe-fixes"] is False and data["sources"]["unsafe-fixes"] == "default"
    assert data["settings"]["target-version"]  # resolved


def test_config_without_a_file_and_with_a_bad_key(tmp_path):
    r = run("config", cwd=tmp_path)
    assert r.exit_code == 0 and "# config file: none (defaults)" in r.output
    (tmp_path / "msfix.toml").write_text("selec = ['MS2']\n")
    r = run("config", cwd=tmp_path)
    assert r.exit_code == 2 and "unknown key `selec`" in r.output
