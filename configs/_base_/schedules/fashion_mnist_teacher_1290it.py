# The Fashion-MNIST teachers' schedule (vgg8_1xb128_fashion_mnist.py and
# vgg8_1xb128_rotated_fashion_mnist.py): three epochs of batch 128 over the
# 55,000 training images (1,290 iterations), SGD with Nesterov momentum, a
# short linear warm-up, then cosine to zero. Iteration-based, so MMEngine's
# iteration loop checkpoints and validates once, at the end.
max_iters = 1290
warmup_iters = 60
optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4,
        nesterov=True))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=False,
        begin=0,
        end=warmup_iters),
    dict(
        type='CosineAnnealingLR',
        by_epoch=False,
        begin=warmup_iters,
        end=max_iters,
        eta_min=0.0),
]
train_cfg = dict(by_epoch=False, max_iters=max_iters, val_interval=max_iters)
val_cfg = dict()
test_cfg = dict()
