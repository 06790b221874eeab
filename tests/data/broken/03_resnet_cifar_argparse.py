"""Small ResNet (basic blocks) on CIFAR-10 at 32x32, argparse config, Model.train."""
import argparse

import mindspore as ms
import mindspore.nn as nn
import mindspore.dataset as ds
import mindspore.dataset.vision as vision
import mindspore.dataset.transforms as transforms
from mindspore.train import Model, LossMonitor, TimeMonitor, Accuracy


def get_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data_dir", default="/data/cifar-10-batches-bin")
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--workers", type=int, default=16)
    return parser.parse_args()


def build_dataset(path, batch_size, workers, training=True):
    data = ds.Cifar10Dataset(path, shuffle=training, num_parallel_workers=workers)
    ops_list = []
    if training:
        ops_list += [vision.RandomCrop(32, padding=4), vision.RandomHorizontalFlip()]
    ops_list += [vision.Rescale(1.0 / 255.0, 0.0),
                 vision.Normalize([0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616]),
                 vision.HWC2CHW()]
    data = data.map(ops_list, input_columns="image", num_parallel_workers=workers)
    data = data.map(transforms.TypeCast(ms.int32), input_columns="label")
    return data.batch(batch_size, drop_remainder=training)


class BasicBlock(nn.Cell):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, has_bias=False)
        self.bn1 = nn.BatchNorm2d(cout, momentum=0.1)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1, has_bias=False)
        self.bn2 = nn.BatchNorm2d(cout, momentum=0.1)
        self.relu = nn.ReLU()
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.SequentialCell([nn.Conv2d(cin, cout, 1, stride=stride, has_bias=False),
                                           nn.BatchNorm2d(cout, momentum=0.1)])

    def construct(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.down is not None:
            identity = self.down(x)
        return self.relu(out + identity)


class SmallResNet(nn.Cell):
    def __init__(self, num_classes=10):
        super().__init__()
        self.stem = nn.SequentialCell([nn.Conv2d(3, 16, 3, pad_mode="same", has_bias=False),
                                       nn.BatchNorm2d(16), nn.ReLU()])
        self.layer1 = BasicBlock(16, 16)
        self.layer2 = BasicBlock(16, 32, stride=2)
        self.layer3 = BasicBlock(32, 64, stride=2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Dense(64, num_classes)

    def construct(self, x):
        x = self.stem(x)
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(self.flatten(self.pool(x)))


def main():
    args = get_args()
    train_set = build_dataset(args.data_dir, args.batch_size, args.workers, training=True)
    test_set = build_dataset(args.data_dir, args.batch_size, args.workers, training=False)
    net = SmallResNet()
    steps = train_set.get_dataset_size()
    lr = nn.cosine_decay_lr(0.0, args.lr, steps * args.epochs, steps, args.epochs)
    opt = nn.Momentum(net.trainable_params(), lr, 0.9, weight_decay=5e-4)
    loss = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")
    model = Model(net, loss, opt, metrics={"acc": Accuracy()})
    model.train(args.epochs, train_set, callbacks=[LossMonitor(50), TimeMonitor()])
    print(model.eval(test_set))


if __name__ == "__main__":
    main()
