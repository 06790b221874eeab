"""A 1.x-era custom training cell: GradOperation, ms_function, P.* primitives."""
import numpy as np
import mindspore
import mindspore.nn as nn
import mindspore.ops.operations as P
import mindspore.ops.composite as C
from mindspore import Tensor, ParameterTuple, ms_function
import mindspore.dataset as ds


class Net(nn.Cell):
    def __init__(self):
        super(Net, self).__init__()
        self.fc1 = nn.Dense(8, 32)
        self.fc2 = nn.Dense(32, 32)
        self.fc3 = nn.Dense(32, 2)
        self.add = P.TensorAdd()

    def construct(self, x):
        h = P.ReLU(self.fc1(x))
        h = self.add(h, P.ReLU()(self.fc2(h)))
        return self.fc3(h)


class TrainStep(nn.Cell):
    def __init__(self, network, loss_fn, optimizer):
        super(TrainStep, self).__init__(auto_prefix=False)
        self.network = network
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.weights = ParameterTuple(network.trainable_params())
        self.grad = C.GradOperation(get_by_list=True)

    def forward_loss(self, x, y):
        return self.loss_fn(self.network(x), y)

    def construct(self, x, y):
        loss = self.forward_loss(x, y)
        grads = self.grad(self.forward_loss, self.weights)(x, y)
        self.optimizer(grads)
        return loss


@ms_function
def predict(net, x):
    return P.Argmax(axis=1)(net(x))


xs = np.random.randn(600, 8).astype(np.float32)
ys = (xs[:, 0] * xs[:, 1] > 0).astype(np.int32)
data = ds.NumpySlicesDataset((xs, ys), ["x", "y"], shuffle=True).batch(50)

net = Net()
loss = nn.SoftmaxCrossEntropyWithLogits(is_grad=False, sparse=True, reduction="mean")
opt = nn.Momentum(net.trainable_params(), learning_rate=0.05, momentum=0.9)
step = TrainStep(net, loss, opt)
step.set_train()
for epoch in range(20):
    for x, y in data.create_tuple_iterator():
        l = step(x, y)
    print("epoch", epoch, "loss", l)
print(predict(net, Tensor(xs[:5])))
