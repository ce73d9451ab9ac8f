//! `strata similar` on a synthetic catalogue: the exact duplicate comes first,
//! popularity never changes the neighbours, and names that are ambiguous or
//! unknown get clear messages.

use std::path::Path;

mod common;

fn write_catalogue(dir: &Path, popularity_offset: u64) {
    let mut csv =
        String::from("track_id,track_name,track_artist,playlist_genre,track_popularity,a,b,c\n");
    for i in 0..120u64 {
        let name = match i {
            7 | 8 => "Twin".to_string(),
            _ => format!("Song {i}"),
        };
        // Row 42 repeats the audio features of row 5 exactly.
        let k = if i == 42 { 5 } else { i };
        let f = |m: u64| ((k * m + 11) % 97) as f64 / 10.0;
        let pop = (i * 37 + popularity_offset) % 101;
        csv.push_str(&format!(
            "id{i},{name},Artist {},g{},{pop},{},{},{}\n",
            i % 9,
            i % 4,
            f(13),
            f(29),
            f(53)
        ));
    }
    std::fs::write(dir.join("songs.csv"), &csv).expect("csv");
    std::fs::write(
        dir.join("songs.toml"),
        format!(
            "noun = [\"song\", \"songs\"]\n[source]\nfile = \"songs.csv\"\nsha256 = \"{}\"\n[columns]\nid = \"track_id\"\n\
             metadata = [\"track_name\", \"track_artist\", \"playlist_genre\", \"track_popularity\"]\n{DISPLAY}",
            strata_data::locate::sha256_bytes(csv.as_bytes())
        ),
    )
    .expect("descriptor");
    std::fs::write(
        dir.join("exp.toml"),
        "dataset = \"songs.toml\"\nseed = 1\n[[clusterer]]\nalgorithm = \"kmeans\"\nk = [2, 3]\n[evaluation]\nstability_resamples = 0\n",
    )
    .expect("manifest");
}

/// What the catalogue's descriptor says `strata similar` shows.
const DISPLAY: &str = "[display]\nname = \"track_name\"\nby = \"track_artist\"\ngroup = \"playlist_genre\"\npopularity = \"track_popularity\"\n";

fn strata(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = common::strata_command(dir, args)
        .output()
        .expect("run strata");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn neighbours(dir: &Path, query: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "similar",
        query,
        "-n",
        "6",
        "--experiment",
        "exp.toml",
        "--out",
        "res",
        "--data-dir",
        ".",
    ];
    args.extend_from_slice(extra);
    let (ok, out, err) = strata(dir, &args);
    assert!(ok, "{err}");
    common::ranked_ids(&out)
}

#[test]
fn duplicate_first_and_popularity_never_matters() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    write_catalogue(dir, 0);
    let (ok, _, err) = strata(
        dir,
        &[
            "run",
            "exp.toml",
            "--data-dir",
            ".",
            "--out",
            "res",
            "--quiet",
        ],
    );
    assert!(ok, "{err}");
    let first = neighbours(dir, "id5", &[]);
    assert_eq!(first.len(), 6);
    assert_eq!(
        first[0], "id42",
        "the exact duplicate comes first: {first:?}"
    );
    let by_name = neighbours(dir, "song 5", &[]);
    assert_eq!(by_name, first);
    let same = neighbours(dir, "id5", &["--same-segment"]);
    assert_eq!(same[0], "id42");

    // New popularity values (a new file, so a new checksum and a new sweep):
    // the same neighbours in the same order.
    write_catalogue(dir, 50);
    let (ok, _, err) = strata(
        dir,
        &[
            "run",
            "exp.toml",
            "--data-dir",
            ".",
            "--out",
            "res",
            "--quiet",
        ],
    );
    assert!(ok, "{err}");
    assert_eq!(neighbours(dir, "id5", &[]), first);
    assert_eq!(neighbours(dir, "id5", &["--same-segment"]), same);
}

