# One quick fine-tune (the demo's finetune_real, seed 0) three times: twice
# as this machine runs it (AVX-512 kernels), once with torch and oneDNN held
# to AVX2, as a machine without AVX-512 would run it.
cd "$(dirname "$0")/../../.."  # the repository root
OPTS=$(python3 -c "import json;print(' '.join(json.load(open('work_dirs/demo_fashion_mnist_quick/seed_0/finetune_real/demo_stage.json'))['options']))")
for run in avx512_a avx512_b avx2; do
  if [ $run = avx2 ]; then export ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2; fi
  OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE .venv/bin/python tools/train.py configs/fashion_mnist/resnet8_finetune_1xb128_fashion_mnist.py --work-dir work_dirs/machine_spread/$run --cfg-options $OPTS > work_dirs/machine_spread/$run.log 2>&1
  echo "$run $(grep -o 'accuracy/top1: [0-9.]*' work_dirs/machine_spread/$run.log | tail -1)"
done
