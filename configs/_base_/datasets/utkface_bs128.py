# UTKFace (age regression, 64x64 RGB, ages 1-60) from the official cGAN-KD
# h5 file: data/utkface/UTKFace_64x64_prop_0.8.h5 with images_train,
# labels_train, images_test, labels_test (80/20 split). Nothing downloads.
# Batch 128 as the official scripts (UTKFace/scripts/run_cnn.sh:
# --batch_size_train 128); test batch 100 as their opts.py.
dataset_type = 'UTKFace'
data_root = 'data/utkface'
ann_file = 'UTKFace_64x64_prop_0.8.h5'

# The official nets see (x / 255 - 0.5) / 0.5 (UTKFace/train_cnn.py
# normalize_images); the h5 images are RGB already, so no channel swap.
data_preprocessor = dict(
    type='mmpretrain.ClsDataPreprocessor',
    mean=[127.5, 127.5, 127.5],
    std=[127.5, 127.5, 127.5],
    to_rgb=False)

train_pipeline = [
    # the official CNN training flips real faces at random (hflip_images)
    dict(type='mmpretrain.RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmrazor.PackRegressionInputs'),
]
test_pipeline = [dict(type='mmrazor.PackRegressionInputs')]

train_dataloader = dict(
    batch_size=128,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file=ann_file,
        split='train',
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=100,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file=ann_file,
        split='test',
        test_mode=True,
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
# MAE / RMSE in years
val_evaluator = dict(type='mmrazor.RegressionMetric')
test_dataloader = val_dataloader
test_evaluator = val_evaluator
