from __future__ import annotations

import collections
import itertools

import numpy as np
import pytest
import torch

from synthgap.errors import UsageError
from synthgap.generators import create_generator
from synthgap.models import create_model, list_models
from synthgap.models.checkpoint import load_checkpoint, save_checkpoint
from synthgap.models.paper_lstm import PaperLstm
from synthgap.models.training import SyntheticBatches, bf16_supported, latent_indices, measure_split, train

TINY = {"charset": "abc", "lengths": (2, 3), "sizes": (26, 27)}


def tiny_gen():
    return create_generator("wikipedia", **TINY)


def build(name, gen, size="cpu"):
    latents = {k: list(v) for k, v in gen.discrete_latents().items()}
    return create_model(
        name, charset=gen.config.charset, max_len=gen.config.lengths[1], size=size, latents=latents
    )


def batch(gen, n, seed=0):
    images, lats = gen.generate(n, seed)
    lidx = latent_indices({k: list(v) for k, v in gen.discrete_latents().items()}, lats)
    return images, [lat.text for lat in lats], lidx


def test_registry_lists_all_families():
    assert list_models() == ["crnn_ctc", "multihead_cnn", "multihead_cnn_avgpool", "paper_lstm"]
    with pytest.raises(UsageError, match="unknown model 'nope'"):
        create_model("nope", charset="ab", max_len=2)


@pytest.mark.parametrize("name", list_models())
@pytest.mark.parametrize("size", ["cpu", "paper"])
def test_forward_predict_and_sample_shapes(name, size):
    torch.manual_seed(0)
    gen = tiny_gen()
    model = build(name, gen, size)
    images, texts, lidx = batch(gen, 3)
    loss, outputs = model.loss(model.preprocess(images), model.targets(texts, lidx))
    assert torch.isfinite(loss) and loss.item() > 0
    assert len(model.decode(outputs)) == 3
    pred = model.predict(images)
    assert len(pred) == 3 and all(set(p) <= set("abc") for p in pred)
    draws, log_q = model.sample(images, 5, np.random.default_rng(1))
    assert log_q.shape == (3, 5) and np.all(np.isfinite(log_q)) and np.all(log_q <= 0)
    assert all(len(d) == 5 and all("text" in x for x in d) for d in draws)
    again, log_q2 = model.sample(images, 5, np.random.default_rng(1))
    assert again == draws and np.array_equal(log_q, log_q2)


@pytest.mark.parametrize("name", list_models())
def test_log_q_matches_sampling_frequencies(name):
    """exp(log q) of a draw is the probability the sampler actually produces it."""
    torch.manual_seed(0)
    gen = create_generator("wikipedia", charset="ab", lengths=(1, 2), sizes=(26, 26), kerning=(1, 1))
    model = build(name, gen)
    images, _, _ = batch(gen, 1)
    m = 4000
    draws, log_q = model.sample(images, m, np.random.default_rng(0))
    keys = [tuple(sorted(d.items())) for d in draws[0]]
    counts = collections.Counter(keys)
    q = dict(zip(keys, np.exp(log_q[0]), strict=True))
    for key, c in counts.most_common(3):
        assert abs(c / m - q[key]) < 4 * np.sqrt(q[key] * (1 - q[key]) / m) + 1e-3, (key, c / m, q[key])
    if name != "paper_lstm":  # strings only: the probabilities of all strings sum to at most 1
        assert sum(q.values()) <= 1 + 1e-5


@pytest.mark.parametrize("name", list_models())
def test_overfits_a_tiny_fixed_batch(name):
    torch.manual_seed(0)
    torch.set_num_threads(1)
    gen = tiny_gen()
    model = build(name, gen)
    images, texts, lidx = batch(gen, 8)
    x, tg = model.preprocess(images), model.targets(texts, lidx)
    # the LSTM without batch norm stalls at 3e-3; the batch-normed conv nets get there faster with it
    opt = torch.optim.Adam(model.parameters(), lr=1e-3 if name == "paper_lstm" else 3e-3)
    for step in range(600):
        loss, _ = model.loss(x, tg)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if loss.item() < 0.02 and step >= 60:  # 60 steps: batch-norm running stats have caught up
            break
    assert model.predict(images) == texts


