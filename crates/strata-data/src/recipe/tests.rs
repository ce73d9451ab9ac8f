use super::*;
use crate::csv::read_table_bytes;
use std::path::Path;

fn desc(extra: &str) -> Descriptor {
    let text = format!(
        "[source]\nfile = \"t.csv\"\nsha256 = \"{}\"\n{extra}",
        "0".repeat(64)
    );
    Descriptor::from_toml(&text, Path::new("datasets/t.toml")).unwrap()
}

fn table(text: &str) -> RawTable {
    read_table_bytes(Path::new("t.csv"), text.as_bytes(), None).unwrap()
}

#[test]
fn standard_scaling_matches_population_sd() {
    let d = desc("[columns]\nid = \"id\"\n");
    let t = table("id,a,b\n1,1,10\n2,2,20\n3,3,60\n");
    let (r, out) = FittedRecipe::fit(&d, &t).unwrap();
    assert_eq!(out.feature_names, ["a", "b"]);
    let a = out.features.column(0).to_vec();
    let sd = (2.0f64 / 3.0).sqrt();
    assert!((a[0] + 1.0 / sd).abs() < 1e-12 && a[1].abs() < 1e-12);
    assert_eq!(out.unscaled.column(1).to_vec(), [10.0, 20.0, 60.0]);
    // Re-applied to new rows with the fitted parameters.
    let out2 = r.transform(&table("id,a,b\n9,2,30\n")).unwrap();
    assert!(out2.features[[0, 0]].abs() < 1e-12);
}

#[test]
fn impute_median_and_report() {
    let d = desc("[impute]\nx = \"median\"\n");
    let t = table("x,y\n1,0\n,1\n4,2\n10,3\n");
    let (_, out) = FittedRecipe::fit(&d, &t).unwrap();
    assert_eq!(out.unscaled.column(0).to_vec(), [1.0, 4.0, 4.0, 10.0]);
    assert!(
        out.notes
            .iter()
            .any(|n| n.to_string() == "x: imputed 1 missing with median 4"),
        "{:?}",
        out.notes
    );
}

