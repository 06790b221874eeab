"""Mixed precision training of a small CNN on CIFAR-10 (copied from a GPU recipe)."""
import mindspore as ms
from mindspore import nn
import mindspore.dataset as ds
import mindspore.dataset.vision as vision
import mindspore.dataset.transforms as transforms
from mindspore.train import Model, LossMonitor, TimeMonitor
from mindspore.amp import DynamicLossScaleManager

ms.set_device("CPU")


def create_dataset(path, bs=128):
    dataset = ds.Cifar10Dataset(path, usage="train", shuffle=True, num_parallel_workers=2)
    trans = [vision.RandomCrop((32, 32), (4, 4, 4, 4)),
             vision.RandomHorizontalFlip(prob=0.5),
             vision.Rescale(1.0 / 255.0, 0.0),
             vision.HWC2CHW()]
    dataset = dataset.map(trans, input_columns="image", num_parallel_workers=2)
    dataset = dataset.map(transforms.TypeCast(ms.int32), input_columns="label")
    return dataset.batch(bs, drop_remainder=True)


class SmallCNN(nn.Cell):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, pad_mode="same", has_bias=True)
        self.conv2 = nn.Conv2d(32, 64, 3, pad_mode="same", has_bias=True)
        self.relu = nn.ReLU(inplace=True)
        self.pool = nn.MaxPool2d(2, 2)
        self.flatten = nn.Flatten()
        self.fc = nn.Dense(64 * 8 * 8, 10)

    def construct(self, x):
        x = self.pool(self.relu(self.conv1(x)))
        x = self.pool(self.relu(self.conv2(x)))
        return self.fc(self.flatten(x))


net = SmallCNN()
loss = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")
optimizer = nn.Adam(net.trainable_params(), lr=1e-3, weight_decay=1e-4)
scale = DynamicLossScaleManager(init_loss_scale=2 ** 16, scale_factor=2, scale_window=1000)
model = Model(net, loss, optimizer, amp_level="O2", loss_scale_manager=scale)
model.train(15, create_dataset("/data/cifar10"), callbacks=[LossMonitor(), TimeMonitor()])
