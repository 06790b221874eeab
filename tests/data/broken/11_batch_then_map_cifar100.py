"""CIFAR-100 fine labels, a small VGG-style net; the pipeline is assembled step by step."""
import mindspore as ms
import mindspore.nn as nn
import mindspore.dataset as ds
import mindspore.dataset.vision as vision
import mindspore.dataset.transforms as transforms

DATA_DIR = "/data/cifar-100-binary"

train = ds.Cifar100Dataset(DATA_DIR, usage="train", shuffle=True)
train = train.map(transforms.TypeCast(ms.int32), input_columns="label")
train = train.map([vision.Rescale(1 / 255.0, 0.0), vision.Normalize([0.507, 0.487, 0.441], [0.267, 0.256, 0.276])],
                  input_columns="image")
train = train.repeat(2)
train = train.batch(64)
train = train.map([vision.RandomHorizontalFlip(), vision.HWC2CHW()], input_columns="image")


def vgg_block(cin, cout):
    return nn.SequentialCell([nn.Conv2d(cin, cout, 3, pad_mode="same"), nn.BatchNorm2d(cout), nn.ReLU(),
                              nn.MaxPool2d(kernel_size=2, stride=2)])


class MiniVGG(nn.Cell):
    def __init__(self, num_classes=100):
        super().__init__()
        self.features = nn.SequentialCell([vgg_block(3, 32), vgg_block(32, 64), vgg_block(64, 128)])
        self.classifier = nn.SequentialCell([nn.Flatten(), nn.Dense(128 * 4 * 4, 256), nn.ReLU(),
                                             nn.Dropout(p=0.5), nn.Dense(256, num_classes)])

    def construct(self, x):
        return self.classifier(self.features(x))


net = MiniVGG()
loss = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")
opt = nn.Momentum(net.trainable_params(), learning_rate=0.01, momentum=0.9, weight_decay=1e-4)
model = ms.Model(net, loss, opt, metrics={"top1": nn.Top1CategoricalAccuracy()})
model.train(20, train, callbacks=[ms.LossMonitor(50)])
