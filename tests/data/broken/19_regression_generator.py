"""Linear regression y = 2x + 3 with noise (the classic first MindSpore tutorial, rewritten)."""
import numpy as np
import mindspore as ms
from mindspore import nn
import mindspore.dataset as ds
from mindspore.common.initializer import Normal
from mindspore.train import Model, LossMonitor


def get_data(num, w=2.0, b=3.0):
    for _ in range(num):
        x = np.random.uniform(-10.0, 10.0)
        noise = np.random.normal(0, 1)
        y = x * w + b + noise
        yield np.array([x]), np.array([y])


def create_dataset(num_data, batch_size=16, repeat_size=1):
    input_data = ds.GeneratorDataset(list(get_data(num_data)), column_names=['data', 'label'])
    input_data = input_data.batch(batch_size)
    input_data = input_data.repeat(repeat_size)
    return input_data


class LinearNet(nn.Cell):
    def __init__(self):
        super(LinearNet, self).__init__()
        self.fc = nn.Dense(1, 1, Normal(0.02), Normal(0.02))

    def construct(self, x):
        return self.fc(x)


ms.set_context(mode=ms.GRAPH_MODE)
ds_train = create_dataset(1600, batch_size=16)
net = LinearNet()
net_loss = nn.MSELoss()
opt = nn.Momentum(net.trainable_params(), 0.005)
model = Model(net, net_loss, opt)
model.train(1, ds_train, callbacks=[LossMonitor(10)], dataset_sink_mode=False)
for p in net.trainable_params():
    print(p.name, p.data.asnumpy())
