//! The test's files: the chosen segmentation it stratifies by, the plan and
//! assignment it writes, the results file it reads.

use super::*;

/// Folder of an experiment's campaign test, inside its results folder.
pub const FOLDER: &str = "campaign_test";

/// The chosen segmentation of an experiment's results, with the data it was
/// fitted on: ids, segment per row, responses and economics.
pub struct Chosen {
    pub experiment: String,
    pub run: String,
    pub segmentation: String,
    pub ids: Vec<String>,
    pub id_column: String,
    pub labels: Vec<usize>,
    pub y: Vec<u8>,
    pub cost: Vec<f64>,
    pub revenue: Vec<f64>,
    pub seed: Seed,
    pub dir: std::path::PathBuf,
}

/// Loads a manifest's data and its chosen segmentation from `out`.
pub fn chosen(manifest: &std::path::Path, out: &std::path::Path, dirs: &strata_data::DataDirs) -> anyhow::Result<Chosen> {
    let m = crate::manifest::Manifest::from_path(manifest)?;
    let res = crate::compare::resolve(manifest, out)?;
    let seg = res.segments.as_ref().ok_or_else(|| {
        anyhow::anyhow!(
            "{}: no chosen segmentation (segments.json) in {}; run the sweep first",
            manifest.display(),
            res.dir.display()
        )
    })?;
    let run = res
        .runs
        .iter()
        .find(|r| r.hash == seg.run)
        .ok_or_else(|| anyhow::anyhow!("{}: the chosen run {} is not stored; run the sweep again", res.dir.display(), seg.run))?;
    let labels = run
        .clustering
        .as_ref()
        .map(|c| c.labels.clone())
        .ok_or_else(|| anyhow::anyhow!("{}: the chosen run {} has no labels", res.dir.display(), seg.run))?;
    let descriptor = strata_data::Descriptor::from_path(m.descriptor_path())?;
    let loaded = crate::obtain(&descriptor, dirs, true)?;
    let ds = &loaded.dataset;
    if labels.len() != ds.n_samples() || run.dataset.sha256 != loaded.report.sha256 {
        anyhow::bail!(
            "{}: the stored segmentation was computed on other data ({} rows, SHA-256 {}) than {} ({} rows, SHA-256 {}); run the sweep again",
            res.dir.display(),
            labels.len(),
            run.dataset.sha256,
            descriptor.source.file,
            ds.n_samples(),
            loaded.report.sha256
        );
    }
    let target = ds.target().ok_or_else(|| {
        anyhow::anyhow!("{}: a campaign test needs a response column, and descriptor `{}` declares none (columns.target)", manifest.display(), descriptor.name)
    })?;
    let econ = ds.economics().ok_or_else(|| {
        anyhow::anyhow!("{}: a campaign test needs the cost of a contact and the revenue of a response, and descriptor `{}` declares no [economics]", manifest.display(), descriptor.name)
    })?;
    Ok(Chosen {
        experiment: m.name.clone(),
        run: seg.run.clone(),
        segmentation: format!("{} on {}", seg.clusterer, seg.representation),
        ids: ds.ids().to_vec(),
        id_column: descriptor.columns.id.clone().unwrap_or_else(|| "id".into()),
        labels,
        y: target.values.to_vec(),
        cost: econ.cost_per_contact.to_vec(),
        revenue: econ.revenue_per_response.to_vec(),
        seed: m.seed,
        dir: res.dir.clone(),
    })
}

