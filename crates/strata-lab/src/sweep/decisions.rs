//! The stages that follow the runs: the decisions drawn from every run (the
//! chosen segmentation, its cards, held-out targeting, cohorts), and the
//! similar-tracks measurement, which needs only the representations and is
//! one shard unit.

use super::*;

/// The chosen segmentation, its cards, targeting and cohorts. They need
/// every run, so a shard leaves them to the unsharded sweep after the merge.
pub(super) fn draw(
    outcomes: &mut [ExperimentOutcome],
    plans: &[Planned],
    registry: &Registry,
    opts: &SweepOptions,
    phases: &Phases,
) -> anyhow::Result<()> {
    // The decisions (the chosen segmentation, its cards, targeting, cohorts)
    // need every run: a shard holds only some, so they are left to the
    // unsharded sweep that follows `strata merge` (it reuses every run).
    for (o, p) in outcomes.iter_mut().zip(plans) {
        if opts.shard.is_some() {
            o.decisions_left = true;
            continue;
        }
        let name = p.manifest.name.as_str();
        phases.time("refined stability", Some(name), || refine_stability(o, p, registry, opts.force))?;
        let res = store::ExperimentResults::read(&o.dir)?;
        let all: Vec<&RunRecord> = res.runs.iter().collect();
        if let Some((best, reason)) = crate::selection::chosen(&all, res.plan.pin.as_ref(), res.plan.margins.silhouette)
            && let Some(c) = &best.clustering
        {
            let ds = &p.loaded.dataset;
            let (categories, numbers) = crate::segments::describable(&p.loaded.metadata);
            let target: Option<Vec<u8>> = ds.target().map(|t| t.values.to_vec());
            let cards = crate::segments::profile(
                &c.labels,
                &crate::segments::ProfileData {
                    unscaled: p.loaded.unscaled.view(),
                    names: ds.feature_names(),
                    target: target.as_deref(),
                    economics: ds.economics(),
                    categories,
                    numbers,
                    nominal: &p.loaded.descriptor.columns.nominal,
                    noise: crate::segments::noise_label(best),
                },
            );
            let seg = crate::segments::Segments {
                experiment: p.manifest.name.clone(),
                run: best.hash.clone(),
                representation: best.config.representation.label(),
                clusterer: best.config.clusterer.label(),
                reason,
                agreement: best
                    .metrics
                    .iter()
                    .filter(|(k, _)| k.starts_with("ari_") || k.starts_with("nmi_"))
                    .map(|(k, v)| (k.clone(), *v))
                    .collect(),
                cards,
            };
            let path = o.dir.join("segments.json");
            store::write_json(&path, &seg)?;
            o.written.push(path);
            // The chosen clustering's labels, which name the segments of the
            // training-only and per-cohort fits below.
            let chosen_labels: &[usize] = &c.labels;
            if let (Some(t), Some(e)) = (&target, ds.economics()) {
                let mlp = p
                    .manifest
                    .classification
                    .as_ref()
                    .map(|c| c.mlp.clone())
                    .unwrap_or_default();
                let key = serde_json::json!({
                        "run": best.hash, "mlp": mlp, "seed": p.manifest.seed, "version": strata_core::VERSION,
                        // Segments named after the chosen clustering's; the winner's
                        // leads from a paired bootstrap.
                        "chosen_segment": true, "leads": "paired",
                        // A policy that contacts nobody says so in the verdict.
                        "nobody": true,
                        // The comparison repeated over stratified splits.
                        "splits": crate::targeting::SPLITS, "repeated": "nadeau-bengio, random splits, strict wins",
                        // The depth table of capped lists over those splits.
                        "depths": crate::targeting::DEPTHS
                    })
                    .to_string();
                let path = o.dir.join("targeting.json");
                phases.time("targeting", Some(name), || store::keyed(&path, key, opts.force, || {
                    let (r, c) = build_pair(registry, &best.config)?;
                    let prep = crate::classify::RecipePrep(&p.loaded);
                    let selected = crate::classify::SelectedPrep {
                        loaded: &p.loaded,
                        columns: &best.config.columns,
                    };
                    crate::targeting::evaluate(
                        strata_neural::cv::Source::Prepared {
                            prepare: &prep,
                            rows: ds.n_samples(),
                        },
                        (!best.config.columns.is_all()).then_some(
                            strata_neural::cv::Source::Prepared {
                                prepare: &selected,
                                rows: ds.n_samples(),
                            },
                        ),
                        t,
                        e,
                        r.as_ref(),
                        c.as_ref(),
                        &mlp,
                        crate::targeting::TEST_FRACTION,
                        p.manifest.seed.named("targeting"),
                        Some(&p.segment_kinds),
                        Some(chosen_labels),
                        crate::targeting::SPLITS,
                    )
                }))?;
                o.written.push(path);
            }
            if let Some(spec) = &p.manifest.cohorts {
                let key = serde_json::json!({
                        "run": best.hash, "cohorts": spec, "seed": p.manifest.seed, "version": strata_core::VERSION,
                        // Segments named after the chosen clustering's; the response
                        // change judged by Newcombe's interval of the difference.
                        "chosen_segment": true, "response_change": "newcombe", "ari": "bootstrap refitting each cohort's representation and clustering", "refits": crate::cohorts::REFITS,
                        // Each centre shift with its Welch interval.
                        "shift_interval": "welch",
                        // Nominal features have no centre to compare.
                        "nominal": p.loaded.descriptor.columns.nominal
                    })
                    .to_string();
                let path = o.dir.join("cohorts.json");
                phases.time("cohorts", Some(name), || store::keyed(&path, key, opts.force, || {
                    let dates =
                        crate::cohorts::parse_dates(&metadata_text(&p.loaded, &spec.column)?, spec, |i| {
                            crate::cohorts::row_in_file(&p.loaded, i)
                        })
                            .map_err(|e| anyhow::anyhow!(e))?;
                    let (r, c) = build_pair(registry, &best.config)?;
                    let names = ds.feature_names();
                    let excluded: Vec<String> = std::iter::once(spec.column.clone())
                        .chain(crate::cohorts::derived_from(&p.loaded.descriptor, &spec.column))
                        .filter(|f| names.contains(f))
                        .collect();
                    crate::cohorts::evaluate(
                        p.loaded.as_ref(),
                        &crate::cohorts::CohortInputs {
                            dates: &dates,
                            column: &spec.column,
                            columns: &best.config.columns,
                            excluded: &excluded,
                            nominal: &p.loaded.descriptor.columns.nominal,
                            target: target.as_deref(),
                            chosen: Some(chosen_labels),
                            refits: crate::cohorts::REFITS,
                        },
                        r.as_ref(),
                        c.as_ref(),
                        p.manifest.seed.named("cohorts"),
                    )
                }))?;
                o.written.push(path);
            }
        }
    }
    Ok(())
}

