"""Summaries of a grid's tidy cells table: the tables a robustness paper reports, and figures.

All tables are pivots of ``cells.parquet`` (one row per cell); nothing is computed twice. Metric
columns come from the models layer's ``evaluate_cell``: ``recognition_rate`` (whole-string, 0..1),
``char_accuracy``, ``ms_per_captcha_batch1`` and ``ms_per_captcha_batch256`` (median ms), and the
calibration columns (``mean_confidence``, ``ece``, ``brier``, ``nll_true``, ``acc_at_*``, the JSON
``reliability`` bin counts, and ``is_*`` for the importance-sampled posterior on a subset).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from synthgap.errors import UsageError
from synthgap.gap import gap_table

RUN_KEYS = ["style", "model", "size", "seed"]
SEVERITY_FAMILIES = ("image", "generative")
#: a breaker under this clean recognition has not learned its style: its rows say "not converged"
#: and it is left out of aggregates (drops from clean, corruption errors), not averaged in as a zero
CONVERGED = 0.5
NOT_CONVERGED = "not converged"


def convergence(df: pd.DataFrame) -> pd.DataFrame:
    """Per breaker (run keys + variant): ``status`` "" or "not converged" from its clean recognition
    (breakers without a clean cell count as converged: nothing says otherwise)."""
    keys = RUN_KEYS + ["variant"]
    clean = df[df["family"] == "clean"].groupby(keys, as_index=False)["recognition_rate"].mean()
    clean["status"] = clean["recognition_rate"].lt(CONVERGED).map({True: NOT_CONVERGED, False: ""})
    return clean[keys + ["status"]]


def with_status(table: pd.DataFrame, status: pd.DataFrame) -> pd.DataFrame:
    """``table`` with a ``status`` column, joined on the breaker keys it has."""
    if table.empty:
        return table
    keys = [k for k in RUN_KEYS + ["variant"] if k in table]
    status = status.groupby(keys, as_index=False)["status"].agg(
        lambda s: NOT_CONVERGED if (s != "").any() else ""
    )
    return table.merge(status, on=keys, how="left").fillna({"status": ""})


def load_cells(folder: Path) -> pd.DataFrame:
    """Read DIR/cells.parquet, keeping the cells that have metrics (rows with an error are dropped)."""
    path = Path(folder) / "cells.parquet"
    if not path.is_file():
        raise UsageError(
            f"report: {path} not found (run `synthgap run GRID --out {folder}` first)", field="dir"
        )
    df = pd.read_parquet(path)
    if "recognition_rate" not in df:
        raise UsageError(f"report: {path} has no metric columns (every cell failed?)", field="dir")
    ok = df["error"].isna() | (df["error"] == "")
    return df[ok].copy()


def robustness(df: pd.DataFrame, status: pd.DataFrame | None = None) -> pd.DataFrame:
    """Recognition per run x perturbation x severity, plain and elastic side by side, with the
    drop from each variant's clean score (in points; none for a breaker that did not converge,
    named in ``status``)."""
    rows = df[df["family"].isin(("clean",) + SEVERITY_FAMILIES)]
    table = rows.pivot_table(
        index=RUN_KEYS + ["perturbation", "severity"],
        columns="variant",
        values="recognition_rate",
        aggfunc="mean",
    )
    clean = df[df["family"] == "clean"].pivot_table(
        index=RUN_KEYS, columns="variant", values="recognition_rate", aggfunc="mean"
    )
    clean = clean.where(clean >= CONVERGED)  # no drop from a breaker that never learned
    variants = table.columns.tolist()
    for variant in variants:
        base = clean[variant].reindex(table.index.droplevel(["perturbation", "severity"])).to_numpy()
        table[f"drop_{variant}"] = 100.0 * (base - table[variant].to_numpy())
    table = table.reset_index()
    if status is not None:
        bad = status[status["status"] != ""].groupby(RUN_KEYS)["variant"].agg(", ".join)
        names = bad.reindex(pd.MultiIndex.from_frame(table[RUN_KEYS])).fillna("").to_numpy()
        table["status"] = [f"{NOT_CONVERGED}: {v}" if v else "" for v in names]
    return table


def transfer_matrix(df: pd.DataFrame) -> pd.DataFrame:
    """Recognition of a breaker trained on one style (rows) on clean samples of another (columns)."""
    rows = df[df["family"].isin(("clean", "transfer"))]
    return rows.pivot_table(
        index=["model", "variant", "style"], columns="test_style", values="recognition_rate", aggfunc="mean"
    ).reset_index()


def corruption_errors(df: pd.DataFrame, baseline: str, status: pd.DataFrame | None = None) -> pd.DataFrame:
    """ImageNet-C style corruption error: a model's errors summed over severities, divided by the
    baseline model's on the same style, variant and perturbation; ``mCE`` averages perturbations.
    Breakers that did not converge (``status``) are left out, as models and as baselines."""
    if baseline not in set(df["model"]):
        raise UsageError(f"baseline: model {baseline!r} is not in the grid", field="baseline")
    if status is not None:
        df = with_status(df, status)
        df = df[df["status"] == ""].drop(columns="status")
    rows = df[df["family"].isin(SEVERITY_FAMILIES)].assign(error_rate=lambda d: 1.0 - d["recognition_rate"])
    if rows.empty or baseline not in set(rows["model"]):  # no perturbations, or no converged baseline
        return pd.DataFrame()
    keys = ["style", "variant", "size", "seed", "perturbation"]
    summed = rows.groupby(keys + ["model"], as_index=False)["error_rate"].sum()
    base = summed[summed["model"] == baseline].drop(columns="model").rename(columns={"error_rate": "base"})
    ce = summed.merge(base, on=keys)
    ce["CE"] = ce["error_rate"] / ce["base"].where(ce["base"] > 0)
    table = ce.pivot_table(
        index=["style", "variant", "size", "seed", "model"], columns="perturbation", values="CE"
    )
    table["mCE"] = table.mean(axis=1)
    return table.reset_index()


def table_one(df: pd.DataFrame) -> pd.DataFrame:
    """Like the paper's Table I: clean recognition and breaking time per style, model and variant."""
    rows = df[df["family"] == "clean"]
    cols = [
        c
        for c in (
            "recognition_rate",
            "char_accuracy",
            "ms_per_captcha_batch1",
            "ms_per_captcha_batch256",
            "train_seconds",
        )
        if c in rows
    ]
    return rows.groupby(["style", "model", "size", "variant"], as_index=False)[cols].mean()


