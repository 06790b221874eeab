"""Convolutional autoencoder on MNIST, @ms.jit train step, reconstruction loss."""
import random

import mindspore as ms
from mindspore import nn, ops
import mindspore.dataset as ds
import mindspore.dataset.vision as vision


def mnist_images(path, batch_size=64):
    data = ds.MnistDataset(path, usage="train", shuffle=True)
    data = data.map([vision.Rescale(1.0 / 255.0, 0.0), vision.HWC2CHW()], "image")
    data = data.project(["image"])
    return data.batch(batch_size, drop_remainder=True)


class AutoEncoder(nn.Cell):
    def __init__(self):
        super().__init__()
        self.enc = nn.SequentialCell([nn.Conv2d(1, 16, 3, stride=2, pad_mode="same"), nn.ReLU(),
                                      nn.Conv2d(16, 32, 3, stride=2, pad_mode="same"), nn.ReLU()])
        self.dec = nn.SequentialCell([nn.Conv2dTranspose(32, 16, 3, stride=2, pad_mode="same"), nn.ReLU(),
                                      nn.Conv2dTranspose(16, 1, 3, stride=2, pad_mode="same"), nn.Sigmoid()])

    def construct(self, x):
        return self.dec(self.enc(x))


net = AutoEncoder()
loss_fn = nn.MSELoss()
optimizer = nn.Adam(net.trainable_params(), learning_rate=2e-3)


def forward_fn(images):
    noisy = images + 0.2 * random.random() * ops.randn_like(images)
    recon = net(noisy)
    loss = loss_fn(recon, images)
    del noisy
    return loss


grad_fn = ms.value_and_grad(forward_fn, None, optimizer.parameters)


@ms.jit
def train_step(images):
    loss, grads = grad_fn(images)
    optimizer(grads)
    return loss


train_data = mnist_images("/data/mnist/")
for epoch in range(3):
    for step, (images,) in enumerate(train_data.create_tuple_iterator()):
        loss = train_step(images)
        if step % 100 == 0:
            print(f"epoch {epoch} step {step} loss {loss}")
