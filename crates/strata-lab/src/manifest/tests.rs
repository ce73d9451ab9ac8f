use super::*;

fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

fn err(dir: &Path, body: &str) -> String {
    let p = write(dir, "x.toml", body);
    Manifest::from_path(&p).unwrap_err().to_string()
}

const HEAD: &str = "dataset = \"d.toml\"\nseed = 7\n";

#[test]
fn grids_expand_to_the_cartesian_product() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, "d.toml", "");
    let p = write(
        dir,
        "ok.toml",
        &format!(
            "{HEAD}[[representation]]\nalgorithm = \"none\"\n[[representation]]\nalgorithm = \"pca\"\nn_components = [0.9, 3]\n\
             [[clusterer]]\nalgorithm = \"kmeans\"\nk = {{ from = 2, to = 6, step = 2 }}\n\
             [[clusterer]]\nalgorithm = \"gmm\"\nk = 3\ncovariance = [\"full\", \"diag\"]\n"
        ),
    );
    let m = Manifest::from_path(&p).unwrap();
    assert_eq!((m.name.as_str(), m.seed), ("ok", Seed(7)));
    assert_eq!(
        m.descriptor_path(),
        dir.join("d.toml").canonicalize().unwrap()
    );
    let runs = m.runs();
    // (none + 2 pca) x (3 kmeans + 2 gmm)
    assert_eq!(runs.len(), 15);
    let ks: Vec<String> = runs[..3]
        .iter()
        .map(|r| r.clusterer.params.0["k"].to_string())
        .collect();
    assert_eq!(ks, ["2", "4", "6"]);
    // Defaults are filled in, so two spellings of one run are one run.
    assert_eq!(runs[0].clusterer.params.0["n_init"], ParamValue::Int(10));
    assert_eq!(
        runs[3].clusterer.label(),
        "gmm(covariance=full, init=kmeans, k=3, max_iter=100, n_init=1, reg_covar=0.000001, tol=0.001)"
    );
    m.check_against(&Registry::standard(), 100, 5, &[]).unwrap();
    let e = m
        .check_against(&Registry::standard(), 5, 5, &[])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("ok.toml:10:5: clusterer `kmeans`: `k` = 6 is more than the data's 5 rows"),
        "{e}"
    );
    let e = m
        .check_against(&Registry::standard(), 100, 2, &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains(":7:16: representation `pca`: `n_components` = 3 is more than the data's 2 input columns"), "{e}");
}

#[test]
fn bad_manifests_fail_with_line_column_and_suggestion() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, "d.toml", "");
    let e = err(dir, "dataset = \"d.toml\"\nsed = 7\n");
    assert!(
        e.contains("x.toml:2:1: unknown key `sed`; did you mean `seed`?"),
        "{e}"
    );
    let e = err(dir, "dataset = \"d.toml\"\nseed = -1\n");
    assert!(
        e.contains("x.toml:2:8: invalid value: integer `-1`, expected a seed: a whole number, 0 or more"),
        "{e}"
    );
    let e = err(
        dir,
        &format!("{HEAD}[[clusterer]]\nalgorithm = \"kmean\"\nk = 3\n"),
    );
    assert!(
        e.ends_with("x.toml:4:13: unknown clusterer `kmean`; did you mean `kmeans`? available: kmeans, gmm, dbscan, agglomerative, kprototypes"),
        "{e}"
    );
    let e = err(
        dir,
        &format!("{HEAD}[[clusterer]]\nalgorithm = \"kmeans\"\nk = 3\nn_inti = 4\n"),
    );
    assert!(e.contains("x.toml:6:1: unknown parameter `n_inti` for clusterer `kmeans`; did you mean `n_init`?"), "{e}");
    let e = err(
        dir,
        &format!(
            "{HEAD}[[representation]]\nalgorithm = \"pca\"\nn_components = 1.5\n[[clusterer]]\nalgorithm = \"kmeans\"\nk = 3\n"
        ),
    );
    assert!(
        e.contains(
            "x.toml:5:16: representation `pca`: `n_components` = 1.5: expected a count >= 1"
        ),
        "{e}"
    );
    let e = err(
        dir,
        &format!("{HEAD}[[clusterer]]\nalgorithm = \"kmeans\"\nk = []\n"),
    );
    assert!(
        e.contains("x.toml:5:5: `k` = []: an empty grid would give no runs"),
        "{e}"
    );
    let e = err(
        dir,
        &format!("{HEAD}[[clusterer]]\nalgorithm = \"kmeans\"\n"),
    );
    assert!(
        e.contains("x.toml:4:13: clusterer `kmeans` needs `k`"),
        "{e}"
    );
    let e = err(
        dir,
        &format!("{HEAD}[[clusterer]]\nalgorithm = \"gmm\"\nk = 2\ncovariance = \"ful\"\n"),
    );
    assert!(
        e.contains("x.toml:6:14:") && e.contains("did you mean `full`"),
        "{e}"
    );
    let e = err(dir, HEAD);
    assert!(e.contains("no [[clusterer]]"), "{e}");
    let e = err(
        dir,
        &format!(
            "{HEAD}[evaluation]\nstability_fraction = 1.5\n[[clusterer]]\nalgorithm = \"kmeans\"\nk = 2\n"
        ),
    );
    assert!(
        e.contains("x.toml:3:1: evaluation.stability_fraction = 1.5"),
        "{e}"
    );
    let e = err(dir, &format!("{HEAD}[evaluation]\nsilhouete = \"exact\"\n"));
    assert!(
        e.contains("x.toml:4:1: unknown key `silhouete`; did you mean `silhouette`?"),
        "{e}"
    );
    let e = err(
        dir,
        "dataset = \"e.toml\"\n[[clusterer]]\nalgorithm = \"kmeans\"\nk = 2\n",
    );
    assert!(
        e.contains("no such descriptor") && e.contains("e.toml"),
        "{e}"
    );
    let e = err(dir, "dataset = \"d.toml\n");
    assert!(e.contains("x.toml:1:"), "{e}");
}