/// Replaces the chosen segmentation by quartiles of the MLP's predicted
/// response (0 = the highest-scored quarter), so that the test reads the
/// uplift along the ranked list of `strata contact-list`. Each customer is
/// scored by that procedure fitted on the other customers
/// (`contact::score_out_of_fold`): a quarter's past response rate, from
/// which the test is sized, is then the rate among customers the list put
/// there without having learnt their answers. Scored by the list fitted on
/// every customer, the quarters would be sorted partly by the very answers
/// they are then judged on: their rates spread wider than the list sorts
/// new customers, the top quarter's erring high. Each fold's customers are
/// cut into quarters by the fit that scored them, as the list cuts the
/// customers it ranks: the five fits' scores share no scale (on the
/// marketing data one fit's upper quartile was 0.42, another's 0.58), and
/// pooled, the top quarter took 88 customers from one fold and 125 from
/// another. This plans a future test, it does not evaluate the model.
pub fn by_mlp_quartiles(c: &mut Chosen, manifest: &std::path::Path, dirs: &strata_data::DataDirs) -> anyhow::Result<()> {
    let m = crate::manifest::Manifest::from_path(manifest)?;
    let descriptor = strata_data::Descriptor::from_path(m.descriptor_path())?;
    let loaded = crate::obtain(&descriptor, dirs, true)?;
    if loaded.dataset.n_samples() != c.y.len() {
        anyhow::bail!(
            "{}: the data have {} customers, the chosen segmentation {}; run the sweep again",
            manifest.display(),
            loaded.dataset.n_samples(),
            c.y.len()
        );
    }
    let (y, revenue, cost) = (&c.y, &c.revenue, &c.cost);
    let unit = |i: usize| f64::from(y[i]) * revenue[i] - cost[i];
    let (score, folds) = crate::contact::score_out_of_fold(&m, &loaded, y, &unit)?;
    c.labels = quartiles_within(&score, &folds);
    c.segmentation = format!(
        "quartiles of the MLP's out-of-fold predicted response (0 = the highest-scored quarter): the ranked list of `strata contact-list`, its preprocessing included, fitted on {} of {} stratified folds of the customers scores the fold left out and cuts that fold into quarters by its own scores (fits differ in scale), so each quarter's past response rate is that of customers the list sorted there without having learnt their answers",
        crate::contact::SCORE_FOLDS - 1,
        crate::contact::SCORE_FOLDS
    );
    c.run = "mlp".into();
    Ok(())
}

/// Quarter of each row, 0 = the highest-scored quarter: each fold (rows of
/// `score`, the folds covering every row once) is cut by its own scores
/// (ties in row order), its quarters differing in size by at most one row.
pub(crate) fn quartiles_within(score: &[f64], folds: &[Vec<usize>]) -> Vec<usize> {
    let mut labels = vec![0; score.len()];
    for fold in folds {
        let mut order = fold.clone();
        order.sort_by(|&a, &b| score[b].total_cmp(&score[a]).then(a.cmp(&b)));
        let n = order.len();
        for (rank, &i) in order.iter().enumerate() {
            labels[i] = rank * 4 / n.max(1);
        }
    }
    labels
}

/// The files of a planned (and perhaps read) test, in `campaign_test/`.
const TEST_FILES: [&str; 4] = ["plan.json", "assignment.csv", "assignment.parquet", "reading.json"];

/// Makes way for a new plan in `dir` (`campaign_test/`). A test already
/// planned there may be in the field, so its plan, assignment and reading
/// are never overwritten: without `replace` that is an error saying so; with
/// it they move to `replaced/N/` (N one more than any before), kept whole.
fn make_way(dir: &std::path::Path, replace: bool) -> anyhow::Result<Option<std::path::PathBuf>> {
    let plan_path = dir.join("plan.json");
    if !plan_path.is_file() {
        return Ok(None);
    }
    if !replace {
        let what = crate::store::read_json::<TestPlan>(&plan_path)
            .map(|t| format!(" ({}, seed {}, to detect {})", t.segmentation, t.seed.0, t.design.lift.describe()))
            .unwrap_or_default();
        let read = if dir.join("reading.json").is_file() { ", and it has been read" } else { "" };
        anyhow::bail!(
            "{}: a campaign test is already planned here{what}{read}; its assignment may be in the field, so it is kept. Pass --replace to plan a new test: the current plan, assignment and reading move to {} first",
            dir.display(),
            dir.join("replaced").join("N").display()
        );
    }
    let replaced = dir.join("replaced");
    let next = std::fs::read_dir(&replaced)
        .map(|rd| rd.flatten().filter_map(|e| e.file_name().to_str()?.parse::<usize>().ok()).max().unwrap_or(0))
        .unwrap_or(0)
        + 1;
    let to = replaced.join(next.to_string());
    std::fs::create_dir_all(&to).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", to.display()))?;
    for name in TEST_FILES {
        let from = dir.join(name);
        if from.is_file() {
            std::fs::rename(&from, to.join(name))
                .map_err(|e| anyhow::anyhow!("cannot move {} to {}: {e}", from.display(), to.display()))?;
        }
    }
    Ok(Some(to))
}

