"""A small training job whose labels reach the loss as uint32 (tests/test_diagnose.py runs it)."""
import numpy as np

import mindspore as ms
import mindspore.dataset as ds
from mindspore import nn

ms.set_context(mode=ms.GRAPH_MODE)


class Net(nn.Cell):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc = nn.Dense(16, 10)

    def construct(self, x):
        return self.fc(self.flatten(x))


images = np.random.rand(8, 1, 4, 4).astype(np.float32)
labels = np.arange(8).astype(np.uint32)
data = ds.NumpySlicesDataset({"image": images, "label": labels}, shuffle=False).batch(4)
net = Net()
loss = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")
model = ms.Model(net, loss, nn.Momentum(net.trainable_params(), 0.01, 0.9))
model.train(1, data, callbacks=[ms.train.LossMonitor()])
