//! Times k-prototypes on the marketing data for `bench/kprototypes_vs_kmodes.py`.
//!
//!     cargo run -p strata-cluster-mixed --example kprototypes_bench -- --k 4 --rows 0,500,1000,1500 --repeats 5
//!
//! `--rows` gives the rows whose values are the initial prototypes (the same
//! start as kmodes gets); without it, `--n-init` seeded restarts. Prints one
//! JSON line: median seconds of the fit, epochs and cost.

use ndarray::Array2;
use std::path::Path;
use std::time::Instant;
use strata_cluster_mixed::{KPrototypes, Mixed, Prototypes, run_from};
use strata_core::{Rng, Seed};

fn arg(name: &str) -> Option<String> {
    let a: Vec<String> = std::env::args().collect();
    a.iter().position(|x| x == name).and_then(|i| a.get(i + 1).cloned())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize()?;
    let l = strata_data::load_reference(&root, "marketing_campaign")?;
    let names = l.dataset.feature_names().to_vec();
    let kinds = l.recipe.column_kinds(&names);
    let x = l.dataset.features();
    let m = Mixed::new(x.view(), &kinds, &names)?;
    let k: usize = arg("--k").unwrap_or_else(|| "4".into()).parse()?;
    let repeats: usize = arg("--repeats").unwrap_or_else(|| "5".into()).parse()?;
    let n_init: usize = arg("--n-init").unwrap_or_else(|| "10".into()).parse()?;
    let gamma = m.default_gamma();
    let mut times = Vec::new();
    let (mut epochs, mut cost) = (0, 0.0);
    for _ in 0..repeats {
        let t = Instant::now();
        match arg("--rows") {
            Some(rows) => {
                let rows: Vec<usize> = rows.split(',').map(|r| r.parse()).collect::<Result<_, _>>()?;
                let init = Prototypes {
                    num: Array2::from_shape_fn((k, m.num.ncols()), |(c, j)| m.num[[rows[c], j]]),
                    cat: Array2::from_shape_fn((k, m.cat.ncols()), |(c, a)| m.cat[[rows[c], a]]),
                };
                let r = run_from(&m, &init, gamma, 100, &mut Rng::new(Seed(0)))?;
                epochs = r.n_iter;
                cost = r.cost;
            }
            None => {
                let mut kp = KPrototypes::new(k);
                kp.n_init = n_init;
                let f = kp.fit_mixed(x.view(), &kinds, &names, Seed(1))?;
                epochs = 0;
                cost = f.cost();
            }
        }
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{{\"median_s\": {}, \"epochs\": {epochs}, \"cost\": {cost}, \"threads\": {}}}",
        times[times.len() / 2],
        rayon::current_num_threads()
    );
    Ok(())
}
