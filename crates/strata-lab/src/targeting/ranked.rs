//! The MLP's ranked list: the procedure held-out targeting judges and
//! `strata contact-list` applies.

use ndarray::Axis;
use rayon::prelude::*;
use strata_core::Seed;
use strata_neural::MlpConfig;
use strata_neural::cv::Source;
use strata_neural::folds::stratified_split;

/// The MLP's ranked list, fitted on the customers `rows` (global indices
/// into `y`; `x` holds their features in that order): the MLP is trained on
/// a stratified 80 % of them, and the other 20 % validate it (early
/// stopping) and set the contact threshold, the score down to which
/// contacting them, best first, earned the most (`unit(i)`: customer `i`'s
/// profit if contacted). Infinite when no prefix of the list earns
/// anything: contact nobody. Held-out targeting judges this procedure;
/// `strata contact-list` applies it to every customer.
pub fn ranked_list(
    mlp: &MlpConfig,
    x: ndarray::ArrayView2<'_, f64>,
    y: &[u8],
    rows: &[usize],
    unit: &dyn Fn(usize) -> f64,
    seed: Seed,
) -> anyhow::Result<RankedList> {
    if x.nrows() != rows.len() {
        anyhow::bail!("ranked list: {} feature rows for {} customers", x.nrows(), rows.len());
    }
    let mut at = vec![usize::MAX; y.len()];
    for (p, &i) in rows.iter().enumerate() {
        at[i] = p;
    }
    let rows_of = |r: &[usize]| x.select(Axis(0), &r.iter().map(|&i| at[i]).collect::<Vec<_>>());
    let (fit, val) = stratified_split(rows, y, 0.2, seed.named("mlp-validation"));
    let yf: Vec<u8> = fit.iter().map(|&i| y[i]).collect();
    let yv: Vec<u8> = val.iter().map(|&i| y[i]).collect();
    let (xfit, xval) = (rows_of(&fit), rows_of(&val));
    let model = mlp.fit(xfit.view(), &yf, xval.view(), &yv, seed.named("mlp"), &|_| {})?;
    let sv = model.predict_proba(xval.view())?;
    let mut order: Vec<usize> = (0..val.len()).collect();
    order.sort_by(|&a, &b| sv[b].total_cmp(&sv[a]));
    let (mut best, mut run, mut threshold) = (0.0, 0.0, f64::INFINITY);
    for &j in &order {
        run += unit(val[j]);
        if run > best {
            best = run;
            threshold = sv[j];
        }
    }
    Ok(RankedList {
        model,
        threshold,
        fit_rows: fit.len(),
        validation_rows: val.len(),
    })
}

/// Every customer's score from a [`ranked_list`] that never saw their
/// response: for each of `folds` (disjoint, covering every row of `y`), the
/// procedure is fitted on the customers of the other folds, `source`'s
/// preparation (the preprocessing recipe) included, and scores the fold's
/// customers (fold `f` fitted with `seed.child(f)`; the folds run in
/// parallel, each on its own seed, so the scores do not depend on the
/// thread count). The scores of different folds come from different fits,
/// on the same scale (a predicted response probability).
pub fn out_of_fold_scores(
    mlp: &MlpConfig,
    source: &Source<'_>,
    y: &[u8],
    unit: &(dyn Fn(usize) -> f64 + Sync),
    folds: &[Vec<usize>],
    seed: Seed,
) -> anyhow::Result<Vec<f64>> {
    if source.rows() != y.len() {
        anyhow::bail!("out-of-fold scores: {} feature rows for {} customers", source.rows(), y.len());
    }
    let mut fold_of = vec![usize::MAX; y.len()];
    for (f, rows) in folds.iter().enumerate() {
        for &i in rows {
            match fold_of.get_mut(i) {
                Some(at) if *at == usize::MAX => *at = f,
                Some(_) => anyhow::bail!("out-of-fold scores: customer {i} is in two folds"),
                None => anyhow::bail!("out-of-fold scores: fold {f} names customer {i} of {}", y.len()),
            }
        }
    }
    if let Some(i) = fold_of.iter().position(|&f| f == usize::MAX) {
        anyhow::bail!("out-of-fold scores: customer {i} is in no fold");
    }
    let scored: Vec<anyhow::Result<Vec<f64>>> = (0..folds.len())
        .into_par_iter()
        .map(|f| {
            let fit: Vec<usize> = (0..y.len()).filter(|&i| fold_of[i] != f).collect();
            let (xfit, mut rest) = source.prepare(&fit, &[&folds[f]])?;
            let xout = rest
                .pop()
                .ok_or_else(|| anyhow::anyhow!("out-of-fold scores: no matrix for fold {f}"))?;
            let list = ranked_list(mlp, xfit.view(), y, &fit, unit, seed.child(f as u64))
                .map_err(|e| anyhow::anyhow!("fold {} of {}: {e:#}", f + 1, folds.len()))?;
            list.model.predict_proba(xout.view()).map_err(anyhow::Error::from)
        })
        .collect();
    let mut scores = vec![f64::NAN; y.len()];
    for (f, s) in scored.into_iter().enumerate() {
        for (&i, v) in folds[f].iter().zip(s?) {
            scores[i] = v;
        }
    }
    Ok(scores)
}

/// What [`ranked_list`] fits.
pub struct RankedList {
    pub model: strata_neural::FittedMlp,
    /// Contact every customer scored at least this (infinite: nobody).
    pub threshold: f64,
    /// Customers the MLP was trained on, and those that validated it.
    pub fit_rows: usize,
    pub validation_rows: usize,
}