CALIBRATION = ["recognition_rate", "mean_confidence", "ece", "brier", "nll_true", "is_recognition_rate",
               "is_mean_confidence", "is_ece", "is_credible90_coverage", "is_ess_mean"]  # fmt: skip


def calibration_by_severity(df: pd.DataFrame) -> pd.DataFrame:
    """Per run, variant, perturbation and severity: recognition beside the model's mean confidence
    and ECE (and the importance-sampled posterior's, ``is_*``); ``overconfidence`` is mean
    confidence minus recognition, in points. Clean cells are severity 0."""
    if "mean_confidence" not in df:
        return pd.DataFrame()
    rows = df[df["family"].isin(("clean",) + SEVERITY_FAMILIES)]
    cols = [c for c in CALIBRATION if c in rows]
    table = rows.groupby(RUN_KEYS + ["variant", "perturbation", "severity"], as_index=False)[cols].mean()
    table["overconfidence"] = 100.0 * (table["mean_confidence"] - table["recognition_rate"])
    return table


POSTERIOR = [
    "recognition_rate", "is_n", "is_argmax_recognition", "is_recognition_rate", "is_ess_frac_median",
    "is_credible50_coverage", "is_credible90_coverage", "is_ece", "is_nll_true", "is_epsilon",
]  # fmt: skip


