import mindspore as ms
from mindspore import nn, ops
import numpy as np
ms.set_context(mode=ms.GRAPH_MODE)
class Net(nn.Cell):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Dense(400, 120)
    def construct(self, x):
        x = self.fc1(x)
        return x
net = Net()
print(net(ms.Tensor(np.ones((2, 256), np.float32))))