/// Measures again, on `selection::REFINE_FACTOR` times the resamples, the
/// stability of the runs whose interval holds the filter's line and which
/// could take the choice (`selection::to_refine`), applies it, and asks
/// again until no such run is left (a refined run that passes may become
/// the choice; a chosen run that falls out lowers the bar), at most
/// `selection::MAX_REFINED` runs. What it measured is kept in the experiment's
/// `stability_refined.json` (entries stored under the same key are reused
/// unless `force`), which holds exactly the runs this sweep asked for, so
/// the results do not depend on earlier sweeps; a pinned segmentation
/// needs none.
fn refine_stability(o: &mut ExperimentOutcome, p: &Planned, registry: &Registry, force: bool) -> anyhow::Result<()> {
    let stored = if force { BTreeMap::new() } else { store::read_refined(&o.dir).unwrap_or_default() };
    let mut kept: BTreeMap<String, store::RefinedStability> = BTreeMap::new();
    // Every run asked for, measured or not (a refit can fail: the run then
    // keeps its first measurement, and is not asked for again).
    let mut tried: Vec<String> = Vec::new();
    // The runs as the run stage stored them, without an earlier sweep's
    // refinements.
    let mut res = store::ExperimentResults::read_unrefined(&o.dir)?;
    if res.plan.pin.is_none() {
        loop {
            let all: Vec<&RunRecord> = res.runs.iter().collect();
            let todo: Vec<RunRecord> = crate::selection::to_refine(&all)
                .into_iter()
                .filter(|r| !tried.contains(&r.hash))
                .take(crate::selection::MAX_REFINED.saturating_sub(tried.len()))
                .cloned()
                .collect();
            if todo.is_empty() {
                break;
            }
            for r in todo {
                tried.push(r.hash.clone());
                let key = store::refined_key(&r);
                if let Some(f) = stored.get(&r.hash).filter(|f| f.key == key) {
                    kept.insert(r.hash.clone(), f.clone());
                    continue;
                }
                let _span = tracing::info_span!("refine stability", run = %r.hash).entered();
                let measured = registry.build_clusterer(&r.config.clusterer).and_then(|c| {
                    run::pipeline_stability(
                        &r.config,
                        p,
                        c.as_ref(),
                        &run::Resampled::default(),
                        registry,
                        crate::selection::REFINE_FACTOR * r.config.evaluation.stability_resamples,
                    )
                    .map_err(anyhow::Error::from)
                });
                match measured {
                    Ok(stability) => {
                        kept.insert(r.hash.clone(), store::RefinedStability { key, stability });
                    }
                    Err(e) => tracing::warn!(
                        "{}: the stability of run {} ({} on {}) could not be measured again, so it keeps its first measurement: {e:#}",
                        p.manifest.name,
                        r.hash,
                        r.config.clusterer.label(),
                        r.config.representation.label()
                    ),
                }
            }
            for r in &mut res.runs {
                store::apply_refined(r, &kept);
            }
        }
    }
    store::write_refined(&o.dir, &kept)?;
    let path = o.dir.join(store::REFINED_FILE);
    if path.is_file() {
        o.written.push(path);
    }
    Ok(())
}

