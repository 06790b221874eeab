# Half-ported PyTorch code: the MindSpore layers are right, the training loop still speaks torch.
import numpy as np
import mindspore as ms
from mindspore import nn, ops
import mindspore.dataset as ds

X = np.random.randn(2048, 16).astype(np.float32)
Y = (X.sum(axis=1) > 0).astype(np.int32)

loader = ds.NumpySlicesDataset({"x": X, "y": Y}, shuffle=True).batch(64)


class Classifier(nn.Cell):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Dense(16, 64)
        self.fc2 = nn.Dense(64, 2)
        self.drop = nn.Dropout(p=0.2)
        self.relu = nn.ReLU()

    def construct(self, x):
        return self.fc2(self.drop(self.relu(self.fc1(x))))


model = Classifier().cuda()
criterion = nn.CrossEntropyLoss()
optimizer = nn.AdamWeightDecay(model.parameters(), learning_rate=3e-3, weight_decay=0.01)


def forward_fn(x, y):
    return criterion(model(x), y)


grad_fn = ms.value_and_grad(forward_fn, None, optimizer.parameters)

for epoch in range(3):
    model.train()
    total, seen = 0.0, 0
    for batch in loader.create_dict_iterator():
        x, y = batch["x"], batch["y"]
        loss, grads = grad_fn(x, y)
        optimizer(grads)
        total += loss.item() * x.size(0)
        seen += x.size(0)
    model.eval()
    print(f"epoch {epoch}: loss {total / seen:.4f}")
