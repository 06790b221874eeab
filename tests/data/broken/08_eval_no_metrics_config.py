# Fashion-MNIST MLP with a config dict and Model.train / Model.eval.
import mindspore as ms
import mindspore.nn as nn
import mindspore.dataset as ds
from mindspore.dataset import vision, transforms
from mindspore.train import Model, LossMonitor

cfg = {
    "data_path": "/data/fashion-mnist",
    "batch_size": 128,
    "epochs": 8,
    "lr": 0.1,
    "momentum": 1,
    "hidden": 256,
}


def dataset(usage):
    data = ds.FashionMnistDataset(cfg["data_path"], usage=usage, shuffle=usage == "train")
    data = data.map([vision.Rescale(1.0 / 255, 0.0), vision.HWC2CHW()], input_columns="image")
    data = data.map(transforms.TypeCast(ms.int32), input_columns="label")
    return data.batch(cfg["batch_size"])


net = nn.SequentialCell([
    nn.Flatten(),
    nn.Dense(28 * 28, cfg["hidden"]), nn.ReLU(),
    nn.Dense(cfg["hidden"], 10),
])
loss = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")
opt = nn.Momentum(net.trainable_params(), cfg["lr"], cfg["momentum"])
model = Model(net, loss_fn=loss, optimizer=opt)

model.train(dataset("train"), cfg["epochs"], callbacks=[LossMonitor(100)])
acc = model.eval(dataset("test"))
print(acc)
