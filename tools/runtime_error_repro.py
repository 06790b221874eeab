"""Produce MindSpore runtime error messages on the installed wheel (CPU), all in one process.

Run with the interpreter that has MindSpore: ``python tools/runtime_error_repro.py [IDS...]``.
Each case below makes MindSpore raise one error, the way a training script would; the
output is one JSON object ``{case: {"entry", "type", "message", "traceback", "line",
"lines"}}`` on stdout: ``entry`` is the id of the ``msfix/smoke/crash_map.json``
entry the case reproduces, ``line`` the line of this file that raised (the "script
line" a diagnosis must name) and ``lines`` the case function's first and last line
(a graph-mode error points inside the compiled function). tests/test_diagnose.py
runs this once.
MindSpore's own log lines go to stderr, as in a real job.
"""

from __future__ import annotations

import inspect
import json
import os
import shutil
import sys
import tempfile
import traceback

os.environ.setdefault("GLOG_v", "2")

import numpy as np

import mindspore as ms
from mindspore import Parameter, Tensor, nn, ops
import mindspore.dataset as ds

CASES = {}
TMP = tempfile.mkdtemp(prefix="msfix-repro-")


def case(name, entry):
    """Register a reproduction of the table entry ``entry`` (msfix/smoke/crash_map.json)."""
    def register(fn):
        CASES[name] = (entry, fn)
        return fn
    return register


def f32(*shape):
    return Tensor(np.ones(shape, np.float32))


class Linear(nn.Cell):
    def __init__(self):
        super().__init__()
        self.fc = nn.Dense(4, 2)

    def construct(self, x):
        return self.fc(x)


# --- names and APIs -----------------------------------------------------------

@case("name-not-defined", "name-not-defined")
def _():
    resnet50()  # noqa: F821


@case("module-attribute-missing", "module-attribute-missing")
def _():
    nn.ResNet50()


@case("tensor-attribute-torch-method", "torch-tensor-method")
def _():
    f32(2).cuda()


@case("cell-attribute-torch-method", "torch-tensor-method")
def _():
    Linear().parameters()


@case("tensor-attribute-backward", "torch-training-loop-method")
def _():
    f32(2).backward()


@case("optimizer-zero-grad", "torch-training-loop-method")
def _():
    nn.SGD(Linear().trainable_params(), 0.1).zero_grad()


@case("unexpected-keyword", "unexpected-keyword")
def _():
    nn.Dense(4, 2, bias=False)


@case("missing-positional", "missing-positional")
def _():
    nn.Dense(4)


@case("primitive-called-with-tensor", "primitive-called-with-tensor")
def _():
    ops.ReLU(f32(2))


# --- dataset ----------------------------------------------------------------

@case("num-parallel-workers", "num-parallel-workers")
def _():
    ds.NumpySlicesDataset(np.ones((4, 2), np.float32), ["x"]).map(lambda x: x, num_parallel_workers=10000)


@case("no-valid-data", "no-valid-data")
def _():
    data = ds.NumpySlicesDataset(np.ones((4, 2), np.float32), ["x"], shuffle=False).batch(8, drop_remainder=True)
    ms.Model(Linear(), nn.MSELoss(), nn.SGD(Linear().trainable_params(), 0.1)).train(1, data)


@case("dataset-unknown-column", "dataset-unknown-column")
def _():
    data = ds.NumpySlicesDataset(np.ones((4, 2), np.float32), ["x"]).map(lambda x: x, input_columns=["image"])
    next(data.create_dict_iterator())


@case("dataset-inconsistent-batch-shapes", "dataset-inconsistent-batch-shapes")
def _():
    rows = [np.ones((i + 1,), np.float32) for i in range(4)]
    data = ds.GeneratorDataset(lambda: ((r,) for r in rows), ["x"]).batch(2)
    next(data.create_tuple_iterator())


@case("dataset-pyfunc-bad-return", "dataset-pyfunc-bad-return")
def _():
    data = ds.NumpySlicesDataset(np.ones((4, 2), np.float32), ["x"]).map(lambda x: object())
    next(data.create_tuple_iterator())


