# Rotated Fashion-MNIST (the plugin's RotatedFashionMNIST): every image
# turned by an angle drawn uniformly from [-45, 45] degrees, the target
# being that angle; test images get their own angles. Real images from the
# local IDX files (`make data`); nothing downloads. Splits as
# fashion_mnist_bs128.py: 'train' = first 55,000 official training images,
# 'val' = the last 5,000, 'test' = the 10,000 official test images.
dataset_type = 'mmrazor.RotatedFashionMNIST'
data_root = 'data/fashion_mnist'
val_size = 5000
data_preprocessor = dict(
    type='mmpretrain.ClsDataPreprocessor',
    # Fashion-MNIST statistics, as fashion_mnist_bs128.py
    mean=[72.94, 72.94, 72.94],
    std=[90.02, 90.02, 90.02],
    to_rgb=False)

# No flips: a mirrored image has the opposite angle.
train_pipeline = [
    dict(type='mmrazor.GrayToRGB'),
    dict(type='mmrazor.PackRegressionInputs'),
]
test_pipeline = train_pipeline

train_dataloader = dict(
    batch_size=128,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        val_size=val_size,
        pipeline=train_pipeline),
    # an iteration-based schedule: InfiniteSampler never rolls over (with
    # DefaultSampler MMEngine sleeps 2 s at every epoch end)
    sampler=dict(type='InfiniteSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=256,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        # `--cfg-options val_dataloader.dataset.split=val` for the
        # held-out training images
        split='test',
        val_size=val_size,
        test_mode=True,
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
# MAE / RMSE in degrees
val_evaluator = dict(type='mmrazor.RegressionMetric')
test_dataloader = val_dataloader
test_evaluator = val_evaluator
