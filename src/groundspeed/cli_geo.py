"""``groundspeed eval geo``: how well places named in posts are found and placed.

The command object :data:`geo_eval_command` is registered into the ``eval`` group by the main
command line. The report goes to standard output as one JSON object; messages to standard error.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from . import __version__
from .errors import GroundspeedError
from .evaluation.geo import evaluate_idrisi, evaluate_parstwiner

DATASETS = ("idrisi", "parstwiner")


@click.command("geo", context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--dataset",
    type=click.Choice(DATASETS),
    default="idrisi",
    show_default=True,
    help="How PATH is laid out: an IDRISI folder or a ParsTwiNER CoNLL file.",
)
@click.option("--split", default=None, help="IDRISI only: evaluate only rows of this split (train, dev). Default: all.")
def geo_eval_command(path: Path, dataset: str, split: str | None) -> None:
    """How well place names in posts are found (English, Arabic, Persian) and placed on the map.

    \b
      - idrisi: PATH is a folder with mentions_gold.csv and geocoded_mentions.csv (English and
        Arabic tweets). Reports mention_f1 (exact spans; also per language and per event),
        acc_161km (share of gold places put within 161 km) and median_error_km.
      - parstwiner: PATH is a CoNLL file of Persian tweets (token TAB tag). Reports
        mention_precision, mention_recall and mention_f1 for LOC spans.

    Only the gazetteer shipped with groundspeed is used; nothing is learned from PATH. Example:

    \b
        groundspeed eval geo --dataset idrisi shared/data/idrisi > geo.json
    """
    began = time.monotonic()
    try:
        if dataset == "idrisi":
            if not path.is_dir():
                raise click.BadParameter(f"{path} is a file; the idrisi dataset is a folder", param_hint="PATH")
            report = evaluate_idrisi(path, split=split)
        else:
            if not path.is_file():
                raise click.BadParameter(f"{path} is a folder; give the CoNLL file itself", param_hint="PATH")
            if split is not None:
                click.echo("--split is for idrisi only; the whole file is used", err=True)
            report = evaluate_parstwiner(path)
    except GroundspeedError as exc:
        raise click.ClickException(str(exc)) from None
    report = {
        "path": str(path),
        "software": f"groundspeed {__version__}",
        **report,
        "seconds": round(time.monotonic() - began, 1),
    }
    click.echo(json.dumps(report, ensure_ascii=False))
