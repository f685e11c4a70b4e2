# Fashion-MNIST from the local IDX files (`make data` unpacks them):
#   data/fashion_mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte
# Nothing downloads. The 28x28 grayscale images keep their size and are
# repeated to 3 channels, so the CIFAR zoo applies unchanged (its
# backbones end in global pooling; at 28 px a step costs 30-40 % less
# than at 32 px, measured on this 2-core machine). Splits (the plugin's
# FashionMNISTSplit): 'train' is the first 55,000 official training
# images, 'val' the last 5,000 (for choosing settings), 'test' the 10,000
# official test images (what is reported).
dataset_type = 'mmrazor.FashionMNISTSplit'
data_root = 'data/fashion_mnist'
val_size = 5000
data_preprocessor = dict(
    type='mmpretrain.ClsDataPreprocessor',
    num_classes=10,
    # Fashion-MNIST statistics (0.2860, 0.3530) in 0-255 scale, the same
    # for the three repeated channels; bilinear resizing keeps them.
    mean=[72.94, 72.94, 72.94],
    std=[90.02, 90.02, 90.02],
    to_rgb=False)

# The data set is built in mmpretrain's scope, so the plugin's dataset and
# transform need their `mmrazor.` prefix.
train_pipeline = [
    dict(type='mmrazor.GrayToRGB'),
    # CIFAR's augmentation (pad 4, random crop, horizontal flip) at 28 px.
    # Schedules of a few epochs (the demo's, configs/fashion_mnist/) do
    # better without the crop.
    dict(type='mmpretrain.RandomCrop', crop_size=28, padding=4),
    dict(type='mmpretrain.RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmpretrain.PackInputs'),
]
test_pipeline = [
    dict(type='mmrazor.GrayToRGB'),
    dict(type='mmpretrain.PackInputs'),
]

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
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=256,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        # `--cfg-options val_dataloader.dataset.split=val` evaluates on
        # the held-out training images instead
        split='test',
        val_size=val_size,
        test_mode=True,
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