@pytest.mark.parametrize("arch", list(PaperLstm.archs))
def test_paper_lstm_step_by_step_log_q_equals_teacher_forced(arch):
    """Sampling runs the LSTM one step at a time on its own draws (for the attention read-out, each
    step fed the vector it read last); teacher forcing on those same draws must give the same log q."""
    torch.manual_seed(0)
    gen = tiny_gen()
    latents = {k: list(v) for k, v in gen.discrete_latents().items()}
    model = create_model("paper_lstm", charset="abc", max_len=3, latents=latents, arch=arch).eval()
    images = batch(gen, 2)[0]
    draws, log_q = model.sample(images, 6, np.random.default_rng(2))
    k = len(latents)
    flat = [d for per_image in draws for d in per_image]
    y = torch.full((len(flat), model.steps), -100, dtype=torch.long)
    for r, d in enumerate(flat):
        y[r, :k] = torch.tensor([latents[name].index(d[name]) for name in latents])
        y[r, k : k + len(d["text"])] = torch.tensor(model.encode_text(d["text"]))
    with torch.inference_mode():
        logits = model._teacher(model.preprocess(images), y, repeat=6)
    lp = sum(
        lg.log_softmax(-1).gather(1, y[:, t : t + 1].clamp(min=0))[:, 0].masked_fill(y[:, t] < 0, 0.0)
        for t, lg in enumerate(logits)
    )
    np.testing.assert_allclose(lp.reshape(2, 6).numpy(), log_q, atol=1e-4)
    assert model.hparams()["arch"] == arch


@pytest.mark.parametrize("arch", ["cpu", "cpu-feed", "cpu-v1"])
def test_paper_lstm_text_log_prob_sums_every_latent_path(arch):
    """log q(text) runs the latent steps on their tree of prefixes and the letters per path; with
    rtol=0 it equals teacher forcing summed over every (font, size, kerning) path, and a loose rtol
    stops early on a peaked proposal: never above the exact value, within a factor 1 + rtol below it."""
    torch.manual_seed(0)
    gen = create_generator("wikipedia", charset="abc", lengths=(2, 3), sizes=(26, 28), kerning=(0, 1))
    latents = {k: list(v) for k, v in gen.discrete_latents().items()}
    model = create_model("paper_lstm", charset="abc", max_len=3, latents=latents, arch=arch).eval()
    with torch.no_grad():  # a proposal sure of the first value of each latent, as a trained one is
        for head in model.heads[1 : len(latents)]:
            head.bias[0] += 8.0
    images, texts, _ = batch(gen, 3)
    texts = [texts[0], "ab", "cba"]
    x = model.preprocess(images)
    k, names = len(latents), list(latents)
    paths = list(itertools.product(*(range(len(latents[n])) for n in names[1:])))
    y = torch.full((3 * len(paths), model.steps), -100, dtype=torch.long)
    for r, (i, p) in enumerate(itertools.product(range(3), paths)):
        y[r, :k] = torch.tensor([latents["L"].index(len(texts[i])), *p])
        y[r, k : k + len(texts[i])] = torch.tensor(model.encode_text(texts[i]))
    with torch.inference_mode():
        logits = model._teacher(x, y, repeat=len(paths))
        brute = (
            sum(
                lg.log_softmax(-1).gather(1, y[:, t : t + 1].clamp(min=0))[:, 0].masked_fill(y[:, t] < 0, 0.0)
                for t, lg in enumerate(logits)
            )
            .reshape(3, len(paths))
            .logsumexp(1)
        )
        exact = model.text_log_prob(x, texts, rtol=0.0)
        loose = model.text_log_prob(x, texts, rtol=0.5)
    assert len(paths) == len(latents["font"]) * 3 * 2  # fonts x sizes x kerning
    np.testing.assert_allclose(exact.numpy(), brute.numpy(), atol=1e-5)
    assert torch.all(loose <= exact + 1e-6) and torch.all(loose >= exact - np.log(1.5) - 1e-6)
    assert torch.any(loose < exact - 1e-4)  # it did stop early


