# The cGAN-KD parts for Steering Angle, shared by
# configs/cgankd/*_steering_angle.py: UTKFace's CcGAN set-up
# (utkface_ccgan.py) with what the official code changes for this data
# (UBCDingXin/cGAN-KD, SteeringAngle/scripts/run_gene_data.sh,
# run_cnn_fake.sh and opts.py).
_base_ = ['./utkface_ccgan.py']

# Fake samples the student sees on top of the real training set
# (run_cnn_fake.sh: NFAKE=50000), 25 at each of the 2,000 grid angles.
num_fake = 50000

cgankd_train_pipeline = [
    # no flip: it would turn the angle's sign (see steering_angle_bs128.py)
    # fake samples take the value stored in the bank (their generating
    # angle, as relabel='none' below)
    dict(type='mmrazor.TeacherRelabel'),
    dict(type='mmrazor.PackRegressionInputs'),
]

cgankd_train_dataset = dict(
    num_fake=num_fake,
    dataset=dict(
        _delete_=True,
        type='SteeringAngle',
        data_root='data/steering_angle',
        ann_file='SteeringAngle_64x64_prop_0.8.h5',
        split='train',
        pipeline=cgankd_train_pipeline))

# the runner that lets CGANHook build the bank before the training
# dataloader is built (cgankd_plugin.engine.runner.CGANKDRunner)
runner_type = 'CGANKDRunner'
cgan_hook = dict(
    cgan='configs/cgan/ccgan_1xb512_steering_angle.py',
    # cDR-RS as UTKFace's, but the real images are never flipped (a
    # mirror image turns the angle's sign; SteeringAngle/train_cdre.py
    # does not flip) and an angle's bound M is the largest ratio of 500
    # fresh fakes (run_gene_data.sh: --samp_burnin_size 500)
    subsample=dict(burn_in=500, flip=False),
    # the official Steering Angle bank (SteeringAngle/scripts/
    # run_cnn_fake.sh: ..._filter_vgg19_perc_0.90_adjust_False_...): drop
    # samples whose |teacher - angle| is above the pooled 0.9 quantile
    # (burn-in: 10 cDR-RS survivors per grid angle, 20,000 pooled), and
    # keep each sample's generating angle as its label
    filter=dict(quantile=0.9, burn_in=10),
    relabel='none',
    # 2,000 angles evenly spread over [-88.13, 97.92] degrees
    # (--samp_num_fake_labels 2000)
    num_label_values=2000,
    bank_batch_size=100)
