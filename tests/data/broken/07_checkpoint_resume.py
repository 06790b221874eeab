"""Train LeNet on MNIST with Model.train, save checkpoints, then reload the last one and evaluate."""
import os

import mindspore as ms
from mindspore import nn
import mindspore.dataset as ds
import mindspore.dataset.vision as vision
import mindspore.dataset.transforms as transforms
from mindspore.train import Model, ModelCheckpoint, CheckpointConfig, LossMonitor, Accuracy

DATA = "/data/mnist"
EPOCHS = 5
BATCH = 32
CKPT_DIR = "./ckpt"


def mnist(split):
    data = ds.MnistDataset(os.path.join(DATA, split), shuffle=(split == "train"))
    data = data.map([vision.Rescale(1 / 255.0, 0), vision.HWC2CHW()], "image")
    data = data.map(transforms.TypeCast(ms.int32), "label")
    return data.batch(BATCH, drop_remainder=True)


class LeNet(nn.Cell):
    def __init__(self):
        super().__init__()
        self.body = nn.SequentialCell(
            nn.Conv2d(1, 6, 5, pad_mode="pad", padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(6, 16, 5, pad_mode="valid"), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Flatten(), nn.Dense(16 * 5 * 5, 120), nn.ReLU(), nn.Dense(120, 84), nn.ReLU(), nn.Dense(84, 10))

    def construct(self, x):
        return self.body(x)


net = LeNet()
loss = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")
opt = nn.Momentum(net.trainable_params(), 0.01, 0.9)
model = Model(net, loss, opt, metrics={"acc": Accuracy()})

train_data = mnist("train")
config = CheckpointConfig(save_checkpoint_steps=500, keep_checkpoint_max=3)
ckpt_cb = ModelCheckpoint(prefix=os.path.join(CKPT_DIR, "lenet"), config=config)
model.train(EPOCHS, train_data, callbacks=[ckpt_cb, LossMonitor(200)])

# reload the final weights into a fresh network and evaluate
eval_net = LeNet()
ms.load_param_into_net(eval_net, os.path.join(CKPT_DIR, "lenet-5_1875.ckpt"))
eval_model = Model(eval_net, loss, metrics={"acc": Accuracy()})
print("test:", eval_model.eval(mnist("test")))
