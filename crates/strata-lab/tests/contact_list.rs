//! `strata contact-list` on the marketing data, through the binary: new
//! customers (the file's rows without target and economics, under new ids)
//! scored, ranked and marked by the MLP's threshold; the same customers
//! under their own ids flagged as in-sample; and the errors bad input gets.


mod common;

use common::{err, ok, strata_at_root as strata, workspace};

/// The first `n` customers of the shipped file, tab-separated, without the
/// columns in `drop`, each id passed through `id`.
fn customers(n: usize, drop: &[&str], id: impl Fn(&str) -> String) -> String {
    let text = std::fs::read_to_string(workspace().join("datasets/marketing_campaign.csv")).expect("marketing file");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let keep: Vec<usize> = (0..header.len()).filter(|&j| !drop.contains(&header[j])).collect();
    let pick = |cells: &[&str]| keep.iter().map(|&j| cells[j]).collect::<Vec<_>>().join("\t");
    let mut out = pick(&header) + "\n";
    for line in lines.take(n) {
        let mut cells: Vec<&str> = line.split('\t').collect();
        let new_id = id(cells[0]);
        cells[0] = &new_id;
        out.push_str(&pick(&cells));
        out.push('\n');
    }
    out
}

#[test]
fn new_customers_get_a_ranked_contact_list() {
    let tmp = tempfile::tempdir().expect("tmp");
    let file = tmp.path().join("next.csv");
    let unlabelled = ["Response", "Z_CostContact", "Z_Revenue"];
    std::fs::write(&file, customers(300, &unlabelled, |id| format!("n{id}"))).expect("write");
    let out = tmp.path().join("res");
    let (f, o) = (file.to_str().expect("utf-8"), out.to_str().expect("utf-8"));
    let args = ["contact-list", "experiments/marketing_campaign.toml", "--customers", f, "--out", o];
    let text = ok(&strata(&args));
    assert!(text.contains("contact list for marketing_campaign: 300 customers"), "{text}");
    assert!(text.contains("an MLP trained on 1792 labelled customers and validated on 448 others"), "{text}");
    // No sweep in this results folder: nothing held out to quote.
    assert!(text.contains("held out: not measured"), "{text}");
    assert!(!text.contains("caution"), "new ids are not labelled customers: {text}");
    let path = out.join("marketing_campaign/contact_list/contact_list.csv");
    let list = std::fs::read_to_string(&path).expect("list");
    let rows: Vec<Vec<&str>> = list.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert_eq!(list.lines().next(), Some("ID,score,rank,contact"));
    assert_eq!(rows.len(), 300);
    let scores: Vec<f64> = rows.iter().map(|r| r[1].parse().expect("score")).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "best first");
    assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)));
    assert!(rows.iter().enumerate().all(|(i, r)| r[2] == (i + 1).to_string() && r[0].starts_with('n')));
    // The contacted customers are a prefix of the list, as many as the
    // summary says, and a real share of it on these data.
    let contacted = rows.iter().take_while(|r| r[3] == "yes").count();
    assert!(rows[contacted..].iter().all(|r| r[3] == "no"));
    assert!(text.contains(&format!("contact {contacted} of 300 (")), "{text}");
    assert!((10..290).contains(&contacted), "{contacted} contacted");
    // Same seed, same list.
    ok(&strata(&args));
    assert_eq!(std::fs::read_to_string(&path).expect("list"), list);

    // A category no labelled customer had is scored as none of the known
    // ones (all-zero indicators), and the summary says so, naming it.
    let text_file = customers(300, &unlabelled, |id| format!("n{id}"));
    let header: Vec<&str> = text_file.lines().next().expect("header").split('\t').collect();
    let edu = header.iter().position(|&h| h == "Education").expect("Education column");
    let changed: Vec<String> = text_file
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let mut cells: Vec<&str> = line.split('\t').collect();
            if i == 5 || i == 9 {
                cells[edu] = "Doctorate";
            }
            cells.join("\t")
        })
        .collect();
    std::fs::write(&file, changed.join("\n") + "\n").expect("write");
    let text = ok(&strata(&args));
    assert!(
        text.contains("caution: preparing these customers as the labelled ones were: Education: categories not seen when fitting: Doctorate (2) -> all-zero indicators; their scores rest on a value no labelled customer had"),
        "{text}"
    );

    // The labelled customers themselves (target column present): scored,
    // and flagged as in-sample.
    std::fs::write(&file, customers(50, &[], str::to_string)).expect("write");
    let text = ok(&strata(&args));
    assert!(text.contains("caution: 50 of these 50 customers are labelled customers the model was fitted on"), "{text}");
}

