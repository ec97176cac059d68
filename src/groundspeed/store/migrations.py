"""Schema migrations for the SQLite store, applied in order and recorded in ``schema_migrations``.

Add a migration by appending to ``MIGRATIONS``; never edit one that has shipped. Table and column
names are meant to be read by people opening the file in Datasette or sqlite-utils.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "posts, full-text index, quarantine, imports, spool position",
        """
        CREATE TABLE posts (
            id INTEGER PRIMARY KEY,
            uid TEXT NOT NULL UNIQUE,              -- platform:native_id
            platform TEXT NOT NULL,
            native_id TEXT NOT NULL,
            kind TEXT NOT NULL,                    -- original, repost, reply, quote
            url TEXT,
            created_at TEXT,                       -- event time, UTC, ISO 8601 (sorts as text)
            collected_at TEXT NOT NULL,            -- when groundspeed received it
            text TEXT,                             -- normalised, what search and rules see
            original_text TEXT,                    -- readable, as posted
            lang TEXT,                             -- as the platform gave it
            author_id TEXT,
            author_handle TEXT,
            author_name TEXT,
            author_followers INTEGER,
            reposted_uid TEXT,
            quoted_uid TEXT,
            replied_to_uid TEXT,
            hashtags TEXT,                         -- JSON array
            lat REAL,
            lon REAL,
            place_name TEXT,
            source TEXT NOT NULL,                  -- file or stream it came from
            spool_seq INTEGER,                     -- record number of the raw payload in the spool
            -- Everything else, as one JSON object (see groundspeed.store.rows.PostDetails):
            -- time source, author verified/location, thread root, mentions, urls, media,
            -- geo precision/source/country/bbox, metrics, provenance, annotations, raw locator.
            -- Kept in one column because binding each value separately doubled insert cost.
            details TEXT NOT NULL
        );
        CREATE INDEX posts_created_at ON posts(created_at);
        CREATE INDEX posts_platform_created_at ON posts(platform, created_at);
        -- Authors are looked up by handle. No index on author_id: ids are random keys, whose index
        -- inserts cost ~1 s per 200k posts imported, and nothing filters on them yet.
        CREATE INDEX posts_author_handle ON posts(author_handle);
        CREATE INDEX posts_lang ON posts(lang);
        CREATE INDEX posts_reposted_uid ON posts(reposted_uid) WHERE reposted_uid IS NOT NULL;

        -- New posts are added to the index by the store in one statement per batch (an insert
        -- trigger measured 5x slower); deletes keep the index in step through this trigger.
        CREATE VIRTUAL TABLE posts_fts USING fts5(
            text, content="posts", content_rowid="id", tokenize='unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER posts_fts_delete AFTER DELETE ON posts BEGIN
            INSERT INTO posts_fts(posts_fts, rowid, text) VALUES ('delete', old.id, old.text);
        END;

        CREATE TABLE quarantine (
            id INTEGER PRIMARY KEY,
            recorded_at TEXT NOT NULL,
            source TEXT NOT NULL,
            locator TEXT NOT NULL,                 -- file:line, or stream offset
            path TEXT NOT NULL DEFAULT '',         -- where inside the record ('' = the whole record)
            reason TEXT NOT NULL,
            excerpt TEXT,
            spool_seq INTEGER
        );
        CREATE UNIQUE INDEX quarantine_once ON quarantine(source, locator, path, reason);

        CREATE TABLE skipped_records (           -- valid records that are not posts, counted
            source TEXT NOT NULL,
            reason TEXT NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (source, reason)
        );

        CREATE TABLE imports (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL,
            format TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL,                  -- running, done, failed, already imported
            records INTEGER NOT NULL DEFAULT 0,
            posts_new INTEGER NOT NULL DEFAULT 0,
            duplicates INTEGER NOT NULL DEFAULT 0,
            quarantined INTEGER NOT NULL DEFAULT 0,
            skipped INTEGER NOT NULL DEFAULT 0,
            message TEXT
        );

        CREATE TABLE spool_position (
            spool TEXT PRIMARY KEY,
            next_seq INTEGER NOT NULL
        );
        """,
    ),
    (
        2,
        "tracking: tracker matches, near-copies, amplification, timelines, peaks",
        """
        -- The first post with the same message (a near-copy: the same text with other hashtags,
        -- links or mentions, or a copy-paste campaign). Reposts point to theirs by reposted_uid.
        ALTER TABLE posts ADD COLUMN near_copy_of TEXT;
        -- 1 for a post that is neither a repost nor a near-copy: what "canonical posts only" shows.
        ALTER TABLE posts ADD COLUMN canonical INTEGER
            GENERATED ALWAYS AS (kind != 'repost' AND near_copy_of IS NULL) VIRTUAL;
        CREATE INDEX posts_near_copy_of ON posts(near_copy_of) WHERE near_copy_of IS NOT NULL;

        -- Which trackers hold a post, and by which rules (one row per rule that matched).
        CREATE TABLE post_matches (
            tracker TEXT NOT NULL,
            post_id INTEGER NOT NULL,              -- posts.id
            rule TEXT NOT NULL,                    -- e.g. keyword:موسوی, hashtag:iranelection
            PRIMARY KEY (tracker, post_id, rule)
        ) WITHOUT ROWID;
        CREATE INDEX post_matches_post ON post_matches(post_id);
        CREATE TRIGGER posts_matches_delete AFTER DELETE ON posts BEGIN
            DELETE FROM post_matches WHERE post_id = old.id;
        END;

        -- How often a post was amplified: reposts of it, near-copies of it, first and last time.
        -- Who amplified it: the posts whose reposted_uid or near_copy_of is its uid.
        CREATE TABLE amplification (
            uid TEXT PRIMARY KEY,
            reposts INTEGER NOT NULL DEFAULT 0,
            copies INTEGER NOT NULL DEFAULT 0,
            first_at TEXT,
            last_at TEXT
        ) WITHOUT ROWID;

        -- Posts per minute in each series (all, platform:x, lang:fa, place:..., hashtag:...,
        -- tracker:NAME, rule:NAME/RULE); hours and days are sums of minutes. See
        -- groundspeed.track.series.
        CREATE TABLE timeline (
            series TEXT NOT NULL,
            minute TEXT NOT NULL,                  -- UTC, 2022-09-16T18:04
            posts INTEGER NOT NULL,
            canonical INTEGER NOT NULL,            -- of which neither reposts nor near-copies
            PRIMARY KEY (series, minute)
        ) WITHOUT ROWID;

        -- Bursts found in the timelines, with when they were raised and why.
        CREATE TABLE peaks (
            id INTEGER PRIMARY KEY,
            series TEXT NOT NULL,
            bin_minutes INTEGER NOT NULL,
            start_at TEXT NOT NULL,                -- first bin of the burst, UTC
            peak_at TEXT NOT NULL,                 -- its busiest bin
            end_at TEXT,                           -- NULL while it goes on
            raised_at TEXT NOT NULL,               -- event time at which it was raised
            posts INTEGER NOT NULL,                -- in the burst
            peak_posts INTEGER NOT NULL,
            baseline REAL NOT NULL,                -- posts per bin expected
            score REAL NOT NULL,
            explanation TEXT,                      -- JSON: terms, hashtags, links, places, posts
            detected_at TEXT NOT NULL,             -- wall-clock time it was recorded
            UNIQUE (series, bin_minutes, start_at)
        );

        -- Saved state of the tracking stages (the near-copy index), so a restart goes on.
        CREATE TABLE tracking_state (
            name TEXT PRIMARY KEY,
            value BLOB NOT NULL,
            spool_position INTEGER,
            saved_at TEXT NOT NULL
        );
        """,
    ),
    (
        3,
        "stories: canonical posts grouped into stories, and analysts' merges and splits",
        """
        -- A story: canonical posts about the same thing (see groundspeed.track.stories).
        CREATE TABLE stories (
            id INTEGER PRIMARY KEY,                -- the detector's story number
            first_post_id INTEGER NOT NULL,        -- posts.id of the post that started it
            novelty REAL,                          -- how new that first post looked (0..1)
            representative_post_id INTEGER,        -- the most amplified post of the story
            posts INTEGER NOT NULL,                -- canonical posts in the story
            authors INTEGER NOT NULL,              -- distinct authors of those posts
            amplifications INTEGER NOT NULL,       -- reposts and near-copies of them
            first_at TEXT,
            last_at TEXT,
            status TEXT NOT NULL,                  -- new, growing, steady, fading
            terms TEXT,                            -- JSON: its most frequent words
            languages TEXT,                        -- JSON: {language: posts}
            places TEXT,                           -- JSON: {place: posts}
            platforms TEXT,                        -- JSON: {platform: posts}
            trackers TEXT,                         -- JSON: {tracker: posts}
            updated_at TEXT NOT NULL
        );
        CREATE INDEX stories_last_at ON stories(last_at);

        -- Which story each canonical post is in; new = 1 for the post that started a story.
        CREATE TABLE post_stories (
            post_id INTEGER PRIMARY KEY,
            story_id INTEGER NOT NULL,
            new INTEGER NOT NULL,
            novelty REAL
        );
        CREATE INDEX post_stories_story ON post_stories(story_id);

        -- An analyst's merges and splits, by post uid so they survive reprocessing.
        CREATE TABLE story_edits (
            id INTEGER PRIMARY KEY,
            action TEXT NOT NULL,                  -- merge: the stories of these posts are one;
                                                   -- split: these posts are a story of their own
            post_uids TEXT NOT NULL,               -- JSON list
            made_at TEXT NOT NULL
        );
        """,
    ),
    (
        4,
        "insights: each post's language, information type, first-hand score and place",
        """
        -- What the understanding stage made of a post (see groundspeed.understand.insights).
        -- A repost whose original is stored inherits the original's row (inherited_from).
        CREATE TABLE post_insights (
            post_id INTEGER PRIMARY KEY,           -- posts.id
            language TEXT,                         -- fa, ar, en, fa-Latn ...; NULL when unsure
            language_confidence REAL NOT NULL,
            language_source TEXT NOT NULL,         -- platform, model or script
            informative REAL,                      -- probability the post is useful for the crisis
            is_informative INTEGER,                -- above the shipped model's threshold
            eyewitness REAL,                       -- probability it is a first-hand report
            is_eyewitness INTEGER,
            info_type TEXT,                        -- the most likely information type
            info_types TEXT,                       -- JSON: {type: probability}
            place_name TEXT,                       -- where the post is about or from, best answer
            place_lat REAL,
            place_lon REAL,
            place_country TEXT,
            place_precision TEXT,                  -- point, city, province, country ...
            place_source TEXT,                     -- geotag, place, text or profile
            place_confidence REAL,
            mentions TEXT,                         -- JSON: places named in the text
            inherited_from INTEGER,                -- posts.id of the original a repost took this from
            models TEXT NOT NULL                   -- which models made it
        );
        CREATE INDEX post_insights_info_type ON post_insights(info_type);
        CREATE INDEX post_insights_language ON post_insights(language);
        CREATE TRIGGER posts_insights_delete AFTER DELETE ON posts BEGIN
            DELETE FROM post_insights WHERE post_id = old.id;
        END;
        """,
    ),
]
