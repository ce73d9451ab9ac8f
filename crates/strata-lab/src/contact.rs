//! `strata contact-list`: the MLP's ranked list, applied to customers.
//!
//! Held-out targeting judges a procedure ([`crate::targeting::ranked_list`]:
//! an MLP trained on 80 % of the customers it is given, its contact
//! threshold set on the other 20 %). Here the same procedure is fitted on
//! every labelled customer of the experiment's dataset (the preprocessing
//! recipe too) and applied to a file of customers with the same columns,
//! for example those of the next campaign: each gets a score, a rank and
//! whether to contact them. The held-out figure of the procedure, when the
//! sweep has measured it, is quoted beside the list; customers of the file
//! whose ids trained the model are counted, since their scores are
//! in-sample.

use std::path::{Path, PathBuf};

/// Folder of the list inside an experiment's results.
pub const FOLDER: &str = "contact_list";

/// Name of the seed the ranked list is fitted with (from the manifest's).
const SEED: &str = "contact-list";

/// The ranked list fitted on every labelled customer (`x` and `y`, a row
/// each; `unit(i)`: customer `i`'s profit if contacted) with the manifest's
/// `[classification.mlp]` (or the defaults) and the contact list's seed:
/// what `strata contact-list` scores with.
pub fn fit_on_labelled(
    m: &crate::manifest::Manifest,
    x: ndarray::ArrayView2<'_, f64>,
    y: &[u8],
    unit: &dyn Fn(usize) -> f64,
) -> anyhow::Result<crate::targeting::RankedList> {
    let all: Vec<usize> = (0..y.len()).collect();
    crate::targeting::ranked_list(&mlp_of(m), x, y, &all, unit, m.seed.named(SEED))
}

/// The manifest's `[classification.mlp]`, or the defaults.
fn mlp_of(m: &crate::manifest::Manifest) -> strata_neural::MlpConfig {
    m.classification.as_ref().map(|c| c.mlp.clone()).unwrap_or_default()
}

/// Folds of [`score_out_of_fold`].
pub const SCORE_FOLDS: usize = 5;

/// Every labelled customer's score from the contact list's procedure
/// (the MLP of [`fit_on_labelled`], its preprocessing recipe included)
/// fitted on the other customers: [`SCORE_FOLDS`] stratified folds, each
/// scored by a fit on the rest (`targeting::out_of_fold_scores`); returned
/// with the folds (rows of each), since scores of different fits share no
/// scale. What
/// `plan-test --by mlp` stratifies by: a quarter's past response rate is
/// then the rate among customers the list sorted there without having
/// learnt their answers, as it will sort new customers, where the list
/// fitted on every customer would sort its own training customers by the
/// answers it learnt.
pub fn score_out_of_fold(
    m: &crate::manifest::Manifest,
    loaded: &strata_data::LoadedDataset,
    y: &[u8],
    unit: &(dyn Fn(usize) -> f64 + Sync),
) -> anyhow::Result<(Vec<f64>, Vec<Vec<usize>>)> {
    let seed = m.seed.named(SEED).named("out-of-fold");
    let folds = strata_neural::folds::stratified_folds(y, SCORE_FOLDS, seed.named("folds"))
        .map_err(|e| anyhow::anyhow!("{}: cannot score the customers out of fold: {e}", m.name))?;
    let prep = crate::classify::RecipePrep(loaded);
    let source = strata_neural::cv::Source::Prepared {
        prepare: &prep,
        rows: y.len(),
    };
    let scores = crate::targeting::out_of_fold_scores(&mlp_of(m), &source, y, unit, &folds, seed)
        .map_err(|e| anyhow::anyhow!("{}: scoring the customers out of fold: {e:#}", m.name))?;
    Ok((scores, folds))
}

