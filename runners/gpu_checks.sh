#!/usr/bin/env bash
# The GPU checks, as one prepared script for a session that is lent a GPU (minutes of device
# time, so no exploration): each step has its own time limit, prints its figures and writes
# its output under $OUT (the device tool's output folder) or runners/results/gpu/.
#
#   bash runners/gpu_checks.sh            # everything, about 10 minutes on one H200
#   bash runners/gpu_checks.sh s2ip       # only the steps whose name contains "s2ip"
#   SMOKE=1 bash runners/gpu_checks.sh    # the script's own check, on a CPU at toy sizes
#
# Steps, most important first (each compares bf16 with fp32 on the same GPU):
#   s2ip_bench       S2IP-LLM training steps: the official path (fp32, pandas decomposition
#                    row by row) against tsfm in bf16 and fp32, and the memory mode
#                    (activation checkpointing, bf16), interleaved twice
#   s2ip_etth1_96    the full-data ETTh1-96 preset on a random GPT-2 (no weights can be
#                    downloaded on the device), bf16, 10 epochs at most, full test set
#   itransformer     runners/bench_itransformer.py with trainer=gpu: fp32 and bf16 steps and
#                    evaluation, interleaved
#   timesclip        runners/bench_timesclip.py at batch 64 with trainer=gpu: fp32 and bf16
#                    steps on cached image features, interleaved
# Data: the bundled ETTh1 (datasets/), nothing else is needed. The device's image lacks a few
# of our dependencies: runners/gpu_wheels.sh fetches them beforehand and says how to install
# them there (carry [".whl"]).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
[ -x .venv/bin/python ] && PY=.venv/bin/python
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"  # tsfm from this checkout, not installed
OUT_DIR=${OUT:-runners/results/gpu}
mkdir -p "$OUT_DIR" && OUT_DIR=$(cd "$OUT_DIR" && pwd)
ONLY=${1:-}
DEVICE=cuda TRAINER=trainer=gpu SCALE=1
BENCH=(--steps 10 --warmup 3 --repeats 2) RUN=(trainer.max_epochs=10)
ITR=(--steps 100 --repeats 2) CLIP=(--batch-size 64 --repeats 2)
if [[ "${SMOKE:-0}" == 1 ]]; then  # every command once on the CPU, at toy sizes
    DEVICE=cpu TRAINER=trainer=cpu SCALE=10  # a CPU is far slower: longer limits
    BENCH=(--batch 1 --steps 1 --warmup 1 --threads 1)
    RUN=(trainer.max_epochs=1 trainer.limit_train_batches=2 trainer.limit_val_batches=2
        model.n_layers=1 data.batch_size=2 test=false)  # a test scores the whole split
    ITR=(--steps 5 --repeats 1 --threads 1)
    CLIP=(--batch-size 2 --clip tsfm-tiny-clip --steps-cached 1 --repeats 1 --percent 1.5
        --threads 1)
fi

step() {  # step NAME SECONDS COMMAND...
    local name=$1 limit=$(($2 * SCALE))
    shift 2
    [[ -n "$ONLY" && "$name" != *"$ONLY"* ]] && return 0
    echo "=== $name (limit ${limit}s): $*"
    local start=$SECONDS
    timeout -k 10 "$limit" "$@" 2>&1 | tee "$OUT_DIR/$name.txt" | tail -n 25
    echo "=== $name: exit ${PIPESTATUS[0]} after $((SECONDS - start))s"
}

{ nvidia-smi -L || echo "no nvidia-smi"; } 2>&1 | tee "$OUT_DIR/device.txt"
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" \
    | tee -a "$OUT_DIR/device.txt"

step s2ip_bench 240 "$PY" runners/bench_s2ip_llm.py --device "$DEVICE" \
    --variants official:fp32,tsfm:bf16,tsfm:fp32,checkpointing:bf16 "${BENCH[@]}"
RUN_DIR=$(mktemp -d)  # checkpoints stay out of $OUT; the small files are copied below
mkdir -p "$OUT_DIR/s2ip_etth1_96_run"
step s2ip_etth1_96 200 "$PY" -m tsfm.run experiment=s2ip_llm_etth1_96 "$TRAINER" \
    model.pretrained=false output.plot=false "${RUN[@]}" "hydra.run.dir=$RUN_DIR"
(cd "$RUN_DIR" && find . -maxdepth 3 -type f -size -5M \
    \( -name "*.json" -o -name "*.csv" -o -name "*.yaml" \) -exec cp --parents {} "$OUT_DIR/s2ip_etth1_96_run/" \;)
step itransformer 120 "$PY" runners/bench_itransformer.py "${ITR[@]}" "$TRAINER"
step timesclip 120 "$PY" runners/bench_timesclip.py "${CLIP[@]}" "$TRAINER"
