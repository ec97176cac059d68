"""The understanding stage end to end with the shipped models: imports fill it, the commands
report it, the filters use it, and ``annotate`` labels any file, reporting unreadable rows."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from groundspeed.cli import cli
from groundspeed.understand.classify import INFO_TYPES

# Written for this test (not real posts).
POSTS = [
    ("I can see smoke from my window, the roof of the school next door just collapsed", "en"),
    ("Thoughts and prayers for everyone affected by the earthquake", "en"),
    ("انفجار شدید در میدان آزادی تهران، صدای آژیر می‌آید", "fa"),
    ("الله يرحم الضحايا، نسأل الله السلامة للجميع", "ar"),
    ("emshab sedaye tir az samte daneshgah miad", "en"),
]


def tweets_file(path: Path) -> Path:
    lines = []
    for number, (text, lang) in enumerate(POSTS, 1):
        lines.append(
            json.dumps(
                {
                    "id_str": str(1_800_000_000_000_000_000 + number),
                    "created_at": f"Wed May 07 10:0{number}:00 +0000 2031",
                    "text": text,
                    "lang": lang,
                    "user": {"id_str": str(number), "screen_name": f"user{number}", "location": "Tehran, Iran"},
                    "entities": {"hashtags": [], "urls": [], "user_mentions": []},
                },
                ensure_ascii=False,
            )
        )
    retweet = json.loads(lines[2])
    lines.append(
        json.dumps(
            {
                **retweet,
                "id_str": "1800000000000000099",
                "text": "RT @user3: " + retweet["text"],
                "retweeted_status": json.loads(lines[2]),
                "user": {"id_str": "99", "screen_name": "amplifier"},
            },
            ensure_ascii=False,
        )
    )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_an_import_understands_every_post_and_filters_use_it(tmp_path: Path) -> None:
    runner = CliRunner()
    data = str(tmp_path / "data")
    result = runner.invoke(cli, ["--data", data, "import", str(tweets_file(tmp_path / "posts.jsonl"))])
    assert result.exit_code == 0, result.output
    stats = json.loads(runner.invoke(cli, ["--data", data, "stats", "--json"]).stdout)
    insights = stats["insights"]
    assert insights["understood"] == stats["posts"] == 6
    assert set(insights["by_info_type"]) <= set(INFO_TYPES)
    detected = insights["by_detected_language"]
    assert detected.get("fa", 0) >= 2 and detected.get("ar", 0) == 1  # the retweet counts as Persian
    assert detected.get("fa-Latn", 0) == 1  # Finglish, though the platform said en
    # --lang uses the detected language: the Finglish post is not English.
    english = runner.invoke(cli, ["--data", data, "search", "sedaye", "--lang", "en", "-o", "jsonl"])
    assert english.exit_code == 0 and english.stdout == ""
    finglish = runner.invoke(cli, ["--data", data, "search", "sedaye", "--lang", "fa-Latn", "-o", "jsonl"])
    assert len(finglish.stdout.splitlines()) == 1
    # The retweet took its original's place and type.
    placed = runner.invoke(cli, ["--data", data, "export", "--place", "Tehran", "-f", "jsonl"])
    assert placed.exit_code == 0, placed.output
    uids = {json.loads(line)["uid"] for line in placed.stdout.splitlines()}
    assert {"x:1800000000000000003", "x:1800000000000000099"} <= uids
    again = runner.invoke(cli, ["--data", data, "understand", "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["done"] == 0  # nothing new
    redo = runner.invoke(cli, ["--data", data, "understand", "--again", "--json"])
    assert json.loads(redo.stdout)["done"] == 6


def test_annotate_labels_csv_and_jsonl_and_reports_unreadable_rows(tmp_path: Path) -> None:
    csv_file = tmp_path / "posts.csv"
    csv_file.write_text(
        "tweet_id,text\n" + "".join(f'{n},"{text}"\n' for n, (text, _) in enumerate(POSTS, 1)), encoding="utf-8"
    )
    runner = CliRunner()
    out = tmp_path / "labels.jsonl"
    result = runner.invoke(cli, ["annotate", str(csv_file), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [row["id"] for row in rows] == ["1", "2", "3", "4", "5"]
    for row in rows:
        assert 0.0 <= row["informative"] <= 1.0 and 0.0 <= row["eyewitness"] <= 1.0
        assert abs(sum(row["info_types"].values()) - 1.0) < 0.01
        assert row["info_type"] in INFO_TYPES
    assert rows[2]["language"] == "fa" and rows[3]["language"] == "ar"
    tehran = [place for place in rows[2]["places"] if place["name"] == "Tehran"]
    assert tehran and POSTS[2][0][tehran[0]["start"] : tehran[0]["end"]] == tehran[0]["text"]

    jsonl = tmp_path / "posts.jsonl"
    jsonl.write_text('{"id": "a", "body": "flood in the valley"}\nnot json\n{"id": "b"}\n', encoding="utf-8")
    result = runner.invoke(cli, ["annotate", str(jsonl), "--text-column", "body"])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["a"]
    assert f"{jsonl}:2: not valid JSON" in result.stderr
    assert f"{jsonl}:3: no text in column 'body'" in result.stderr
    assert "2 rows could not be read" in result.stderr


def test_annotate_names_the_missing_column(tmp_path: Path) -> None:
    csv_file = tmp_path / "posts.csv"
    csv_file.write_text("id,message\n1,hello\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["annotate", str(csv_file)])
    assert result.exit_code == 1
    assert "no column 'text' (the columns are: id, message)" in result.stderr
