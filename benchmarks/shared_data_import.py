"""Import every real payload under ../shared/data/formats and the CrisisLexT26 stream CSVs.

    .venv/bin/python benchmarks/shared_data_import.py [--data-root ../shared/data] [--markdown]

Each file goes through `Workspace.import_file` with --format auto into one fresh workspace (so
"already stored" counts posts collapsed across files, e.g. a labelled CSV and its stream). Files
that are not posts at all (READMEs, licences, YAML cassettes) are reported with the error that the
importer gives. Prints one row per file and the totals.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

from groundspeed.errors import GroundspeedError
from groundspeed.workspace import Workspace

SKIP_SUFFIXES = {".md", ".txt", ".yaml", ".py", ".markdown"}


def candidate_files(root: Path) -> list[Path]:
    formats = sorted(p for p in (root / "formats").rglob("*") if p.is_file() and not p.name.startswith("LICENSE"))
    streams = sorted((root / "crisislex_t26_streams" / "original").rglob("*.csv"))
    return formats + streams


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    root = args.data_root
    work = Path(tempfile.mkdtemp(prefix="gs-shared-"))
    totals: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    rows = []
    started = time.perf_counter()
    try:
        with Workspace(work / "data", fsync=False) as workspace:
            for path in candidate_files(root):
                relative = path.relative_to(root)
                if path.suffix.lower() in SKIP_SUFFIXES:
                    rows.append((str(relative), "-", 0, 0, 0, 0, 0, "documentation, not data"))
                    totals["not data"] += 1
                    continue
                try:
                    report = workspace.import_file(path)
                except GroundspeedError as exc:
                    rows.append((str(relative), "error", 0, 0, 0, 0, 0, str(exc).replace(str(path), "FILE")[:110]))
                    totals["files refused"] += 1
                    continue
                totals["files"] += 1
                for key in ("records", "new", "duplicates", "quarantined", "skipped"):
                    totals[key] += getattr(report, key)
                reasons.update(report.quarantine_reasons)
                skipped.update(report.skipped_reasons)
                note = "; ".join(f"{n}× {r}" for r, n in report.quarantine_reasons.most_common(2))
                rows.append(
                    (
                        str(relative),
                        report.format,
                        report.records,
                        report.new,
                        report.duplicates,
                        report.quarantined,
                        report.skipped,
                        note,
                    )
                )
            integrity = workspace.store().integrity_problems()
            collapsed = workspace.store().collapse_summary()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.markdown:
        print("| file | format | records | new posts | already stored | quarantined | not posts | note |")
        print("|---|---|---|---|---|---|---|---|")
        for row in rows:
            print("| " + " | ".join(str(cell) for cell in row) + " |")
    else:
        for row in rows:
            print("\t".join(str(cell) for cell in row))
    print()
    print(
        f"files imported: {totals['files']}, refused: {totals['files refused']}, documentation skipped: {totals['not data']}"
    )
    print(
        f"records {totals['records']:,} → new posts {totals['new']:,}, already stored (collapsed) {totals['duplicates']:,}, quarantined {totals['quarantined']:,}, not posts {totals['skipped']:,}"
    )
    print("quarantine reasons: " + "; ".join(f"{n}× {r}" for r, n in reasons.most_common()))
    print("not-post reasons: " + "; ".join(f"{n}× {r}" for r, n in skipped.most_common(12)))
    print(
        f"one post per message: {collapsed['canonical']:,} of {collapsed['posts']:,} "
        f"({collapsed['share_collapsed']:.1%} collapsed: {collapsed['reposts']:,} reposts, "
        f"{collapsed['near_copies']:,} near-copies)"
    )
    print(f"database integrity problems: {integrity or 'none'}; {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