def test_paper_lstm_unknown_arch_is_a_usage_error():
    with pytest.raises(UsageError, match="arch: must be one of"):
        create_model("paper_lstm", charset="abc", max_len=3, arch="tiny")


def test_paper_lstm_learning_curve_follows_every_head(tmp_path):
    """The curve gets a column per head (L, each other latent, each letter position)."""
    import pandas as pd

    out = train(tmp_path / "ck", model="paper_lstm", style="wikipedia", overrides=TINY, steps=4,
                batch_size=8, val_n=16, val_every=2, workers=0, progress=False)  # fmt: skip
    curve = pd.read_csv(out / "curve.csv")
    heads = [c for c in curve.columns if c.startswith("acc_")]
    assert heads == ["acc_L", "acc_font", "acc_size", "acc_kerning", "acc_c1", "acc_c2", "acc_c3"]
    assert len(curve) == 2 and curve[heads].ge(0).all().all() and curve[heads].le(1).all().all()


def test_measured_split_follows_the_render_cost_and_leaves_the_run_as_it_was():
    import os

    gen = tiny_gen()
    model = build("crnn_ctc", gen).train()
    images, texts, lidx = batch(gen, 8)
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(5)
    slow = measure_split(model, (images, texts, lidx), render_s=100.0, bf16=False, steps=1)
    after = torch.rand(3)
    torch.manual_seed(5)
    assert torch.equal(after, torch.rand(3))  # the probe's dropout draws did not move the stream
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in weights.items())  # a copy trained
    cores = len(os.sched_getaffinity(0))
    # renders at 12.5 s a sample: every core that can render does, the network gets what is left
    assert slow["workers"] == max(w for w in (1, 2, 4, 8, 16, 32) if w < cores) if cores > 1 else 0
    assert slow["threads"] == cores - slow["workers"] and slow["render_ms_per_sample"] == 12500.0
    rates = slow["predicted_samples_per_s"]
    assert rates[f"{slow['workers']}+{slow['threads']}"] == max(rates.values())
    free = measure_split(model, (images, texts, lidx), render_s=1e-9, bf16=False, steps=1)
    # free renders: the split whose thread count stepped fastest
    fastest = min(free["step_ms_per_sample"], key=free["step_ms_per_sample"].get)
    assert free["threads"] == int(fastest)


def test_a_slow_first_round_does_not_decide_the_split(monkeypatch):
    """On 2 cores, 1 thread steps slowly only in its first round (a machine just woken); the split
    follows its fast second round: 1 ms a step on 1 thread against 5 ms on 2."""
    import os
    import time

    from synthgap.models import training

    gen = tiny_gen()
    model = build("crnn_ctc", gen).train()
    calls = []

    def fake_step(*args, **kwargs):
        threads = torch.get_num_threads()
        calls.append(threads)
        time.sleep(0.001 if threads == 1 and calls.count(2) else 0.005 if threads == 2 else 0.05)

    monkeypatch.setattr(training, "train_step", fake_step)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    split = measure_split(model, batch(gen, 8), render_s=1e-9, bf16=False, steps=2)
    assert calls[:3] == [1, 1, 1] and calls.count(1) == 6  # 1 thread first, then again after 2
    assert split["threads"] == 1 and split["step_ms_per_sample"]["1"] < 0.5  # 1 ms / 8 samples, not 50


def test_training_on_cpu_without_a_worker_count_records_the_split_it_measured(tmp_path):
    out = train(tmp_path / "ck", model="crnn_ctc", style="wikipedia", overrides=TINY, steps=2, batch_size=8,
                val_n=8, val_every=2, progress=False)  # fmt: skip
    meta = load_checkpoint(out).meta
    assert (meta["workers"], meta["torch_threads"]) == (meta["split"]["workers"], meta["split"]["threads"])
    assert meta["split"]["render_ms_per_sample"] > 0 and meta["steps"] == 2
    # where the time went: waiting for batches, forward, backward and update, validation
    assert set(meta["time_s"]) == {"batch_wait", "forward", "backward", "sync", "validate"}
    assert meta["time_s"]["sync"] == 0 and meta["processes"] == 1  # one process: nothing to average
    assert all(v >= 0 for v in meta["time_s"].values()) and meta["time_s"]["forward"] > 0
    assert sum(meta["time_s"].values()) <= meta["wall_s"] + 0.01


