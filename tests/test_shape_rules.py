"""MS309/MS310 and the shape analysis (msfix/analysis/shapes.py) against the 2.10 wheel:
the layer arithmetic msfix computes is what MindSpore computes, the bad fixtures crash
as the messages say under `msfix smoke`, and the fixed LeNet and grayscale CNN run."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest

from msfix.analysis import shapes
from msfix.analysis.builder import build_model

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"

needs_mindspore = pytest.mark.skipif(
    importlib.util.find_spec("mindspore") is None, reason="needs MindSpore in this interpreter")

# layers applied to MNIST (1x28x28) after a Conv2d(1, 4, 1); the shape msfix computes
# for what reaches the Dense after them is compared with the wheel's
LAYERS = [
    "nn.Conv2d(4, 4, 5, pad_mode='valid')",
    "nn.Conv2d(4, 4, 3)",  # pad_mode defaults to 'same'
    "nn.Conv2d(4, 4, 3, stride=2)",
    "nn.Conv2d(4, 4, 3, stride=2, pad_mode='valid', dilation=2)",
    "nn.Conv2d(4, 8, 3, pad_mode='pad', padding=(1, 0, 2, 1), stride=2)",
    "nn.Conv2d(4, 8, 3, group=2, pad_mode='valid')",
    "nn.MaxPool2d(2)",  # stride defaults to 1
    "nn.MaxPool2d(2, 2)",
    "nn.MaxPool2d(3, 2, pad_mode='same')",
    "nn.MaxPool2d(3, 2, pad_mode='pad', padding=1)",
    "nn.MaxPool2d(3, 2, pad_mode='pad', padding=1, ceil_mode=True)",
    "nn.MaxPool2d(3, 1, pad_mode='pad', dilation=2)",
    "nn.AvgPool2d(3, 2, pad_mode='pad', padding=1)",
    "nn.AvgPool2d(2, 2, pad_mode='pad', ceil_mode=True)",
    "nn.AvgPool2d(kernel_size=3, stride=3)",
    "nn.AdaptiveAvgPool2d((1, None))",
    "nn.AdaptiveAvgPool2d(3)",
    "nn.BatchNorm2d(4)",
    "nn.ReLU()",
]

SCRIPT = """import mindspore.dataset as ds
import mindspore.dataset.vision as vision
from mindspore import nn
from mindspore.train import Model


class Net(nn.Cell):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 1)
        self.layer = {layer}
        self.flatten = nn.Flatten()
        self.fc = nn.Dense(1, 10)

    def construct(self, x):
        return self.fc(self.flatten(self.layer(self.stem(x))))