/// With the sweep's held-out targeting in the results folder, the summary
/// quotes it, the repeated splits included, and scales their mean profit
/// per held-out customer to the file's size.
#[test]
fn the_summary_quotes_held_out_targeting_and_what_the_list_should_earn() {
    use strata_lab::targeting::{Policy, Repeated, RepeatedPolicy, TargetingReport};
    let tmp = tempfile::tempdir().expect("tmp");
    let file = tmp.path().join("next.csv");
    std::fs::write(&file, customers(300, &["Response"], |id| format!("n{id}"))).expect("write");
    let exp = tmp.path().join("res/marketing_campaign");
    std::fs::create_dir_all(&exp).expect("folder");
    let plan = strata_lab::store::Plan {
        experiment: "marketing_campaign".into(),
        description: String::new(),
        manifest_path: "experiments/marketing_campaign.toml".into(),
        manifest_text: String::new(),
        dataset: strata_lab::store::DatasetRef {
            descriptor: "marketing_campaign".into(),
            sha256: String::new(),
            rows: 2240,
            features: 34,
            recipe: String::new(),
        },
        strata_version: String::new(),
        runs: vec![],
        margins: Default::default(),
        pin: None,
    };
    std::fs::write(exp.join("plan.json"), serde_json::to_string(&plan).expect("json")).expect("plan");
    let mlp = |mean: f64| RepeatedPolicy {
        name: strata_lab::targeting::MLP_POLICY.into(),
        profits: vec![mean - 10.0, mean + 10.0],
        contacted: vec![100, 110],
        mean,
        low: mean - 100.0,
        high: mean + 100.0,
        wins: 2,
    };
    let report = TargetingReport {
        train_rows: 1568,
        test_rows: (0..672).collect(),
        test_positives: 100,
        segments: vec![],
        policies: vec![Policy {
            name: strata_lab::targeting::MLP_POLICY.into(),
            contacted: 143,
            profit: 407.0,
            low: 261.0,
            high: 550.0,
        }],
        curve: vec![],
        leads: vec![],
        verdict: String::new(),
        repeated: Some(Repeated {
            splits: 2,
            failed: 0,
            train_rows: 1568,
            test_rows: 672,
            policies: vec![mlp(336.0)],
            leads: vec![],
            ahead: true,
            verdict: String::new(),
            depths: [(0.05, 34, 192.0), (0.10, 67, 298.0), (0.15, 101, 339.0)]
                .into_iter()
                .map(|(share, contacted, mean)| strata_lab::targeting::Depth {
                    share,
                    contacted,
                    profits: vec![mean, mean],
                    mean,
                    low: mean - 50.0,
                    high: mean + 50.0,
                    tranche: 34,
                    tranche_mean: 0.0,
                    tranche_low: 0.0,
                    tranche_high: 0.0,
                })
                .collect(),
        }),
    };
    let keyed = strata_lab::store::Keyed { key: "any".into(), report };
    std::fs::write(exp.join("targeting.json"), serde_json::to_string(&keyed).expect("json")).expect("targeting");
    let (f, o) = (file.to_str().expect("utf-8"), tmp.path().join("res"));
    let text = ok(&strata(&["contact-list", "experiments/marketing_campaign.toml", "--customers", f, "--out", o.to_str().expect("utf-8")]));
    assert!(
        text.contains("held out: the same procedure, fitted on 1568 customers, earned 407 [261, 550] on 672 others, contacting 143 (bootstrap 95 % interval); over 2 random splits of the same size, each refitting it, it earned 336 [236, 436] on average"),
        "{text}"
    );
    // 336 per 672 held-out customers is 0.5 each: 150 on these 300, and
    // the interval's ends 236 and 436 scale alike (105.4 and 194.6).
    assert!(text.contains("expected on these 300 customers, if they are like the labelled ones: 150 on average [105, 195]"), "{text}");
    // A budget of 24 of these 300 (8 %), fewer than the threshold picks:
    // the list's best 24 are contacted, the summary quotes the depth
    // table's rows around 8 %, and nothing is expected of the threshold's
    // list, which is not the one sent.
    let csv = o.join("marketing_campaign/contact_list/contact_list.csv");
    let full = std::fs::read_to_string(&csv).expect("list");
    let text = ok(&strata(&["contact-list", "experiments/marketing_campaign.toml", "--customers", f, "--out", o.to_str().expect("utf-8"), "--budget", "24"]));
    let capped = std::fs::read_to_string(&csv).expect("list");
    let yes = |list: &str| list.lines().skip(1).filter(|l| l.ends_with(",yes")).count();
    assert!(yes(&full) > 24, "the threshold picks {}", yes(&full));
    assert_eq!(yes(&capped), 24);
    assert!(capped.lines().skip(1).take(24).all(|l| l.ends_with(",yes")), "the best 24");
    let strip = |list: &str| list.lines().map(|l| l.rsplit_once(',').map_or(l, |p| p.0).to_string()).collect::<Vec<_>>();
    assert_eq!(strip(&capped), strip(&full), "same scores and ranks");
    assert!(text.contains("the budget's cap (the threshold, score at least ") && text.contains(&format!("would contact {})", yes(&full))), "{text}");
    assert!(text.contains("the best 5 % (34) earned 192 [142, 242], the best 10 % (67) earned 298 [248, 348]"), "{text}");
    assert!(!text.contains("expected on"), "{text}");
    // Labelled customers only: their outcomes are known, nothing to expect.
    std::fs::write(&file, customers(50, &[], str::to_string)).expect("write");
    let text = ok(&strata(&["contact-list", "experiments/marketing_campaign.toml", "--customers", f, "--out", o.to_str().expect("utf-8")]));
    assert!(text.contains("held out: the same procedure"), "{text}");
    assert!(text.contains("caution: 50 of these 50 customers are labelled customers"), "{text}");
    assert!(!text.contains("expected on"), "{text}");
}