def test_checkpoint_roundtrip_gives_identical_predictions(tmp_path):
    gen = tiny_gen()
    model = build("paper_lstm", gen)
    images, _, _ = batch(gen, 4)
    save_checkpoint(model, tmp_path / "ck", {"seed": 3})
    loaded = load_checkpoint(tmp_path / "ck")
    assert loaded.predict(images) == model.eval().predict(images)
    assert loaded.meta["seed"] == 3 and loaded.meta["discrete_latents"]["L"] == [2, 3]
    with torch.inference_mode():
        assert torch.equal(loaded.infer(loaded.preprocess(images)), model.infer(model.preprocess(images)))


@pytest.mark.parametrize("name", list_models())
def test_input_size_override_reads_any_image_size_and_survives_a_checkpoint(tmp_path, name):
    gen = tiny_gen()
    latents = {k: list(v) for k, v in gen.discrete_latents().items()}
    model = create_model(name, charset="abc", max_len=3, latents=latents, input_hw=(48, 96)).eval()
    assert model.preprocess(batch(gen, 2)[0]).shape == (2, 1, 48, 96)
    save_checkpoint(model, tmp_path / "ck", {})
    loaded = load_checkpoint(tmp_path / "ck")
    assert loaded.input_hw == (48, 96) and loaded.meta["input_hw"] == [48, 96]
    images = batch(gen, 3, seed=5)[0]
    assert loaded.predict(images) == model.predict(images)
    with pytest.raises(UsageError, match="input_hw"):
        create_model(name, charset="abc", max_len=3, latents=latents, input_hw=(48,))


@pytest.mark.parametrize(
    ("damage", "needle"),
    [
        (
            lambda p: (p / "model.safetensors").write_bytes((p / "model.safetensors").read_bytes()[:500]),
            "model.safetensors",
        ),
        (lambda p: (p / "model.safetensors").unlink(), "model.safetensors is missing"),
        (lambda p: (p / "config.json").write_text("{not json"), "config.json"),
        (lambda p: (p / "config.json").unlink(), "config.json is missing"),
    ],
)
def test_damaged_checkpoint_raises_naming_the_file(tmp_path, damage, needle):
    gen = tiny_gen()
    save_checkpoint(build("crnn_ctc", gen), tmp_path / "ck", {})
    damage(tmp_path / "ck")
    with pytest.raises(UsageError, match=needle):
        load_checkpoint(tmp_path / "ck")


def test_checkpoint_of_other_shape_raises(tmp_path):
    gen = tiny_gen()
    save_checkpoint(build("crnn_ctc", gen), tmp_path / "ck", {})
    cfg = (tmp_path / "ck" / "config.json").read_text().replace('"charset": "abc"', '"charset": "abcd"')
    (tmp_path / "ck" / "config.json").write_text(cfg)
    with pytest.raises(UsageError, match="does not match its config"):
        load_checkpoint(tmp_path / "ck")


@pytest.mark.skipif(not bf16_supported(torch.device("cpu")), reason="this CPU has no bfloat16 support")
@pytest.mark.parametrize("name", list_models())
def test_bf16_autocast_training_keeps_float32_weights_and_records_it(tmp_path, name):
    out = train(tmp_path / "ck", model=name, style="wikipedia", overrides=TINY, steps=2, batch_size=8,
                workers=0, val_n=8, bf16=True, progress=False)  # fmt: skip
    loaded = load_checkpoint(out)
    assert loaded.meta["precision"] == "bf16" and loaded.meta["steps"] == 2
    assert all(p.dtype == torch.float32 and torch.isfinite(p).all() for p in loaded.parameters())
    assert all(set(p) <= set("abc") for p in loaded.predict(batch(tiny_gen(), 4)[0]))


