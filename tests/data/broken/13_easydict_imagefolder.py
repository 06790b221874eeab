"""Flower classification from an ImageFolder tree; settings in an EasyDict-like record."""
from types import SimpleNamespace

import mindspore as ms
import mindspore.nn as nn
import mindspore.dataset as ds
import mindspore.dataset.vision as vision
import mindspore.dataset.transforms as transforms
from mindspore.train import Model, LossMonitor, Accuracy

config = SimpleNamespace(
    data_dir="/data/flower_photos",
    image_size=64,
    num_classes=5,
    batch_size=16,
    epochs=10,
    lr=0.001,
)


def create_dataset(cfg, training=True):
    data = ds.ImageFolderDataset(cfg.data_dir, shuffle=training, decode=True)
    trans = [vision.Resize((cfg.image_size, cfg.image_size)),
             vision.ToTensor(),
             vision.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
             vision.HWC2CHW()]
    data = data.map(trans, input_columns="image")
    data = data.map(transforms.TypeCast(ms.int32), input_columns="label")
    return data.batch(cfg.batch_size, drop_remainder=True)


def conv_bn(cin, cout):
    return nn.SequentialCell([nn.Conv2d(cin, cout, 3, pad_mode="same"), nn.BatchNorm2d(cout), nn.ReLU(),
                              nn.MaxPool2d(2, 2)])


net = nn.SequentialCell([conv_bn(3, 16), conv_bn(16, 32), conv_bn(32, 64), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Dense(64, config.num_classes)])
loss = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")
opt = nn.Adam(net.trainable_params(), learning_rate=config.lr)
model = Model(net, loss, opt, metrics={"acc": Accuracy()})
model.train(config.epochs, create_dataset(config), callbacks=[LossMonitor(20)])
