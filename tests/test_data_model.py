"""The dataset pipeline model: sizes, columns, dtypes and steps per epoch, also for
datasets built by helper functions (per-call-site views)."""

import libcst as cst

from msfix.analysis import data
from msfix.analysis.builder import build_model
from msfix.analysis.model import UNKNOWN


def model(text):
    return build_model(cst.parse_module(text), text)


def view_of(m, name):
    b = m.module_scope.bindings[name][-1]
    return data.dataset_view(m, cst.Name(name), m.module_scope, b.order + 1)


HELPER = """
import mindspore.dataset as ds
import mindspore.dataset.vision as vision
from mindspore import Model

def create_dataset(path, usage="train", batch_size=32, drop=True):
    data = ds.Cifar10Dataset(path, usage=usage)
    data = data.map([vision.Rescale(1 / 255, 0), vision.HWC2CHW()], "image")
    return data.batch(batch_size, drop_remainder=drop)

train = create_dataset("/c10", batch_size=64)
test = create_dataset("/c10", usage="test", batch_size=100, drop=False)
model = Model(net, loss, opt)
model.train(10, train)
model.eval(test)
"""


def test_steps_through_helper_per_call_site():
    m = model(HELPER)
    train, test = view_of(m, "train"), view_of(m, "test")
    assert train.pipe is test.pipe  # one Pipeline inside the function
    assert data.steps_per_epoch(m, train.pipe, train.env) == 50000 // 64
    assert data.steps_per_epoch(m, test.pipe, test.env) == 100
    # without an environment the call sites disagree: unknown
    assert data.steps_per_epoch(m, train.pipe) is UNKNOWN


def test_single_call_site_is_used_without_env():
    m = model(HELPER.replace('test = create_dataset("/c10", usage="test", batch_size=100, drop=False)\n', "")
              .replace("model.eval(test)\n", ""))
    v = view_of(m, "train")
    assert data.steps_per_epoch(m, v.pipe) == 781


def test_contexts_one_per_call_site():
    m = model(HELPER)
    v = view_of(m, "train")
    envs = data.contexts(m, v.pipe)
    assert sorted(data.steps_per_epoch(m, v.pipe, e) for e in envs) == [100, 781]


def test_dataset_uses_roles_and_envs():
    m = model(HELPER)
    uses = data.dataset_uses(m)
    assert [(u.role, data.steps_per_epoch(m, u.view.pipe, u.view.env)) for u in uses] == [("train", 781),
                                                                                          ("eval", 100)]
    assert all(u.model_call is not None for u in uses)


def test_nested_helpers_and_chained_batch():
    m = model("""
import mindspore.dataset as ds
def base(root, split):
    return ds.MnistDataset(root, usage=split)
def make(root, split, bs):
    d = base(root, split)
    return d
train = make("/m", "train", 8).batch(128)
""")
    v = view_of(m, "train")
    assert data.steps_per_epoch(m, v.pipe, v.env) == 469


def test_numpy_slices_sizes_columns_dtypes():
    m = model("""
import numpy as np
import mindspore.dataset as ds
x = np.random.rand(100, 32, 32, 3)
y = np.random.randint(0, 10, size=(100,))
d = ds.NumpySlicesDataset((x, y), column_names=["image", "label"], shuffle=False).batch(16, drop_remainder=True)
e = ds.NumpySlicesDataset({"a": np.zeros((50, 4), dtype=np.float32), "b": np.array([1, 2] * 25)})
f = ds.NumpySlicesDataset(np.ones((7, 2)).astype(np.float32))
""")
    d, e, f = (view_of(m, n) for n in "def")
    assert data.steps_per_epoch(m, d.pipe) == 6
    cols = data.source_columns(m, d.source)
    assert list(cols) == ["image", "label"]
    assert cols["image"]["dtype"] == "float64" and cols["image"]["shape"] == [32, 32, 3]
    assert cols["image"]["layout"] == "HWC"
    assert cols["label"]["dtype"] == "int64"
    assert data.column_dtype(m, d.pipe, "label") == "int64"
    ecols = data.source_columns(m, e.source)
    assert list(ecols) == ["a", "b"] and ecols["a"]["dtype"] == "float32"
    assert data.source_size(m, e.source) == 50
    assert data.stage_columns(m, f.pipe) == ["column_0"]
    assert data.source_columns(m, f.source)["column_0"]["dtype"] == "float32"


