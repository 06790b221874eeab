"""Custom GeneratorDataset of synthetic 'sensor' sequences -> 1-D CNN classifier."""
import numpy as np
import mindspore as ms
from mindspore import nn
import mindspore.dataset as ds
from mindspore.train import Model, LossMonitor


class SensorData:
    def __init__(self, n=400, length=64, channels=3, num_classes=4, seed=1):
        rng = np.random.default_rng(seed)
        self.labels = rng.integers(0, num_classes, size=n)
        base = np.linspace(0, 8 * np.pi, length)
        self.samples = np.stack([np.sin(base * (k + 1))[None, :].repeat(channels, 0) for k in self.labels])
        self.samples += 0.3 * rng.standard_normal(self.samples.shape)

    def __getitem__(self, idx):
        return self.samples[idx], self.labels[idx]

    def __len__(self):
        return len(self.labels)


class Conv1dNet(nn.Cell):
    def __init__(self, channels=3, num_classes=4):
        super().__init__()
        self.features = nn.SequentialCell([
            nn.Conv1d(channels, 16, 5, pad_mode="same"), nn.ReLU(),
            nn.Conv1d(16, 32, 5, pad_mode="same"), nn.ReLU(),
        ])
        self.head = nn.Dense(32, num_classes)

    def construct(self, x):
        x = self.features(x)
        x = x.mean(axis=2)
        return self.head(x)


source = SensorData()
dataset = ds.GeneratorDataset(source, column_names=["signal", "label"], shuffle=True)
dataset = dataset.map(lambda s: s * 0.5, input_columns="signals")
dataset = dataset.batch(16)

net = Conv1dNet()
loss = nn.CrossEntropyLoss()
opt = nn.Adam(net.trainable_params(), learning_rate=0.002)
model = Model(net, loss, opt)
model.train(10, dataset, callbacks=[LossMonitor()])
