//! `strata data inspect` and the sweep on the two reference datasets.
//! Fails when `STRATA_DATA_DIR` is set and the files are missing; skipped with
//! a message when it is unset and `datasets/cache/` has no files.

use std::path::{Path, PathBuf};
use std::process::Command;
use strata_data::DataDirs;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

fn data_dir() -> Option<PathBuf> {
    strata_data::reference_dirs(
        &workspace(),
        &["marketing_campaign.csv", "spotify_songs.csv"],
    )
    .and_then(|d| d.explicit)
}

fn inspect(descriptor: &str, dir: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["data", "inspect", descriptor, "--data-dir"])
        .arg(dir)
        .current_dir(workspace())
        .output()
        .expect("run strata");
    assert!(
        out.status.success(),
        "{descriptor}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn inspect_marketing_campaign() {
    let Some(dir) = data_dir() else { return };
    let text = inspect("datasets/marketing_campaign.toml", &dir);
    for n in [
        "tab-separated",
        "before    2240 rows x 29 columns",
        "Response: 334 positive, 1906 negative (14.9 % positive)",
        "Income: imputed 24 missing with median 51381.5",
        "Marital_Status: merged Absurd, Alone, YOLO (7 rows) into other",
        "economics cost per contact 3, revenue per response 11",
    ] {
        assert!(text.contains(n), "`{n}` not in:\n{text}");
    }
}

#[test]
fn inspect_spotify_songs() {
    let Some(dir) = data_dir() else { return };
    let text = inspect("datasets/spotify_songs.toml", &dir);
    for n in [
        "comma-separated",
        "before    32833 rows x 23 columns",
        "after     28356 rows x 12 features",
        "4477 rows repeated a `track_id` and were removed",
    ] {
        assert!(text.contains(n), "`{n}` not in:\n{text}");
    }
}

#[test]
fn sweep_runs_every_manifest() {
    let Some(dir) = data_dir() else { return };
    let tmp = tempfile::tempdir().expect("tmp");
    let manifests =
        strata_lab::sweep::manifests_in(&workspace().join("experiments")).expect("manifests");
    assert!(manifests.len() >= 2, "{manifests:?}");
    let dirs = DataDirs {
        explicit: Some(dir),
        env: None,
        cache: None,
    };
    let (ok, failed) = strata_lab::sweep::sweep(&manifests, tmp.path(), &dirs);
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(ok.len(), manifests.len());
    for o in ok {
        for w in &o.written {
            assert!(w.is_file(), "{} not written", w.display());
        }
    }
}
