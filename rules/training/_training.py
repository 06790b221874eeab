"""Helpers shared by the training rules (MS4xx); not a rule module."""

VALUE_AND_GRAD_PATTERN = (
    "`grad_fn = ms.value_and_grad(forward_fn, None, optimizer.parameters)`; "
    "`loss, grads = grad_fn(data, label)`; `optimizer(grads)`"
)
