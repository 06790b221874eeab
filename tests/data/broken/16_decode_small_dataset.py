"""Tiny image set kept in memory as arrays (e.g. a quick experiment before the real data arrives)."""
import numpy as np
import mindspore as ms
import mindspore.nn as nn
import mindspore.dataset as ds
import mindspore.dataset.vision as vision

NUM = 48
BATCH = 64

images = (np.random.rand(NUM, 32, 32, 3) * 255).astype(np.uint8)
labels = np.random.randint(0, 4, size=(NUM,)).astype(np.int32)

data = ds.NumpySlicesDataset({"image": images, "label": labels}, shuffle=True)
data = data.map([vision.Decode(), vision.Rescale(1.0 / 255, 0), vision.HWC2CHW()], input_columns="image")
data = data.batch(BATCH, drop_remainder=True)

net = nn.SequentialCell([
    nn.Conv2d(3, 8, 3, pad_mode="same"), nn.ReLU(), nn.MaxPool2d(2, 2),
    nn.Conv2d(8, 16, 3, pad_mode="same"), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
    nn.Flatten(), nn.Dense(16, 4),
])
loss = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")
opt = nn.Adam(net.trainable_params(), 1e-3)
model = ms.Model(net, loss, opt)
model.train(5, data, callbacks=[ms.LossMonitor()])