def test_generator_columns_and_unknown_size():
    m = model("""
import mindspore.dataset as ds
g = ds.GeneratorDataset(gen, ["data", "label"]).batch(4)
h = ds.GeneratorDataset(gen)
""")
    g, h = view_of(m, "g"), view_of(m, "h")
    assert data.stage_columns(m, g.pipe) == ["data", "label"]
    assert data.steps_per_epoch(m, g.pipe) is UNKNOWN
    assert data.stage_columns(m, h.pipe) is UNKNOWN


def test_image_folder_decode_and_columns():
    m = model("""
import mindspore.dataset as ds
a = ds.ImageFolderDataset("/imgs")
b = ds.ImageFolderDataset("/imgs", decode=True)
c = ds.ImageFolderDataset("/imgs", 4)
""")
    a, b, c = (view_of(m, n) for n in "abc")
    assert data.source_columns(m, a.source)["image"]["layout"] == "encoded"
    assert data.source_columns(m, b.source)["image"]["layout"] == "HWC"
    assert data.source_columns(m, a.source)["label"]["dtype"] == "int32"
    assert data.source_size(m, c.source) is UNKNOWN  # 4 is num_samples, not usage


def test_columns_follow_rename_project_map_outputs():
    m = model("""
import mindspore.dataset as ds
d = ds.Cifar10Dataset("/c", usage="test").rename("image", "img").map(f, "img", ["x", "y"]).project(["label"])
e = ds.Cifar10Dataset("/c", usage="test").rename(["image"], ["img"]).map(op, input_columns="img", output_columns="pic")
""")
    d, e = view_of(m, "d"), view_of(m, "e")
    assert data.stage_columns(m, d.pipe.parent.parent) == ["img", "label"]
    assert data.stage_columns(m, d.pipe.parent) is UNKNOWN  # one column becomes two
    assert data.stage_columns(m, e.pipe) == ["pic", "label"]


def test_map_ops_lists_compose_and_mutation():
    m = model("""
import mindspore.dataset as ds
import mindspore.dataset.vision as vision
import mindspore.dataset.transforms as T
ops = [vision.Decode(), vision.Resize(32)]
a = ds.ImageFolderDataset("/i").map(ops, "image")
b = ds.ImageFolderDataset("/i").map(T.Compose([vision.Decode(), my_fn, vision.HWC2CHW()]), "image")
grow = [vision.Decode()]
grow.append(vision.HWC2CHW())
c = ds.ImageFolderDataset("/i").map(grow, "image")
""")
    a, b, c = (view_of(m, n) for n in "abc")
    assert [o.short for o in data.map_ops(m, a.pipe)] == ["Decode", "Resize"]
    part = data.map_ops_partial(m, b.pipe)
    assert [o.short for o in part] == ["Decode", "", "HWC2CHW"]
    assert data.map_ops(m, b.pipe) is UNKNOWN
    assert data.map_ops_partial(m, c.pipe) is UNKNOWN


def test_column_events_and_dtypes():
    m = model("""
import mindspore as ms
import mindspore.dataset as ds
import mindspore.dataset.vision as vision
import mindspore.dataset.transforms as T
d = ds.MnistDataset("/m", usage="train")
d = d.map(T.TypeCast(ms.int32), "label")
d = d.map([vision.Rescale(1 / 255, 0)], "image").batch(32)
d = d.map(vision.HWC2CHW(), "image")
""")
    v = view_of(m, "d")
    ev = data.column_events(m, v.pipe, "image")
    assert [(e.kind, e.op.short if e.op else None, e.batched) for e in ev] == [
        ("op", "Rescale", False), ("batch", None, False), ("op", "HWC2CHW", True)]
    assert data.column_dtype(m, v.pipe, "label") == "int32"
    assert data.label_column(m, v.pipe) == "label"


def test_array_info():
    m = model("""
import numpy as np
n = 10
a = np.random.randn(n, 3).astype("float32")
b = np.random.uniform(0, 1, (4, 2))
c = np.full((3, 3), 7)
e = np.arange(12).reshape(3, -1)
""")
    def info(name):
        b = m.module_scope.bindings[name][-1]
        return data.array_info(m, b.value, m.module_scope, b.order)
    assert (info("a").shape, info("a").dtype) == ((10, 3), "float32")
    assert (info("b").shape, info("b").dtype) == ((4, 2), "float64")
    assert info("c").dtype == "int64"
    assert info("e").shape == (3, 4)