#[test]
fn classification_mixtures_follow_discrete_in_mixtures() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, "d.toml", "");
    let body = |features: &str| {
        format!(
            "{HEAD}[[representation]]\nalgorithm = \"none\"\n[[clusterer]]\nalgorithm = \"kmeans\"\nk = 2\n\
             {features}[classification]\n\
             [[classification.features]]\nkind = \"original\"\n\
             [[classification.features]]\nkind = \"reduced\"\nalgorithm = \"pca\"\nn_components = 2\n\
             [[classification.features]]\nkind = \"clusters\"\nalgorithm = \"kmeans\"\nk = 4\n\
             [[classification.features]]\nkind = \"clusters\"\nalgorithm = \"gmm\"\nk = 4\n\
             [[classification.features]]\nkind = \"posteriors\"\nalgorithm = \"gmm\"\nk = 4\n"
        )
    };
    let flags = |features: &str| -> Vec<bool> {
        let m = Manifest::from_path(&write(dir, "m.toml", &body(features))).unwrap();
        m.classification.unwrap().features.iter().map(|f| f.drop_discrete).collect()
    };
    // Only the mixtures' labels and posteriors leave the discrete columns out.
    assert_eq!(
        flags("[features]\ndiscrete_in_mixtures = false\n"),
        [false, false, false, true, true]
    );
    assert_eq!(flags(""), [false; 5]);
    assert_eq!(flags("[features]\ndiscrete_in_mixtures = true\n"), [false; 5]);
    // It cannot be set by hand in [classification].
    let e = err(
        dir,
        &format!("{}drop_discrete = true\n", body("")),
    );
    assert!(e.contains("drop_discrete"), "{e}");
    // The cluster and posterior sets cluster on the `[features]` selection;
    // the original and reduced sets keep every feature.
    let columns = |features: &str| -> Vec<crate::features::Columns> {
        let m = Manifest::from_path(&write(dir, "m.toml", &body(features))).unwrap();
        m.classification.unwrap().features.iter().map(|f| f.columns.clone()).collect()
    };
    let picked = crate::features::Columns {
        include: vec!["a*".into()],
        exclude: vec!["ab".into()],
    };
    let all = crate::features::Columns::default();
    assert_eq!(
        columns("[features]
include = [\"a*\"]
exclude = [\"ab\"]
"),
        [all.clone(), all.clone(), picked.clone(), picked.clone(), picked]
    );
    assert_eq!(columns(""), vec![all; 5]);
    // Nor can the columns be set in [classification].
    let e = err(dir, &format!("{}columns = {{ include = [\"a\"] }}\n", body("")));
    assert!(e.contains("columns"), "{e}");
}

#[test]
fn a_descriptor_given_as_a_manifest_is_named_as_one() {
    let tmp = tempfile::tempdir().unwrap();
    let e = err(tmp.path(), "[source]\nfile = \"d.csv\"\n[columns]\nid = \"id\"\n[scale]\nmethod = \"standard\"\n");
    assert!(e.contains("this file is a dataset descriptor (it has a [source] table), not an experiment manifest"), "{e}");
    // A manifest with a typo gets no such hint.
    let e = err(tmp.path(), &format!("{HEAD}[evaluaton]\nsilhouette = \"exact\"\n"));
    assert!(e.contains("unknown key `evaluaton`") && !e.contains("descriptor"), "{e}");
}
