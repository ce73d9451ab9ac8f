//! The two reference datasets load with the numbers their README states.
//!
//! The files are found as any load finds them: `STRATA_DATA_DIR` when set, then
//! `datasets/cache/`, then the copies the repository ships in `datasets/`
//! (the Spotify file compressed). They always ship, so these tests never skip.

use std::path::{Path, PathBuf};
use strata_data::{DataDirs, Descriptor, LoadedDataset, load};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

fn dirs() -> DataDirs {
    strata_data::reference_dirs(&workspace())
}

fn load_real(name: &str) -> LoadedDataset {
    let d = Descriptor::from_path(workspace().join("datasets").join(format!("{name}.toml")))
        .expect("descriptor parses");
    load(&d, &dirs()).unwrap_or_else(|e| panic!("{name} must load: {e}"))
}

#[test]
fn marketing_campaign_loads_with_known_numbers() {
    let l = load_real("marketing_campaign");
    let r = &l.report;
    assert_eq!(r.raw_rows, 2240);
    assert_eq!(r.raw_columns, 29);
    assert_eq!(r.delimiter, "tab");
    assert_eq!(l.dataset.n_samples(), 2240);
    let t = l.dataset.target().expect("target");
    assert_eq!(t.positives(), 334);
    let income = r
        .feature_summaries
        .iter()
        .find(|f| f.name == "Income")
        .expect("Income feature");
    assert_eq!(income.missing, 24);
    let notes: Vec<String> = r.notes.iter().map(|n| n.to_string()).collect();
    assert!(
        notes.contains(&"Income: imputed 24 missing with median 51381.5".to_string()),
        "{notes:#?}"
    );
    assert!(
        notes.contains(
            &"Marital_Status: merged Absurd, Alone, YOLO (7 rows) into other".to_string()
        ),
        "{notes:#?}"
    );
    // Derived, encoded, economics; constants and ids out of the features.
    let names = l.dataset.feature_names();
    for f in [
        "Age",
        "Tenure_days",
        "Marital_Status=other",
        "Education=Graduation",
        "MntWines",
        "AcceptedCmp1",
    ] {
        assert!(
            names.iter().any(|n| n == f),
            "missing feature {f} in {names:?}"
        );
    }
    for f in [
        "ID",
        "Response",
        "Z_CostContact",
        "Z_Revenue",
        "Year_Birth",
        "Dt_Customer",
    ] {
        assert!(!names.iter().any(|n| n == f), "{f} must not be a feature");
    }
    assert_eq!(
        l.dataset.economics().and_then(|e| e.constant()),
        Some((3.0, 11.0))
    );
    // Ages were clipped: nobody is 121.
    let age = r
        .feature_summaries
        .iter()
        .find(|f| f.name == "Age")
        .expect("Age");
    assert!(age.max < 100.0, "age max {}", age.max);
    // Standardized numeric columns.
    let x = l.dataset.features();
    let j = l.dataset.feature_index("MntWines").expect("MntWines");
    let col = x.column(j);
    let mean = col.sum() / col.len() as f64;
    let sd = (col.mapv(|v| (v - mean).powi(2)).sum() / col.len() as f64).sqrt();
    assert!(mean.abs() < 1e-12 && (sd - 1.0).abs() < 1e-12);
    assert_eq!(l.metadata.height(), 2240);
    assert!(x.iter().all(|v| v.is_finite()));
}

#[test]
fn spotify_loads_deduplicated_audio_features() {
    let l = load_real("spotify_songs");
    let r = &l.report;
    assert_eq!(r.raw_rows, 32_833);
    assert_eq!(r.raw_columns, 23);
    assert_eq!(r.duplicates_removed, 32_833 - 28_356);
    assert_eq!(l.dataset.n_samples(), 28_356);
    let expected = [
        "danceability",
        "energy",
        "key",
        "loudness",
        "mode",
        "speechiness",
        "acousticness",
        "instrumentalness",
        "liveness",
        "valence",
        "tempo",
        "duration_ms",
    ];
    assert_eq!(l.dataset.feature_names(), expected);
    assert!(l.dataset.target().is_none());
    // Popularity and genre are metadata, aligned with the rows.
    assert_eq!(l.metadata.height(), 28_356);
    let names: Vec<String> = l
        .metadata
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    for m in [
        "track_id",
        "track_name",
        "track_popularity",
        "playlist_genre",
    ] {
        assert!(
            names.iter().any(|n| n == m),
            "{m} missing from metadata {names:?}"
        );
    }
    // Ids are unique track ids.
    let ids: std::collections::HashSet<&String> = l.dataset.ids().iter().collect();
    assert_eq!(ids.len(), 28_356);
}

