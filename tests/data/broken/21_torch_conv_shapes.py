# Small CNN for 32x32 RGB images, layer sizes copied from the PyTorch version.
import mindspore as ms
import mindspore.nn as nn
import mindspore.dataset as ds
import mindspore.dataset.vision as vision
import mindspore.dataset.transforms as transforms
from mindspore.train import Model, LossMonitor, Accuracy


class ConvNet(nn.Cell):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(0.25)
        self.fc1 = nn.Dense(64 * 8 * 8, 128)
        self.fc2 = nn.Dense(128, num_classes)
        self.flatten = nn.Flatten()

    def construct(self, x):
        x = self.pool(self.relu(self.conv1(x)))
        x = self.pool(self.relu(self.conv2(x)))
        x = self.dropout(self.flatten(x))
        x = self.dropout(self.relu(self.fc1(x)))
        return self.fc2(x)


train = ds.Cifar10Dataset("/data/cifar-10-batches-bin", usage="train", shuffle=True)
train = train.map([vision.RandomHorizontalFlip(), vision.Rescale(1.0 / 255, 0), vision.HWC2CHW()], "image")
train = train.map(transforms.TypeCast(ms.int32), "label").batch(64, drop_remainder=True)

net = ConvNet()
model = Model(net, nn.CrossEntropyLoss(), nn.Adam(net.trainable_params(), learning_rate=1e-3),
              metrics={"acc": Accuracy()})
model.train(10, train, callbacks=[LossMonitor(100)])