def test_bf16_on_a_cpu_without_it_is_a_usage_error(tmp_path, monkeypatch):
    from synthgap.models import training

    monkeypatch.setattr(training, "bf16_supported", lambda device: False)
    with pytest.raises(UsageError, match="no bfloat16 support"):
        train(
            tmp_path / "ck", style="wikipedia", overrides=TINY, steps=2, workers=0, bf16=True, progress=False
        )
    assert not (tmp_path / "ck").exists()


def test_synthetic_batches_are_fresh_and_worker_independent():
    gen = tiny_gen()
    inline = SyntheticBatches(gen, 5, 4, (32, 128), workers=0)
    pooled = SyntheticBatches(gen, 5, 4, (32, 128), workers=1)
    try:
        a = [inline.batch(s) for s in range(3)]
        b = [pooled.batch(s) for s in range(3)]
    finally:
        pooled.close()
    for (ia, ta, la), (ib, tb, lb) in zip(a, b, strict=True):
        assert np.array_equal(ia, ib) and ta == tb and np.array_equal(la, lb)
    assert not np.array_equal(a[0][0], a[1][0])
    ref, _ = gen.generate(4, inline.seed, start=4)  # batch 1 = samples 4..7 of the training stream
    assert np.array_equal(a[1][0].shape, (4, 32, 128)) and ref.shape == (4, 50, 200)


def test_a_render_worker_that_dies_stops_training_with_a_clear_error():
    import os
    import signal

    from synthgap.errors import WorkerError

    pooled = SyntheticBatches(tiny_gen(), 5, 4, (32, 128), workers=1)
    try:
        pooled.batch(0)
        for pid in list(pooled.pool._processes):
            os.kill(pid, signal.SIGKILL)
        with pytest.raises(WorkerError, match=r"render worker died .* at sample \d+"):
            for step in range(1, 50):  # batches rendered before the kill may still come
                pooled.batch(step)
    finally:
        pooled.close()


def test_cache_mode_draws_batches_from_the_bounded_pool():
    gen = tiny_gen()
    fresh = SyntheticBatches(gen, 5, 4, (32, 128), workers=0)
    pool = [fresh.batch(s) for s in range(2)]
    cached = SyntheticBatches(gen, 5, 4, (32, 128), workers=0, cache=8)
    images, texts, _ = cached.batch(0)
    known = {t: im.tobytes() for b in pool for t, im in zip(b[1], b[0], strict=True)}
    assert len(texts) == 4 and all(known[t] == im.tobytes() for t, im in zip(texts, images, strict=True))
    assert cached.rendered == 8


@pytest.mark.parametrize("name", list_models())
def test_log_prob_is_a_distribution_over_strings_and_matches_sampling(name):
    """exp(log_prob) sums to 1 over every string the model can spell (CTC: at most 1, since it can
    also spell strings longer than max_len), equals the sampler's log q of the same string, and
    ``confidence`` is the probability of the predicted string."""
    torch.manual_seed(0)
    gen = create_generator("wikipedia", charset="ab", lengths=(1, 2), sizes=(26, 27), kerning=(1, 2))
    model = build(name, gen)
    images, _, _ = batch(gen, 2)
    strings = ["", "a", "b", "aa", "ab", "ba", "bb"]
    lp = np.stack([model.log_prob(images, [s, s]) for s in strings], 1)
    total = np.exp(lp).sum(1)
    if name == "crnn_ctc":
        assert np.all(total <= 1 + 1e-5) and np.all(total > 0)
    else:
        np.testing.assert_allclose(total, 1.0, atol=1e-5)
    assert np.all(model.log_prob(images, ["c", "abc"]) == -np.inf)  # outside the charset / max_len
    pred, conf = model.confidence(images)
    assert pred == model.predict(images)
    np.testing.assert_allclose(conf, np.exp(model.log_prob(images, pred)))
    m = 3000
    draws, log_q = model.sample(images[:1], m, np.random.default_rng(0))
    texts = [d["text"] for d in draws[0]]
    for s in {t for t in texts if t in strings}:
        freq = texts.count(s) / m
        p = np.exp(lp[0, strings.index(s)])
        assert abs(freq - p) < 4 * np.sqrt(p * (1 - p) / m) + 1e-3, (s, freq, p)
        if name != "paper_lstm":  # string-only: log q of a draw is its string's probability
            j = texts.index(s)
            assert log_q[0, j] == pytest.approx(lp[0, strings.index(s)], abs=1e-4)


