//! One run: fit the representation (or reuse it), the clusterer, the metrics,
//! pipeline stability and the response-rate spread; the exact silhouettes
//! are filled in afterwards for a whole chunk of runs (`exact_silhouettes`).

use super::*;

/// A warning when a mixture component is constant on a discrete column: its
/// variance there is only `reg_covar`, so the likelihood, the BIC and the
/// posteriors follow that column rather than the data's shape.
fn collapsed_on_discrete(x: ArrayView2<'_, f64>, labels: &[usize], names: &[String]) -> Option<String> {
    let discrete = discrete_columns(x);
    if discrete.is_empty() {
        return None;
    }
    let k = labels.iter().copied().max().map_or(0, |m| m + 1);
    let mut hits: Vec<String> = Vec::new();
    for c in 0..k {
        let rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == c).collect();
        if rows.len() < 2 {
            continue;
        }
        let constant: Vec<&str> = discrete
            .iter()
            .filter(|&&j| rows.iter().all(|&i| x[[i, j]] == x[[rows[0], j]]))
            .map(|&j| names.get(j).map_or("?", String::as_str))
            .collect();
        if !constant.is_empty() {
            hits.push(format!("component {c} on {}", constant.join(", ")));
        }
    }
    (!hits.is_empty()).then(|| {
        format!(
            "mixture component variance collapsed to reg_covar on discrete columns (at most {DISCRETE_MAX_VALUES} values): {}; the likelihood, BIC and posteriors are driven by those columns",
            hits.join("; ")
        )
    })
}

/// Sum of squared distances of rows to their cluster means.
fn within_ss(x: ArrayView2<'_, f64>, labels: &[usize], k: usize) -> f64 {
    let (means, _) = strata_cluster::metrics::centroids(x, labels, k);
    labels
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            x.row(i)
                .iter()
                .zip(means.row(l).iter())
                .map(|(v, m)| (v - m).powi(2))
                .sum::<f64>()
        })
        .sum()
}

/// The representation of one stability resample: the run's reducer refitted
/// on the resample's rows of the prepared features, with the resample's seed.
fn resampled_representation(
    registry: &Registry,
    cfg: &RunConfig,
    prepared: ArrayView2<'_, f64>,
    idx: &[usize],
    seed: Seed,
) -> Result<Array2<f64>, strata_core::AlgoError> {
    let reducer = segment_reducer(registry, cfg)
        .map_err(|e| strata_core::AlgoError::Other(format!("{e:#}")))?;
    let xs = prepared.select(ndarray::Axis(0), idx);
    Ok(reducer.fit_transform(xs.view(), seed.named("representation"))?.1)
}

/// The stability resamples' representations, computed once for all the runs
/// of a chunk (they share the representation, the manifest seed and the
/// `[evaluation]` table, so every run refits the same models on the same
/// rows); a run's stability reads them by rows and seed. Empty when the
/// runs measure no stability.
#[derive(Default)]
pub(super) struct Resampled {
    fits: Vec<(Vec<usize>, Seed, Refit)>,
}

/// One resample's refitted representation, or why it failed.
type Refit = Result<Arc<Array2<f64>>, strata_core::AlgoError>;

impl Resampled {
    pub(super) fn of(cfg: &RunConfig, p: &Planned, registry: &Registry) -> Self {
        let ev = &cfg.evaluation;
        if ev.stability_resamples < 2 {
            return Self::default();
        }
        let prepared = p.segmenting.view();
        let Ok(plan) = strata_cluster::stability::resample_plan(
            prepared.nrows(),
            ev.stability_resamples,
            ev.stability_fraction,
            cfg.seed.named("stability"),
        ) else {
            return Self::default();
        };
        let fits = plan
            .into_par_iter()
            .map(|(idx, seed)| {
                let y = resampled_representation(registry, cfg, prepared, &idx, seed).map(Arc::new);
                (idx, seed, y)
            })
            .collect();
        Resampled { fits }
    }

    fn get(&self, idx: &[usize], seed: Seed) -> Option<&Refit> {
        self.fits
            .iter()
            .find(|(i, s, _)| *s == seed && i.as_slice() == idx)
            .map(|(_, _, y)| y)
    }
}

