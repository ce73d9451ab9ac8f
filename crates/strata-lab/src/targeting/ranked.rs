//! The MLP's ranked list: the procedure held-out targeting judges and
//! `strata contact-list` applies.

use ndarray::Axis;
use strata_core::Seed;
use strata_neural::MlpConfig;
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

/// What [`ranked_list`] fits.
pub struct RankedList {
    pub model: strata_neural::FittedMlp,
    /// Contact every customer scored at least this (infinite: nobody).
    pub threshold: f64,
    /// Customers the MLP was trained on, and those that validated it.
    pub fit_rows: usize,
    pub validation_rows: usize,
}