@case("dataset-generator-index-error", "dataset-user-function-error")
def _():
    class Source:
        def __getitem__(self, i):
            return (np.ones(2, np.float32),) if i < 2 else [][i]

        def __len__(self):
            return 4
    data = ds.GeneratorDataset(Source(), ["x"], shuffle=False)
    list(data.create_tuple_iterator())


@case("dataset-map-worker-error", "dataset-user-function-error")
def _():
    def bad(x):
        return x[10]
    data = ds.NumpySlicesDataset(np.ones((4, 2), np.float32), ["x"]).map(bad, input_columns=["x"])
    list(data.create_tuple_iterator())


@case("dataset-dir-missing", "dataset-dir-missing")
def _():
    ds.Cifar10Dataset(os.path.join(TMP, "no-such-dir"))


@case("dataset-mnist-dir-missing", "dataset-dir-missing")
def _():
    ds.MnistDataset(os.path.join(TMP, "MNIST_Data", "train"))


@case("dataset-imagefolder-dir-missing", "dataset-dir-missing")
def _():
    ds.ImageFolderDataset(os.path.join(TMP, "imagenet", "train"))


@case("dataset-batch-size-invalid", "dataset-batch-size-invalid")
def _():
    ds.NumpySlicesDataset(np.ones((4, 2), np.float32), ["x"]).batch(0)


@case("dataset-usage-invalid", "dataset-usage-invalid")
def _():
    ds.MnistDataset(TMP, usage="training")


@case("dataset-column-names-missing", "dataset-column-names-missing")
def _():
    ds.GeneratorDataset(lambda: iter([(np.ones(2),)]), column_names=None)


@case("mindrecord-file-missing", "dataset-file-missing")
def _():
    ds.MindDataset(os.path.join(TMP, "train.mindrecord"))


# --- network construction ---------------------------------------------------

@case("conv-pad-without-pad-mode", "conv-pad-without-pad-mode")
def _():
    nn.Conv2d(3, 8, 3, padding=1)


@case("conv-uint8-input", "conv-uint8-input")
def _():
    return nn.Conv2d(3, 8, 3)(Tensor(np.ones((1, 3, 8, 8), np.uint8)))


@case("conv-input-rank", "conv-input-rank")
def _():
    return nn.Conv2d(3, 8, 3)(f32(3, 8, 8))


@case("conv-channels-mismatch", "conv-channels-mismatch")
def _():
    return nn.Conv2d(3, 8, 3)(f32(1, 4, 8, 8))


@case("dense-shape-mismatch", "matmul-dims")
def _():
    return nn.Dense(4, 2)(f32(3, 5))


@case("matmul-shape-mismatch", "matmul-ext-dims")
def _():
    return ops.matmul(f32(2, 3), f32(4, 5))


@case("broadcast-shape-mismatch", "broadcast-shapes")
def _():
    return f32(2, 3) + f32(4, 5)


@case("reshape-size-mismatch", "reshape-size")
def _():
    return ops.reshape(f32(2, 3), (4, 2))


@case("concat-shape-mismatch", "concat-shapes")
def _():
    return ops.concat((f32(2, 3), f32(2, 4)), 0)


@case("dropout-keep-prob-range", "dropout-keep-prob-type")
def _():
    nn.Dropout(keep_prob=0)


@case("dropout-p-range", "dropout-p-range")
def _():
    nn.Dropout(p=1.0)


@case("super-init-missing", "cell-super-init-missing")
def _():
    class Net(nn.Cell):
        def __init__(self):
            self.fc = nn.Dense(4, 2)
    Net()


@case("cell-list-not-cell", "cell-child-not-cell")
def _():
    nn.SequentialCell([nn.Dense(4, 2), 3])


@case("parameter-name-duplicate", "parameter-name-duplicate")
def _():
    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.a = Parameter(f32(2), name="w")
            self.b = Parameter(f32(2), name="w")

        def construct(self, x):
            return x * self.a * self.b
    nn.SGD(Net().trainable_params(), 0.1)


@case("cross-entropy-label-dtype", "label-uint32")
def _():
    return nn.SoftmaxCrossEntropyWithLogits(sparse=True)(f32(2, 3), Tensor(np.array([0, 1], np.uint32)))


