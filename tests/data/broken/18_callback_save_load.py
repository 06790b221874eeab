"""Train with a custom callback that saves the best model, then load it for inference."""
import mindspore as ms
from mindspore import nn
import mindspore.dataset as ds
import mindspore.dataset.vision as vision
import mindspore.dataset.transforms as transforms
from mindspore.train import Model, Callback, LossMonitor, ModelCheckpoint, CheckpointConfig


class BestLossSaver(Callback):
    def __init__(self, net):
        super().__init__()
        self.net = net
        self.best = float("inf")

    def on_train_epoch_end(self, run_context):
        cb = run_context.original_args()
        loss = float(cb.net_outputs.asnumpy())
        if loss < self.best:
            self.best = loss
            ms.save_checkpoint(self.net, "best_model.ckpt")


def load_kmnist(path, usage):
    data = ds.KMnistDataset(path, usage=usage)
    data = data.map([vision.Rescale(1 / 255.0, 0), vision.HWC2CHW()], "image")
    data = data.map(transforms.TypeCast(ms.int32), "label")
    return data.batch(64, drop_remainder=True)


net = nn.SequentialCell([nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
                         nn.Dense(8 * 14 * 14, 10)])
loss = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")
opt = nn.Adam(net.trainable_params(), learning_rate=1e-3)
model = Model(net, loss, opt, metrics={"accuracy"})

train_ds = load_kmnist("/data/kmnist", "training")
ckpt = ModelCheckpoint(prefix="kmnist", directory="./ckpt",
                       config=CheckpointConfig(save_checkpoint_steps=500, keep_checkpoint_max=2))
model.train(3, train_ds, callbacks=[BestLossSaver(net), ckpt, LossMonitor(100)])

params = ms.load_checkpoint("./ckpt/best_model.ckpt")
ms.load_param_into_net(net, params)
print(model.eval(load_kmnist("/data/kmnist", "test")))
