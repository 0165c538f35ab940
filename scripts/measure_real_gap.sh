#!/usr/bin/env bash
# results/real_gap/: how far synthetic-only training gets on real captchas, and the gap both ways.
#   - crnn_ctc trained 10 CPU minutes on synthetic captcha_v2 (plain and elastic), wikipedia and
#     facebook (plain and elastic), seed 0;
#   - the blog's real-trained setting: crnn_ctc on 90 % of captcha_images_v2 (seeded split, seed 0,
#     lr 3e-3 chosen on a validation part of the training side, see measure_models.sh), 5 minutes;
#   - ddddocr (open and restricted to the 19 symbols) as peer rows.
# Every checkpoint is scored on 1000 fresh synthetic captchas of its style (seed 100) and on the real
# set: captcha_images_v2 without the seeded look set of 100 images (look_split seed 0: the 100 were
# the only real images looked at while broadening the generator; the 940 others are the report set),
# the real-trained one on its own held-out 10 %; wikipedia-sample (20) and facebook-sample (10) whole.
# Usage: bash scripts/measure_real_gap.sh [REAL_DATA_DIR] [RUN ...]   (default: all runs)
# Checkpoints and per-captcha CSVs (they name real labels) stay in out/real_gap/; the tables and the
# figure go to results/real_gap/gap/, the eval JSONs to results/real_gap/evals/.
set -euo pipefail
cd "$(dirname "$0")/.."
SG=.venv/bin/synthgap
REAL=${1:-../shared/data}
shift || true
OUT=out/real_gap
RES=results/real_gap
V2=$REAL/captcha_images_v2

declare -A TRAIN=(
    [captcha_v2-plain]="--style captcha_v2 --minutes 10"
    [captcha_v2-elastic]="--style captcha_v2 --elastic --minutes 10"
    [wikipedia-plain]="--style wikipedia --minutes 10"
    [wikipedia-elastic]="--style wikipedia --elastic --minutes 10"
    [facebook-plain]="--style facebook --minutes 10"
    [facebook-elastic]="--style facebook --elastic --minutes 10"
    [captcha_v2-real]="--real $V2 --split 0.9 --lr 3e-3 --minutes 5"
)
declare -A REALSET=(
    [captcha_v2-plain]="--real $V2 --skip-look 100"
    [captcha_v2-elastic]="--real $V2 --skip-look 100"
    [wikipedia-plain]="--real $REAL/wikipedia-sample"
    [wikipedia-elastic]="--real $REAL/wikipedia-sample"
    [facebook-plain]="--real $REAL/facebook-sample"
    [facebook-elastic]="--real $REAL/facebook-sample"
    [captcha_v2-real]="--real $V2"
)
names=("$@")  # facebook-plain is available but was not run for results/real_gap (CPU time)
[ ${#names[@]} -gt 0 ] || names=(captcha_v2-real captcha_v2-plain captcha_v2-elastic wikipedia-plain
                                 wikipedia-elastic facebook-elastic)
for name in "${names[@]}"; do
    ck=$OUT/$name
    if [ ! -f "$ck/config.json" ]; then  # a finished checkpoint is kept: rerunning resumes
        rm -rf "$ck"
        # shellcheck disable=SC2086
        $SG train ${TRAIN[$name]} --model crnn_ctc --seed 0 --out "$ck"
    fi
    style=${name%%-*}
    rm -rf "$OUT/eval/$name"
    # shellcheck disable=SC2086
    $SG eval "$ck" --style "$style" -n 1000 --seed 100 --no-timing --out "$OUT/eval/$name"
    # shellcheck disable=SC2086
    $SG eval "$ck" ${REALSET[$name]} --no-timing --out "$OUT/eval/$name"
done
for restrict in "" --restrict; do
    $SG eval-peer ddddocr --real "$V2" --style captcha_v2 $restrict --skip-look 100 --no-timing --predictions \
        --out "$OUT/eval/peers"
done
$SG gap "$OUT/eval" --seed 0 --out "$RES/gap"
rm -rf "$RES/evals" && mkdir -p "$RES/evals"
for f in "$OUT"/eval/*/*.json; do cp "$f" "$RES/evals/$(basename "$(dirname "$f")")--$(basename "$f")"; done
.venv/bin/python scripts/readme_headline.py results/quick README.md "$RES"  # the README table
