"""MNIST: train, then evaluate each epoch on the held-out split (EvalCallback style)."""
import mindspore as ms
import mindspore.nn as nn
import mindspore.dataset as ds
import mindspore.dataset.vision as vision
import mindspore.dataset.transforms as transforms
from mindspore.train import Model, Callback, LossMonitor, Accuracy

MNIST_DIR = "/data/MNIST"


def pipeline(data, batch_size, training):
    data = data.map([vision.Resize((28, 28)), vision.Rescale(1 / 255.0, 0), vision.HWC2CHW()], "image")
    data = data.map(transforms.TypeCast(ms.int32), "label")
    return data.batch(batch_size, drop_remainder=True)


class EvalEachEpoch(Callback):
    def __init__(self, model, data):
        super().__init__()
        self.model = model
        self.data = data

    def on_train_epoch_end(self, run_context):
        epoch = run_context.original_args().cur_epoch_num
        print("epoch", epoch, self.model.eval(self.data, dataset_sink_mode=False))


train_set = pipeline(ds.MnistDataset(MNIST_DIR, shuffle=True), 128, True)
eval_set = pipeline(ds.MnistDataset(MNIST_DIR, shuffle=False), 128, False)

net = nn.SequentialCell([nn.Flatten(), nn.Dense(784, 128), nn.ReLU(), nn.Dense(128, 10)])
loss = nn.SoftmaxCrossEntropyWithLogits()
opt = nn.Momentum(net.trainable_params(), learning_rate=0.02, momentum=0.9)
model = Model(net, loss, opt, metrics={"acc": Accuracy()})
model.train(5, train_set, callbacks=[EvalEachEpoch(model, eval_set), LossMonitor(100)])