/// The similar-tracks measurement of each experiment with `[similarity]`.
pub(super) fn similar_tracks(
    outcomes: &mut [ExperimentOutcome],
    plans: &[Planned],
    registry: &Registry,
    opts: &SweepOptions,
    phases: &Phases,
) -> anyhow::Result<()> {
    for (o, p) in outcomes.iter_mut().zip(plans) {
        let Some(spec) = &p.manifest.similarity else {
            continue;
        };
        let mut reps: Vec<AlgoConfig> = Vec::new();
        for r in p.manifest.representations.iter().flat_map(crate::manifest::Block::expand) {
            if !reps.contains(&r) {
                reps.push(r);
            }
        }
        let key = serde_json::json!({
            "similarity": spec, "representations": reps, "columns": p.manifest.features.columns(),
            "seed": p.manifest.seed, "dataset": p.dataset.identity(), "version": strata_core::VERSION,
            "choice": "held-out queries", "noun": p.loaded.descriptor.noun
        })
        .to_string();
        // The measurement needs no run, only the representations: one unit,
        // computed by the shard its key hashes to, copied by `strata merge`.
        if let Some(shard) = opts.shard {
            o.decisions_left = true;
            if !in_shard(&content_hash(&serde_json::Value::String(key.clone())), shard) {
                continue;
            }
        }
        let path = o.dir.join("similarity.json");
        phases.time("similar tracks", Some(&p.manifest.name), || store::keyed(&path, key, opts.force, || {
            let _span = tracing::info_span!("similarity", experiment = %p.manifest.name).entered();
            let raw = strata_data::read_raw(&p.loaded.descriptor, &opts.dirs)?;
            let id = p.loaded.descriptor.columns.id.clone().unwrap_or_default();
            let judged = crate::neighbours::memberships(&raw, &id, &spec.judgements, p.loaded.dataset.ids())?;
            let popularity: Vec<f64> = metadata_text(&p.loaded, &spec.popularity)?
                .iter()
                .map(|v| v.trim().parse().unwrap_or(f64::NAN))
                .collect();
            let mut spaces = Vec::new();
            for r in &reps {
                let (_, y) = registry
                    .build_reducer(r)?
                    .fit_transform(p.segmenting.view(), p.manifest.seed.named("representation"))?;
                spaces.push((r.label(), y));
            }
            crate::neighbours::evaluate(
                &spaces,
                &spec.judgements.iter().cloned().zip(judged).collect::<Vec<_>>(),
                &popularity,
                spec,
                p.manifest.seed.named("similarity"),
                &p.loaded.descriptor.noun,
            )
        }))?;
        o.written.push(path);
    }
    Ok(())
}