/// The name a run's clusterer is fitted under (`features::fit_clusterer`):
/// "continuous" when the run leaves the discrete columns out, else its
/// representation's algorithm.
fn reducer_name(cfg: &RunConfig) -> &str {
    if cfg.drop_discrete { "continuous" } else { cfg.representation.algorithm.as_str() }
}

/// Pipeline stability of the run `cfg` on `resamples` resamples of its
/// manifest's fraction of the rows: the whole pipeline is refitted on each
/// resample, the representation (with the resample's seed) on the prepared
/// features of its rows, then the clusterer on that representation. The
/// resamples' representations come from `resampled` where it holds them.
/// The resamples are children of the manifest's seed, so a run measured on
/// more resamples keeps its first ones.
pub(super) fn pipeline_stability(
    cfg: &RunConfig,
    p: &Planned,
    clusterer: &dyn strata_core::Clusterer,
    resampled: &Resampled,
    registry: &Registry,
    resamples: usize,
) -> Result<strata_cluster::stability::Stability, strata_cluster::ClusterError> {
    let reducer_name = reducer_name(cfg);
    let prepared = p.segmenting.view();
    let pipeline = |idx: &[usize], seed: Seed| {
        let y = match resampled.get(idx, seed) {
            Some(y) => y.clone()?,
            None => Arc::new(resampled_representation(registry, cfg, prepared, idx, seed)?),
        };
        let fitted = crate::features::fit_clusterer(
            clusterer,
            reducer_name,
            y.view(),
            Some(&p.segment_kinds),
            seed.named("clusterer"),
        )?;
        Ok(fitted.labels().to_vec())
    };
    strata_cluster::stability::stability_of(
        prepared.nrows(),
        resamples,
        cfg.evaluation.stability_fraction,
        cfg.seed.named("stability"),
        pipeline,
    )
}

