# Two-branch network ported from PyTorch; the author kept a few torch calls "for now".
import torch
import torch.nn.functional as F
import numpy as np
import mindspore as ms
from mindspore import nn
import mindspore.dataset as ds


class TwoBranch(nn.Cell):
    def __init__(self, d_in=12, hidden=24, n_out=3):
        super().__init__()
        self.a = nn.Dense(d_in, hidden)
        self.b = nn.Dense(d_in, hidden)
        self.head = nn.Dense(2 * hidden, n_out)

    def construct(self, x):
        ha = F.relu(self.a(x))
        hb = ms.ops.tanh(self.b(x))
        return self.head(torch.cat([ha, hb], dim=1))


def batches(n=960, bs=32):
    x = np.random.randn(n, 12).astype(np.float32)
    y = (x[:, :3].argmax(1)).astype(np.int32)
    return ds.NumpySlicesDataset((x, y), ["x", "y"], shuffle=True).batch(bs)


net = TwoBranch()
loss_fn = nn.CrossEntropyLoss()
opt = nn.SGD(net.trainable_params(), learning_rate=0.05, momentum=0.9)


def forward_fn(x, y):
    return loss_fn(net(x), y)


grad_fn = ms.value_and_grad(forward_fn, None, opt.parameters)
for epoch in range(4):
    for x, y in batches().create_tuple_iterator():
        loss, grads = grad_fn(x, y)
        opt(grads)
    print(epoch, float(loss))
