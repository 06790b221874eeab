import mindspore as ms
from mindspore import nn, ops
import numpy as np
ms.set_context(mode=ms.GRAPH_MODE)
class Net(nn.Cell):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5, pad_mode='valid')
    def construct(self, x):
        x = self.conv1(x)
        return x
net = Net()
print(net(ms.Tensor(np.ones((2, 1, 28, 28), np.float32))))