#[allow(clippy::too_many_arguments)]
pub(super) fn run_one(
    hash: &str,
    cfg: &RunConfig,
    p: &Planned,
    rep: &Result<Arc<Rep>, String>,
    resampled: &Resampled,
    agreement: &[(String, Vec<usize>)],
    registry: &Registry,
    stage: &dyn Fn(&str),
) -> RunRecord {
    let mut rec = RunRecord {
        hash: hash.to_string(),
        experiment: p.manifest.name.clone(),
        config: cfg.clone(),
        dataset: p.dataset.clone(),
        strata_version: strata_core::VERSION.to_string(),
        status: RunStatus::Ok,
        error: None,
        representation: None,
        clustering: None,
        metrics: BTreeMap::new(),
        silhouette_rows: None,
        silhouette_common_groups: None,
        timings_s: BTreeMap::new(),
        warnings: Vec::new(),
    };
    let fail = |mut rec: RunRecord, e: String| {
        rec.status = RunStatus::Failed;
        rec.error = Some(e);
        rec
    };
    let rep = match rep {
        Ok(r) => r,
        Err(e) => return fail(rec, format!("representation: {e}")),
    };
    rec.representation = Some(rep.info.clone());
    rec.timings_s.insert("representation".into(), rep.seconds);
    rec.warnings
        .extend(rep.info.diagnostics.warnings.iter().cloned());
    if let Some(e) = rep.info.reconstruction_error {
        rec.metrics.insert("reconstruction_error".into(), e);
    }
    let x = rep.y.view();

    stage("cluster");
    let t = Instant::now();
    let clusterer = match registry.build_clusterer(&cfg.clusterer) {
        Ok(c) => c,
        Err(e) => return fail(rec, format!("{}: {e:#}", cfg.clusterer.label())),
    };
    let reducer_name = reducer_name(cfg);
    let fitted = match crate::features::fit_clusterer(
        clusterer.as_ref(),
        reducer_name,
        x,
        Some(&p.segment_kinds),
        cfg.seed.named("clusterer"),
    ) {
        Ok(f) => f,
        Err(e) => return fail(rec, format!("{}: {e}", cfg.clusterer.label())),
    };
    let labels = fitted.labels().to_vec();
    let diagnostics = fitted.diagnostics(x);
    rec.timings_s
        .insert("cluster".into(), t.elapsed().as_secs_f64());
    let k = labels.iter().copied().max().map_or(0, |m| m + 1);
    let mut sizes = vec![0usize; k];
    for &l in &labels {
        sizes[l] += 1;
    }
    rec.warnings.extend(diagnostics.warnings.iter().cloned());
    // Without reduction the columns are the prepared features: name them so.
    let kept_names: Vec<String>;
    let column_names = if cfg.representation.algorithm == "none" {
        if cfg.drop_discrete {
            kept_names = p
                .segment_names
                .iter()
                .filter(|n| !rep.info.left_out.contains(n))
                .cloned()
                .collect();
            kept_names.as_slice()
        } else {
            p.segment_names.as_slice()
        }
    } else {
        rep.info.component_names.as_slice()
    };
    if cfg.clusterer.algorithm == "gmm"
        && let Some(w) = collapsed_on_discrete(x, &labels, column_names)
    {
        rec.warnings.push(w);
    }
    let distinct = sizes.iter().filter(|&&s| s > 0).count();
    if let (Some(train), Some(t)) = (&p.train_rows, p.loaded.dataset.target())
        && let Some(spread) = response_spread(&labels, &t.values.to_vec(), train, k)
    {
        rec.metrics.insert(RESPONSE_SPREAD.into(), spread);
    }

    stage("metrics");
    let t = Instant::now();
    rec.metrics
        .insert("inertia".into(), within_ss(x, &labels, k));
    if distinct >= 2 && distinct < labels.len() {
        let ev = &cfg.evaluation;
        let sil = match ev.silhouette {
            // The exact silhouette is computed afterwards for a chunk of runs
            // at once (`exact_silhouettes`).
            SilhouetteMode::Off | SilhouetteMode::Exact => None,
            SilhouetteMode::Sampled => Some(strata_cluster::metrics::silhouette_sampled(
                x,
                &labels,
                ev.silhouette_sample,
                cfg.seed.named("silhouette"),
            )),
        };
        match sil {
            Some(Ok((s, rows))) => {
                rec.metrics.insert("silhouette".into(), s);
                rec.silhouette_rows = Some(rows);
            }
            Some(Err(e)) => rec.warnings.push(format!("silhouette: {e}")),
            None => {}
        }
        if ev.silhouette == SilhouetteMode::Sampled {
            // The same sampled rows, in the prepared features.
            let common = p.segmenting.view();
            match strata_cluster::metrics::silhouette_sampled(
                common,
                &labels,
                ev.silhouette_sample,
                cfg.seed.named("silhouette"),
            ) {
                Ok((s, _)) => {
                    rec.metrics.insert(COMMON_SILHOUETTE.into(), s);
                }
                Err(e) => rec.warnings.push(format!("{COMMON_SILHOUETTE}: {e}")),
            }
        }
        // k-prototypes on the prepared columns: the silhouette under its own
        // mixed dissimilarity as well.
        if cfg.clusterer.algorithm == "kprototypes" && reducer_name == "none" {
            let gamma = diagnostics.scalars.get("gamma").copied().unwrap_or(1.0);
            match strata_cluster_mixed::Mixed::new(x, &p.segment_kinds.kinds, &p.segment_kinds.names)
                .and_then(|m| strata_cluster_mixed::mixed_silhouette(&m, &labels, gamma))
            {
                Ok(v) => {
                    rec.metrics.insert(super::MIXED_SILHOUETTE.into(), v);
                }
                Err(e) => rec.warnings.push(format!("{}: {e}", super::MIXED_SILHOUETTE)),
            }
        }
        match strata_cluster::metrics::calinski_harabasz(x, &labels) {
            Ok(v) => {
                rec.metrics.insert("calinski_harabasz".into(), v);
            }
            Err(e) => rec.warnings.push(format!("calinski_harabasz: {e}")),
        }
        match strata_cluster::metrics::davies_bouldin(x, &labels) {
            Ok(v) => {
                rec.metrics.insert("davies_bouldin".into(), v);
            }
            Err(e) => rec.warnings.push(format!("davies_bouldin: {e}")),
        }
    } else {
        rec.warnings.push(format!(
            "{distinct} non-empty cluster(s): silhouette, Calinski-Harabasz and Davies-Bouldin need between 2 and n - 1"
        ));
    }
    for (col, codes) in agreement {
        if let Ok(a) = strata_cluster::metrics::adjusted_rand_index(&labels, codes) {
            rec.metrics.insert(format!("ari_{col}"), a);
        }
        if let Ok(a) = strata_cluster::metrics::normalized_mutual_info(&labels, codes) {
            rec.metrics.insert(format!("nmi_{col}"), a);
        }
    }
    for (name, v) in &diagnostics.scalars {
        rec.metrics.entry(name.clone()).or_insert(*v);
    }
    rec.timings_s
        .insert("metrics".into(), t.elapsed().as_secs_f64());

    let ev = &cfg.evaluation;
    if ev.stability_resamples >= 2 {
        stage("stability");
        let t = Instant::now();
        match pipeline_stability(cfg, p, clusterer.as_ref(), resampled, registry, ev.stability_resamples) {
            Ok(s) => store::put_stability(&mut rec.metrics, &s),
            Err(e) => rec.warnings.push(format!("stability: {e}")),
        }
        rec.timings_s
            .insert("stability".into(), t.elapsed().as_secs_f64());
    }
    rec.clustering = Some(ClusteringInfo {
        n_clusters: fitted.n_clusters(),
        sizes,
        diagnostics,
        labels,
    });
    rec
}