data = ds.MnistDataset("m").map([vision.Rescale(1 / 255, 0), vision.HWC2CHW()], "image").batch(2)
net = Net()
Model(net, nn.SoftmaxCrossEntropyWithLogits(sparse=True), nn.Adam(net.trainable_params())).train(1, data)
"""


def _model(text):
    return build_model(cst.parse_module(text), text)


def _static_features(layer: str) -> int:
    recs = [r for r in shapes.layer_inputs(_model(SCRIPT.format(layer=layer))) if r.label == "fc"]
    assert len(recs) == 1, layer
    return recs[0].actual


@needs_mindspore
def test_layer_arithmetic_matches_the_wheel():
    probe = (
        "import json, sys, numpy as np\n"
        "from mindspore import nn, Tensor\n"
        "out = []\n"
        "for layer in json.loads(sys.argv[1]):\n"
        "    x = Tensor(np.zeros((2, 4, 28, 28), np.float32))\n"
        "    y = eval(layer)(x)\n"
        "    out.append(int(np.prod(y.shape[1:])))\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, json.dumps(LAYERS)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    wheel = json.loads(done.stdout.strip().splitlines()[-1])
    assert [_static_features(layer) for layer in LAYERS] == wheel


def _smoke(path: Path) -> dict:
    done = subprocess.run([sys.executable, "-m", "msfix", "smoke", str(path), "--output-format", "json"],
                          capture_output=True, text=True, timeout=600)
    return json.loads(done.stdout)


# (bad fixture, text of its crash on the wheel, the fixed version that must run)
RUNS = [
    ("MS309/bad", "'x1_col': 256 and 'x2_row': 400", "MS309/bad.unsafe-fixed"),  # LeNet-5 for 32x32 on MNIST
    ("MS309/bad_grayscale", "'C_in' of input 'x' shape: 1", "MS309/bad_grayscale.unsafe-fixed"),
    ("MS310/bad", "label[index] must <= class_num", "MS310/bad.unsafe-fixed"),
]


@needs_mindspore
@pytest.mark.parametrize("bad,error,fixed", RUNS, ids=[r[0] for r in RUNS])
def test_bad_crashes_as_reported_and_fixed_runs(bad, error, fixed):
    report = _smoke(FIXTURES / f"{bad}.py")
    assert report["outcome"] == "crashed", report
    assert error in report.get("message", "") + report.get("stderr", ""), report.get("message")
    report = _smoke(FIXTURES / f"{fixed}.py")
    assert report["outcome"] == "passed", report.get("message")
    assert report["train_steps"] >= 1


def test_only_the_first_mismatch_on_a_path_is_flagged():
    text = SCRIPT.format(layer="nn.Conv2d(3, 4, 3)").replace("nn.Conv2d(1, 4, 1)", "nn.Conv2d(3, 4, 1)")
    recs = [r for r in shapes.layer_inputs(_model(text)) if r.mismatch]
    assert [(r.label, r.expected, r.actual, r.first) for r in recs] == [
        ("stem", 3, 1, True), ("layer", 3, 4, False), ("fc", 1, 3136, False)]


def test_unknown_shapes_stop_quietly():
    # an ImageFolder without Resize: the image size is not known
    text = SCRIPT.format(layer="nn.ReLU()").replace(
        'ds.MnistDataset("m").map([vision.Rescale(1 / 255, 0), vision.HWC2CHW()], "image")',
        'ds.ImageFolderDataset("d", decode=True).map([vision.HWC2CHW()], "image")')
    assert shapes.layer_inputs(_model(text)) == []
    # a Resize makes it known: 3x16x16 reach the first layer
    text2 = text.replace("[vision.HWC2CHW()]", "[vision.Resize((16, 16)), vision.HWC2CHW()]")
    recs = shapes.layer_inputs(_model(text2))
    assert [(r.label, r.actual) for r in recs][:1] == [("stem", 3)]
    # the analysis runs only when asked
    m = _model(SCRIPT.format(layer="nn.ReLU()"))
    assert "shapes" not in m._memo
    shapes.layer_inputs(m)
    assert "shapes" in m._memo


def test_classes_need_index_labels_from_the_reader():
    small = SCRIPT.format(layer="nn.ReLU()").replace("nn.Dense(1, 10)", "nn.Dense(1, 5)")
    assert [(c.out, c.classes) for c in shapes.classifiers(_model(small))] == [(5, 10)]
    # labels cast to float (probabilities for nn.CrossEntropyLoss) or remapped by a Python function: unknown
    cast = small.replace('.batch(2)', '.map(transforms.TypeCast(ms.float32), "label").batch(2)').replace(
        "from mindspore import nn", "import mindspore as ms\nimport mindspore.dataset.transforms as transforms\n"
        "from mindspore import nn")
    assert shapes.classifiers(_model(cast)) == []
    remap = small.replace('.batch(2)', '.map(lambda y: y % 5, "label").batch(2)')
    assert shapes.classifiers(_model(remap)) == []
    # an image op msfix does not model stops the shape, quietly
    odd = SCRIPT.format(layer="nn.ReLU()").replace("vision.HWC2CHW()]", "vision.HWC2CHW(), lambda x: x[:, :14]]")
    assert shapes.layer_inputs(_model(odd)) == []