#[test]
fn recipe_reapplies_to_new_rows_identically() {
    let l = load_real("marketing_campaign");
    let dirs = dirs();
    let path = dirs.locate(&l.descriptor).expect("file");
    let table = strata_data::read_table(&path, None).expect("table");
    // The first 100 rows, transformed alone with the recipe fitted on all rows,
    // equal the first 100 rows of the full load.
    let mut keep = vec![false; table.height()];
    keep[..100].iter_mut().for_each(|k| *k = true);
    let part = table.filter_rows(&keep).expect("filter");
    let d = l.apply(&part).expect("apply");
    let full = l.dataset.features();
    assert_eq!(d.features(), &full.slice(ndarray::s![..100, ..]).to_owned());
    assert_eq!(d.ids(), &l.dataset.ids()[..100]);
}

/// Spy: a recipe fitted on some rows by `prepare_rows` learns nothing from the
/// others. The held-out customers of a copy of the marketing file are changed
/// (income, enrolment date, which moves the "latest" date, and a new
/// education); the matrices of the fit rows stay identical to the bit, while
/// the recipe fitted on every row, which sees the change, moves them.
#[test]
fn recipe_fitted_on_some_rows_never_sees_the_others() {
    let l = load_real("marketing_campaign");
    let path = dirs().locate(&l.descriptor).expect("file");
    let text = std::fs::read_to_string(&path).expect("read");
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    let cols: Vec<&str> = header.split('\t').collect();
    let at = |name: &str| cols.iter().position(|c| *c == name).expect(name);
    let (income, date, education) = (at("Income"), at("Dt_Customer"), at("Education"));
    let n_fit = 1500;
    let mut changed = format!("{header}\n");
    for (i, line) in lines.enumerate() {
        let mut cells: Vec<String> = line.split('\t').map(str::to_string).collect();
        if i >= n_fit {
            cells[income] = format!("{}", 500_000 + i);
            cells[date] = "31-12-2019".into();
            cells[education] = "Doctorate".into();
            if i % 3 == 0 {
                cells[education] = "Unheard-of".into();
            }
        }
        changed.push_str(&cells.join("\t"));
        changed.push('\n');
    }
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::write(tmp.path().join("marketing_campaign.csv"), &changed).expect("write");
    let mut d = l.descriptor.clone();
    d.source.sha256 = strata_data::locate::sha256_bytes(changed.as_bytes());
    let dirs = DataDirs {
        explicit: Some(tmp.path().to_path_buf()),
        env: None,
        cache: None,
    };
    let spied = load(&d, &dirs).expect("changed copy loads");
    let fit: Vec<usize> = (0..n_fit).collect();
    let held: Vec<usize> = (n_fit..l.dataset.n_samples()).collect();
    let (a_fit, a_held) = l.prepare_rows(&fit, &[&held]).expect("original");
    let (b_fit, b_held) = spied.prepare_rows(&fit, &[&held]).expect("changed");
    assert_eq!(a_fit, b_fit, "a held-out change moved a fitted statistic");
    assert_ne!(a_held[0], b_held[0], "the held-out rows did change");
    // The all-row recipe does see the change: the spy can tell a leak.
    let rows = ndarray::s![..n_fit, ..];
    assert_ne!(
        l.dataset.features().slice(rows),
        spied.dataset.features().slice(rows)
    );
    // Rows come back in the order asked for.
    let (rev, _) = l.prepare_rows(&[5, 2, 9], &[]).expect("three rows");
    let (fwd, _) = l.prepare_rows(&[2, 5, 9], &[]).expect("three rows");
    assert_eq!(rev.row(0), fwd.row(1));
    assert_eq!(rev.row(1), fwd.row(0));
    assert!(l.prepare_rows(&[l.dataset.n_samples()], &[]).is_err());
}
