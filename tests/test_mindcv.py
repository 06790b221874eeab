"""mindcv's model registry (msfix/knowledge/data/mindcv_models.json, built from the
mindcv 0.3.0 wheel by tools/build_mindcv_registry.py) and MS101's model-zoo and
near-miss fixes."""

import importlib.util
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import msfix.rules.api.ms101_unknown_mindspore_name as ms101
from msfix.context import ApiView
from msfix.engine import fix_text, lint_text
from msfix.knowledge.mindcv import MindcvRegistry, load_registry, normalize

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "msfix" / "knowledge" / "data" / "mindcv_models.json"


def _builder():
    spec = importlib.util.spec_from_file_location("build_mindcv_registry", ROOT / "tools" / "build_mindcv_registry.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _installed_mindcv() -> Path:
    spec = importlib.util.find_spec("mindcv")  # located, not imported
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("mindcv is not installed (pip install 'msfix[smoke]')")
    return Path(list(spec.submodule_search_locations)[0])


# ---------------------------------------------------------------------------
# the shipped data


def test_shipped_registry_matches_the_installed_mindcv_sources():
    """Every @register_model function of the installed mindcv, with its signature, read
    the way the builder reads the wheel: the shipped file is that package's registry."""
    from importlib.metadata import version

    pkg = _installed_mindcv()
    shipped = json.loads(SHIPPED.read_text(encoding="utf-8"))
    assert shipped["source"]["version"] == version("mindcv") == "0.3.0"
    assert shipped["models"] == _builder().models_in_package(pkg)


def test_registry_names_are_mindcvs_list_models_and_importable():
    """The names mindcv itself registers (its list_models(), after importing it: MindSpore
    too, in a child process), each importable as `from mindcv.models import <name>`."""
    _installed_mindcv()
    code = ("import json, mindcv.models as m; names = m.list_models(); "
            "print(json.dumps([names, [n for n in names if not callable(getattr(m, n, None))]]))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    names, missing = json.loads(proc.stdout.strip().splitlines()[-1])
    assert sorted(names) == load_registry().names()
    assert missing == []


def test_shipped_file_names_its_wheel_and_is_what_the_builder_writes(tmp_path):
    shipped = SHIPPED.read_text(encoding="utf-8")
    data = json.loads(shipped)
    assert data["source"]["wheel"] == "mindcv-0.3.0-py3-none-any.whl"
    assert len(data["source"]["sha256"]) == 64
    assert list(data["models"]) == sorted(data["models"])
    assert len(shipped) < 64_000  # small: one model a line
    sig = load_registry().get("resnet50")
    assert sig.module == "mindcv.models.resnet"
    assert sig.params == (("pretrained", "False"), ("num_classes", "1000"), ("in_channels", "3"))
    assert sig.kwargs and not sig.varargs


def test_builder_reads_a_wheel_statically_and_check_compares_byte_for_byte(tmp_path):
    b = _builder()
    wheel = tmp_path / "mindcv-0.3.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("mindcv/models/tiny.py",
                   "raise SystemExit('never run')\n"
                   "from .registry import register_model\n"
                   "@register_model\n"
                   "def tiny_b(pretrained: bool = True, num_classes=10, *, scale=1.0, **kwargs): ...\n"
                   "def helper(pretrained=False): ...\n"
                   "@register_model\n"
                   "def tiny_a(pretrained, *args): ...\n")
        z.writestr("mindcv/models/layers/x.py", "@register_model\ndef not_a_model(): ...\n")
        z.writestr("mindcv/utils.py", "@register_model\ndef elsewhere(): ...\n")
    out = tmp_path / "reg.json"
    assert b.main(["--wheel", str(wheel), "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert list(data["models"]) == ["tiny_a", "tiny_b"]
    assert data["models"]["tiny_b"] == {"module": "mindcv.models.tiny",
                                        "params": [["pretrained", "True"], ["num_classes", "10"]],
                                        "kwonly": [["scale", "1.0"]], "varargs": False, "kwargs": True}
    assert data["models"]["tiny_a"]["params"] == [["pretrained", None]] and data["models"]["tiny_a"]["varargs"]
    assert b.main(["--wheel", str(wheel), "--out", str(out), "--check"]) == 0
    out.write_text(out.read_text().replace("\n", " \n", 1))
    assert b.main(["--wheel", str(wheel), "--out", str(out), "--check"]) == 1


# ---------------------------------------------------------------------------
# lookup


def test_normalize_drops_case_and_underscores():
    assert normalize("MobileNet_V2") == normalize("mobilenetv2") == "mobilenetv2"


@pytest.mark.parametrize("name,expected", [
    ("ResNet50", ["resnet50"]),
    ("VGG16", ["vgg16"]),
    ("InceptionV3", ["inception_v3"]),
    ("resnext50_32x4d", ["resnext50_32x4d"]),
    ("LeNet5", []),
])
def test_candidates(name, expected):
    assert load_registry().candidates(name) == expected


def test_family_names_stand_for_their_variants_only_at_a_word_boundary():
    zoo = ms101.zoo_candidates("mindspore.nn.MobileNetV2", "mindspore.nn.MobileNetV2")
    assert len(zoo) == 22 and all(n.startswith("mobilenet_v2_") for n in zoo)
    assert ms101.zoo_candidates("mindspore.nn.Dense2", "mindspore.nn.Dense2") == []  # not densenet121
    assert ms101.zoo_candidates("mindspore.nn.Vgg", "mindspore.nn.Vgg") == ["vgg11", "vgg13", "vgg16", "vgg19"]
    # not a model-zoo place: an unknown name of mindspore.ops is not a model
    assert ms101.zoo_candidates("mindspore.ops.ResNet50", "mindspore.ops.ResNet50") is None


# ---------------------------------------------------------------------------
# MS101's fixes


def _fix(text: str):
    rules = [ms101.UnknownMindSporeName]
    out, remaining, _, err = fix_text(text, rules, unsafe=True, path="t.py")
    assert err is None
    safe, _, _, _ = fix_text(text, rules, unsafe=False, path="t.py")
    assert safe == text  # both fixes guess intent: unsafe only
    return out, [d.message for d in remaining.diagnostics]


def test_model_zoo_call_becomes_the_mindcv_constructor():
    out, remaining = _fix("import mindspore.nn as nn\n"
                          "net = nn.ResNet50(class_num=10, in_channels=1)\n")
    assert out == ("import mindspore.nn as nn\n"
                   "from mindcv.models import resnet50\n"
                   "net = resnet50(num_classes=10, in_channels=1)\n")
    assert remaining == []


def test_pretrained_false_is_added_only_where_the_default_is_not_false(monkeypatch):
    raw = json.loads(SHIPPED.read_text(encoding="utf-8"))
    raw["models"]["resnet50"]["params"][0] = ["pretrained", "True"]
    # the rule reads the registry through the API view (ctx.api.mindcv_registry)
    monkeypatch.setattr(ApiView, "mindcv_registry", staticmethod(lambda: MindcvRegistry(raw)))
    out, _ = _fix("import mindspore.nn as nn\nnet = nn.ResNet50(num_classes=10)\n")
    assert "net = resnet50(num_classes=10, pretrained=False)\n" in out
    out, _ = _fix("import mindspore.nn as nn\nnet = nn.ResNet50(num_classes=10, pretrained=True)\n")
    assert "net = resnet50(num_classes=10, pretrained=True)\n" in out  # what the script asks for


def test_a_name_the_script_uses_is_not_rebound():
    # `resnet50` is a local variable in a function and read undefined at module level:
    # binding it at the top would change what those names mean
    text = ("import mindspore.nn as nn\n"
            "def build():\n"
            "    resnet50 = nn.ResNet50(num_classes=10)\n"
            "    return resnet50\n"
            "print(resnet50)\n")
    out, _ = _fix(text)
    assert "from mindcv.models import resnet50 as mindcv_resnet50\n" in out
    assert "    resnet50 = mindcv_resnet50(num_classes=10)\n" in out
    assert out.endswith("print(resnet50)\n")


@pytest.mark.parametrize("call,why", [
    ("nn.ResNet50(10)", "positional arguments"),
    ("nn.ResNet50(weights=None)", "`resnet50` has no parameter `weights`"),
    ("nn.ResNet50(**cfg)", "unpacks its arguments"),
    ("nn.ResNet50(num_classes=10, class_num=10)", "`num_classes` is given twice"),
])
def test_no_rewrite_when_the_arguments_do_not_map(call, why):
    text = f"import mindspore.nn as nn\ncfg = {{}}\nnet = {call}\n"
    out, remaining = _fix(text)
    assert out == text
    assert len(remaining) == 1 and why in remaining[0] and "mindcv.models.resnet50" in remaining[0]


def test_ambiguous_names_are_listed_not_guessed():
    text = "import mindspore.nn as nn\nimport mindspore.ops as ops\nnet = nn.ShuffleNetV2(num_classes=10)\nact = ops.Relu()\n"
    out, remaining = _fix(text)
    assert out == text
    assert "`shufflenet_v2_x0_5`, `shufflenet_v2_x1_0`, `shufflenet_v2_x1_5`, `shufflenet_v2_x2_0`" in remaining[0]
    assert remaining[1].endswith("did you mean `ReLU` or `relu`?")


def test_near_miss_renames_dotted_uses_not_imports():
    text = ("import mindspore as ms\n"
            "from mindspore.nn import Batchnorm2d\n"
            "conv = ms.nn.Conv2D(3, 8, 3)\n")
    out, remaining = _fix(text)
    assert out == ("import mindspore as ms\n"
                   "from mindspore.nn import Batchnorm2d\n"
                   "conv = ms.nn.Conv2d(3, 8, 3)\n")
    assert len(remaining) == 1 and remaining[0].endswith("did you mean `BatchNorm2d`?")


def test_a_missing_module_in_the_middle_is_renamed_in_place():
    out, _ = _fix("import mindspore as ms\nx = ms.NN.Dense(3, 4)\n")
    assert out == "import mindspore as ms\nx = ms.nn.Dense(3, 4)\n"


def test_check_reads_the_registry_without_importing_mindcv(tmp_path):
    f = tmp_path / "t.py"
    f.write_text("import mindspore.nn as nn\nnet = nn.ResNet50(num_classes=10)\n")
    code = ("import sys; from msfix.cli import main; sys.argv = ['msfix', 'check', '--no-cache', "
            f"'--exit-zero', {str(f)!r}]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "assert 'mindcv' not in sys.modules and 'mindspore' not in sys.modules\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "mindcv.models.resnet50" in proc.stdout


def test_lint_reports_model_zoo_names_once_with_the_mindcv_name():
    out = lint_text("from mindspore import nn\nnet = nn.vgg16(num_classes=10)\n", [ms101.UnknownMindSporeName], path="t.py")
    assert [d.message.split(": ", 1)[1] for d in out.diagnostics] == [
        "MindSpore has no model zoo in the framework: use `mindcv.models.vgg16` from mindcv 0.3.0 "
        "(MindSpore's model zoo, `pip install mindcv==0.3.0`)"]
    assert out.diagnostics[0].fix is not None


def test_an_existing_mindcv_import_is_reused():
    text = ("import mindspore.nn as nn\n"
            "from mindcv.models import resnet50\n"
            "a = resnet50(num_classes=10)\n"
            "b = nn.ResNet50(num_classes=10)\n")
    out, remaining = _fix(text)
    assert out == text.replace("nn.ResNet50(", "resnet50(")
    assert remaining == []


def test_curated_entries_come_before_a_spelling_guess():
    # PyTorch names with a known MindSpore counterpart are not "misspelt" names of the
    # same module: ops.CrossEntropy is not ops.cross_entropy, ds.DataLoader not the
    # mindspore.dataset.dataloader module
    text = ("import mindspore.ops as ops\nimport mindspore.dataset as ds\n"
            "loss = ops.CrossEntropy()\nloader = ds.DataLoader([1, 2])\n")
    out, remaining = _fix(text)
    assert out == text
    assert "use `mindspore.ops.cross_entropy`" in remaining[0]
    assert "use `mindspore.dataset.GeneratorDataset`" in remaining[1]


def test_a_module_is_a_near_miss_only_where_the_name_is_used_as_one(monkeypatch):
    monkeypatch.setattr(ms101, "curated", lambda missing: False)
    text = "import mindspore.dataset as ds\nloader = ds.DataLoader([1, 2])\n"
    out, _ = _fix(text)
    assert out == text


def test_near_miss_renames_name_what_the_wheel_has():
    """On the MindSpore 2.10 wheel: each name MS101 renames to exists, the misspelt one
    does not (the fixes of fixtures/MS101/bad_near_miss.py)."""
    pytest.importorskip("mindspore")
    text = (ROOT / "fixtures" / "MS101" / "bad_near_miss.py").read_text()
    diags = lint_text(text, [ms101.UnknownMindSporeName], path="t.py").diagnostics
    pairs = []
    for d in diags:
        if d.fix is not None:
            (edit,) = d.fix.edits
            old = text[edit.start:edit.end]
            mod = d.message.split("`")[1]
            pairs.append((mod, old, edit.text))
    assert sorted(p[1:] for p in pairs) == [("Adaptive_Avg_Pool2d", "AdaptiveAvgPool2d"),
                                            ("Conv2D", "Conv2d"), ("batchnorm2d", "BatchNorm2d")]
    code = ("import importlib, json, sys; pairs = json.loads(sys.argv[1]); "
            "print(json.dumps([[hasattr(importlib.import_module(m), o), hasattr(importlib.import_module(m), n)] "
            "for m, o, n in pairs]))")
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(pairs)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == [[False, True]] * len(pairs)


def test_a_from_import_of_a_model_zoo_name_is_rewritten_with_its_calls():
    out, remaining = _fix("from mindspore.nn import ResNet18, Dense\n"
                          "from mindspore.nn import resnet50\n"
                          "def build():\n"
                          "    return ResNet18(class_num=10), Dense(3, 4)\n"
                          "net = resnet50(num_classes=10)\n")
    assert out == ("from mindspore.nn import Dense\n"
                   "from mindcv.models import resnet18\n"
                   "from mindcv.models import resnet50\n"  # the imported name itself, now mindcv's
                   "def build():\n"
                   "    return resnet18(num_classes=10), Dense(3, 4)\n"
                   "net = resnet50(num_classes=10)\n")
    assert remaining == []


def test_a_from_import_used_other_than_as_a_call_is_left_alone():
    text = "from mindspore.nn import ResNet18\nnet = ResNet18(num_classes=10)\nfactory = ResNet18\n"
    out, remaining = _fix(text)
    assert out == text
    assert "(no automatic rewrite: `ResNet18` is used other than as a call)" in remaining[0]