/// Metric: how far the segments' response rates differ on the training rows.
pub const RESPONSE_SPREAD: &str = "response_spread_train";

/// Highest minus lowest response rate of the segments on the rows `train`
/// (segments without a training row left out); `None` with fewer than two
/// such segments or a target of another length.
pub fn response_spread(labels: &[usize], y: &[u8], train: &[usize], k: usize) -> Option<f64> {
    if y.len() != labels.len() {
        return None;
    }
    let (mut pos, mut n) = (vec![0usize; k], vec![0usize; k]);
    for &i in train {
        let s = *labels.get(i)?;
        n[s] += 1;
        pos[s] += usize::from(y[i] == 1);
    }
    let rates: Vec<f64> = (0..k)
        .filter(|&s| n[s] > 0)
        .map(|s| pos[s] as f64 / n[s] as f64)
        .collect();
    if rates.len() < 2 {
        return None;
    }
    let hi = rates.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lo = rates.iter().copied().fold(f64::INFINITY, f64::min);
    Some(hi - lo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// A planned experiment on 240 rows of four noisy columns: ICA to two
    /// components, k-means with k = 2 and 3, three stability resamples.
    fn ica_plan(dir: &std::path::Path) -> Planned {
        let mut csv = String::from("id,y,a,b,c,d\n");
        let mut rng = strata_core::Rng::new(Seed(3));
        let mut noise = || rng.uniform() - 0.5;
        for i in 0..240 {
            let g = (i % 3) as f64;
            let (a, b, c, d) = (noise(), noise(), noise(), noise());
            csv.push_str(&format!("{i},{},{},{},{},{}\n", i % 2, 3.0 * g + a, b * b, g - c, d));
        }
        std::fs::write(dir.join("data.csv"), &csv).unwrap();
        std::fs::write(
            dir.join("data.toml"),
            format!(
                "[source]\nfile = \"data.csv\"\nsha256 = \"{}\"\n[columns]\nid = \"id\"\ntarget = \"y\"\n",
                strata_data::locate::sha256_bytes(csv.as_bytes())
            ),
        )
        .unwrap();
        let m = dir.join("exp.toml");
        std::fs::write(
            &m,
            "dataset = \"data.toml\"\nseed = 9\n[[representation]]\nalgorithm = \"ica\"\nn_components = 2\n\
             [[clusterer]]\nalgorithm = \"kmeans\"\nk = [2, 3]\n[evaluation]\nstability_resamples = 3\n",
        )
        .unwrap();
        let mut o = SweepOptions::new(
            dir.join("res"),
            strata_data::DataDirs {
                explicit: Some(dir.to_path_buf()),
                env: None,
                cache: None,
            },
        );
        o.progress = false;
        plan(&m, &Registry::standard(), &o).unwrap()
    }

    #[test]
    fn shared_resample_representations_change_no_run() {
        let tmp = tempfile::tempdir().unwrap();
        let p = ica_plan(tmp.path());
        let reg = Registry::standard();
        let (_, cfg) = &p.runs[0];
        let shared = Resampled::of(cfg, &p, &reg);
        // One refit per resample, each as a run would compute it alone, and
        // found by its rows and seed only.
        let plan = strata_cluster::stability::resample_plan(
            p.segmenting.nrows(),
            3,
            cfg.evaluation.stability_fraction,
            cfg.seed.named("stability"),
        )
        .unwrap();
        assert_eq!(shared.fits.len(), 3);
        for (idx, seed) in &plan {
            let got = shared.get(idx, *seed).unwrap().as_ref().unwrap();
            let alone = resampled_representation(&reg, cfg, p.segmenting.view(), idx, *seed).unwrap();
            assert_eq!(got.shape(), alone.shape());
            assert!(got.iter().zip(alone.iter()).all(|(a, b)| a.to_bits() == b.to_bits()));
        }
        assert!(shared.get(&plan[0].0, plan[1].1).is_none());
        // Every run's record is the same with the shared refits as without.
        for (hash, cfg) in &p.runs {
            let rep = fit_representation(cfg, &p, &reg).map(Arc::new);
            let with = run_one(hash, cfg, &p, &rep, &shared, &[], &reg, &|_| {});
            let without = run_one(hash, cfg, &p, &rep, &Resampled::default(), &[], &reg, &|_| {});
            assert!(with.metrics.contains_key("stability_mean_ari"), "{:?}", with.warnings);
            let bits = |r: &RunRecord| -> Vec<(String, u64)> {
                r.metrics.iter().map(|(k, v)| (k.clone(), v.to_bits())).collect()
            };
            assert_eq!(bits(&with), bits(&without));
        }
    }

    #[test]
    fn response_spread_reads_training_rows_only() {
        // Segment 0: rows 0..4, responders 0 and 1; segment 1: rows 4..8, responder 4.
        let labels = [0, 0, 0, 0, 1, 1, 1, 1];
        let y = [1, 1, 0, 0, 1, 0, 0, 0];
        let all: Vec<usize> = (0..8).collect();
        assert_eq!(response_spread(&labels, &y, &all, 2), Some(0.5 - 0.25));
        // Held-out rows 1 and 4 do not count: 1/3 against 0/3.
        assert_eq!(response_spread(&labels, &y, &[0, 2, 3, 5, 6, 7], 2), Some(1.0 / 3.0));
        assert_eq!(response_spread(&labels, &y, &[0, 1, 2], 2), None, "one segment");
        assert_eq!(response_spread(&labels, &y[..7], &all, 2), None);
    }

    #[test]
    fn collapse_on_discrete_columns_is_named() {
        // Column 0 continuous, column 1 binary, column 2 a count.
        let x = array![
            [0.1, 0.0, 3.0],
            [0.7, 0.0, 1.0],
            [1.3, 1.0, 2.0],
            [2.9, 1.0, 2.0],
            [5.0, 0.0, 2.0],
        ];
        let names: Vec<String> = ["a", "flag", "count"].iter().map(|s| s.to_string()).collect();
        assert_eq!(discrete_columns(x.view()), vec![0, 1, 2]);
        let wide = ndarray::Array2::from_shape_fn((20, 1), |(i, _)| i as f64);
        assert!(discrete_columns(wide.view()).is_empty());
        // Component 0 (rows 0, 1) is constant on `flag`; component 1 (rows
        // 2, 3) on `flag` and `count`; row 4 alone is skipped.
        let w = collapsed_on_discrete(x.view(), &[0, 0, 1, 1, 2], &names).expect("warning");
        assert!(w.contains("component 0 on flag;"), "{w}");
        assert!(w.contains("component 1 on flag, count"), "{w}");
        assert!(!w.contains("component 2"), "{w}");
        // No component constant on a discrete column: no warning.
        assert!(collapsed_on_discrete(x.view(), &[0, 1, 0, 1, 0], &names).is_none());
    }
}