@case("cross-entropy-logits-rank", "softmax-ce-label-shape")
def _():
    return nn.SoftmaxCrossEntropyWithLogits(sparse=False)(f32(2, 3), f32(2, 4))


@case("cross-entropy-loss-int64-float", "cross-entropy-label-dtype")
def _():
    nn.CrossEntropyLoss()(f32(2, 3), Tensor(np.array([0.0, 1.0], np.float64)))


@case("dtype-mismatch-add", "dtype-float64-data")
def _():
    return ops.matmul(f32(2, 2), Tensor(np.ones((2, 2), np.float64)))


@case("tensor-index-out-of-range", "tensor-index-out-of-bounds")
def _():
    f32(2, 3)[5]


@case("tensor-numpy-bool-ambiguous", "tensor-bool-ambiguous")
def _():
    bool(f32(3))


@case("reduce-axis-out-of-range", "axis-out-of-range")
def _():
    return ops.sum(f32(2, 3), 5)


@case("softmax-axis-out-of-range", "axis-out-of-range")
def _():
    return ops.softmax(f32(2, 3), 4)


@case("transpose-perm-length", "transpose-perm")
def _():
    return ops.transpose(f32(2, 3), (1, 0, 2))


# --- optimizers and training -------------------------------------------------

@case("momentum-out-of-range", "momentum-range")
def _():
    nn.Momentum(Linear().trainable_params(), 0.1, momentum=-0.5)


@case("momentum-not-float", "momentum-type")
def _():
    nn.Momentum(Linear().trainable_params(), 0.1, momentum=1)


@case("learning-rate-negative", "learning-rate-negative")
def _():
    nn.SGD(Linear().trainable_params(), -0.1)


@case("optimizer-empty-params", "optimizer-empty-params")
def _():
    nn.Adam([], 0.1)


@case("model-train-arguments-swapped", "model-train-arguments-swapped")
def _():
    data = ds.NumpySlicesDataset(np.ones((4, 4), np.float32), ["x"])
    ms.Model(Linear(), nn.MSELoss(), nn.SGD(Linear().trainable_params(), 0.1)).train(data, 1)


@case("loss-nan-lossmonitor", "loss-nan")
def _():
    data = ds.NumpySlicesDataset((np.full((4, 4), np.nan, np.float32), np.ones((4, 2), np.float32)), ["x", "y"])
    net = Linear()
    model = ms.Model(net, nn.MSELoss(), nn.SGD(net.trainable_params(), 0.1))
    model.train(1, data.batch(2), callbacks=[ms.train.LossMonitor()])


@case("model-eval-without-metrics", "model-eval-without-metrics")
def _():
    data = ds.NumpySlicesDataset((np.ones((4, 4), np.float32), np.ones((4, 2), np.float32)), ["x", "y"]).batch(2)
    ms.Model(Linear(), nn.MSELoss(), nn.SGD(Linear().trainable_params(), 0.1)).eval(data)


@case("amp-o2-on-cpu", "amp-o2-on-cpu")
def _():
    ms.Model(Linear(), nn.MSELoss(), nn.SGD(Linear().trainable_params(), 0.1), amp_level="O2")


@case("amp-level-invalid", "amp-level-invalid")
def _():
    ms.amp.build_train_network(Linear(), nn.SGD(Linear().trainable_params(), 0.1), level="O5")


@case("value-and-grad-weights-not-params", "value-and-grad-weights")
def _():
    ms.value_and_grad(lambda x: x.sum(), None, weights=3)(f32(2))


@case("grad-position-out-of-range", "grad-position")
def _():
    ms.grad(lambda x: x.sum(), grad_position=3)(f32(2))


# --- checkpoints ----------------------------------------------------------

@case("checkpoint-not-exist", "checkpoint-not-exist")
def _():
    ms.load_checkpoint(os.path.join(TMP, "resnet50-200_1000.ckpt"))


@case("checkpoint-suffix", "checkpoint-format")
def _():
    path = os.path.join(TMP, "weights.pth")
    open(path, "wb").close()
    ms.load_checkpoint(path)


