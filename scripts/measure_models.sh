#!/usr/bin/env bash
# The model measurements of results/models/: 10-minute CPU trainings, then evaluation of each
# checkpoint (1000 fresh captchas of the training style, seed 100; real held-out 10 % for --real;
# the wikipedia bf16 runs also on seed 200, never used for a choice: results/models/README.md).
# Usage: scripts/measure_models.sh [RUN ...]   (default: all runs; one training at a time)
# Checkpoints go to out/models/RUN, evaluation JSON/CSV to results/models/RUN.
set -euo pipefail
cd "$(dirname "$0")/.."
SG=.venv/bin/synthgap

run() {  # name, train args..., -- eval args... [-- eval args...]: one evaluation per group
    local name=$1; shift
    local train=() eval=()
    while [ "$1" != "--" ]; do train+=("$1"); shift; done; shift
    rm -rf "out/models/$name"
    $SG train --seed 0 "${train[@]}" --out "out/models/$name"  # a run's own --seed comes later and wins
    while [ $# -gt 0 ]; do
        eval=()
        while [ $# -gt 0 ] && [ "$1" != "--" ]; do eval+=("$1"); shift; done
        [ $# -gt 0 ] && shift
        $SG eval "out/models/$name" "${eval[@]}" --out "results/models/$name"
    done
}

# The real_v2 learning rate was chosen on a validation part carved from the training side, never on
# the held-out images (results/models/real_v2-crnn_ctc-choice/):
#   synthgap train --real ../shared/data/captcha_images_v2 --split 0.9 --real-val 0.1 --model crnn_ctc \
#       --lr 3e-3 --minutes 3 --val-every 250 --seed 0 --out OUT        (and --lr 1e-3 --batch-size 32 --steps 1500)
declare -A RUNS=(
    [wikipedia-crnn_ctc]="--style wikipedia --model crnn_ctc --minutes 10 -- --style wikipedia -n 1000 --seed 100"
    [captcha_v2-multihead_cnn]="--style captcha_v2 --model multihead_cnn --minutes 10 -- --style captcha_v2 -n 1000 --seed 100"
    [captcha_v2-paper_lstm]="--style captcha_v2 --model paper_lstm --minutes 10 -- --style captcha_v2 -n 1000 --seed 100"
    [wikipedia-crnn_ctc-lr2e-3]="--style wikipedia --model crnn_ctc --lr 2e-3 --minutes 10 -- --style wikipedia -n 1000 --seed 100"
    [wikipedia-crnn_ctc-bf16]="--style wikipedia --model crnn_ctc --lr 2e-3 --bf16 --minutes 10 -- --style wikipedia -n 1000 --seed 100 -- --style wikipedia -n 1000 --seed 200"
    [wikipedia-crnn_ctc-bf16-seed1]="--style wikipedia --model crnn_ctc --lr 2e-3 --bf16 --seed 1 --minutes 10 -- --style wikipedia -n 1000 --seed 100 -- --style wikipedia -n 1000 --seed 200"
    [wikipedia-crnn_ctc-bf16-seed2]="--style wikipedia --model crnn_ctc --lr 2e-3 --bf16 --seed 2 --minutes 10 -- --style wikipedia -n 1000 --seed 100 -- --style wikipedia -n 1000 --seed 200"
    [wikipedia-crnn_ctc-lr3e-3]="--style wikipedia --model crnn_ctc --lr 3e-3 --minutes 10 -- --style wikipedia -n 1000 --seed 100"
    [wikipedia-crnn_ctc-40x160]="--style wikipedia --model crnn_ctc --input 40x160 --lr 2e-3 --minutes 10 -- --style wikipedia -n 1000 --seed 100"
    [wikipedia-multihead_cnn]="--style wikipedia --model multihead_cnn --minutes 10 -- --style wikipedia -n 1000 --seed 100"
    [wikipedia-paper_lstm]="--style wikipedia --model paper_lstm --minutes 10 -- --style wikipedia -n 1000 --seed 100"
    [captcha_v2-crnn_ctc]="--style captcha_v2 --model crnn_ctc --minutes 10 -- --style captcha_v2 -n 1000 --seed 100"
    [real_v2-crnn_ctc]="--real ../shared/data/captcha_images_v2 --split 0.9 --model crnn_ctc --lr 3e-3 --minutes 5 -- --real ../shared/data/captcha_images_v2"
    [real_v2-multihead_cnn]="--real ../shared/data/captcha_images_v2 --split 0.9 --model multihead_cnn --minutes 3 -- --real ../shared/data/captcha_images_v2"
)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(wikipedia-crnn_ctc captcha_v2-crnn_ctc real_v2-crnn_ctc real_v2-multihead_cnn wikipedia-multihead_cnn
                                 wikipedia-paper_lstm)
for name in "${names[@]}"; do
    # shellcheck disable=SC2086
    run "$name" ${RUNS[$name]}
    rm -f results/models/"$name"/real-*.csv  # per-image rows name real labels: not committed
done
.venv/bin/python scripts/models_table.py results/models