def test_generator_rows_from_local_generator_and_class():
    m = model("""
import numpy as np
import mindspore.dataset as ds

def gen(n):
    for i in range(n):
        yield np.random.rand(3), np.array([i], dtype=np.int32)

class Source:
    def __init__(self):
        self.x = None
    def __getitem__(self, i):
        img = np.random.randint(0, 255, (32, 32, 3)).astype(np.uint8)
        return img, np.array(1)
    def __len__(self):
        return 10

a = ds.GeneratorDataset(gen(100), ["x", "y"])
b = ds.GeneratorDataset(Source(), column_names=["image", "label"])
src = Source()
c = ds.GeneratorDataset(src, ["image", "label"])
d = ds.GeneratorDataset(lambda: iter([]), ["image"])
""")
    a, b, c, d = (view_of(m, n) for n in "abcd")
    ca = data.source_columns(m, a.source)
    assert ca["x"]["dtype"] == "float64" and ca["x"]["shape"] == [3]
    assert ca["y"]["dtype"] == "int32"
    cb = data.source_columns(m, b.source)
    assert cb["image"]["dtype"] == "uint8" and cb["image"]["layout"] == "HWC"
    assert cb["label"]["dtype"] == "int64"
    assert data.source_columns(m, c.source)["image"]["layout"] == "HWC"
    assert data.source_columns(m, d.source)["image"]["dtype"] is None


def test_contexts_keep_the_helper_call_a_chain_goes_through():
    m = model("""
import numpy as np
import mindspore.dataset as ds
def make(n):
    return ds.NumpySlicesDataset(np.random.rand(n, 3))
a = make(1000).batch(64, drop_remainder=True)
b = make(10)
""")
    a = view_of(m, "a")
    envs = data.contexts(m, a.pipe)
    assert [data.steps_per_epoch(m, a.pipe, e) for e in envs] == [15]
    assert data.steps_per_epoch(m, a.pipe, a.env) == 15


# -- the train / eval role, decided once for every rule ------------------------------------
def sources(m):
    return [p for p in m.pipelines if p.op == "source"]


def roles(m):
    return [data.role_of(m, p) for p in sources(m)]


def test_role_from_model_train_and_eval_not_from_names():
    # the names say the opposite of the uses: uses win
    m = model("""
import mindspore.dataset as ds
from mindspore import Model
test_like = ds.MnistDataset("/m").batch(32)
train_like = ds.MnistDataset("/m").batch(32)
model = Model(net, loss, opt)
model.train(1, test_like)
model.eval(train_like)
""")
    assert roles(m) == [data.TRAIN, data.EVAL]


def test_role_from_functional_loops_through_parameters():
    m = model("""
import mindspore
import mindspore.dataset as ds
from mindspore import nn
a = ds.MnistDataset("/m").batch(64)
b = ds.MnistDataset("/m").batch(64)
optimizer = nn.SGD(net.trainable_params(), 0.01)
grad_fn = mindspore.value_and_grad(forward_fn, None, optimizer.parameters)
def train_step(x, y):
    loss, grads = grad_fn(x, y)
    optimizer(grads)
    return loss
def train_loop(dataset):
    for x, y in enumerate(dataset.create_tuple_iterator()):
        train_step(x, y)
def test_loop(dataset):
    correct = 0
    for x, y in dataset.create_tuple_iterator():
        correct += (net(x).argmax(1) == y).sum()
train_loop(a)
test_loop(b)
""")
    assert roles(m) == [data.TRAIN, data.EVAL]


def test_a_train_cell_passed_as_argument_makes_a_training_loop():
    # the loop also measures accuracy, but its TrainOneStepCell argument trains
    m = model("""
import numpy as np
import mindspore.dataset as ds
from mindspore import nn
a = ds.MnistDataset("/m").batch(64)
def run(step, dataset):
    for d in dataset.create_dict_iterator():
        step(d["image"], d["label"])
        acc = np.mean(net(d["image"]).asnumpy().argmax(axis=1) == d["label"].asnumpy())
run(nn.TrainOneStepCell(net_with_loss, opt), a)
""")
    assert roles(m) == [data.TRAIN]


def test_demo_loops_are_no_role_and_hide_the_names():
    m = model("""
import mindspore.dataset as ds
train_dataset = ds.MnistDataset("MNIST_Data/train", shuffle=False)
for image, label in train_dataset:
    print(image.shape)
    break
test_set = ds.MnistDataset("MNIST_Data/test", shuffle=False)
""")
    # the first is only shown, never trained on; the second has nothing but its name
    assert roles(m) == [data.NO_ROLE, data.EVAL]