/// The scored customers, best first.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactList {
    pub experiment: String,
    /// The scored file, as given.
    pub customers: PathBuf,
    /// Name of the id column (the descriptor's, else `id`).
    pub id_column: String,
    /// Labelled customers the MLP was trained and validated on.
    pub fit_rows: usize,
    pub validation_rows: usize,
    /// Contact every customer scored at least this (infinite: nobody).
    pub threshold: f64,
    /// Customers, best first: id, score, contact.
    pub ranked: Vec<(String, f64, bool)>,
    /// Customers of the file whose id is a labelled customer's.
    pub seen: usize,
    /// What preparing the file as the labelled customers were prepared
    /// warned about (a category no labelled customer had, say): those
    /// customers are scored on inputs the model never saw.
    pub warnings: Vec<String>,
    /// The MLP policy's held-out profit, from the sweep's targeting.
    pub held_out: Option<String>,
    /// What the procedure should earn on the file's customers if they are
    /// like the labelled ones: [`expected_profit`] (mean, low, high).
    pub expected: Option<(f64, f64, f64)>,
    /// `--budget`: at most this many contacts.
    pub budget: Option<Budget>,
}

/// A cap on the contacts (`--budget`), against the threshold's list.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    /// At most this many contacts.
    pub limit: usize,
    /// Customers of the file the threshold alone would contact.
    pub by_threshold: usize,
    /// When the cap binds: the rows of held-out targeting's depth table
    /// whose shares bracket the cap's share of the file ([`bracketing`]),
    /// and the splits and held-out customers behind them.
    pub depths: Vec<crate::targeting::Depth>,
    pub splits: usize,
    pub test_rows: usize,
}

impl Budget {
    /// Whether the cap contacts fewer customers than the threshold would.
    pub fn binds(&self) -> bool {
        self.limit < self.by_threshold
    }
}

/// The rows of `depths` whose shares bracket `share`: the deepest at or
/// below it and the shallowest at or above it (one row when a share
/// matches, or when `share` lies outside the table).
pub fn bracketing(depths: &[crate::targeting::Depth], share: f64) -> Vec<&crate::targeting::Depth> {
    let below = depths.iter().rev().find(|d| d.share <= share);
    let above = depths.iter().find(|d| d.share >= share);
    let mut rows: Vec<&crate::targeting::Depth> = below.into_iter().chain(above).collect();
    rows.dedup_by(|a, b| std::ptr::eq(*a, *b));
    rows
}

/// What the MLP's ranked list should earn on `customers` new customers
/// like the labelled ones: its mean profit per held-out customer over the
/// repeated random splits of held-out targeting, with the ends of that
/// mean's 95 % interval, times `customers` (mean, low, high). None without
/// a repeated comparison.
pub fn expected_profit(r: &crate::targeting::Repeated, customers: usize) -> Option<(f64, f64, f64)> {
    let p = r.policy(crate::targeting::MLP_POLICY)?;
    let per = customers as f64 / r.test_rows.max(1) as f64;
    // `+ 0.0` turns -0 into 0 for display.
    Some((p.mean * per + 0.0, p.low * per + 0.0, p.high * per + 0.0))
}

impl ContactList {
    pub fn contacted(&self) -> usize {
        self.ranked.iter().filter(|r| r.2).count()
    }
}

/// Reads a customers file (CSV with the descriptor's delimiter, or Parquet);
/// an empty or header-only file is an error of the reader.
fn read_customers(path: &Path, descriptor: &strata_data::Descriptor) -> anyhow::Result<strata_data::RawTable> {
    let table = if strata_data::is_parquet(path) {
        strata_data::parquet::read_table(path)?
    } else {
        let delimiter = descriptor
            .source
            .delimiter
            .as_deref()
            .and_then(strata_data::csv::delimiter_byte);
        strata_data::read_table(path, delimiter)?
    };
    Ok(table)
}

