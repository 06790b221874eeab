"""Config files a script reads by a literal path next to it (msfix/analysis/configfiles.py):
the YAML subset reader checked against PyYAML itself, JSON with lines, and the values
and origins rules get through values.evaluate / origin_of."""

import json

import libcst as cst
import pytest
import yaml

from msfix.analysis import configfiles
from msfix.analysis.builder import build_model
from msfix.analysis.model import UNKNOWN
from msfix.analysis.values import evaluate, origin_of


def _plain(fv):
    """A FileValue tree as plain Python (UNKNOWN kept)."""
    if isinstance(fv.value, dict):
        return {k: _plain(v) for k, v in fv.value.items()}
    return fv.value


def _agrees(mine, real) -> bool:
    if mine is UNKNOWN:
        return True
    if isinstance(mine, dict):
        return isinstance(real, dict) and mine.keys() == real.keys() and all(_agrees(mine[k], real[k]) for k in mine)
    return type(mine) is type(real) and mine == real


YAML_DOCS = [
    "lr: 0.01\nmomentum: 0.9\nepochs: 10\n",
    "# comment\ntrain:\n  batch_size: 128   # per device\n  workers: 16\neval:\n  batch_size: 32\nname: 'lenet'\n",
    "a:\n  b:\n    c: 1\n  d: 2\ne: 3\n",
    "---\nflag: yes\noff_flag: off\nnothing:\nquoted: \"x y\"\n",
    "lr: 1e-3\nlr2: 1.0e-3\noctal: 017\nhex: 0x10\nsexa: 1:30\n",
    "milestones: [30, 60]\nsteps:\n  - 1\n  - 2\nafter: 5\n",
    "text: |\n  line one\n  line two\nafter: 7\n",
    "path: ./data/train\nurl: http://example.com/x\n",
]


@pytest.mark.parametrize("doc", YAML_DOCS)
def test_yaml_subset_reads_what_pyyaml_reads(doc):
    mine = configfiles.parse_yaml(doc, "c.yaml")
    assert mine is not None
    real = yaml.safe_load(doc)
    assert _agrees(_plain(mine), real), (_plain(mine), real)
    # and something is known in each document
    assert any(v is not UNKNOWN for v in _plain(mine).values())


def test_yaml_relative_paths_are_strings_and_dotted_numbers_stay_numbers():
    mine = _plain(configfiles.parse_yaml("ckpt: ./output/best.ckpt\nup: ../data\nhalf: .5\nneg: -.5\n", "c.yaml"))
    assert mine["ckpt"] == "./output/best.ckpt" and mine["up"] == "../data"
    assert mine["half"] == 0.5 and mine["neg"] is UNKNOWN


@pytest.mark.parametrize("doc", [
    "base: &b\n  lr: 1\nother:\n  <<: *b\n",  # merge keys
    "- 1\n- 2\n",  # a list document
    "a: 1\n---\na: 2\n",  # two documents
    "a: 1\na: 2\n",  # a repeated key
    "a:\n\tb: 1\n",  # tabs
    "a: 1\n   b: 2\n",  # indentation this reader does not follow
])
def test_yaml_it_does_not_follow_is_unknown(doc):
    assert configfiles.parse_yaml(doc, "c.yaml") is None


def test_yaml_anchors_and_aliases_are_unknown_values():
    got = configfiles.parse_yaml("a: &x 1\nb: *x\nc: 2\n", "c.yaml")
    assert _plain(got) == {"a": UNKNOWN, "b": UNKNOWN, "c": 2}


def test_yaml_lines():
    got = configfiles.parse_yaml("# top\ntrain:\n  batch_size: 128\n\n  workers: 16\nlr: 0.1\n", "config.yaml")
    assert got.value["train"].value["batch_size"].where == "config.yaml:3"
    assert got.value["train"].value["workers"].where == "config.yaml:5"
    assert got.value["lr"].where == "config.yaml:6"


def test_json_values_and_lines():
    text = '{\n  "lr": 0.01,\n  "train": {"bs": 64,\n            "w": [1, {"x": 2}]},\n  "ok": true, "n": null\n}\n'
    got = configfiles.parse_json(text, "cfg.json")
    assert _agrees(_plain(got), json.loads(text))
    assert got.value["lr"].where == "cfg.json:2"
    assert got.value["train"].value["bs"].where == "cfg.json:3"
    assert got.value["ok"].where == "cfg.json:5"
    assert configfiles.parse_json("{bad json", "x.json") is None


