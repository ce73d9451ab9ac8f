//! `RawTable::filter_rows` must not wait on polars' thread pool.
//!
//! Cross-validation, targeting and cohorts call it inside rayon tasks, once
//! per fold or refit. A rayon worker that waits on another pool runs other
//! tasks of its own pool meanwhile, on its own stack, and can resume none of
//! them before the innermost is done: the tasks nest, and the stage's second
//! worker is left idle. This test occupies every thread of polars' pool and
//! filters a table: a filter that needs the pool cannot finish until the
//! pool is released, which happens only after the test has given up waiting.

use polars::prelude::*;
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Condvar, Mutex};
use std::time::Duration;
use strata_data::csv::RawTable;

#[test]
fn filter_rows_runs_while_polars_pool_is_busy() {
    let pool = &*polars_core::runtime::THREAD_POOL;
    let threads = pool.current_num_threads();
    let started = Arc::new(Barrier::new(threads + 1));
    let gate = Arc::new((Mutex::new(false), Condvar::new()));
    for _ in 0..threads {
        let (started, gate) = (started.clone(), gate.clone());
        pool.spawn(move || {
            started.wait();
            let (open, cv) = &*gate;
            let mut open = open.lock().unwrap_or_else(|e| e.into_inner());
            while !*open {
                open = cv.wait(open).unwrap_or_else(|e| e.into_inner());
            }
        });
    }
    started.wait();

    let frame = df!(
        "a" => (0..1000).collect::<Vec<i64>>(),
        "b" => (0..1000).map(|i| format!("r{i}")).collect::<Vec<String>>(),
        "c" => (0..1000).map(|i| i as f64 / 2.0).collect::<Vec<f64>>()
    )
    .expect("frame");
    let table = RawTable::from_frame("memory.csv", frame);
    let keep: Vec<bool> = (0..1000).map(|i| i % 3 == 0).collect();
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let out = table.filter_rows(&keep).map(|t| (t.height(), t.at(1).row));
        let _ = tx.send(out);
    });
    let got = rx.recv_timeout(Duration::from_secs(60));

    let (open, cv) = &*gate;
    *open.lock().unwrap_or_else(|e| e.into_inner()) = true;
    cv.notify_all();
    worker.join().expect("filtering thread");

    let (height, second_row) = got
        .expect("filter_rows waited on polars' thread pool")
        .expect("filter_rows");
    assert_eq!(height, 334);
    // Row 3 of the frame (0-based) is the second kept; rows count from 1.
    assert_eq!(second_row, 4);
}
