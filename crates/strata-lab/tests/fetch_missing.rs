//! A run whose data file is missing but has a public URL downloads it into the
//! cache by itself (from a server on 127.0.0.1 here) and then runs.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use strata_data::DataDirs;

#[test]
fn missing_file_with_url_is_fetched_then_run() {
    let csv = b"a,b\n1,2\n3,5\n4,4\n";
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let url = format!("http://{}/data.csv", listener.local_addr().expect("addr"));
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("one request");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
            line.clear();
        }
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            csv.len()
        );
        stream
            .write_all(head.as_bytes())
            .and_then(|_| stream.write_all(csv))
            .expect("respond");
    });

    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let sha = strata_data::locate::sha256_bytes(csv);
    std::fs::create_dir_all(dir.join("datasets")).expect("mkdir");
    std::fs::write(
        dir.join("datasets/d.toml"),
        format!("[source]\nfile = \"data.csv\"\nsha256 = \"{sha}\"\nurl = \"{url}\"\n"),
    )
    .expect("descriptor");
    std::fs::write(
        dir.join("exp.toml"),
        "dataset = \"datasets/d.toml\"\n[[clusterer]]\nalgorithm = \"kmeans\"\nk = 2\n[evaluation]\nstability_resamples = 0\n",
    )
    .expect("manifest");

    let dirs = DataDirs {
        explicit: Some(dir.join("empty")),
        env: None,
        cache: None,
    };
    let mut opts = strata_lab::sweep::SweepOptions::new(dir.join("results"), dirs);
    opts.progress = false;
    let outcome = strata_lab::sweep::sweep(
        &[dir.join("exp.toml")],
        &strata_lab::registry::Registry::standard(),
        &opts,
    )
    .expect("run after fetching");
    server.join().expect("server");
    assert_eq!((outcome[0].total, outcome[0].computed), (1, 1));
    assert_eq!(
        std::fs::read(dir.join("datasets/cache/data.csv")).expect("cached"),
        csv
    );
    assert!(dir.join("results/exp/inspect.json").is_file());
}
