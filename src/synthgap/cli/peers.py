"""``synthgap peers | eval-peer``: list the off-the-shelf solvers, score one on a real folder."""

from __future__ import annotations

from pathlib import Path

import click

from synthgap.cli import cli
from synthgap.cli.train import look_seed_option, skip_look_option
from synthgap.errors import UsageError


@cli.command()
def peers() -> None:
    """List the peers (off-the-shelf solvers) and whether each is installed here."""
    from synthgap.peers import PEERS, list_peers

    for name in list_peers():
        missing = PEERS.entry(name).factory.missing()
        click.echo(f"{name}: {'ok' if missing is None else missing}")


@cli.command("eval-peer")
@click.argument("name")
@click.option("--real", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True,
              help="Folder of real labelled captchas (label = file name).")  # fmt: skip
@click.option("--style", help="Hold labels to this style's charset, lengths and case rule (and score by it).")
@click.option("--charset", help="Symbols the peer may output (default: all it knows, zero-shot).")
@click.option("--restrict", is_flag=True, help="With --style: restrict the peer to the style's charset.")
@click.option("--case-sensitive", is_flag=True, help="Without --style: score case-sensitively.")
@click.option("--strict", is_flag=True, help="An unreadable file or a label outside the style is an error.")
@skip_look_option
@look_seed_option
@click.option("--no-timing", is_flag=True, help="Skip the breaking-time measurement.")
@click.option("--predictions", is_flag=True, help="Also write the per-captcha predictions CSV.")
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Folder for <tag>.json (+ .csv)."
)
def eval_peer(name, real, style, charset, restrict, case_sensitive, strict, skip_look, look_seed, no_timing,
              predictions, out):  # fmt: skip
    """Score peer NAME on a real folder: recognition, character accuracy, breaking time."""
    from synthgap.models.evaluation import evaluate, write_report
    from synthgap.peers import create_peer
    from synthgap.testsets import Real

    if restrict and style is None:
        raise UsageError("restrict: needs --style", field="restrict")
    if restrict and charset is not None:
        raise UsageError("give at most one of --charset and --restrict", field="charset")
    if style is not None and case_sensitive:
        raise UsageError("case-sensitive: --style sets the case rule", field="case-sensitive")
    look = {"strict": strict, "skip_look": skip_look, "look_seed": look_seed}
    spec = Real.for_style(real, style, **look) if style else Real(real, case_sensitive=case_sensitive, **look)
    if restrict:
        charset = spec.charset
    peer = create_peer(name, charset=charset)
    test = spec.build()
    tag = f"{peer.name}-{'restricted' if charset else 'open'}-{spec.name.removeprefix('real-')}"
    result = evaluate(peer, test.images, test.texts, test.case_sensitive, timing=not no_timing, progress=True)
    rows = result.pop("predictions")
    report = {"tag": tag, **peer.config(), **spec.record(), "style": style, "skipped": test.skipped, **result}
    line = (f"{tag}: recognition {result['recognition_rate']:.4f}, char accuracy "
            f"{result['char_accuracy']:.4f} on {result['n']} captchas")  # fmt: skip
    if not no_timing:
        line += f", {result['ms_per_captcha_batch1']:.1f} ms/captcha"
    click.echo(line)
    if out is not None:
        write_report(out, tag, report, rows if predictions else None)
        click.echo(f"wrote {out / (tag + '.json')}")