#[test]
fn missing_without_rule_is_an_error() {
    let d = desc("");
    let e = FittedRecipe::fit(&d, &table("x,y\n1,0\n,1\n"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("column `x` has 1 missing value (first at row 2 (line 3))"),
        "{e}"
    );
}

#[test]
fn code_keeps_a_category_as_one_unscaled_categorical_column() {
    let d = Descriptor::from_toml(
        "name = \"t\"\n[source]\nfile = \"t.csv\"\nsha256 = \"{}\"\n[columns]\n[[encode]]\ncolumn = \"c\"\nmethod = \"code\"\nmin_count = 2\n[scale]\nmethod = \"standard\"\ninclude_one_hot = true\n".replace("{}", &"0".repeat(64)).as_str(),
        std::path::Path::new("t.toml"),
    )
    .expect("descriptor");
    let t = crate::csv::read_table_bytes(
        std::path::Path::new("t.csv"),
        b"x,c\n1,b\n2,a\n3,b\n4,z\n5,a\n6,b\n",
        None,
    )
    .expect("table");
    let (recipe, out) = FittedRecipe::fit(&d, &t).expect("fit");
    assert_eq!(out.feature_names, ["x", "c"]);
    // b (3 rows) = 0, a (2) = 1, z (1, under min_count) = 2; not scaled.
    assert_eq!(out.features.column(1).to_vec(), [0.0, 1.0, 0.0, 2.0, 1.0, 0.0]);
    assert_eq!(
        recipe.column_kinds(&out.feature_names),
        [strata_core::ColumnKind::Numeric, strata_core::ColumnKind::Categorical]
    );
    // A category unseen when fitting takes the last code, with a warning.
    let new = crate::csv::read_table_bytes(std::path::Path::new("n.csv"), b"x,c\n1,q\n", None).expect("table");
    let applied = recipe.transform(&new).expect("transform");
    assert_eq!(applied.features[[0, 1]], 2.0);
    assert!(applied.notes.iter().any(|n| n.message.contains("categories not seen when fitting: q (1) -> code 2")), "{:?}", applied.notes);
}

#[test]
fn one_hot_columns_are_grouped_by_their_category() {
    let d = Descriptor::from_toml(
        "name = \"t\"\n[source]\nfile = \"t.csv\"\nsha256 = \"{}\"\n[columns]\n[[encode]]\ncolumn = \"c\"\nmethod = \"one_hot\"\n[[encode]]\ncolumn = \"e\"\nmethod = \"one_hot\"\n".replace("{}", &"0".repeat(64)).as_str(),
        std::path::Path::new("t.toml"),
    )
    .expect("descriptor");
    let t = crate::csv::read_table_bytes(
        std::path::Path::new("t.csv"),
        b"x,c,e\n1,a,u\n2,b,v\n3,a,v\n",
        None,
    )
    .expect("table");
    let (recipe, out) = FittedRecipe::fit(&d, &t).expect("fit");
    use strata_core::ColumnKind::{Numeric, OneHot};
    assert_eq!(out.feature_names, ["x", "c=a", "c=b", "e=v", "e=u"]);
    assert_eq!(
        recipe.column_kinds(&out.feature_names),
        [Numeric, OneHot(0), OneHot(0), OneHot(1), OneHot(1)]
    );
    // Each indicator is made from its encoded column, a number from itself.
    assert_eq!(recipe.sources_of("c=b"), ["c"]);
    assert_eq!(recipe.sources_of("e=u"), ["e"]);
    assert_eq!(recipe.sources_of("x"), ["x"]);
    assert!(recipe.sources_of("c").is_empty(), "`c` itself is not a feature");
}

#[test]
fn one_hot_merges_rare_categories() {
    let d = desc("[[encode]]\ncolumn = \"s\"\nmin_count = 2\n[scale]\nmethod = \"none\"\n");
    let t = table("s,v\nA,1\nA,2\nB,3\nB,4\nC,5\nD,6\n");
    let (r, out) = FittedRecipe::fit(&d, &t).unwrap();
    assert_eq!(out.feature_names, ["v", "s=A", "s=B", "s=other"]);
    assert_eq!(
        out.features.column(3).to_vec(),
        [0.0, 0.0, 0.0, 0.0, 1.0, 1.0]
    );
    assert!(
        out.notes
            .iter()
            .any(|n| n.to_string() == "s: merged C, D (2 rows) into other"),
        "{:?}",
        out.notes
    );
    let o = r.transform(&table("s,v\nZ,1\n")).unwrap();
    assert_eq!(o.features.row(0).to_vec(), [1.0, 0.0, 0.0, 1.0]);
    assert!(
        o.notes
            .iter()
            .any(|n| n.warning && n.message.contains("Z (1)"))
    );
}

#[test]
fn derived_age_days_and_sum() {
    let d = desc(
        "[[derive]]\nname = \"Age\"\nkind = \"age\"\nfrom = \"by\"\nreference_year = 2014\n\
         [[derive]]\nname = \"Days\"\nkind = \"days_since\"\nfrom = \"dt\"\nformat = \"%d-%m-%Y\"\n\
         [[derive]]\nname = \"Kids\"\nkind = \"sum\"\ncolumns = [\"k\", \"t\"]\n[scale]\nmethod = \"none\"\n",
    );
    let t = table("by\tdt\tk\tt\n1980\t01-01-2014\t1\t0\n1990\t11-01-2014\t0\t2\n");
    let (r, out) = FittedRecipe::fit(&d, &t).unwrap();
    assert_eq!(out.feature_names, ["Age", "Days", "Kids"]);
    assert_eq!(r.sources_of("Kids"), ["k", "t"]);
    assert_eq!(r.sources_of("Days"), ["dt"]);
    assert_eq!(out.features.row(0).to_vec(), [34.0, 10.0, 1.0]);
    assert_eq!(out.features.row(1).to_vec(), [24.0, 0.0, 2.0]);
}

#[test]
fn bad_values_name_row_and_column() {
    let d = desc(
        "[[derive]]\nname = \"Days\"\nkind = \"days_since\"\nfrom = \"dt\"\nformat = \"%d-%m-%Y\"\n",
    );
    let e = FittedRecipe::fit(&d, &table("dt,v\n01-01-2014,1\n2014/01/02,2\n"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(
            "row 2 (line 3), column `dt`: `2014/01/02` is not a date in format `%d-%m-%Y`"
        ),
        "{e}"
    );
    let e = FittedRecipe::fit(&desc(""), &table("v,w\n1,2\nabc,3\n"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("row 2 (line 3), column `v`: `abc` is not a number"),
        "{e}"
    );
}

#[test]
fn constant_columns_dropped_or_refused() {
    let t = table("a,b\n1,5\n2,5\n3,5\n");
    let (_, out) = FittedRecipe::fit(&desc(""), &t).unwrap();
    assert_eq!(out.feature_names, ["a"]);
    assert!(
        out.notes
            .iter()
            .any(|n| n.warning && n.column == "b" && n.message.contains("dropped"))
    );
    let e = FittedRecipe::fit(&desc("[scale]\nconstant = \"error\"\n"), &t)
        .unwrap_err()
        .to_string();
    assert!(e.contains("feature `b` is constant (5)"), "{e}");
}

#[test]
fn clip_to_quantiles() {
    let d = desc(
        "[clip]\ncolumns = [\"a\"]\nlower = 0.0\nupper = 0.75\n[scale]\nmethod = \"none\"\n",
    );
    let (r, out) = FittedRecipe::fit(&d, &table("a\n1\n2\n3\n100\n")).unwrap();
    // numpy.quantile([1,2,3,100], 0.75) = 27.25
    assert_eq!(out.features.column(0).to_vec(), [1.0, 2.0, 3.0, 27.25]);
    assert_eq!(r.clip["a"], (1.0, 27.25));
}

#[test]
fn robust_and_minmax() {
    let t = table("a\n1\n2\n3\n4\n5\n");
    let (_, out) = FittedRecipe::fit(&desc("[scale]\nmethod = \"robust\"\n"), &t).unwrap();
    assert_eq!(out.features.column(0).to_vec(), [-1.0, -0.5, 0.0, 0.5, 1.0]);
    let (_, out) = FittedRecipe::fit(&desc("[scale]\nmethod = \"min_max\"\n"), &t).unwrap();
    assert_eq!(out.features.column(0).to_vec(), [0.0, 0.25, 0.5, 0.75, 1.0]);
}

#[test]
fn unknown_columns_list_what_is_there() {
    let e = FittedRecipe::fit(
        &desc("[columns]\ntarget = \"Respons\"\n"),
        &table("Response,v\n1,2\n"),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("`columns.target` names column `Respons`"), "{e}");
    assert!(e.contains("did you mean `Response`?"), "{e}");
    assert!(e.contains("columns present: Response, v"), "{e}");
}

#[test]
fn ordinal_encoding() {
    let d = desc(
        "[[encode]]\ncolumn = \"e\"\nmethod = \"ordinal\"\norder = [\"lo\", \"mid\", \"hi\"]\n[scale]\nmethod = \"none\"\n",
    );
    let (r, out) = FittedRecipe::fit(&d, &table("e\nlo\nhi\nmid\n")).unwrap();
    assert_eq!(out.features.column(0).to_vec(), [0.0, 2.0, 1.0]);
    let e = r.transform(&table("e\ntop\n")).unwrap_err().to_string();
    assert!(
        e.contains("category `top` at row 1 (line 2) is not in `order`"),
        "{e}"
    );
}

#[test]
fn nominal_columns_must_be_numeric_inputs() {
    let t = table("id,key,mode,name\n1,0,1,a\n2,7,0,b\n3,11,1,c\n");
    let d = desc("[columns]\nid = \"id\"\nmetadata = [\"name\"]\nnominal = [\"key\"]\n");
    let (_, out) = FittedRecipe::fit(&d, &t).unwrap();
    assert_eq!(out.feature_names, ["key", "mode"]);
    for (bad, why) in [("kee", "did you mean `key`?"), ("name", "they are: key, mode"), ("id", "they are: key, mode")] {
        let d = desc(&format!("[columns]\nid = \"id\"\nmetadata = [\"name\"]\nnominal = [\"key\", \"{bad}\"]\n"));
        let e = FittedRecipe::fit(&d, &t).unwrap_err().to_string();
        assert!(
            e.contains(&format!("`columns.nominal[1]`: `{bad}` is not a numeric model input")) && e.contains(why),
            "{e}"
        );
    }
}

#[test]
fn a_constant_column_that_is_not_scaled_is_kept_with_a_warning() {
    // min_count above every category's count: all merge into `other`, one
    // indicator that is 1 on every row.
    let d = desc("[[encode]]\ncolumn = \"s\"\nmethod = \"one_hot\"\nmin_count = 10\n");
    let (_, out) = FittedRecipe::fit(&d, &table("s,v\nA,1\nB,2\nA,3\n")).unwrap();
    assert_eq!(out.feature_names, ["v", "s=other"]);
    let w: Vec<String> = out.notes.iter().filter(|n| n.warning).map(ToString::to_string).collect();
    assert_eq!(
        w,
        ["warning: s=other: constant in the data (1): it carries no information (encode.s: every category has fewer rows than min_count, so all were merged into `other`; lower min_count to keep them apart)"]
    );
    // Without scaling, a constant numeric column stays too, with a warning;
    // a column that varies gets none.
    let d = desc("[scale]\nmethod = \"none\"\n");
    let (_, out) = FittedRecipe::fit(&d, &table("c,v\n5,1\n5,2\n")).unwrap();
    assert_eq!(out.feature_names, ["c", "v"]);
    let w: Vec<String> = out.notes.iter().filter(|n| n.warning).map(ToString::to_string).collect();
    assert_eq!(w, ["warning: c: constant in the data (5): it carries no information"]);
}