/// Fits the ranked list on every labelled customer of the manifest's
/// dataset and scores the customers of `customers`; `out` is the results
/// folder whose targeting measurement is quoted when present.
pub fn build(
    manifest: &Path,
    customers: &Path,
    out: &Path,
    dirs: &strata_data::DataDirs,
    budget: Option<usize>,
) -> anyhow::Result<ContactList> {
    let m = crate::manifest::Manifest::from_path(manifest)?;
    let descriptor = strata_data::Descriptor::from_path(m.descriptor_path())?;
    let missing = match (descriptor.columns.target.is_some(), descriptor.economics.is_some()) {
        (true, true) => None,
        (false, false) => Some("neither (columns.target, [economics])"),
        (false, true) => Some("no target (columns.target)"),
        (true, false) => Some("no economics ([economics])"),
    };
    if let Some(missing) = missing {
        anyhow::bail!(
            "{}: a contact list needs a target and economics, and descriptor `{}` declares {missing}",
            manifest.display(),
            m.descriptor_path().display(),
        );
    }
    let loaded = crate::obtain(&descriptor, dirs, true)?;
    let ds = &loaded.dataset;
    let (Some(target), Some(econ)) = (ds.target(), ds.economics()) else {
        anyhow::bail!("{}: the loaded dataset has no target or economics", manifest.display());
    };
    let y = target.values.as_slice().unwrap_or(&[]).to_vec();
    let unit = |i: usize| f64::from(y[i]) * econ.revenue_per_response[i] - econ.cost_per_contact[i];
    let fitted = fit_on_labelled(&m, ds.features().view(), &y, &unit)?;
    let threshold = fitted.threshold;
    let table = read_customers(customers, &descriptor)?;
    // Data errors name the file, the row and the column themselves.
    let (new, warnings) = loaded.apply_new(&table)?;
    if new.feature_names() != ds.feature_names() {
        anyhow::bail!(
            "{}: the prepared columns differ from the labelled customers' ({} against {})",
            customers.display(),
            new.feature_names().join(", "),
            ds.feature_names().join(", ")
        );
    }
    let scores = fitted.model.predict_proba(new.features().view())?;
    let known: std::collections::HashSet<&str> = ds.ids().iter().map(String::as_str).collect();
    let seen = new.ids().iter().filter(|i| known.contains(i.as_str())).count();
    let mut ranked: Vec<(String, f64, bool)> = new
        .ids()
        .iter()
        .zip(scores.iter())
        .map(|(id, &s)| (id.clone(), s, s >= threshold))
        .collect();
    // Best first; equal scores in file order.
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    let targeting = crate::store::ExperimentResults::read(&out.join(&m.name))
        .ok()
        .and_then(|r| r.targeting);
    // The cap keeps the best `limit` of the threshold's list: it never
    // contacts a customer the threshold leaves out.
    let by_threshold = ranked.iter().filter(|r| r.2).count();
    let budget = budget.map(|limit| {
        for r in ranked.iter_mut().skip(limit) {
            r.2 = false;
        }
        let repeated = targeting.as_ref().and_then(|t| t.repeated.as_ref());
        let share = limit as f64 / ranked.len().max(1) as f64;
        Budget {
            limit,
            by_threshold,
            depths: repeated
                .filter(|_| limit < by_threshold)
                .map(|r| bracketing(&r.depths, share).into_iter().cloned().collect())
                .unwrap_or_default(),
            splits: repeated.map_or(0, |r| r.splits),
            test_rows: repeated.map_or(0, |r| r.test_rows),
        }
    });
    // Only for customers the model has not seen (a file of labelled
    // customers only has its outcomes already), and for the threshold's
    // list (a cap that binds contacts fewer).
    let expected = targeting
        .as_ref()
        .and_then(|t| t.repeated.as_ref())
        .filter(|_| seen < ranked.len() && !budget.as_ref().is_some_and(Budget::binds))
        .and_then(|r| expected_profit(r, ranked.len()));
    let held_out = targeting.and_then(|t| {
        let repeated = t.repeated.as_ref().and_then(|r| {
            r.policy(crate::targeting::MLP_POLICY).map(|p| {
                format!(
                    "; over {} random splits of the same size, each refitting it, it earned {:.0} [{:.0}, {:.0}] on average (corrected resampled t 95 % interval), the most of the three policies in {} of them",
                    r.splits, p.mean, p.low, p.high, p.wins
                )
            })
        });
        t.policies.iter().find(|p| p.name == crate::targeting::MLP_POLICY).map(|p| {
            format!(
                "the same procedure, fitted on {} customers, earned {:.0} [{:.0}, {:.0}] on {} others, contacting {} (bootstrap 95 % interval){} (`targeting.json`)",
                t.train_rows,
                p.profit,
                p.low,
                p.high,
                t.test_rows.len(),
                p.contacted,
                repeated.unwrap_or_default()
            )
        })
    });
    Ok(ContactList {
        experiment: m.name.clone(),
        customers: customers.to_path_buf(),
        id_column: descriptor.columns.id.clone().unwrap_or_else(|| "id".into()),
        fit_rows: fitted.fit_rows,
        validation_rows: fitted.validation_rows,
        threshold,
        ranked,
        seen,
        warnings: warnings.iter().map(|w| format!("{}: {}", w.column, w.message)).collect(),
        held_out,
        expected,
        budget,
    })
}