/// Plans the test on an experiment's chosen segmentation and writes
/// `campaign_test/plan.json`, `assignment.csv` and `assignment.parquet`.
/// A test already planned there is kept: refused, or with `replace` moved
/// aside first ([`make_way`]). Returns the plan, the files written and
/// where a replaced test went.
pub fn plan_files(
    c: &Chosen,
    design: Design,
    seed: Option<Seed>,
    replace: bool,
) -> anyhow::Result<(TestPlan, Vec<std::path::PathBuf>, Option<std::path::PathBuf>)> {
    let data = Segmented {
        labels: &c.labels,
        y: &c.y,
        cost: &c.cost,
        revenue: &c.revenue,
    };
    let segments = plan(&data, design).map_err(|e| anyhow::anyhow!("{}: {e}", c.experiment))?;
    let seed = seed.unwrap_or(c.seed);
    let arms = assign(&c.labels, &segments, seed);
    let test = TestPlan {
        experiment: c.experiment.clone(),
        run: c.run.clone(),
        segmentation: c.segmentation.clone(),
        design,
        seed,
        rule: planning_rule(&design, segments.len()),
        segments,
    };
    let dir = c.dir.join(FOLDER);
    let moved = make_way(&dir, replace)?;
    std::fs::create_dir_all(&dir).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    let plan_path = dir.join("plan.json");
    crate::store::write_json(&plan_path, &test)?;
    use polars::prelude::*;
    let mut df = DataFrame::new_infer_height(vec![
        Column::new(c.id_column.as_str().into(), c.ids.clone()),
        Column::new("segment".into(), c.labels.iter().map(|&l| l as u32).collect::<Vec<_>>()),
        Column::new("arm".into(), arms.iter().map(|a| a.as_str()).collect::<Vec<_>>()),
    ])
    .map_err(|e| anyhow::anyhow!("assignment table: {e}"))?;
    let csv = dir.join("assignment.csv");
    let mut buf = Vec::new();
    CsvWriter::new(&mut buf)
        .finish(&mut df)
        .map_err(|e| anyhow::anyhow!("{}: {e}", csv.display()))?;
    crate::store::write_atomic(&csv, &buf)?;
    let pq = dir.join("assignment.parquet");
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf)
        .finish(&mut df)
        .map_err(|e| anyhow::anyhow!("{}: {e}", pq.display()))?;
    crate::store::write_atomic(&pq, &buf)?;
    Ok((test, vec![plan_path, csv, pq], moved))
}

/// Whether an assignment (arm and segment by id) is the one plan-test wrote
/// with `test`: every segment of the plan, and only those, with the plan's
/// customers per arm in each arm.
fn check_assignment(test: &TestPlan, planned: &std::collections::HashMap<String, (usize, Arm)>) -> Result<(), String> {
    if let Some(seg) = planned.values().map(|&(s, _)| s).filter(|s| !test.segments.iter().any(|p| p.segment == *s)).min() {
        return Err(format!("the assignment has customers in segment {seg}, which the plan does not test"));
    }
    for p in &test.segments {
        let count = |arm: Arm| planned.values().filter(|&&(s, a)| s == p.segment && a == arm).count();
        let (treated, control) = (count(Arm::Treatment), count(Arm::Control));
        if (treated, control) != (p.per_arm, p.per_arm) {
            return Err(format!(
                "segment {} has {treated} treated and {control} control customers in the assignment, the plan {} per arm",
                p.segment, p.per_arm
            ));
        }
    }
    Ok(())
}

