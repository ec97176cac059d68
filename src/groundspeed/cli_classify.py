"""``groundspeed eval classify``: how well posts are classified, on a labelled crisis dataset.

:data:`classify_eval_command` is registered into the ``eval`` group by the main command line.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from .errors import GroundspeedError
from .evaluation.classify import DATASETS, evaluate


@click.command("classify")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--dataset",
    type=click.Choice(sorted(DATASETS)),
    required=True,
    help="How DIRECTORY is laid out (the matching folder of the shared development data).",
)
def classify_eval_command(directory: Path, dataset: str) -> None:
    """How well the shipped classifier labels posts of past crises.

    Scores every post of DIRECTORY with the model that comes with groundspeed (nothing is trained or
    tuned on DIRECTORY) and compares with the dataset's own labels. Prints one JSON object:

    \b
      crisislex-t26  informativeness_auc, eyewitness_f1, eyewitness_auc, info_type_macro_f1
      humaid         macro_f1, weighted_f1
      trecis         first_party_f1, macro_f1
      kawarith       macro_f1 (Arabic)

    each with per_event. Example:

    \b
        groundspeed eval classify --dataset humaid shared/data > humaid.json
    """
    started = time.perf_counter()
    try:
        report = evaluate(dataset, directory)
    except GroundspeedError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"scored {report['n']:,d} posts in {time.perf_counter() - started:.1f} s", err=True)
    click.echo(json.dumps(report, ensure_ascii=False, indent=2))
