"""``groundspeed understand`` and ``groundspeed annotate``: what each post is, and where.

``understand`` runs the understanding stage over the data folder (imports run it too);
``annotate`` runs the same models over any CSV or JSON-lines file of texts, without a data folder,
so that outside scorers can check the predictions.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import click
import msgspec

from .cli_peaks import err, out, workspace_for
from .errors import GroundspeedError
from .understand.classify import INFO_TYPES
from .understand.insights import Insight, Understanding, mention_record

_BATCH = 1000
_ID_COLUMNS = ("id", "tweet_id", "post_id", "uid", "message_id", "unit_id")


@click.command()
@click.option("--again", is_flag=True, help="Work out every post again, not only the new ones.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON for scripts.")
@click.pass_context
def understand(ctx: click.Context, again: bool, as_json: bool) -> None:
    """Work out, for every stored post, its language, the type of information it gives, whether
    it is a first-hand report, and where it is about.

    Imports do this by themselves; run it to catch up, or with --again after changing models.
    Then choose posts with these options of search, export and stats: --lang, --type,
    --eyewitness, --informative, --place.

    Types of information:"""
    from .cli import print_insights

    try:
        with workspace_for(ctx) as workspace:
            store = workspace.store()
            if again:
                from .understand.insights import Understanding

                stage = workspace.understanding = workspace.understanding or Understanding()
                store.reset_insights(stage.models)
            done = workspace.update_insights()
            summary = store.insight_summary()
    except GroundspeedError as exc:
        err.print(f"Error: {exc}")
        raise SystemExit(1) from exc
    if as_json:
        out.print_json(json.dumps({"done": done, **summary}, ensure_ascii=False))
        return
    err.print(f"{done:,} posts worked out now.")
    if summary["understood"]:
        print_insights(summary)


assert understand.help is not None
understand.help += ", ".join(INFO_TYPES) + "."


@dataclass(slots=True)
class _Row:
    line: int
    id: str
    text: str
    lang: str | None


def _rows(
    path: Path, stream: IO[str], text_column: str, id_column: str | None, lang_column: str | None
) -> Iterator[_Row | str]:
    """The rows of a CSV or JSON-lines file, or for a row that cannot be used, why (with file:line)."""
    is_json = path.suffix.lower() in (".jsonl", ".json", ".ndjson") or stream.read(512).lstrip()[:1] == "{"
    stream.seek(0)
    if is_json:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                record = msgspec.json.decode(line)
            except msgspec.DecodeError as exc:
                yield f"{path}:{number}: not valid JSON ({exc})"
                continue
            if not isinstance(record, dict):
                yield f"{path}:{number}: not a JSON object"
                continue
            yield _row(path, number, record, text_column, id_column, lang_column)
        return
    csv.field_size_limit(sys.maxsize)
    reader = csv.DictReader(stream)
    if reader.fieldnames is None or text_column not in reader.fieldnames:
        columns = ", ".join(reader.fieldnames or [])
        msg = f"{path}: no column {text_column!r} (the columns are: {columns}); choose one with --text-column"
        raise GroundspeedError(msg)
    for record in reader:
        yield _row(path, reader.line_num, record, text_column, id_column, lang_column)


def _row(
    path: Path, number: int, record: dict[str, Any], text_column: str, id_column: str | None, lang_column: str | None
) -> _Row | str:
    text = record.get(text_column)
    if not isinstance(text, str):
        return f"{path}:{number}: no text in column {text_column!r}"
    if id_column is not None:
        identifier = record.get(id_column)
    else:
        identifier = next((record[column] for column in _ID_COLUMNS if record.get(column) not in (None, "")), None)
    lang = record.get(lang_column) if lang_column else None
    return _Row(
        line=number,
        id=str(identifier) if identifier not in (None, "") else str(number),
        text=text,
        lang=lang if isinstance(lang, str) and lang else None,
    )


def _annotation(row: _Row, insight: Insight) -> dict[str, Any]:
    guess = insight.language
    classification = insight.classification
    place = insight.placement
    return {
        "id": row.id,
        "line": row.line,
        "language": guess.lang,
        "language_confidence": round(guess.confidence, 3),
        "informative": round(classification.informative, 4),
        "is_informative": insight.is_informative,
        "eyewitness": round(classification.eyewitness, 4),
        "is_eyewitness": insight.is_eyewitness,
        "info_type": classification.info_type,
        "info_types": {label: round(p, 4) for label, p in classification.info_types.items()},
        "places": [{**mention_record(mention), "source": "text"} for mention in insight.mentions],
        "place": None
        if place is None
        else {
            "name": place.name,
            "lat": place.lat,
            "lon": place.lon,
            "country_code": place.country_code,
            "precision": place.precision,
            "source": place.source,
            "confidence": round(place.confidence, 3),
        },
    }


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--text-column", default="text", show_default=True, help="The column (or JSON field) with the text.")
@click.option("--id-column", help="The column with each row's id (default: id, tweet_id, ... or the line number).")
@click.option("--lang-column", help="A column with the platform's language tag, if the file has one.")
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the JSON lines here (default: standard output).",
)
def annotate(
    file: Path, text_column: str, id_column: str | None, lang_column: str | None, out_path: Path | None
) -> None:
    """Label every text of a CSV or JSON-lines FILE: language, informative, first-hand, type of
    information and places named, one JSON line per row.

    Uses only the models shipped with groundspeed; nothing is stored. Rows that cannot be read are
    reported on the screen with their line number and counted, and the rest go on.
    """
    stage = Understanding()
    written = problems = 0
    target: IO[str] = out_path.open("w", encoding="utf-8") if out_path else sys.stdout
    try:
        with file.open(encoding="utf-8-sig", newline="") as stream:
            batch: list[_Row] = []

            def flush(rows: Sequence[_Row]) -> int:
                insights = stage.understand_texts([row.text for row in rows], [row.lang for row in rows])
                for row, insight in zip(rows, insights, strict=True):
                    target.write(json.dumps(_annotation(row, insight), ensure_ascii=False) + "\n")
                return len(rows)

            for item in _rows(file, stream, text_column, id_column, lang_column):
                if isinstance(item, str):
                    problems += 1
                    click.echo(item, err=True)  # whole, unwrapped: file:line and why
                    continue
                batch.append(item)
                if len(batch) >= _BATCH:
                    written += flush(batch)
                    batch = []
            if batch:
                written += flush(batch)
    except GroundspeedError as exc:
        err.print(f"Error: {exc}")
        raise SystemExit(1) from exc
    except UnicodeDecodeError as exc:
        err.print(f"Error: {file} is not UTF-8 text ({exc})")
        raise SystemExit(1) from exc
    finally:
        if out_path:
            target.close()
    err.print(
        f"{written:,} rows labelled" + (f", {problems:,} rows could not be read (listed above)" if problems else "")
    )
