#!/usr/bin/env python
# coding: utf-8

# # Image classification with MindSpore
# Exported from a Jupyter notebook.

# In[1]:


import numpy as np
import mindspore as ms
from mindspore import nn
from mindspore.dataset import Cifar10Dataset
from mindspore.dataset import vision, transforms


# In[2]:


data_dir = "/data/cifar10/cifar-10-batches-bin"
train_dataset = Cifar10Dataset(data_dir, usage="train", shuffle=True)
print(train_dataset.get_dataset_size())


# In[3]:


image_ops = [vision.Normalize(mean=[0.4914, 0.4822, 0.4465], std=[0.2023, 0.1994, 0.2010]),
             vision.HWC2CHW()]
train_dataset = train_dataset.map(image_ops, input_columns="image")
train_dataset = train_dataset.map(transforms.TypeCast(ms.int32), input_columns="label")
train_dataset = train_dataset.batch(32, drop_remainder=True)


# In[4]:


model = ms.Model(network, loss_fn, optimizer, metrics={"accuracy"})


# In[5]:


network = nn.SequentialCell([
    nn.Conv2d(3, 32, 3), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2, 2),
    nn.Conv2d(32, 64, 3), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2, 2),
    nn.Flatten(),
    nn.Dense(64 * 8 * 8, 256), nn.ReLU(),
    nn.Dense(256, 10),
])
loss_fn = nn.SoftmaxCrossEntropyWithLogits(reduction="mean")
optimizer = nn.Adam(network.trainable_params(), learning_rate=1e-3)


# In[6]:


model.train(3, train_dataset, callbacks=[ms.train.LossMonitor(100)])