def test_timing_is_sized_to_a_slow_breaker():
    """A breaker taking 50 ms per captcha gets a few batch-1 calls and no batch of 256 (which
    would take 13 s a call), instead of the 100 + 6 x 256 calls a fast model gets."""
    import time as clock

    from synthgap.models import evaluation

    class Slow:
        device = torch.device("cpu")
        calls = 0

        def predict(self, images, batch_size=256):
            Slow.calls += len(images)
            clock.sleep(0.05 * len(images))
            return ["abc"] * len(images)

    images = np.zeros((3, 50, 200), np.uint8)
    t0 = clock.perf_counter()
    out = evaluation.evaluate(Slow(), images, ["abc", "abd", "abc"], timing=True)
    assert out["ms_per_captcha_batch256"] is None and 45 <= out["ms_per_captcha_batch1"] <= 200
    assert Slow.calls < 200 and clock.perf_counter() - t0 < 15
    assert out["recognition_rate"] == pytest.approx(2 / 3)


@pytest.mark.slow
def test_train_learns_to_read_unseen_captchas(tmp_path):
    """The whole loop (rendering, targets, loss, Adam, validation, checkpoint) learns: two letters
    of one font and size, read at chance 1/4, are all read after 150 steps on fresh validation
    captchas (a stream training never draws from), and the saved weights read the same."""
    tiny = {"charset": "ab", "lengths": [2, 2], "fonts": ["nimbus-mono-bold"], "sizes": [30, 30]}
    out = train(tmp_path / "ck", model="multihead_cnn", style="wikipedia", overrides=tiny, steps=150,
                batch_size=16, lr=3e-3, workers=0, val_n=64, val_every=150, progress=False)  # fmt: skip
    model = load_checkpoint(out)
    assert model.meta["val"]["recognition_rate"] >= 0.9
    images, latents = create_generator("wikipedia", **tiny).generate(32, 99)
    texts = [lat.text for lat in latents]
    assert np.mean([p == t for p, t in zip(model.predict(images), texts, strict=True)]) >= 0.9


@pytest.mark.parametrize("name", list_models())
def test_letter_counts_are_the_expected_letter_histogram(name):
    """CTC and multi-head: exactly the proposal's expected count of each character (checked against
    the histogram of its own draws); paper_lstm: along its arg-max path, so the counts sum to the
    length head's expected L."""
    torch.manual_seed(0)
    gen = tiny_gen()
    model = build(name, gen).eval()
    images = batch(gen, 2)[0]
    counts = model.letter_counts(images)
    assert counts.shape == (2, 3) and np.all(counts >= 0)
    if name == "paper_lstm":
        with torch.inference_mode():
            p_len = model._steps(
                *model.encode(model.preprocess(images)), torch.zeros(2, 1, dtype=torch.long)
            )[0][0]
        expected_len = p_len.softmax(-1).numpy() @ np.array(model.latents["L"], float)
        np.testing.assert_allclose(counts.sum(1), expected_len, rtol=1e-5)
        return
    m = 4000
    draws, _ = model.sample(images, m, np.random.default_rng(0))
    for i in range(2):
        hist = np.array([[d["text"].count(c) for c in "abc"] for d in draws[i]], float)
        se = hist.std(0) / np.sqrt(m)
        assert np.all(np.abs(hist.mean(0) - counts[i]) < 4 * se + 1e-3), (hist.mean(0), counts[i])