@case("checkpoint-corrupted", "checkpoint-corrupted")
def _():
    path = os.path.join(TMP, "broken.ckpt")
    with open(path, "wb") as fh:
        fh.write(b"not a checkpoint")
    ms.load_checkpoint(path)


@case("load-param-path-not-dict", "load-param-path")
def _():
    ms.load_param_into_net(Linear(), "net.ckpt")


@case("load-param-shape-mismatch", "load-param-shape")
def _():
    params = {"fc.weight": Parameter(Tensor(np.ones((3, 4), np.float32)), name="fc.weight")}
    ms.load_param_into_net(Linear(), params)


@case("checkpoint-prefix-slash", "checkpoint-prefix-slash")
def _():
    ms.train.ModelCheckpoint(prefix="./ckpt/resnet")


@case("save-checkpoint-not-cell", "save-checkpoint-object")
def _():
    ms.save_checkpoint("net", os.path.join(TMP, "x.ckpt"))


# --- context ----------------------------------------------------------------

@case("context-device-target-invalid", "context-device-target")
def _():
    ms.set_context(device_target="NPU")


@case("context-mode-invalid", "context-mode")
def _():
    ms.set_context(mode=2)


@case("context-unknown-key", "context-unknown-key")
def _():
    ms.set_context(enable_graph_kernal=True)


@case("device-not-available", "device-not-available")
def _():
    ms.set_device("Ascend")
    f32(2) + f32(2)


# --- graph mode (jit) -------------------------------------------------------

@case("graph-variable-one-branch", "graph-variable-one-branch")
def _():
    @ms.jit
    def step(x):
        if x.sum() > 0:
            y = x * 2
        return y
    step(f32(2))


@case("graph-try-unsupported", "graph-unsupported-statement")
def _():
    @ms.jit
    def step(x):
        try:
            y = x * 2
        except ValueError:
            y = x
        return y
    step(f32(2))


@case("graph-numpy-on-tensor", "graph-numpy-on-tensor")
def _():
    @ms.jit
    def step(x):
        return np.mean(x)
    step(f32(2))


@case("graph-type-join-failed", "graph-type-join")
def _():
    @ms.jit
    def step(x):
        if x.sum() > 0:
            y = x
        else:
            y = 1
        return y
    step(f32(2))


@case("graph-loop-variable-outside", "graph-loop-variable")
def _():
    @ms.jit
    def step(x):
        for i in range(3):
            z = x * i
        return z
    step(f32(2))


@case("construct-arguments-count", "construct-arguments")
def _():
    Linear()(f32(2, 4), f32(2, 4))


@case("graph-call-depth", "graph-call-depth")
def _():
    @ms.jit
    def step(x, n):
        return step(x, n - 1) if n > 0 else x
    step(f32(2), 10000)



@case("graph-raise-value-error", "graph-raise")
def _():
    @ms.jit
    def step(x):
        if x.shape[0] != 3:
            raise ValueError("batch must be 3")
        return x
    step(f32(2))


@case("model-train-missing-label-column", "train-dataset-columns")
def _():
    data = ds.NumpySlicesDataset(np.ones((4, 4), np.float32), ["x"]).batch(2)
    ms.Model(Linear(), nn.MSELoss(), nn.SGD(Linear().trainable_params(), 0.1)).train(1, data)


@case("tensor-init-bad-dtype", "tensor-dtype-invalid")
def _():
    Tensor([1, 2], dtype="float32x")


@case("tensor-from-string", "tensor-input-type")
def _():
    Tensor("abc")


@case("parameter-requires-tensor", "tensor-input-type")
def _():
    Parameter([object()], name="w")


@case("reshape-negative-two", "reshape-two-inferred")
def _():
    return ops.reshape(f32(2, 3), (-1, -1))


@case("one-hot-depth", "one-hot-depth")
def _():
    return ops.one_hot(Tensor(np.array([0, 1], np.int32)), -1, Tensor(1.0), Tensor(0.0))


@case("split-not-divisible", "split-divisible")
def _():
    return ops.Split(0, 3)(f32(4, 2))


@case("cast-bad-type", "cast-dtype-string")
def _():
    return ops.cast(f32(2), "float32")