#[test]
fn bad_customer_files_are_refused_with_what_is_wrong() {
    let tmp = tempfile::tempdir().expect("tmp");
    let file = tmp.path().join("c.csv");
    let f = file.to_str().expect("utf-8");
    let o = tmp.path().join("res");
    let o = o.to_str().expect("utf-8");
    let run = |manifest: &str| strata(&["contact-list", manifest, "--customers", f, "--out", o]);
    // A feature column missing.
    std::fs::write(&file, customers(20, &["Income"], str::to_string)).expect("write");
    let e = err(&run("experiments/marketing_campaign.toml"));
    assert!(e.contains("c.csv") && e.contains("`Income`"), "{e}");
    // A repeated id.
    let mut text = customers(20, &[], str::to_string);
    let again = text.lines().nth(3).expect("row").to_string();
    text.push_str(&again);
    text.push('\n');
    std::fs::write(&file, text).expect("write");
    let e = err(&run("experiments/marketing_campaign.toml"));
    assert!(e.contains("c.csv") && e.contains("appears at row 3") && e.contains("again at row 21"), "{e}");
    // A dataset without target or economics has no ranked list.
    let e = err(&run("experiments/spotify_songs.toml"));
    assert!(e.contains("needs a target and economics"), "{e}");
    // No file.
    let e = err(&strata(&["contact-list", "experiments/marketing_campaign.toml", "--customers", "nowhere.csv", "--out", o]));
    assert!(e.contains("nowhere.csv"), "{e}");
}
