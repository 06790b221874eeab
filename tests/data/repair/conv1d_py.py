import mindspore as ms
from mindspore import nn
import numpy as np
ms.set_context(mode=ms.PYNATIVE_MODE)
class Net(nn.Cell):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(in_channels=3, out_channels=8, kernel_size=3)
    def construct(self, x):
        x = self.conv(x)
        return x
net = Net()
print(net(ms.Tensor(np.ones((2, 1, 28), np.float32))))