@case("dense-input-int", "dtype-mismatch")
def _():
    return nn.Dense(4, 2)(Tensor(np.ones((2, 4), np.int32)))


@case("batchnorm-input-rank", "batchnorm-rank")
def _():
    return nn.BatchNorm2d(3)(f32(2, 3))


@case("maxpool-kernel-too-large", "maxpool-output-empty")
def _():
    return nn.MaxPool2d(kernel_size=9, stride=1)(f32(1, 1, 4, 4))


@case("embedding-index-float", "kernel-select-failed")
def _():
    return nn.Embedding(10, 4)(f32(2, 3))


# --- more -------------------------------------------------------------------

@case("decode-on-decoded-image", "decode-on-decoded-image")
def _():
    ds.vision.Decode()(np.ones((4, 4, 3), np.uint8))


@case("normalize-channel-mismatch", "normalize-channel-mismatch")
def _():
    ds.vision.Normalize(mean=[0.5, 0.5], std=[0.5, 0.5])(np.ones((4, 4, 3), np.float32))


@case("hwc2chw-rank", "hwc2chw-rank")
def _():
    ds.vision.HWC2CHW()(np.ones((4,), np.uint8))


@case("resize-bad-input", "vision-op-before-decode")
def _():
    ds.vision.Resize((4, 4))(np.ones((2,), np.uint8))


@case("shuffle-buffer-size", "dataset-shuffle-buffer")
def _():
    ds.NumpySlicesDataset(np.ones((4, 2), np.float32), ["x"]).shuffle(0)


@case("numpy-slices-unequal-columns", "dataset-columns-unequal")
def _():
    data = ds.NumpySlicesDataset({"a": [1, 2], "b": [1]})
    list(data.create_tuple_iterator())


@case("dataset-split-sizes", "dataset-split-sizes")
def _():
    ds.NumpySlicesDataset(np.ones((4, 2), np.float32), ["x"]).split([0.5, 0.6])


@case("piecewise-lr-lengths", "piecewise-lr-lengths")
def _():
    nn.piecewise_constant_lr([1, 2], [0.1])


@case("export-format-invalid", "export-format")
def _():
    ms.export(Linear(), f32(1, 4), file_name=os.path.join(TMP, "net"), file_format="PTH")


@case("stack-shape-mismatch", "stack-shapes")
def _():
    return ops.stack((f32(2, 3), f32(3, 3)))


@case("graph-delete-unsupported", "graph-unsupported-statement")
def _():
    @ms.jit
    def step(x):
        y = x * 2
        del y
        return x
    return step(f32(2))


@case("graph-import-unsupported", "graph-unsupported-statement")
def _():
    @ms.jit
    def step(x):
        import math
        return x * math.pi
    return step(f32(2))


@case("graph-yield-unsupported", "graph-unsupported-statement")
def _():
    @ms.jit
    def step(x):
        yield x
    return step(f32(2))


@case("graph-cell-method-missing", "graph-cell-attribute-missing")
def _():
    class Net(nn.Cell):
        @ms.jit
        def construct(self, x):
            return self.helper(x)
    return Net()(f32(2))


@case("graph-tensor-bool-condition", "graph-tensor-condition")
def _():
    @ms.jit
    def step(x):
        if x:
            return x
        return x * 2
    return step(f32(3))


@case("sequential-cell-non-cell", "cell-child-not-cell")
def _():
    nn.CellList([nn.Dense(4, 2), "relu"])


@case("tensor-astype-invalid", "astype-unknown-dtype")
def _():
    return f32(2).astype("float99")


@case("ops-ones-bad-shape", "ops-signature")
def _():
    return ops.ones("3", ms.float32)


@case("set-seed-invalid", "global-seed")
def _():
    ms.set_seed(-1)


@case("dataset-seed-invalid", "dataset-seed-invalid")
def _():
    ds.config.set_seed(-1)


@case("cell-call-numpy-input", "cell-input-not-tensor")
def _():
    return nn.Dense(4, 2)(np.ones((2, 4), np.float32))