/// Reads a test's results file against the stored plan and assignment, and
/// writes `campaign_test/reading.json`.
///
/// The file needs a column with the customer id (named as in the
/// assignment, or `id`) and `responded` (1/0, true/false, yes/no); an `arm`
/// column, when present, must agree with the assignment. A customer who is
/// not in the test, an unknown or repeated id and an unreadable value are
/// errors naming the row; assigned customers without a result are counted.
pub fn read_files(
    experiment_dir: &std::path::Path,
    results: &std::path::Path,
    final_results: bool,
) -> anyhow::Result<(TestReading, std::path::PathBuf)> {
    let dir = experiment_dir.join(FOLDER);
    let plan_path = dir.join("plan.json");
    if !plan_path.is_file() {
        anyhow::bail!("{}: no test plan; run `strata plan-test` first", plan_path.display());
    }
    let test: TestPlan = crate::store::read_json(&plan_path)?;
    let assignment = strata_data::read_table(&dir.join("assignment.csv"), None)?;
    let names = assignment.column_names();
    let id_column = names.first().cloned().unwrap_or_else(|| "id".into());
    let text = |t: &strata_data::RawTable, col: &str| -> anyhow::Result<Vec<Option<String>>> { Ok(t.text_column(col, &[])?) };
    let ids = text(&assignment, &id_column)?;
    let segs = text(&assignment, "segment")?;
    let arms = text(&assignment, "arm")?;
    let assignment_path = dir.join("assignment.csv");
    let mut planned: std::collections::HashMap<String, (usize, Arm)> = std::collections::HashMap::new();
    for i in 0..assignment.height() {
        let bad = || anyhow::anyhow!("{}: {}: not an assignment row written by plan-test", assignment_path.display(), assignment.at(i));
        let id = ids[i].clone().ok_or_else(bad)?;
        let seg: usize = segs[i].as_deref().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
        let arm = arms[i].as_deref().and_then(Arm::parse).ok_or_else(bad)?;
        if planned.insert(id.clone(), (seg, arm)).is_some() {
            anyhow::bail!("{}: {}: id `{id}` is assigned twice", assignment_path.display(), assignment.at(i));
        }
    }
    check_assignment(&test, &planned).map_err(|e| {
        anyhow::anyhow!(
            "{} does not match {}: {e}; read the results against the assignment written with this plan",
            assignment_path.display(),
            plan_path.display()
        )
    })?;
    let table = strata_data::read_table(results, None)?;
    let cols = table.column_names();
    let id_col = [id_column.as_str(), "id"]
        .into_iter()
        .find(|c| cols.iter().any(|x| x == c))
        .ok_or_else(|| anyhow::anyhow!("{}: no id column (`{id_column}` or `id`); columns: {}", results.display(), cols.join(", ")))?;
    if !cols.iter().any(|c| c == "responded") {
        anyhow::bail!("{}: no `responded` column (1/0, true/false, yes/no); columns: {}", results.display(), cols.join(", "));
    }
    let rid = text(&table, id_col)?;
    let resp = text(&table, "responded")?;
    let rarm = if cols.iter().any(|c| c == "arm") { Some(text(&table, "arm")?) } else { None };
    let mut seen = std::collections::HashSet::new();
    let mut observed = Vec::new();
    for i in 0..table.height() {
        let at = table.at(i);
        let id = rid[i].clone().ok_or_else(|| anyhow::anyhow!("{}: {at}: empty `{id_col}`", results.display()))?;
        let &(segment, arm) = planned.get(&id).ok_or_else(|| anyhow::anyhow!("{}: {at}: id `{id}` is not in the test's assignment", results.display()))?;
        if arm == Arm::NotInTest {
            anyhow::bail!("{}: {at}: id `{id}` was not drawn into the test (arm not_in_test)", results.display());
        }
        if !seen.insert(id.clone()) {
            anyhow::bail!("{}: {at}: id `{id}` appears twice", results.display());
        }
        if let Some(ra) = &rarm {
            let given = ra[i].as_deref().unwrap_or("");
            if Arm::parse(given) != Some(arm) {
                anyhow::bail!("{}: {at}: id `{id}` has arm `{given}`, but the assignment put it in `{}`", results.display(), arm.as_str());
            }
        }
        let v = resp[i].as_deref().unwrap_or("");
        let responded = match v.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => true,
            "0" | "false" | "no" => false,
            _ => anyhow::bail!("{}: {at}, column `responded`: `{v}` is not 1/0, true/false or yes/no", results.display()),
        };
        observed.push(Observation { segment, arm, responded });
    }
    // The assignment is the plan's (checked above): each segment's arms hold
    // the plan's customers per arm.
    let assigned: Vec<usize> = test.segments.iter().map(|p| 2 * p.per_arm).collect();
    let reading = read(&test.experiment, &test.segments, &observed, &assigned, final_results, test.design.alpha);
    let path = dir.join("reading.json");
    crate::store::write_json(&path, &reading)?;
    Ok((reading, path))
}