def test_role_from_the_branch_of_a_helper_parameter_and_not_after_the_branches():
    m = model("""
import mindspore.dataset as ds
from mindspore import Model
def create(path, is_training=True):
    if is_training:
        d = ds.ImageFolderDataset(path, shuffle=True)
    else:
        d = ds.ImageFolderDataset(path, shuffle=False)
    d = d.batch(32, drop_remainder=True)
    return d
Model(net, loss, opt).train(1, create("/a", True))
Model(net, loss, opt).eval(create("/b", False))
""")
    assert roles(m) == [data.TRAIN, data.EVAL]
    batch = next(p for p in m.pipelines if p.op == "batch")
    # the batch stage serves both branches: trained on and evaluated
    assert data.role_of(m, batch) == data.NO_ROLE


def test_uses_that_contradict_the_branch_give_no_role():
    # the statement after the if/else is chained to the eval branch's source only, and
    # Model.train reaches it through there: the branch says eval, the use says train
    m = model("""
import mindspore.dataset as ds
from mindspore import Model
def create(path, is_training=True):
    if is_training:
        d = ds.ImageFolderDataset(path, shuffle=True)
    else:
        d = ds.ImageFolderDataset(path, shuffle=False)
    d = d.repeat(1)
    return d
Model(net, loss, opt).train(1, create("/a", True))
""")
    assert roles(m) == [data.TRAIN, data.NO_ROLE]


def test_role_and_shuffle_flow_through_zip():
    m = model("""
import mindspore.dataset as ds
from mindspore import Model
x = ds.NumpySlicesDataset({"x": xs}, shuffle=False)
y = ds.NumpySlicesDataset({"y": ys}, shuffle=False)
both = ds.zip((x, y))
both = both.shuffle(100).batch(8)
Model(net, loss, opt).train(1, both)
u = ds.NumpySlicesDataset({"u": us}, shuffle=False)
v = ds.NumpySlicesDataset({"v": vs}, shuffle=False)
Model(net, loss, opt).train(1, u.zip(v).batch(8))
""")
    x, y, u, v = sources(m)
    assert [data.role_of(m, p) for p in (x, y, u, v)] == [data.TRAIN] * 4
    assert data.later_shuffle(m, x) and data.later_shuffle(m, y)
    assert not data.later_shuffle(m, u) and not data.later_shuffle(m, v)


def test_role_from_dataset_keywords_and_usage():
    m = model("""
import mindspore.dataset as ds
a = ds.GeneratorDataset(src_a, ["x"])
b = ds.GeneratorDataset(src_b, ["x"])
trainer = Trainer(model=net, train_dataset=a, eval_dataset=b)
c = ds.Cifar10Dataset("/c", usage="test")
d = ds.Cifar10Dataset("/c", usage="all")
""")
    assert roles(m) == [data.TRAIN, data.EVAL, data.EVAL, data.NO_ROLE]


def test_name_role_reads_whole_words():
    assert data.name_role("train_ds") == data.TRAIN
    assert data.name_role("dataset_train") == data.TRAIN
    assert data.name_role("trainset") == data.TRAIN
    assert data.name_role("testSet") == data.EVAL
    assert data.name_role("ds_val") == data.EVAL
    for neutral in ("interval", "value", "pretrained", "cifar10_dataset", "latest", "train_test"):
        assert data.name_role(neutral) == data.NO_ROLE, neutral


def test_data_passed_to_a_helper_flows_through_it():
    m = model("""
import mindspore.dataset as ds
from mindspore import Model
def prepare(d, n):
    d = d.shuffle(1000)
    return d.batch(n)
def batched(d):
    return d.batch(8)
def show(d):
    print(d.get_dataset_size())
a = ds.MnistDataset("/m", shuffle=False)
Model(net, loss, opt).train(1, prepare(a, 32))
b = ds.MnistDataset("/m", shuffle=False)
Model(net, loss, opt).eval(batched(b))
c = ds.MnistDataset("/m", shuffle=False)
show(c)
""")
    a, b, c = sources(m)
    assert [data.role_of(m, p) for p in (a, b, c)] == [data.TRAIN, data.EVAL, data.NO_ROLE]
    assert data.later_shuffle(m, a) and not data.later_shuffle(m, b)


def test_call_role_is_per_call_site_of_a_helper():
    m = model("""
import mindspore.dataset as ds
from mindspore import Model
def create(path):
    return ds.Cifar10Dataset(path).batch(32)
a = create("/c")
b = create("/c")
Model(net, loss, opt).train(1, a)
Model(net, loss, opt).eval(b.repeat(1))
train_like = create("/c")
shown = create("/c")
for row in shown:
    print(row)
""")
    (src,) = sources(m)
    sites = data.call_sites(m, src.call.scope)
    assert [data.call_role(m, s) for s in sites] == [data.TRAIN, data.EVAL, data.TRAIN, data.NO_ROLE]
    # the shared source itself serves both
    assert data.role_of(m, src) == data.NO_ROLE
