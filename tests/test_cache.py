"""The result cache: reused when nothing changed, invalidated by content and by the
rule selection, bypassed with --no-cache, removed by `msfix clean`."""

import json
import os

from click.testing import CliRunner

from msfix.cli import main

BAD = "import mindspore.dataset as ds\nd = ds.MnistDataset('m', num_parallel_workers=16)\n"


def _check(tmp_path, *args):
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        return CliRunner().invoke(main, ["check", ".", "--output-format", "json", *args], catch_exceptions=False)
    finally:
        os.chdir(old)


def test_cache_hit_miss_and_invalidation(tmp_path, monkeypatch):
    monkeypatch.delenv("MSFIX_CACHE_DIR")
    f = tmp_path / "a.py"
    f.write_text(BAD)
    first = _check(tmp_path)
    assert [d["code"] for d in json.loads(first.output)] == ["MS202"]
    cache_files = list((tmp_path / ".msfix_cache").glob("check-*.json"))
    assert len(cache_files) == 1

    # a hit does not run the engine at all
    from msfix import runner

    real_run = runner._run

    def boom(job):
        raise AssertionError(f"engine ran for {job.path}")

    monkeypatch.setattr(runner, "_run", boom)
    again = _check(tmp_path)
    assert again.output == first.output

    # touching without changing content is still a hit (content hash)
    os.utime(f, ns=(1, 1))
    assert _check(tmp_path).output == first.output

    # a changed file is a miss
    monkeypatch.setattr(runner, "_run", real_run)
    f.write_text(BAD.replace("16", "32"))
    changed = _check(tmp_path)
    assert "num_parallel_workers=32" in json.loads(changed.output)[0]["message"]

    # another rule selection uses another cache entry
    assert json.loads(_check(tmp_path, "--select", "MS1").output) == []


def test_no_cache_and_clean(tmp_path, monkeypatch):
    monkeypatch.delenv("MSFIX_CACHE_DIR")
    (tmp_path / "a.py").write_text(BAD)
    _check(tmp_path, "--no-cache")
    assert not (tmp_path / ".msfix_cache").exists()
    _check(tmp_path)
    assert (tmp_path / ".msfix_cache").exists()
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        r = CliRunner().invoke(main, ["clean"])
    finally:
        os.chdir(old)
    assert r.exit_code == 0 and "removed" in r.output
    assert not (tmp_path / ".msfix_cache").exists()


def test_syntax_errors_are_cached_and_still_reported(tmp_path):
    (tmp_path / "bad.py").write_text("import mindspore\ndef f(:\n")
    r1 = _check(tmp_path)
    r2 = _check(tmp_path)
    assert r1.exit_code == r2.exit_code == 2


def test_editing_a_rule_file_invalidates_the_cache(monkeypatch):
    import msfix.rules
    from msfix.cache import code_fingerprint

    before = code_fingerprint()
    target = os.path.join(os.path.dirname(msfix.rules.__file__), "data", "ms202_num_parallel_workers.py")
    st = os.stat(target)
    try:
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
        assert code_fingerprint() != before
    finally:
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert code_fingerprint() == before


CONFIG_SCRIPT = ("import yaml\nimport mindspore.dataset as ds\n"
                 "cfg = yaml.safe_load(open('config.yaml'))\n"
                 "d = ds.MnistDataset('m', num_parallel_workers=cfg['workers'])\n")


def test_a_config_file_the_script_reads_is_part_of_its_cache_key(tmp_path, monkeypatch):
    monkeypatch.delenv("MSFIX_CACHE_DIR")
    (tmp_path / "train.py").write_text(CONFIG_SCRIPT)
    cfg = tmp_path / "config.yaml"
    cfg.write_text("workers: 16\n")
    first = json.loads(_check(tmp_path).output)
    assert [d["code"] for d in first] == ["MS202"]
    assert "config.yaml:1" in first[0]["message"]

    from msfix import runner

    real_run = runner._run
    ran = []
    monkeypatch.setattr(runner, "_run", lambda job: ran.append(job.path) or real_run(job))
    assert json.loads(_check(tmp_path).output) == first and ran == []  # unchanged: a hit

    cfg.write_text("workers: 2\n")  # the script is unchanged, its config is not
    assert json.loads(_check(tmp_path).output) == [] and len(ran) == 1

    cfg.write_text("# more workers\nworkers: 32\n")
    second = json.loads(_check(tmp_path).output)
    assert "num_parallel_workers=32" in second[0]["message"] and "config.yaml:2" in second[0]["message"]

    cfg.unlink()  # gone: the value is unknown again
    assert json.loads(_check(tmp_path).output) == []
    cfg.write_text("workers: 64\n")  # back: a file that was absent is a dependency too
    assert "num_parallel_workers=64" in json.loads(_check(tmp_path).output)[0]["message"]
    assert len(ran) == 4  # every change of the config file was a miss
