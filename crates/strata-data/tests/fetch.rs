//! Downloads against an HTTP server on 127.0.0.1 started by the test: a good
//! file, a checksum mismatch, a dropped connection and a missing page. After a
//! failure no file (partial or complete) is left behind.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use strata_data::{DataError, Descriptor, Fetched, fetch};

const BODY: &[u8] = b"a,b\n1,2\n3,4\n";

/// Serves requests until the test ends; behaviour depends on the path.
fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().take(32) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
            let _ = match path.as_str() {
                "/good.csv" => {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        BODY.len()
                    );
                    stream
                        .write_all(head.as_bytes())
                        .and_then(|_| stream.write_all(BODY))
                }
                "/tampered.csv" => {
                    let body = b"a,b\n1,2\n3,5\n";
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    stream
                        .write_all(head.as_bytes())
                        .and_then(|_| stream.write_all(body))
                }
                "/dropped.csv" => {
                    // Announces 1000 bytes, sends 6, hangs up.
                    let head =
                        "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n";
                    stream
                        .write_all(head.as_bytes())
                        .and_then(|_| stream.write_all(&BODY[..6]))
                }
                _ => stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                ),
            };
            let _ = stream.flush();
        }
    });
    format!("http://{addr}")
}

fn descriptor(dir: &Path, url: &str) -> Descriptor {
    let sha = strata_data::locate::sha256_bytes(BODY);
    let text = format!("[source]\nfile = \"data.csv\"\nsha256 = \"{sha}\"\nurl = \"{url}\"\n");
    Descriptor::from_toml(&text, &dir.join("data.toml")).expect("descriptor")
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(rd) => rd.flatten().map(|e| e.path()).collect(),
        Err(_) => vec![],
    }
}

#[test]
fn downloads_verifies_and_reuses() {
    let base = serve();
    let tmp = tempfile::tempdir().expect("tmp");
    let cache = tmp.path().join("cache");
    let d = descriptor(tmp.path(), &format!("{base}/good.csv"));
    let got = fetch(&d, &cache).expect("download");
    assert_eq!(
        got,
        Fetched::Downloaded {
            path: cache.join("data.csv"),
            bytes: BODY.len() as u64
        }
    );
    assert_eq!(std::fs::read(cache.join("data.csv")).expect("read"), BODY);
    assert_eq!(
        files_in(&cache),
        vec![cache.join("data.csv")],
        "no temporary file left"
    );
    // A second fetch finds the verified copy.
    assert_eq!(
        fetch(&d, &cache).expect("again"),
        Fetched::AlreadyPresent(cache.join("data.csv"))
    );
}

#[test]
fn checksum_mismatch_leaves_nothing() {
    let base = serve();
    let tmp = tempfile::tempdir().expect("tmp");
    let cache = tmp.path().join("cache");
    let d = descriptor(tmp.path(), &format!("{base}/tampered.csv"));
    let err = fetch(&d, &cache).unwrap_err();
    assert!(matches!(err, DataError::ChecksumMismatch { .. }), "{err}");
    assert!(err.to_string().contains("SHA-256 mismatch"), "{err}");
    assert!(
        files_in(&cache).is_empty(),
        "left behind: {:?}",
        files_in(&cache)
    );
}

#[test]
fn dropped_connection_leaves_nothing() {
    let base = serve();
    let tmp = tempfile::tempdir().expect("tmp");
    let cache = tmp.path().join("cache");
    let d = descriptor(tmp.path(), &format!("{base}/dropped.csv"));
    let err = fetch(&d, &cache).unwrap_err();
    assert!(matches!(err, DataError::Download { .. }), "{err}");
    assert!(err.to_string().contains("dropped.csv"), "{err}");
    assert!(
        files_in(&cache).is_empty(),
        "left behind: {:?}",
        files_in(&cache)
    );
}

#[test]
fn http_error_and_missing_url_are_clear() {
    let base = serve();
    let tmp = tempfile::tempdir().expect("tmp");
    let cache = tmp.path().join("cache");
    let d = descriptor(tmp.path(), &format!("{base}/nothing-here.csv"));
    let err = fetch(&d, &cache).unwrap_err().to_string();
    assert!(err.contains("404"), "{err}");
    assert!(files_in(&cache).is_empty());

    let sha = strata_data::locate::sha256_bytes(BODY);
    let text = format!(
        "[source]\nfile = \"data.csv\"\nsha256 = \"{sha}\"\npage = \"https://example.org/by-hand\"\n"
    );
    let d = Descriptor::from_toml(&text, &tmp.path().join("data.toml")).expect("descriptor");
    let err = fetch(&d, &cache).unwrap_err().to_string();
    assert!(
        err.contains("no public URL") && err.contains("https://example.org/by-hand"),
        "{err}"
    );
}