/// Writes `contact_list.csv` (id, score, rank, contact; best first) into
/// `dir`, and returns its path.
pub fn write(list: &ContactList, dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    let mut text = format!("{},score,rank,contact\n", csv_field(&list.id_column));
    for (rank, (id, score, contact)) in list.ranked.iter().enumerate() {
        text.push_str(&format!("{},{score:.6},{},{}\n", csv_field(id), rank + 1, if *contact { "yes" } else { "no" }));
    }
    let path = dir.join("contact_list.csv");
    crate::store::write_atomic(&path, text.as_bytes())?;
    Ok(path)
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The list's summary for the terminal.
pub fn render(list: &ContactList) -> String {
    let n = list.ranked.len();
    let k = list.contacted();
    let mut out = format!(
        "contact list for {}: {n} customers in {}\n",
        list.experiment,
        list.customers.display()
    );
    out.push_str(&format!(
        "rule: an MLP trained on {} labelled customers and validated on {} others; the contact threshold is the score down to which contacting the validation customers, best first, earned the most\n",
        list.fit_rows, list.validation_rows
    ));
    if let Some(b) = list.budget.as_ref().filter(|b| b.binds()) {
        out.push_str(&format!(
            "contact {k} of {n} ({:.1} %): the best {k} by score, the budget's cap (the threshold, score at least {:.4}, would contact {})\n",
            100.0 * k as f64 / n.max(1) as f64,
            list.threshold,
            b.by_threshold
        ));
    } else if list.threshold.is_finite() {
        out.push_str(&format!(
            "contact {k} of {n} ({:.1} %): score at least {:.4}\n",
            100.0 * k as f64 / n.max(1) as f64,
            list.threshold
        ));
    } else {
        out.push_str("contact nobody: no stretch of the validation customers' ranked list earned anything\n");
    }
    if let Some(b) = &list.budget {
        if !b.binds() {
            out.push_str(&format!(
                "budget: at most {} contacts, and the threshold picks {}: the budget does not bind (customers below the threshold are not contacted: contacting further down the list did not pay on the validation customers)\n",
                b.limit, b.by_threshold
            ));
        } else if b.depths.is_empty() {
            out.push_str("budget: the held-out figures below are for the threshold's list; a capped list's is in held-out targeting's depth table, not measured here\n");
        } else {
            let rows: Vec<String> = b
                .depths
                .iter()
                .map(|d| format!("the best {:.0} % ({}) earned {:.0} [{:.0}, {:.0}]", 100.0 * d.share, d.contacted, d.mean, d.low, d.high))
                .collect();
            out.push_str(&format!(
                "budget: the cap contacts {:.1} % of these customers; held out, contacting a fixed share of a split's {} customers best first (the depth table of `targeting.json`, {} random splits, corrected resampled t 95 % intervals): {}. The held-out figures below are for the threshold's list\n",
                100.0 * k as f64 / n.max(1) as f64,
                b.test_rows,
                b.splits,
                rows.join(", ")
            ));
        }
    }
    match &list.held_out {
        Some(h) => out.push_str(&format!("held out: {h}\n")),
        None => out.push_str("held out: not measured (run the sweep with the experiment's target and economics for targeting.json)\n"),
    }
    if let Some((mean, low, high)) = list.expected {
        out.push_str(&format!(
            "expected on these {n} customers, if they are like the labelled ones: {mean:.0} on average [{low:.0}, {high:.0}] (the procedure's mean profit per held-out customer over the repeated random splits, and the 95 % interval of that mean, times {n}: what these customers actually return varies more, since each one contacted responds or not; the list itself is fitted on every labelled customer, more than any split trained on)\n"
        ));
    }
    for w in &list.warnings {
        out.push_str(&format!(
            "caution: preparing these customers as the labelled ones were: {w}; their scores rest on a value no labelled customer had\n"
        ));
    }
    if list.seen > 0 {
        out.push_str(&format!(
            "caution: {} of these {n} customers are labelled customers the model was fitted on; their scores are in-sample and err high, and only the held-out figure above is an estimate for new customers\n",
            list.seen
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(threshold: f64, seen: usize, held_out: Option<&str>) -> ContactList {
        ContactList {
            experiment: "x".into(),
            customers: "c.csv".into(),
            id_column: "ID".into(),
            fit_rows: 80,
            validation_rows: 20,
            threshold,
            ranked: vec![("a,1".into(), 0.9, 0.9 >= threshold), ("b".into(), 0.5, 0.5 >= threshold), ("c".into(), 0.1, 0.1 >= threshold)],
            seen,
            warnings: vec![],
            held_out: held_out.map(String::from),
            expected: None,
            budget: None,
        }
    }

    /// A row of the depth table: its share, customers and mean profit with
    /// its interval (the tranche's fields are not read here).
    fn depth(share: f64, contacted: usize, mean: f64, low: f64, high: f64) -> crate::targeting::Depth {
        crate::targeting::fixtures::depth(share, contacted, (mean, low, high), (0, 0.0, 0.0, 0.0))
    }

    /// A cap that binds contacts the best of the threshold's list and quotes
    /// the depth table's rows around its share; one that does not bind says
    /// so and changes nothing.
    #[test]
    fn a_budget_caps_the_list_and_quotes_capped_lists_held_out() {
        let mut capped = list(0.2, 0, Some("the same procedure earned 10"));
        for r in capped.ranked.iter_mut().skip(1) {
            r.2 = false;
        }
        capped.budget = Some(Budget {
            limit: 1,
            by_threshold: 2,
            depths: vec![depth(0.3, 20, 15.0, 5.0, 25.0), depth(0.4, 27, 18.0, 4.0, 32.0)],
            splits: 20,
            test_rows: 67,
        });
        let text = render(&capped);
        assert!(text.contains("contact 1 of 3 (33.3 %): the best 1 by score, the budget's cap (the threshold, score at least 0.2000, would contact 2)"), "{text}");
        assert!(
            text.contains("budget: the cap contacts 33.3 % of these customers; held out, contacting a fixed share of a split's 67 customers best first (the depth table of `targeting.json`, 20 random splits, corrected resampled t 95 % intervals): the best 30 % (20) earned 15 [5, 25], the best 40 % (27) earned 18 [4, 32]. The held-out figures below are for the threshold's list"),
            "{text}"
        );
        capped.budget.as_mut().expect("budget").depths.clear();
        assert!(render(&capped).contains("a capped list's is in held-out targeting's depth table, not measured here"));
        let mut loose = list(0.2, 0, None);
        loose.budget = Some(Budget { limit: 5, by_threshold: 2, depths: vec![], splits: 0, test_rows: 0 });
        let text = render(&loose);
        assert!(text.contains("contact 2 of 3 (66.7 %): score at least 0.2000"), "{text}");
        assert!(text.contains("budget: at most 5 contacts, and the threshold picks 2: the budget does not bind"), "{text}");
    }

    #[test]
    fn the_depth_rows_bracket_the_budgets_share() {
        let table: Vec<crate::targeting::Depth> = crate::targeting::DEPTHS.iter().map(|&s| depth(s, 0, 0.0, 0.0, 0.0)).collect();
        let shares = |s: f64| bracketing(&table, s).iter().map(|d| d.share).collect::<Vec<_>>();
        assert_eq!(shares(0.125), [0.10, 0.15]);
        assert_eq!(shares(0.2), [0.2]);
        assert_eq!(shares(0.01), [0.05]);
        assert_eq!(shares(0.9), [0.5]);
        assert!(bracketing(&[], 0.3).is_empty());
    }

    #[test]
    fn the_summary_says_whom_to_contact_and_how_far_to_trust_it() {
        let text = render(&list(0.5, 0, Some("the same procedure earned 10")));
        assert!(text.contains("contact 2 of 3 (66.7 %): score at least 0.5000"), "{text}");
        assert!(text.contains("held out: the same procedure earned 10"), "{text}");
        assert!(!text.contains("caution"), "{text}");
        let text = render(&list(f64::INFINITY, 3, None));
        assert!(text.contains("contact nobody"), "{text}");
        assert!(text.contains("held out: not measured"), "{text}");
        assert!(text.contains("caution: 3 of these 3 customers are labelled customers"), "{text}");
        assert!(!text.contains("expected on"), "{text}");
        let mut with = list(0.5, 0, Some("the same procedure earned 10"));
        with.expected = Some((24.44, 16.0, 32.96));
        let text = render(&with);
        assert!(
            text.contains("expected on these 3 customers, if they are like the labelled ones: 24 on average [16, 33] (the procedure's mean profit per held-out customer"),
            "{text}"
        );
    }

    #[test]
    fn the_expected_profit_scales_the_repeated_mean_per_held_out_customer() {
        let policy = |name: &str, mean: f64| crate::targeting::RepeatedPolicy {
            name: name.into(),
            profits: vec![mean; 2],
            contacted: vec![10; 2],
            mean,
            low: mean - 100.0,
            high: mean + 100.0,
            wins: 0,
        };
        let mut r = crate::targeting::Repeated {
            splits: 2,
            failed: 0,
            train_rows: 1568,
            test_rows: 672,
            policies: vec![policy("everyone", -939.0), policy(crate::targeting::MLP_POLICY, 336.0)],
            leads: vec![],
            ahead: true,
            verdict: String::new(),
            depths: vec![],
        };
        // 336 on 672 held-out customers: 0.5 each, so 24.5 on 49.
        let (mean, low, high) = expected_profit(&r, 49).expect("the MLP policy");
        assert!((mean - 24.5).abs() < 1e-12 && (low - 236.0 * 49.0 / 672.0).abs() < 1e-12, "{mean} {low}");
        assert!((high - 436.0 * 49.0 / 672.0).abs() < 1e-12);
        r.policies.pop();
        assert_eq!(expected_profit(&r, 49), None);
    }

    #[test]
    fn the_file_lists_every_customer_best_first_with_quoted_ids() {
        let tmp = tempfile::tempdir().unwrap();
        let path = write(&list(0.5, 0, None), tmp.path()).unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        assert_eq!(text, "ID,score,rank,contact\n\"a,1\",0.900000,1,yes\nb,0.500000,2,yes\nc,0.100000,3,no\n");
    }
}
