"""GRAPH_MODE CNN with a 'safe' construct and a NumPy statistic in the forward pass."""
import numpy as np
import mindspore as ms
from mindspore import nn, ops
import mindspore.dataset as ds
import mindspore.dataset.vision as vision
import mindspore.dataset.transforms as transforms

ms.set_context(mode=ms.GRAPH_MODE, device_target="CPU")


class SafeNet(nn.Cell):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, pad_mode="same")
        self.relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Dense(16, num_classes)

    def construct(self, x):
        try:
            x = self.relu(self.conv(x))
        except RuntimeError:
            x = ops.zeros_like(x)
        scale = np.mean(x)
        x = x / (scale + 1e-6)
        x = self.pool(x).reshape(x.shape[0], -1)
        return self.fc(x)


data = ds.Cifar10Dataset("/data/cifar-10-batches-bin", usage="train", num_samples=2000)
data = data.map([vision.Rescale(1 / 255.0, 0), vision.HWC2CHW()], "image")
data = data.map(transforms.TypeCast(ms.int32), "label").batch(32)

net = SafeNet()
loss_fn = nn.CrossEntropyLoss()
opt = nn.SGD(net.trainable_params(), learning_rate=0.01)
train_net = nn.TrainOneStepCell(nn.WithLossCell(net, loss_fn), opt)
train_net.set_train()
for step, (img, lbl) in enumerate(data.create_tuple_iterator()):
    l = train_net(img, lbl)
    if step % 10 == 0:
        print(step, l)