@case("mindrecord-written-twice", "mindrecord-files-exist")
def _():
    from mindspore.mindrecord import FileWriter
    path = os.path.join(TMP, "train.mindrecord")
    for _ in range(2):
        writer = FileWriter(path, 1)
        writer.add_schema({"label": {"type": "int32"}})
        writer.write_raw_data([{"label": 1}])
        writer.commit()


@case("pad-negative-paddings", "pad-negative")
def _():
    return ops.Pad(((-1, 1),))(f32(3))


@case("softmax-ce-3d-logits", "softmax-ce-logits-dims")
def _():
    return ops.SoftmaxCrossEntropyWithLogits()(f32(2, 3, 4), f32(2, 3, 4))


@case("parameter-assign-other-dtype", "implicit-conversion")
def _():
    return ops.assign(Parameter(Tensor(np.ones(2, np.int32)), name="p"), f32(2))


@case("bce-target-shape", "loss-input-target-shape")
def _():
    return nn.BCEWithLogitsLoss()(f32(2, 3), f32(2, 4))


@case("jit-inline-lambda", "graph-lambda-parse")
def _():
    return ms.jit(lambda x: x * 2)(f32(2)) + ms.jit(lambda x: x + 1)(f32(2))


@case("jit-undefined-global", "graph-name-not-defined")
def _():
    @ms.jit
    def step(x):
        return x * scale_factor  # noqa: F821
    return step(f32(2))


@case("initializer-module-called", "initializer-module-called")
def _():
    from mindspore.common import initializer
    return initializer("normal", [2, 2], ms.float32)


@case("mindrecord-page-too-small", "mindrecord-page-size")
def _():
    from mindspore.mindrecord import FileWriter
    writer = FileWriter(os.path.join(TMP, "images.mindrecord"), 1)
    writer.set_page_size(1 << 15)
    writer.add_schema({"image": {"type": "bytes"}})
    writer.write_raw_data([{"image": b"x" * (1 << 17)}])
    writer.commit()


@case("mindrecord-without-db", "mindrecord-db-missing")
def _():
    path = os.path.join(TMP, "copied.mindrecord")
    with open(path, "wb") as fh:
        fh.write(b"\0" * 64)
    ds.MindDataset(path)


@case("typecast-string-column", "dataset-map-error-generic")
def _():
    data = ds.NumpySlicesDataset(np.array(["cat", "dog"]), ["label"])
    list(data.map(ds.transforms.TypeCast(ms.float32), ["label"]).create_tuple_iterator())


@case("cross-entropy-label-count", "cross-entropy-shapes")
def _():
    return nn.CrossEntropyLoss()(f32(2, 3), Tensor(np.array([0, 1, 2], np.int32)))


@case("jit-celllist-tensor-index", "graph-object-not-callable")
def _():
    cells = nn.CellList([nn.ReLU(), nn.Sigmoid()])

    @ms.jit
    def step(x, i):
        return cells[i](x)
    return step(f32(2), Tensor(1, ms.int64))


def run(names):
    out = {}
    this = os.path.abspath(__file__)
    for name in names:
        try:
            result = CASES[name][1]()
            for value in result if isinstance(result, (tuple, list)) else (result,):
                if hasattr(value, "asnumpy"):
                    value.asnumpy()  # PyNative runs ops asynchronously: the error surfaces here
        except BaseException as exc:  # noqa: BLE001 - every error is the point
            tb = traceback.format_exc()
            line = None
            for frame in traceback.extract_tb(exc.__traceback__):
                if os.path.abspath(frame.filename) == this:
                    line = frame.lineno
            out[name] = {"type": type(exc).__name__, "message": str(exc), "traceback": tb, "line": line}
        else:
            out[name] = {"type": None, "message": None, "traceback": None, "line": None}
        lines, first = inspect.getsourcelines(CASES[name][1])
        out[name].update(entry=CASES[name][0], lines=[first, first + len(lines) - 1])
    return out


if __name__ == "__main__":
    ms.set_context(mode=ms.PYNATIVE_MODE)
    ms.runtime.launch_blocking()  # an operator's error is raised at the line that called it
    names = sys.argv[1:] or list(CASES)
    try:
        result = run(names)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    sys.stdout.write(json.dumps(result) + "\n")
