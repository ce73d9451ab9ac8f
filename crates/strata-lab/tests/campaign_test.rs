//! `strata plan-test` and `strata read-test` on the marketing data, through
//! the binary as a user runs them: a segmentation swept into a scratch
//! folder, a plan, then a simulated test with a known uplift in one segment
//! read back; and the errors a bad results file gets.


mod common;
use common::{err, ok, strata_at_root as strata, workspace};

/// Tiny deterministic generator for the simulated responses.
struct Lcg(u64);
impl Lcg {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[test]
fn plan_and_read_a_campaign_test_on_the_marketing_data() {
    let tmp = tempfile::tempdir().expect("tmp");
    let manifest = tmp.path().join("mkt.toml");
    std::fs::write(
        &manifest,
        format!(
            "dataset = \"{}\"\nseed = 42\n[[representation]]\nalgorithm = \"none\"\n[[clusterer]]\nalgorithm = \"kmeans\"\nk = 2\n[evaluation]\nstability_resamples = 2\n",
            workspace().join("datasets/marketing_campaign.toml").display()
        ),
    )
    .expect("manifest");
    let (m, out) = (manifest.to_str().expect("utf-8"), tmp.path().join("res"));
    let o = out.to_str().expect("utf-8");
    ok(&strata(&["run", m, "--out", o, "--quiet"]));

    // Reading before planning says what to do.
    let e = err(&strata(&["read-test", m, "nothing.csv", "--out", o]));
    assert!(e.contains("no test plan; run `strata plan-test` first"), "{e}");

    let text = ok(&strata(&["plan-test", m, "--relative-lift", "0.5", "--out", o]));
    assert!(text.contains("campaign test for mkt (kmeans"), "{text}");
    assert!(text.contains("caution: the lift to detect (+50 % of the control arm's rate) is below the break-even uplift of segments 0, 1"), "{text}");
    // By default the data's rate is the treated arm's (the marketing data
    // record answers to a campaign sent to every customer).
    assert!(text.contains("the segment's response rate in the data is taken as the treated arm's"), "{text}");
    let dir = out.join("mkt/campaign_test");
    let plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("plan.json")).expect("plan")).expect("json");
    let segments = plan["segments"].as_array().expect("segments");
    assert_eq!(segments.len(), 2);
    let total: u64 = segments.iter().map(|s| s["customers"].as_u64().expect("n")).sum();
    assert_eq!(total, 2240);
    for s in segments {
        let rate = s["baseline"].as_f64().expect("rate in the data");
        let (p0, p1) = (s["control_rate"].as_f64().expect("p0"), s["target_rate"].as_f64().expect("p1"));
        assert!((p1 - rate).abs() < 1e-12 && (p0 - rate / 1.5).abs() < 1e-12, "{s}");
        // Per arm: the size at which the reading (at 0.05 over the 2
        // segments) stops with 80 % power if the lift is real (it is below
        // the break-even uplift 3/11), capped by half the segment.
        let be = s["break_even_uplift"].as_f64().expect("break-even");
        assert!((be - 3.0 / 11.0).abs() < 1e-12);
        assert_eq!(s["aim"].as_str(), Some("stop"));
        let needed = strata_lab::abtest::decision_sample_size(p0, p1, be, 0.025, 0.8).expect("a decision") as u64;
        assert_eq!(s["needed_per_arm"].as_u64(), Some(needed));
        let customers = s["customers"].as_u64().expect("n");
        assert_eq!(s["per_arm"].as_u64(), Some(needed.min(customers / 2)));
    }
    assert!(dir.join("assignment.parquet").is_file());
    let report = std::fs::read_to_string(out.join("mkt/report.md")).expect("report");
    assert!(report.contains("## Campaign test") && report.contains("Not read yet"), "{report}");

    // The assignment: one row per customer, arms balanced within each segment.
    let csv = std::fs::read_to_string(dir.join("assignment.csv")).expect("assignment");
    let rows: Vec<Vec<String>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    assert_eq!(rows.len(), 2240);
    assert_eq!(csv.lines().next(), Some("ID,segment,arm"));
    for s in segments {
        let seg = s["segment"].as_u64().expect("segment").to_string();
        let count = |arm: &str| rows.iter().filter(|r| r[1] == seg && r[2] == arm).count() as u64;
        assert_eq!(count("treatment"), s["per_arm"].as_u64().expect("per arm"));
        assert_eq!(count("control"), s["per_arm"].as_u64().expect("per arm"));
    }

    // A simulated test: in segment 0 the campaign lifts response to 90 %
    // (far above the break-even uplift of 3/11); in segment 1 it does
    // nothing (both arms at 10 %), so contacting only costs.
    let mut rng = Lcg(9);
    let mut lines: Vec<(bool, String)> = Vec::new();
    for r in rows.iter().filter(|r| r[2] != "not_in_test") {
        let p = match (r[1].as_str(), r[2].as_str()) {
            ("0", "treatment") => 0.9,
            ("0", _) => 0.2,
            _ => 0.1,
        };
        lines.push((r[1] == "0", format!("{},{},{}\n", r[0], r[2], u8::from(rng.uniform() < p))));
    }
    // One tested customer of segment 0 never had a result back: segment 0
    // is an interim look, segment 1 a final one.
    let lost = lines.iter().rposition(|(zero, _)| *zero).expect("a segment 0 result");
    lines.remove(lost);
    let kept = format!("ID,arm,responded\n{}", lines.iter().map(|(_, l)| l.as_str()).collect::<String>());
    let file = tmp.path().join("results.csv");
    std::fs::write(&file, &kept).expect("results");
    let text = ok(&strata(&["read-test", m, file.to_str().expect("utf-8"), "--out", o]));
    assert!(text.contains("1 customers in the test have no result in the file yet: the segments they belong to are interim looks"), "{text}");
    assert!(text.contains(" (interim look: "), "{text}");
    let reading: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("reading.json")).expect("reading")).expect("json");
    let decision = |s: u64| {
        reading["segments"]
            .as_array()
            .expect("segments")
            .iter()
            .find(|g| g["segment"].as_u64() == Some(s))
            .map(|g| g["decision"].as_str().unwrap_or_default().to_string())
            .expect("segment read")
    };
    assert_eq!(decision(0), "roll_out");
    assert_eq!(decision(1), "stop");
    let report = std::fs::read_to_string(out.join("mkt/report.md")).expect("report");
    assert!(report.contains("Read by `strata read-test`"), "{report}");
    assert!(report.contains(" (interim look: "), "{report}");
    // The missing result will never come: read as final, no interim look.
    let text = ok(&strata(&["read-test", m, file.to_str().expect("utf-8"), "--out", o, "--final"]));
    assert!(text.contains("1 customers in the test have no result in the file, and the results are read as final"), "{text}");
    assert!(!text.contains("interim look:"), "{text}");

    // Bad files: each error names the file, the row and what is wrong.
    let bad = |body: &str| {
        let f = tmp.path().join("bad.csv");
        std::fs::write(&f, body).expect("bad");
        err(&strata(&["read-test", m, f.to_str().expect("utf-8"), "--out", o]))
    };
    let first = &rows.iter().find(|r| r[2] == "treatment").expect("treated")[0];
    // Segment 0 needs fewer customers than it holds: some stay out of the test.
    let outside = &rows.iter().find(|r| r[2] == "not_in_test").expect("a customer out of the test")[0];
    let e = bad("ID,responded\n999999,1\n");
    assert!(e.contains("bad.csv: row 1 (line 2): id `999999` is not in the test's assignment"), "{e}");
    let e = bad(&format!("ID,responded\n{first},maybe\n"));
    assert!(e.contains("row 1 (line 2), column `responded`: `maybe` is not 1/0"), "{e}");
    let e = bad(&format!("ID,arm,responded\n{first},control,1\n"));
    assert!(e.contains("has arm `control`, but the assignment put it in `treatment`"), "{e}");
    let e = bad(&format!("ID,responded\n{first},1\n{first},0\n"));
    assert!(e.contains("row 2 (line 3): id `"), "{e}");
    assert!(e.contains("appears twice"), "{e}");
    let e = bad("customer,responded\n1,1\n");
    assert!(e.contains("no id column (`ID` or `id`)"), "{e}");
    let e = bad(&format!("ID,responded\n{outside},1\n"));
    assert!(e.contains("was not drawn into the test"), "{e}");
    // An assignment that is not the plan's (edited, or from another plan)
    // is refused before any result is read against it.
    let assignment = dir.join("assignment.csv");
    let written = std::fs::read_to_string(&assignment).expect("assignment");
    let edit = |from: &str, to: &str| {
        let at = written.find(from).expect("a row to edit");
        std::fs::write(&assignment, format!("{}{to}{}", &written[..at], &written[at + from.len()..])).expect("edited assignment");
        let e = bad(&format!("ID,responded\n{first},1\n"));
        std::fs::write(&assignment, &written).expect("assignment restored");
        e
    };
    let e = edit(",control\n", ",treatment\n");
    assert!(e.contains("assignment.csv does not match ") && e.contains("control customers in the assignment, the plan "), "{e}");
    let e = edit(",0,not_in_test\n", ",9,not_in_test\n");
    assert!(e.contains("the assignment has customers in segment 9, which the plan does not test"), "{e}");
    let row = written.lines().nth(1).expect("a row");
    let e = edit(&format!("{row}\n"), &format!("{row}\n{row}\n"));
    assert!(e.contains("is assigned twice"), "{e}");
    // Strata along the MLP's ranked list: four quarters of 560, the first
    // holding the most responders (below). A test already planned (and read) is kept: planning again is refused
    // unless asked to replace it, and then it moves aside whole.
    let before: Vec<Vec<u8>> = ["plan.json", "assignment.csv", "reading.json"].iter().map(|f| std::fs::read(dir.join(f)).expect("test file")).collect();
    let e = err(&strata(&["plan-test", m, "--relative-lift", "0.5", "--by", "mlp", "--out", o]));
    assert!(e.contains("a campaign test is already planned here (") && e.contains("and it has been read; its assignment may be in the field, so it is kept. Pass --replace"), "{e}");
    // Taken as contacted rates, the lowest quarters' response rates are
    // below 5 points: the contact cannot have caused 5 points of them.
    let e = err(&strata(&["plan-test", m, "--lift", "0.05", "--by", "mlp", "--out", o, "--replace"]));
    assert!(e.contains("segment 2: a lift of +5 percentage points on a response rate of 0.0") && e.contains("a relative lift fits every segment"), "{e}");
    let text = ok(&strata(&["plan-test", m, "--relative-lift", "0.5", "--by", "mlp", "--out", o, "--replace"]));
    assert!(text.contains("moved the test planned before to ") && text.contains("replaced/1"), "{text}");
    for (f, b) in ["plan.json", "assignment.csv", "reading.json"].iter().zip(&before) {
        assert_eq!(&std::fs::read(dir.join("replaced/1").join(f)).expect("moved file"), b, "{f}");
    }
    assert!(!dir.join("reading.json").exists(), "no reading of the old test beside the new plan");
    assert!(text.contains("quartiles of the MLP's out-of-fold predicted response"), "{text}");
    assert!(text.contains("without having learnt their answers"), "{text}");
    let plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("plan.json")).expect("plan")).expect("json");
    let quarters = plan["segments"].as_array().expect("segments");
    assert_eq!(quarters.len(), 4);
    assert!(quarters.iter().all(|q| q["customers"].as_u64() == Some(560)));
    let rate = |i: usize| quarters[i]["baseline"].as_f64().expect("rate");
    assert!(rate(0) > rate(1) && rate(1) > rate(3), "{quarters:?}");
    // The top quarter holds fewer customers than its test needs: the plan
    // and the report say so in the same words.
    assert_eq!(quarters[0]["feasible"].as_bool(), Some(false), "{quarters:?}");
    let short = format!("{} (too few customers: all in the test)", quarters[0]["per_arm"]);
    assert!(text.contains(&format!("in the test: {} per arm (too few customers: all in the test)", quarters[0]["per_arm"])), "{text}");
    let report = std::fs::read_to_string(out.join("mkt/report.md")).expect("report");
    assert!(report.contains(&format!("| {short} |")), "{report}");
    // The quarters are sorted by scores out of fold, not by the list
    // `strata contact-list` fits on every customer: that list's 560
    // best-scored customers answered the last campaign more often than any
    // quarter sorted without their answers, since it learnt those answers.
    let first: std::collections::BTreeSet<String> = std::fs::read_to_string(dir.join("assignment.csv"))
        .expect("assignment")
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(1) == Some("0"))
        .filter_map(|l| l.split(',').next().map(str::to_string))
        .collect();
    let file = workspace().join("datasets/marketing_campaign.csv");
    let answered: std::collections::BTreeMap<String, bool> = std::fs::read_to_string(&file)
        .expect("data")
        .lines()
        .skip(1)
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('\t').collect();
            Some((cells.first()?.to_string(), *cells.last()? == "1"))
        })
        .collect();
    ok(&strata(&["contact-list", m, "--customers", file.to_str().expect("utf-8"), "--out", o]));
    let best: std::collections::BTreeSet<String> = std::fs::read_to_string(out.join("mkt/contact_list/contact_list.csv"))
        .expect("contact list")
        .lines()
        .skip(1)
        .take(560)
        .filter_map(|l| l.split(',').next().map(str::to_string))
        .collect();
    assert_eq!((first.len(), best.len()), (560, 560));
    let rate_of = |ids: &std::collections::BTreeSet<String>| {
        ids.iter().filter(|id| answered.get(*id).copied().expect("an id of the data")).count() as f64 / ids.len() as f64
    };
    assert!((rate_of(&first) - rate(0)).abs() < 1e-12, "{} against {}", rate_of(&first), rate(0));
    assert!(rate_of(&best) > rate(0) + 0.02, "in-sample {} against out of fold {}", rate_of(&best), rate(0));
    // Sized over the rate's interval: the plan says so, and keeps it.
    let text = ok(&strata(&["plan-test", m, "--lift", "0.45", "--rate-in-data", "control", "--size-for", "interval", "--out", o, "--replace"]));
    assert!(text.contains("at the segment's rate in the data and at 21 rates spanning its 95 % Wilson interval, ends included, the largest of those sizes"), "{text}");
    let plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("plan.json")).expect("plan")).expect("json");
    assert_eq!(plan["design"]["size_for"].as_str(), Some("interval"));
    assert!(plan["segments"].as_array().expect("segments").iter().all(|p| p["sized_at"].as_f64().is_some()), "{plan}");
    let e = err(&strata(&["plan-test", m, "--lift", "0.05", "--size-for", "ends", "--out", o]));
    assert!(e.contains("invalid value 'ends' for '--size-for"), "{e}");
    let e = err(&strata(&["plan-test", m, "--lift", "0.05", "--power", "1.5", "--out", o]));
    assert!(e.contains("--power 1.5: expected a power in (0.5, 1)"), "{e}");
    // A negative number is a value, checked like any other, not a flag.
    let e = err(&strata(&["plan-test", m, "--lift", "-0.1", "--out", o]));
    assert!(e.contains("--lift -0.1: expected a positive number"), "{e}");
    let e = err(&strata(&["plan-test", m, "--relative-lift", "-0.5", "--out", o]));
    assert!(e.contains("--relative-lift -0.5: expected a positive number"), "{e}");
}
