# Steering Angle (regression, 64x64 RGB, angles in degrees in
# [-88.13, 97.92]) from the official cGAN-KD h5 file:
# data/steering_angle/SteeringAngle_64x64_prop_0.8.h5 with images_train,
# labels_train, images_test, labels_test. Nothing downloads.
# Batch 128 as the official scripts (SteeringAngle/scripts/run_cnn.sh);
# test batch 100 as their opts.py.
dataset_type = 'SteeringAngle'
data_root = 'data/steering_angle'
ann_file = 'SteeringAngle_64x64_prop_0.8.h5'

# (x / 255 - 0.5) / 0.5 as SteeringAngle/train_cnn.py; RGB h5 images.
data_preprocessor = dict(
    type='mmpretrain.ClsDataPreprocessor',
    mean=[127.5, 127.5, 127.5],
    std=[127.5, 127.5, 127.5],
    to_rgb=False)

# No flip: mirroring a road scene turns the steering angle's sign, so a flip
# with an unchanged label is a wrong sample (the official SteeringAngle
# train_cnn.py has no flip either, unlike its UTKFace twin).
train_pipeline = [dict(type='mmrazor.PackRegressionInputs')]
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
# MAE / RMSE in degrees
val_evaluator = dict(type='mmrazor.RegressionMetric')
test_dataloader = val_dataloader
test_evaluator = val_evaluator
