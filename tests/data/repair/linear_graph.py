import mindspore as ms
from mindspore import mint, nn
import numpy as np
ms.set_context(mode=ms.GRAPH_MODE)
class Net(nn.Cell):
    def __init__(self):
        super().__init__()
        self.head = mint.nn.Linear(400, 10)
    def construct(self, x):
        x = self.head(x)
        return x
net = Net()
print(net(ms.Tensor(np.ones((2, 256), np.float32))))