#[test]
fn ambiguous_and_unknown_names() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    write_catalogue(dir, 0);
    let (ok, _, err) = strata(
        dir,
        &[
            "similar",
            "twin",
            "--experiment",
            "exp.toml",
            "--out",
            "res",
            "--data-dir",
            ".",
        ],
    );
    assert!(!ok && !err.contains("panicked"));
    assert!(
        err.contains("\"twin\" names 2 songs; pass the id of the one you mean"),
        "{err}"
    );
    assert!(
        err.contains("id7  \"Twin\" by Artist 7") && err.contains("id8  \"Twin\" by Artist 8"),
        "{err}"
    );
    let (ok, _, err) = strata(
        dir,
        &[
            "similar",
            "Sogn 17",
            "--experiment",
            "exp.toml",
            "--out",
            "res",
            "--data-dir",
            ".",
        ],
    );
    assert!(!ok);
    assert!(
        err.contains("no song named or identified \"Sogn 17\"; closest names: \"Song 17\""),
        "{err}"
    );
    let (ok, _, err) = strata(
        dir,
        &[
            "similar",
            "id3",
            "--experiment",
            "exp.toml",
            "--data-dir",
            ".",
            "--name-column",
            "title",
        ],
    );
    assert!(!ok);
    assert!(err.contains("no metadata column `title`"), "{err}");
    // No neighbours asked for is a mistake, not an empty table.
    let (ok, out, err) = strata(
        dir,
        &[
            "similar",
            "id3",
            "-n",
            "0",
            "--experiment",
            "exp.toml",
            "--data-dir",
            ".",
        ],
    );
    assert!(!ok && out.is_empty(), "{out}");
    assert!(err.contains("-n <N>") && err.contains("0"), "{err}");
    // A negative count is a bad value of -n, not an unknown flag.
    let (ok, out, err) = strata(
        dir,
        &["similar", "id3", "-n", "-1", "--experiment", "exp.toml", "--data-dir", "."],
    );
    assert!(!ok && out.is_empty(), "{out}");
    assert!(err.contains("invalid value '-1' for '-n <N>'"), "{err}");
}

/// What `strata similar` shows comes from its flags, else the descriptor's
/// `[display]`; without either, a row is its id, and queries are ids.
#[test]
fn shown_columns_come_from_flags_then_the_descriptor() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    write_catalogue(dir, 0);
    let similar = |extra: &[&str]| {
        let mut args = vec!["similar", "-n", "2", "--experiment", "exp.toml", "--out", "res", "--data-dir", "."];
        args.extend_from_slice(extra);
        strata(dir, &args)
    };
    let (ok, described, err) = similar(&["id5"]);
    assert!(ok, "{err}");
    assert!(described.starts_with("query: \"Song 5\" by Artist 5 [id5] (g1, popularity 84)\n"), "{described}");
    assert!(described.contains("  #  distance  popularity  playlist_genre  song\n"), "{described}");
    // The same catalogue without `[display]`.
    let descriptor = std::fs::read_to_string(dir.join("songs.toml")).expect("descriptor");
    std::fs::write(dir.join("songs.toml"), descriptor.replace(DISPLAY, "")).expect("descriptor");
    let (ok, bare, err) = similar(&["id5"]);
    assert!(ok, "{err}");
    assert!(bare.starts_with("query: [id5]\n\n  #  distance  song\n  1  "), "{bare}");
    assert_eq!(common::ranked_ids(&bare), common::ranked_ids(&described), "the columns shown change no neighbour");
    let (ok, _, err) = similar(&["Song 5"]);
    assert!(!ok);
    assert!(err.contains("no song with the id \"Song 5\" (no name column to match: pass --name-column, or set [display] name in the descriptor)"), "{err}");
    // Flags name the columns instead.
    let (ok, flagged, err) = similar(&["Song 5", "--name-column", "track_name", "--popularity-column", "track_popularity"]);
    assert!(ok, "{err}");
    assert!(flagged.starts_with("query: \"Song 5\" [id5] (popularity 84)\n\n  #  distance  popularity  song\n"), "{flagged}");
    // The generic names of the "by" and group flags.
    let (ok, generic, err) = similar(&["id5", "--by-column", "track_artist", "--group-column", "playlist_genre"]);
    assert!(ok, "{err}");
    assert!(generic.starts_with("query: [id5] by Artist 5 (g1)\n\n  #  distance  playlist_genre  song\n"), "{generic}");
    let (ok, _, err) = similar(&["id5", "--genre-column", "genre"]);
    assert!(!ok);
    assert!(err.contains("(--genre-column, or the descriptor's [display]): no metadata column `genre`"), "{err}");
    // A `[display]` column that is not metadata is refused with the descriptor.
    std::fs::write(dir.join("songs.toml"), descriptor.replace("group = \"playlist_genre\"", "group = \"a\"")).expect("descriptor");
    let (ok, _, err) = similar(&["id5"]);
    assert!(!ok);
    assert!(err.contains("display.group") && err.contains("`a` is not a metadata column"), "{err}");
}

