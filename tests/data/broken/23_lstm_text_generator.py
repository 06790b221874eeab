"""Sentiment-style sequence classifier: embedding + LSTM over synthetic token ids."""
import numpy as np
import mindspore as ms
from mindspore import nn, ops
import mindspore.dataset as ds

VOCAB, SEQ_LEN, EMB, HIDDEN, CLASSES = 500, 40, 32, 64, 2


class ReviewSource:
    """Stands in for a tokenised review corpus: class 1 reviews use the upper half of the vocabulary more."""

    def __init__(self, n=800):
        rng = np.random.default_rng(7)
        self.labels = rng.integers(0, CLASSES, size=n)
        self.tokens = np.where(rng.random((n, SEQ_LEN)) < 0.6,
                               rng.integers(0, VOCAB // 2, size=(n, SEQ_LEN)) + self.labels[:, None] * (VOCAB // 2),
                               rng.integers(0, VOCAB, size=(n, SEQ_LEN))).astype(np.int32)

    def __getitem__(self, i):
        return self.tokens[i], self.labels[i]

    def __len__(self):
        return len(self.labels)


class LSTMClassifier(nn.Cell):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, EMB)
        self.lstm = nn.LSTM(EMB, HIDDEN, num_layers=1, batch_first=True)
        self.fc = nn.Dense(HIDDEN, CLASSES)

    def construct(self, tokens):
        x = self.embedding(tokens)
        out, _ = self.lstm(x)
        last = out[:, -1, :]
        last = ops.dropout(last, keep_prob=0.7, training=self.training)
        return self.fc(last)


train_ds = ds.GeneratorDataset(ReviewSource(), column_names=["tokens", "label"], shuffle=True).batch(32)
net = LSTMClassifier()
loss_fn = nn.CrossEntropyLoss()
optimizer = nn.Adam(net.trainable_params(), learning_rate=5e-3)


def forward_fn(tokens, label):
    return loss_fn(net(tokens), label)


grad_fn = ms.value_and_grad(forward_fn, None, optimizer.parameters)
net.set_train()
for epoch in range(6):
    losses = []
    for tokens, label in train_ds.create_tuple_iterator():
        loss, grads = grad_fn(tokens, label)
        optimizer(grads)
        losses.append(loss.asnumpy())
    print(f"epoch {epoch}: {np.mean(losses):.4f}")