def _value(tmp_path, files: dict, script: str, expr: str):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    src = script.rstrip("\n") + f"\nRESULT = {expr}\n"
    path = tmp_path / "train.py"
    path.write_text(src)
    m = build_model(cst.parse_module(src), src)
    m.path = str(path)
    b = m.module_scope.bindings["RESULT"][-1]
    return evaluate(m, b.value, m.module_scope, b.order), origin_of(m, b.value, m.module_scope, b.order), m


CFG = {"config.yaml": "train:\n  batch_size: 128\nmomentum: 0.9\n", "cfg.json": '{\n  "workers": 16\n}\n'}


@pytest.mark.parametrize("script,expr,want,where", [
    ("import yaml\ncfg = yaml.safe_load(open('config.yaml'))\n", "cfg['train']['batch_size']", 128,
     "config.yaml:2"),
    ("import yaml\nwith open('config.yaml', 'r') as f:\n    cfg = yaml.safe_load(f)\n", "cfg['momentum']", 0.9,
     "config.yaml:3"),
    ("import yaml\ncfg = yaml.load(open('config.yaml'), Loader=yaml.FullLoader)\n", "cfg.get('momentum')", 0.9,
     "config.yaml:3"),
    ("import os, json\nwith open(os.path.join(os.path.dirname(__file__), 'cfg.json')) as f:\n"
     "    cfg = json.load(f)\n", "cfg['workers']", 16, "cfg.json:2"),
    ("import os, json\nHERE = os.path.dirname(os.path.abspath(__file__))\n"
     "cfg = json.loads(open(os.path.join(HERE, 'cfg.json')).read())\n", "cfg['workers']", 16, "cfg.json:2"),
    ("import json\nfrom pathlib import Path\ncfg = json.load(open(Path(__file__).parent / 'cfg.json'))\n",
     "cfg['workers']", 16, "cfg.json:2"),
    ("import yaml\nfrom easydict import EasyDict\ncfg = EasyDict(yaml.safe_load(open('config.yaml')))\n",
     "cfg.train.batch_size", 128, "config.yaml:2"),
    ("import yaml\ncfg = yaml.safe_load(open('config.yaml'))\nBS = cfg['train']['batch_size']\n", "BS", 128,
     "config.yaml:2"),
])
def test_values_from_config_files(tmp_path, script, expr, want, where):
    got, origin, m = _value(tmp_path, CFG, script, expr)
    assert got == want and type(got) is type(want)
    assert where in origin
    deps = configfiles.dependencies(m)
    assert len(deps) == 1 and all(v is not None for v in deps.values())


@pytest.mark.parametrize("script,expr", [
    ("import yaml\ncfg = yaml.safe_load(open('missing.yaml'))\n", "cfg['lr']"),
    ("import yaml\ncfg = yaml.load(open('config.yaml'))\n", "cfg['momentum']"),  # no safe Loader given
    ("import yaml\ncfg = yaml.safe_load(open(path))\n", "cfg['momentum']"),
    ("import yaml\ncfg = yaml.safe_load(open('config.yaml'))\ncfg['momentum'] = 0.5\n", "cfg['momentum']"),
    ("import yaml\ncfg = yaml.safe_load(open('config.yaml'))\ncfg.update(other)\n", "cfg['momentum']"),
    ("import yaml\ncfg = yaml.safe_load(open('config.yaml'))\n", "cfg.momentum"),  # a dict has no attributes
    ("import json\ncfg = json.load(open('config.yaml'))\n", "cfg['momentum']"),  # not a JSON file
    ("import yaml\ncfg = yaml.safe_load(open('/etc/config.yaml'))\n", "cfg['momentum']"),
])
def test_config_files_it_cannot_read_are_unknown(tmp_path, script, expr):
    got, origin, _ = _value(tmp_path, CFG, script, expr)
    assert got is UNKNOWN and origin is None


def test_an_absent_file_is_a_dependency(tmp_path):
    _, _, m = _value(tmp_path, {}, "import yaml\ncfg = yaml.safe_load(open('config.yaml'))\n", "cfg['lr']")
    assert list(configfiles.dependencies(m).values()) == [None]
