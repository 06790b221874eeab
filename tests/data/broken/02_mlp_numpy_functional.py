# MLP classifier on synthetic tabular data, 2.x functional training step.
import numpy as np
import mindspore as ms
from mindspore import nn, ops
import mindspore.dataset as ds

ms.set_context(mode=ms.PYNATIVE_MODE)

N_FEATURES = 20
N_CLASSES = 3


def make_data(n=512, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.rand(n, N_FEATURES)
    w = rng.rand(N_FEATURES, N_CLASSES)
    y = np.argmax(x @ w, axis=1).astype(np.int32)
    return x, y


class MLP(nn.Cell):
    def __init__(self, in_dim, hidden, out_dim):
        super().__init__()
        self.net = nn.SequentialCell(
            nn.Dense(in_dim, hidden, bias=True),
            nn.ReLU(),
            nn.Dense(hidden, hidden, bias=True),
            nn.ReLU(),
            nn.Dense(hidden, out_dim),
        )

    def construct(self, x):
        return self.net(x)


x, y = make_data()
train_ds = ds.NumpySlicesDataset({"features": x, "label": y}, shuffle=True).batch(64)

model = MLP(N_FEATURES, 64, N_CLASSES)
loss_fn = nn.CrossEntropyLoss()
optimizer = nn.Adam(model.trainable_params(), learning_rate=1e-3)


def forward_fn(features, label):
    logits = model(features)
    return loss_fn(logits, label)


grad_fn = ms.value_and_grad(forward_fn)


def train_step(features, label):
    loss, grads = grad_fn(features, label)
    optimizer(grads)
    return loss


for epoch in range(5):
    model.set_train()
    for step, (features, label) in enumerate(train_ds.create_tuple_iterator()):
        loss = train_step(features, label)
        if step % 4 == 0:
            print(f"epoch {epoch} step {step} loss {loss.asnumpy():.4f}")