/// `[similarity]` measures each representation's neighbours in the sweep, and
/// `strata similar` then searches the best one and says so; a track listed on
/// two rows of the file belongs to both rows' groups.
#[test]
fn similarity_is_measured_and_the_best_representation_searched() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    write_catalogue(dir, 0);
    // id3 appears a second time, in genre g9: its memberships are g3 and g9.
    let mut csv = std::fs::read_to_string(dir.join("songs.csv")).expect("csv");
    csv.push_str("id3,Song 3,Artist 3,g9,40,1.0,2.0,3.0\n");
    std::fs::write(dir.join("songs.csv"), &csv).expect("csv");
    std::fs::write(
        dir.join("songs.toml"),
        format!(
            "[source]\nfile = \"songs.csv\"\nsha256 = \"{}\"\n[columns]\nid = \"track_id\"\ndedup_key = \"track_id\"\n\
             metadata = [\"track_name\", \"track_artist\", \"playlist_genre\", \"track_popularity\"]\n",
            strata_data::locate::sha256_bytes(csv.as_bytes())
        ),
    )
    .expect("descriptor");
    std::fs::write(
        dir.join("exp.toml"),
        "dataset = \"songs.toml\"\nseed = 1\n[[representation]]\nalgorithm = \"none\"\n[[representation]]\nalgorithm = \"pca\"\nn_components = 1\n\
         [[clusterer]]\nalgorithm = \"kmeans\"\nk = 2\n[evaluation]\nstability_resamples = 0\n\
         [similarity]\njudgements = [\"playlist_genre\"]\npopularity = \"track_popularity\"\nk = 5\nqueries = 60\n",
    )
    .expect("manifest");
    let (ok, _, err) = strata(dir, &["run", "exp.toml", "--data-dir", ".", "--out", "res", "--quiet"]);
    assert!(ok, "{err}");
    let stored: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join("res/exp/similarity.json")).expect("similarity.json"),
    )
    .expect("json");
    let report = &stored["report"];
    // The descriptor gives no `noun`: the rows are called rows.
    assert_eq!(report["items"].as_u64(), Some(120));
    assert_eq!(report["noun"], serde_json::json!(["row", "rows"]));
    assert_eq!(report["multi_membership"].as_u64(), Some(1), "id3 sits in two genres");
    let methods = report["methods"].as_array().expect("methods");
    let names: Vec<&str> = methods.iter().filter_map(|m| m["method"].as_str()).collect();
    assert_eq!(
        names,
        ["none", "pca(n_components=1, whiten=false)", "random rows", "nearest by popularity"]
    );
    let best = report["best"].as_str().expect("best").to_string();
    let (ok, _, err) = strata(
        dir,
        &["similar", "id5", "--experiment", "exp.toml", "--out", "res", "--data-dir", "."],
    );
    assert!(ok, "{err}");
    assert!(err.contains(&format!("searching {best}: measured best: highest precision@5 on `playlist_genre`")), "{err}");
    let (ok, _, err) = strata(
        dir,
        &["similar", "id5", "--experiment", "exp.toml", "--out", "res", "--data-dir", ".", "--representation", "pca"],
    );
    assert!(ok, "{err}");
    assert!(err.contains("searching pca(n_components=1, whiten=false): as asked"), "{err}");
    let (ok, _, err) = strata(
        dir,
        &["similar", "id5", "--experiment", "exp.toml", "--out", "res", "--data-dir", ".", "--representation", "pcaa"],
    );
    assert!(!ok && err.contains("--representation pcaa: expected `chosen` or one of the manifest's representations; did you mean `pca`?: none, pca(n_components=1, whiten=false)"), "{err}");
    // Two representations of one algorithm: the algorithm alone is ambiguous.
    let two = std::fs::read_to_string(dir.join("exp.toml")).expect("manifest").replace("n_components = 1\n", "n_components = [1, 2]\n");
    std::fs::write(dir.join("two.toml"), two).expect("manifest");
    let (ok, _, err) = strata(
        dir,
        &["similar", "id5", "--experiment", "two.toml", "--out", "res", "--data-dir", ".", "--representation", "pca"],
    );
    assert!(!ok && err.contains("--representation pca: names 2 of the manifest's representations; pass one's full label: pca(n_components=1, whiten=false), pca(n_components=2, whiten=false)"), "{err}");
    let report_md = std::fs::read_to_string(dir.join("res/exp/report.md")).expect("report");
    assert!(report_md.contains("## Similar rows, measured"), "{report_md}");
    // The report names the judgement the manifest gives, and no other.
    assert!(
        report_md.contains("For 60 query rows drawn at random from 120, precision@5: the share of a query's 5 nearest rows (itself excluded) that share a value of `playlist_genre` with it, counting every row of the file (1 row takes more than one value of `playlist_genre`)"),
        "{report_md}"
    );
    let results_md = std::fs::read_to_string(dir.join("res/exp/RESULTS.md")).expect("RESULTS.md");
    assert!(results_md.contains("**Similar rows** (precision@5 of sharing a `playlist_genre` with the query, every row of the file; the representation chosen on 30 query rows"), "{results_md}");
    // Nowhere in the section are the rows called tracks.
    let section = report_md.split("## Similar rows, measured").nth(1).and_then(|t| t.split("\n## ").next()).unwrap_or_default();
    assert!(section.contains("random rows") && !section.contains(" tracks") && !section.contains(" track "), "{section}");
    // Sharded, the measurement is one unit: exactly one of three shards
    // computes it, the merge copies it, and the sweep after the merge reuses
    // it, the same bytes as the unsharded sweep's.
    let mut shards = Vec::new();
    for i in 0..3 {
        let out = format!("shard{i}");
        let (ok, _, err) = strata(dir, &["run", "exp.toml", "--data-dir", ".", "--out", &out, "--quiet", "--shard", &format!("{i}/3")]);
        assert!(ok, "{err}");
        shards.push(out);
    }
    let holders: Vec<&String> = shards.iter().filter(|s| dir.join(s).join("exp/similarity.json").is_file()).collect();
    assert_eq!(holders.len(), 1, "{holders:?}");
    let mut args = vec!["merge", "merged"];
    args.extend(shards.iter().map(String::as_str));
    let (ok, _, err) = strata(dir, &args);
    assert!(ok, "{err}");
    let (ok, _, err) = strata(dir, &["run", "exp.toml", "--data-dir", ".", "--out", "merged", "--quiet"]);
    assert!(ok, "{err}");
    assert_eq!(
        std::fs::read(dir.join("merged/exp/similarity.json")).expect("merged"),
        std::fs::read(dir.join("res/exp/similarity.json")).expect("unsharded")
    );
    // A judgement column that is not in the file stops the sweep before it runs.
    let text = std::fs::read_to_string(dir.join("exp.toml")).expect("manifest");
    // Runs `manifest` as exp.toml: whether it ran, and its error output.
    let run = |manifest: String| {
        std::fs::write(dir.join("exp.toml"), manifest).expect("manifest");
        let (ok, _, err) = strata(dir, &["run", "exp.toml", "--data-dir", ".", "--out", "res", "--quiet"]);
        (ok, err)
    };
    let (ok, err) = run(text.replace("[\"playlist_genre\"]", "[\"playlist_genr\"]"));
    assert!(!ok);
    assert!(err.contains("similarity.judgements: no column `playlist_genr` in songs.csv; did you mean `playlist_genre`?"), "{err}");
    // More queries than tracks cannot be drawn: refused with the limit;
    // exactly as many makes every track a query.
    let (ok, err) = run(text.replace("queries = 60", "queries = 121"));
    assert!(!ok);
    assert!(err.contains("exp.toml: similarity.queries = 121: expected at most 120, the rows of songs.csv after de-duplication (with 120, every row is a query)"), "{err}");
    let (ok, err) = run(text.replace("queries = 60", "queries = 120"));
    assert!(ok, "{err}");
    // A judgement the search reads (an audio feature) would judge the
    // search by itself: refused, naming the columns that can judge.
    let judged_by_b = text.replace("[\"playlist_genre\"]", "[\"b\"]");
    let (ok, err) = run(judged_by_b.clone());
    assert!(!ok);
    assert!(
        err.contains("exp.toml: similarity.judgements: `b` is an input of the search (the neighbours are found by it), so it cannot judge them; judge by a column the search does not read, such as a metadata column: track_id, track_name, track_artist, playlist_genre, track_popularity"),
        "{err}"
    );
    // `[features]` decides what the search reads: a column it selects is
    // refused as a judgement, one it leaves out may judge.
    let (ok, err) = run(judged_by_b.replace("[similarity]", "[features]\ninclude = [\"a\", \"b\"]\n[similarity]"));
    assert!(!ok);
    assert!(err.contains("similarity.judgements: `b` is an input of the search (the neighbours"), "{err}");
    let (ok, err) = run(judged_by_b.replace("[similarity]", "[features]\nexclude = [\"b\"]\n[similarity]"));
    assert!(ok, "{err}");
    // A metadata column the recipe derives a feature from is read too, and
    // is not offered as a judge.
    let descriptor = std::fs::read_to_string(dir.join("songs.toml")).expect("descriptor");
    std::fs::write(
        dir.join("songs.toml"),
        format!("{descriptor}[[derive]]\nname = \"pa\"\nkind = \"sum\"\ncolumns = [\"track_popularity\", \"a\"]\n"),
    )
    .expect("descriptor");
    let (ok, err) = run(text.replace("[\"playlist_genre\"]", "[\"track_popularity\"]"));
    assert!(!ok);
    assert!(
        err.contains("similarity.judgements: `track_popularity` is an input of the search through pa (the neighbours are found by it), so it cannot judge them; judge by a column the search does not read, such as a metadata column: track_id, track_name, track_artist, playlist_genre\n"),
        "{err}"
    );
}