def posterior_calibration(df: pd.DataFrame) -> pd.DataFrame:
    """Per run, variant and test set: the importance-sampled posterior on the cell's subset
    (``is_*``: the network's arg-max recognition there, posterior-mode recognition, ESS / M,
    credible-set coverage, ECE, NLL of the truth) beside arg-max recognition on the whole set. The
    question it answers: does the posterior stay calibrated where the arg-max does not?"""
    if "is_recognition_rate" not in df:
        return pd.DataFrame()
    rows = df[df["is_recognition_rate"].notna()]
    keys = RUN_KEYS + ["variant", "test_style", "perturbation", "severity"]
    return rows[keys + [c for c in POSTERIOR if c in rows]].sort_values(keys).reset_index(drop=True)


def confidence_tracking(df: pd.DataFrame) -> pd.DataFrame:
    """Does confidence fall when accuracy falls? Per run and variant over all its test sets:
    the correlation of mean confidence with recognition, and the overconfidence (points) on the
    clean set and on the test set where recognition is lowest."""
    if "mean_confidence" not in df:
        return pd.DataFrame()
    out = []
    for keys, g in df.groupby(RUN_KEYS + ["variant"]):
        worst = g.loc[g["recognition_rate"].idxmin()]
        clean = g[g["family"] == "clean"]
        spread = g["recognition_rate"].nunique() > 1 and g["mean_confidence"].nunique() > 1
        corr = g["mean_confidence"].corr(g["recognition_rate"]) if spread else float("nan")
        over_clean = (clean["mean_confidence"] - clean["recognition_rate"]).mean()
        out.append({
            **dict(zip(RUN_KEYS + ["variant"], keys, strict=True)),
            "test_sets": len(g),
            "corr_confidence_recognition": corr,
            "overconfidence_clean": 100.0 * float(over_clean),
            "worst_test_set": f"{worst['perturbation']}:{worst['severity']}",
            "recognition_worst": worst["recognition_rate"],
            "confidence_worst": worst["mean_confidence"],
            "overconfidence_worst": 100.0 * (worst["mean_confidence"] - worst["recognition_rate"]),
        })  # fmt: skip
    return pd.DataFrame(out)


@dataclass
class Report:
    tables: dict[str, pd.DataFrame]

    def markdown(self) -> str:
        parts = []
        for name, table in self.tables.items():
            if table.empty:
                continue
            parts.append(f"## {name}\n\n{table.to_markdown(index=False, floatfmt='.3f')}\n")
        return "\n".join(parts)

    def html(self, title: str, figures: list[Path], settings: dict | None = None) -> str:
        """One self-contained page: every table (sortable by a click on its header), the figures
        embedded as PNG data, and the run's settings and versions."""
        import base64
        import json
        from html import escape

        parts = [f"<h1>{escape(title)}</h1>"]
        for name, table in self.tables.items():
            if table.empty:
                continue
            body = table.to_html(index=False, float_format=lambda v: f"{v:.3f}", na_rep="", border=0,
                                 classes="sortable")  # fmt: skip
            parts.append(f"<section class='table'><h2>{escape(name)}</h2>{body}</section>")
        for path in map(Path, figures):
            data = base64.b64encode(path.read_bytes()).decode()
            name = escape(path.stem.replace("_", " "))
            parts.append(f"<figure><img alt='{name}' src='data:image/png;base64,{data}'>"
                         f"<figcaption>{name}</figcaption></figure>")  # fmt: skip
        if settings:
            text = escape(json.dumps(settings, indent=1, default=str))
            parts.append(f"<details open><summary>Settings and versions</summary><pre>{text}</pre></details>")
        return HTML_PAGE.format(title=escape(title), body="\n".join(parts))


