# Deep MLP whose depth comes from a list of widths (PyTorch habits).
import numpy as np
import mindspore as ms
import mindspore.nn as nn
import mindspore.dataset as ds


class DeepMLP(nn.Cell):
    def __init__(self, widths, num_classes, drop=0.8):
        self.layers = []
        for a, b in zip(widths[:-1], widths[1:]):
            self.layers.append(nn.Dense(a, b))
        self.act = nn.ReLU()
        self.dropout = nn.Dropout(keep_prob=drop)
        self.out = nn.Dense(widths[-1], num_classes)

    def construct(self, x):
        for layer in self.layers:
            x = self.dropout(self.act(layer(x)))
        return self.out(x)


def synthetic(n=1024, d=32, k=5):
    x = np.random.randn(n, d).astype(np.float32)
    y = (np.abs(x[:, :k]).argmax(axis=1)).astype(np.int32)
    return x, y


x, y = synthetic()
train = ds.NumpySlicesDataset((x, y), column_names=["x", "y"], shuffle=True).batch(32)

net = DeepMLP([32, 128, 128, 64], 5)
loss_fn = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")
opt = nn.Adam(net.trainable_params(), learning_rate=1e-3)
model = ms.Model(net, loss_fn, opt)
model.train(3, train, callbacks=[ms.train.LossMonitor(10)])
