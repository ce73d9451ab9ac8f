//! Compressed data files: gzip (`.gz`) and Zstandard (`.zst`).
//!
//! Any data file may be stored compressed. The format is recognised by its
//! magic bytes, not by its name, so a misnamed file is still read correctly;
//! the name only matters when looking for a file (`data.csv` is also found as
//! `data.csv.gz` or `data.csv.zst`). Checksums in descriptors are those of the
//! uncompressed bytes, so a plain copy and a compressed copy of the same table
//! verify against the same SHA-256, and every later message (line numbers,
//! ragged rows, bad cells) refers to the uncompressed text.

use crate::error::{DataError, Result};
use std::io::Read;
use std::path::Path;

/// Suffixes under which a compressed copy of a data file is looked for.
pub const SUFFIXES: [&str; 2] = ["gz", "zst"];

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// How a file's bytes are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// Recognises the format from the first bytes.
    pub fn detect(bytes: &[u8]) -> Compression {
        if bytes.starts_with(&GZIP_MAGIC) {
            Compression::Gzip
        } else if bytes.starts_with(&ZSTD_MAGIC) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// Reads a data file and returns its uncompressed bytes and how it was stored.
pub fn read_file(path: &Path) -> Result<(Vec<u8>, Compression)> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    decompress(path, bytes)
}

/// Uncompresses `bytes` if they are gzip or Zstandard; other bytes are
/// returned as they are. `path` names the file in messages.
pub fn decompress(path: &Path, bytes: Vec<u8>) -> Result<(Vec<u8>, Compression)> {
    let kind = Compression::detect(&bytes);
    let mut out = Vec::new();
    let result = match kind {
        Compression::None => return Ok((bytes, kind)),
        // A gzip file may hold several members (as `cat a.gz b.gz` makes).
        Compression::Gzip => flate2::read::MultiGzDecoder::new(bytes.as_slice())
            .read_to_end(&mut out)
            .map(|_| ()),
        Compression::Zstd => zstd::stream::read::Decoder::new(bytes.as_slice())
            .and_then(|mut d| d.read_to_end(&mut out))
            .map(|_| ()),
    };
    result.map_err(|e| DataError::Decompress {
        path: path.to_path_buf(),
        format: kind.name(),
        message: e.to_string(),
    })?;
    Ok((out, kind))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn round_trips_and_plain_bytes_pass_through() {
        let text = b"a,b\n1,2\n3,4\n".repeat(100);
        let p = Path::new("t.csv");
        let (out, kind) = decompress(p, gzip(&text)).unwrap();
        assert_eq!((out.as_slice(), kind), (text.as_slice(), Compression::Gzip));
        let z = zstd::stream::encode_all(text.as_slice(), 3).unwrap();
        let (out, kind) = decompress(p, z).unwrap();
        assert_eq!((out.as_slice(), kind), (text.as_slice(), Compression::Zstd));
        let (out, kind) = decompress(p, text.clone()).unwrap();
        assert_eq!((out.as_slice(), kind), (text.as_slice(), Compression::None));
    }

    #[test]
    fn concatenated_gzip_members_are_one_file() {
        let mut two = gzip(b"a,b\n1,2\n");
        two.extend(gzip(b"3,4\n"));
        let (out, _) = decompress(Path::new("t.csv.gz"), two).unwrap();
        assert_eq!(out, b"a,b\n1,2\n3,4\n");
    }

    #[test]
    fn truncated_archive_names_file_and_format() {
        let mut g = gzip(&b"a,b\n1,2\n".repeat(50));
        g.truncate(g.len() / 2);
        let e = decompress(Path::new("data/t.csv.gz"), g)
            .unwrap_err()
            .to_string();
        assert!(e.contains("data/t.csv.gz") && e.contains("gzip"), "{e}");
        let mut z = zstd::stream::encode_all(&b"a,b\n1,2\n".repeat(50)[..], 3).unwrap();
        z.truncate(z.len() - 3);
        let e = decompress(Path::new("t.csv.zst"), z).unwrap_err().to_string();
        assert!(e.contains("t.csv.zst") && e.contains("zstd"), "{e}");
    }
}
