# cGAN-KD alone, vgg8 -> resnet8, the paper's protocol: the converged student
# (resnet8_1xb128_fashion_mnist.py) fine-tuned with cross-entropy on its 2,000
# real images plus cGAN samples that the vgg8 teacher filtered (q 0.9) and
# relabelled (hard), for the steps of every fine-tune of the experiment (16
# epochs of 6,000 samples, half of each fake, each fake seen once: a bank
# of 48,000). The cGAN learns from the teacher's 55,000 training
# images.
#   python tools/train.py \
#       configs/fashion_mnist/cgankd_vgg8_resnet8_1xb128_fashion_mnist.py \
#       --cfg-options \
#       model.teacher_ckpt=work_dirs/vgg8_1xb128_fashion_mnist/iter_1290.pth \
#       load_from=work_dirs/resnet8_1xb128_fashion_mnist/epoch_80.pth
_base_ = [
    './kd_logits_vgg8_resnet8_1xb128_fashion_mnist.py',
    '../_base_/cgankd/fashion_mnist_dcgan.py',
]

model = dict(
    # cross-entropy alone, at full weight (the KD base weighs it 0.1)
    architecture=dict(head=dict(loss=dict(loss_weight=1.0))),
    # no distillation loss: the teacher only serves the bank (and is then
    # not run on training batches)
    distiller=dict(
        _delete_=True, type='ConfigurableDistiller', distill_losses=dict()))
train_dataloader = dict(
    dataset=dict(_delete_=True, **_base_.cgankd_train_dataset),
    sampler=_base_.cgankd_train_sampler)
# knobs: --cfg-options custom_hooks.0.cgan_cfg_options.train_cfg.max_iters=...
custom_hooks = [_base_.cgan_hook]