#: the page around ``Report.html``: inline style and a small sorter, nothing fetched from elsewhere
HTML_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 1400px; padding: 0 1em; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; font-variant-numeric: tabular-nums; }}
th, td {{ padding: 0.2em 0.6em; border-bottom: 1px solid #ddd; text-align: right; }}
th {{ cursor: pointer; background: #f4f4f4; position: sticky; top: 0; }}
th.asc::after {{ content: " \\25B2"; }} th.desc::after {{ content: " \\25BC"; }}
figure img {{ max-width: 100%; }} pre {{ background: #f8f8f8; padding: 1em; overflow: auto; }}
</style></head><body>
{body}
<script>
document.querySelectorAll("table.sortable").forEach(function (table) {{
  table.querySelectorAll("thead th").forEach(function (th, col) {{
    th.addEventListener("click", function () {{
      var asc = !th.classList.contains("asc");
      table.querySelectorAll("thead th").forEach(function (h) {{ h.classList.remove("asc", "desc"); }});
      th.classList.add(asc ? "asc" : "desc");
      var body = table.tBodies[0], rows = Array.from(body.rows);
      rows.sort(function (a, b) {{
        var x = a.cells[col].textContent.trim(), y = b.cells[col].textContent.trim();
        var nx = parseFloat(x), ny = parseFloat(y);
        var cmp = (isNaN(nx) || isNaN(ny)) ? x.localeCompare(y) : nx - ny;
        return asc ? cmp : -cmp;
      }});
      rows.forEach(function (r) {{ body.appendChild(r); }});
    }});
  }});
}});
</script>
</body></html>
"""


def build_report(df: pd.DataFrame, baseline: str | None = None) -> Report:
    """Every table; each marks the breakers under ``CONVERGED`` clean recognition in ``status``."""
    baseline = baseline or sorted(df["model"].unique())[0]
    st = convergence(df)
    tables = {
        "Table I: clean recognition and breaking time": with_status(table_one(df), st),
        "Robustness: recognition by perturbation and severity (drop from clean, points)": robustness(df, st),
        "Cross-style transfer: recognition (rows train, columns test)": with_status(transfer_matrix(df), st),
        f"Corruption error relative to {baseline} (mCE): breakers not converged left out": (
            corruption_errors(df, baseline, st)
        ),
        "Synthetic-to-real gap": with_status(gap_table(df), st),
        "Calibration by severity: recognition, mean confidence, ECE (model and IS posterior)": (
            with_status(calibration_by_severity(df), st)
        ),
        "Posterior calibration: importance sampling on each test set's subset beside the arg-max": (
            with_status(posterior_calibration(df), st)
        ),
        "Confidence tracking: does confidence fall when recognition falls?": (
            with_status(confidence_tracking(df), st)
        ),
    }
    return Report(tables)


def slug(title: str) -> str:
    """A table's title as a file name."""
    return re.sub(r"[^a-z0-9]+", "_", title.lower().split(":")[0]).strip("_")


def write_report(folder: Path, baseline: str | None = None) -> tuple[Report, Path]:
    """Write ``folder/report/`` (markdown, a self-contained report.html, CSV per table, figures) from
    ``folder/cells.parquet``; built beside it and swapped in whole, so a report is never half-written."""
    import json
    import shutil

    from synthgap import versions
    from synthgap.io import atomic_dir

    df = load_cells(folder)
    rep = build_report(df, baseline)
    staged = folder / "report.new"
    if staged.exists():  # left by an interrupted report
        shutil.rmtree(staged)
    with atomic_dir(staged) as tmp:
        (tmp / "report.md").write_text(rep.markdown())
        for name, table in rep.tables.items():
            table.to_csv(tmp / f"{slug(name)}.csv", index=False)
        pngs = figures(df, tmp)
        settings = folder / "settings.json"
        (tmp / "report.html").write_text(rep.html(
            f"synthgap report: {folder.name}", pngs,
            {"settings": json.loads(settings.read_text()) if settings.is_file() else None,
             "versions": versions()},
        ))  # fmt: skip
    final = folder / "report"
    if final.exists():
        shutil.rmtree(final)
    staged.rename(final)
    return rep, final


def figures(df: pd.DataFrame, out: Path) -> list[Path]:
    """Severity curves per perturbation and a transfer heatmap, as PNGs in ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import seaborn as sns

    written = []
    curves = df[df["family"].isin(("clean",) + SEVERITY_FAMILIES)]
    if not curves.empty:
        clean = curves[curves["family"] == "clean"]
        perturbations = sorted(set(curves["perturbation"]) - {"clean"})
        frames = [curves[curves["perturbation"] == p] for p in perturbations]
        frames = [
            pd.concat([clean.assign(perturbation=p), f]) for p, f in zip(perturbations, frames, strict=True)
        ]
        data = pd.concat(frames) if frames else clean
        grid = sns.relplot(
            data=data, x="severity", y="recognition_rate", hue="model", style="variant", col="perturbation",
            row="style", kind="line", marker="o", height=2.6, aspect=1.2, facet_kws={"margin_titles": True},
        )  # fmt: skip
        grid.set(ylim=(-0.02, 1.02))
        path = out / "severity_curves.png"
        grid.figure.savefig(path, dpi=110)
        written.append(path)
    for column, name in (("reliability", "reliability.png"), ("is_reliability", "posterior_reliability.png")):
        if column in df and df[column].notna().any():
            path = out / name
            reliability_figure(df, column).savefig(path, dpi=110)
            written.append(path)
    if "is_coverage" in df and df["is_coverage"].notna().any():
        path = out / "posterior_coverage.png"
        coverage_figure(df).savefig(path, dpi=110)
        written.append(path)
    transfer = transfer_matrix(df)
    if not transfer.empty and transfer.shape[1] > 4:
        import matplotlib.pyplot as plt

        mat = transfer.set_index(["model", "variant", "style"])
        fig, ax = plt.subplots(figsize=(1.2 * mat.shape[1] + 3, 0.4 * len(mat) + 1.5))
        sns.heatmap(mat, annot=True, fmt=".2f", vmin=0, vmax=1, cmap="viridis", ax=ax)
        ax.set_title("recognition: trained on (rows) / tested on (columns)")
        fig.tight_layout()
        path = out / "transfer_heatmap.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


KINDS = {"clean": ("clean",), "perturbed": SEVERITY_FAMILIES, "transfer": ("transfer",), "real": ("real",)}


def reliability_figure(df: pd.DataFrame, column: str = "reliability"):
    """Reliability diagrams, one row per model and variant, one column per kind of test set
    (clean, perturbed, transfer, real), bins summed over cells: of the models' own confidence
    (``reliability``) or of the importance-sampled posterior's (``is_reliability``)."""
    import json

    from matplotlib.figure import Figure

    from synthgap.calibration import plot_reliability, table_from_counts

    cells = df[df[column].notna()]
    kinds = {k: v for k, v in KINDS.items() if cells["family"].isin(v).any()}
    groups = sorted(cells.groupby(["model", "variant"]).groups)
    fig = Figure(figsize=(3.2 * len(kinds), 3.6 * len(groups)), layout="constrained")
    panels = fig.subfigures(len(groups), len(kinds), squeeze=False)
    who = "posterior" if column.startswith("is_") else "network"
    for i, (model, variant) in enumerate(groups):
        for j, (kind, families) in enumerate(kinds.items()):
            sub = cells[
                (cells["model"] == model) & (cells["variant"] == variant) & cells["family"].isin(families)
            ]
            axes = panels[i][j].subplots(2, 1, sharex=True, height_ratios=(3, 1))
            if sub.empty:
                for ax in axes:
                    ax.set_axis_off()
                continue
            table = table_from_counts(json.loads(r) for r in sub[column])
            plot_reliability(table, f"{who}: {model} {variant}: {kind}", ax_pair=axes)
    return fig


def coverage_figure(df: pd.DataFrame):
    """Does the posterior stay calibrated under shift? Coverage of its credible sets against the
    nominal level, one panel per model and variant, a line per kind of test set."""
    import json

    from matplotlib.figure import Figure

    from synthgap.calibration import coverage_table, plot_coverage

    cells = df[df["is_coverage"].notna()]
    groups = sorted(cells.groupby(["model", "variant"]).groups)
    fig = Figure(figsize=(3.8 * len(groups), 3.8), layout="constrained")
    axes = fig.subplots(1, len(groups), squeeze=False)[0]
    for ax, (model, variant) in zip(axes, groups, strict=True):
        sub = cells[(cells["model"] == model) & (cells["variant"] == variant)]
        tables = {
            kind: coverage_table(json.loads(r) for r in sub.loc[sub["family"].isin(families), "is_coverage"])
            for kind, families in KINDS.items()
            if sub["family"].isin(families).any()
        }
        plot_coverage(tables, f"posterior: {model} {variant}", ax=ax)
    return fig
