//! Cochleagrams on disk: a float32 `.npy` of shape `[steps, bands]` (what NumPy and most tools
//! read) with a JSON sidecar beside it holding the parameters and the time of step 0.

use std::io::{BufReader, BufWriter, Write as _};
use std::path::Path;

use npyz::WriterBuilder as _;
use serde::{Deserialize, Serialize};

use super::{Cochleagram, CochleagramParams, SoundError};
use crate::media::sidecar_path;

/// The JSON written beside a cochleagram `.npy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CochleagramSidecar {
    /// Always `"foley-cochleagram"`.
    pub format: String,
    pub version: u32,
    /// Time of step 0 on the video's timeline, seconds.
    pub start_s: f64,
    pub steps: usize,
    pub bands: usize,
    pub params: CochleagramParams,
    /// Band centre frequencies, Hz, in column order.
    pub centres_hz: Vec<f64>,
    /// What the cochleagram was computed from, if known (a file, or "predicted").
    #[serde(default)]
    pub source: Option<String>,
}

/// Writes `c` to `path` (`.npy`) and its sidecar beside it, each atomically.
pub fn write_cochleagram(
    path: &Path,
    c: &Cochleagram,
    params: &CochleagramParams,
    source: Option<&str>,
) -> Result<(), SoundError> {
    let shape = [c.steps() as u64, c.bands as u64];
    crate::media::write_atomically(path, |file| {
        let mut writer =
            npyz::WriteOptions::<f32>::new().default_dtype().shape(&shape).writer(BufWriter::new(file)).begin_nd()?;
        writer.extend(c.data.iter().copied())?;
        writer.finish()
    })?;
    let sidecar = CochleagramSidecar {
        format: "foley-cochleagram".to_owned(),
        version: 1,
        start_s: c.start_s,
        steps: c.steps(),
        bands: c.bands,
        params: params.clone(),
        centres_hz: params.centres_hz(),
        source: source.map(str::to_owned),
    };
    let json = serde_json::to_string_pretty(&sidecar).map_err(|e| SoundError::InvalidParameter(e.to_string()))?;
    let json_path = sidecar_path(path);
    crate::media::write_atomically(&json_path, |file| {
        let mut w = BufWriter::new(file);
        w.write_all(json.as_bytes())?;
        w.write_all(b"\n")?;
        w.flush()
    })?;
    Ok(())
}

/// Reads a cochleagram `.npy` of shape `[steps, bands]` (float32, or float64 converted), with its
/// sidecar if there is one (else step 0 is at 0 s and the rate is 90 Hz). Refuses any other
/// shape or type, and non-finite values, naming the file.
pub fn read_cochleagram(
    path: &Path,
    expected_bands: usize,
) -> Result<(Cochleagram, Option<CochleagramSidecar>), SoundError> {
    let bad = |reason: String| SoundError::BadArray { path: path.to_path_buf(), reason };
    crate::media::check_readable_file(path)?;
    let file = std::fs::File::open(path).map_err(|source| SoundError::Read { path: path.to_path_buf(), source })?;
    let npy = npyz::NpyFile::new(BufReader::new(file)).map_err(|e| bad(format!("not a NumPy .npy file ({e})")))?;
    let shape = npy.shape().to_vec();
    if shape.len() != 2 || shape[1] != expected_bands as u64 {
        return Err(bad(format!("shape {shape:?}; expected [steps, {expected_bands}]")));
    }
    let type_str = npy.dtype().descr();
    let data: Vec<f32> = match type_str.as_str() {
        "'<f4'" => npy.into_vec::<f32>().map_err(|e| bad(e.to_string()))?,
        "'<f8'" => npy.into_vec::<f64>().map_err(|e| bad(e.to_string()))?.into_iter().map(|x| x as f32).collect(),
        other => return Err(bad(format!("element type {other}; expected float32"))),
    };
    if let Some(i) = data.iter().position(|x| !x.is_finite()) {
        return Err(SoundError::NotFinite {
            path: path.to_path_buf(),
            step: i / expected_bands,
            band: i % expected_bands,
            value: data[i],
        });
    }
    let sidecar_file = sidecar_path(path);
    let sidecar: Option<CochleagramSidecar> = match std::fs::read_to_string(&sidecar_file) {
        Ok(text) => Some(serde_json::from_str(&text).map_err(|e| SoundError::BadArray {
            path: sidecar_file.clone(),
            reason: format!("the sidecar is not a foley cochleagram description: {e}"),
        })?),
        Err(_) => None,
    };
    let (start_s, rate_hz) = sidecar.as_ref().map_or((0.0, 90.0), |s| (s.start_s, s.params.step_rate_hz));
    Ok((Cochleagram { start_s, rate_hz, bands: expected_bands, data }, sidecar))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.npy");
        let c = Cochleagram {
            start_s: 1.5,
            rate_hz: 90.0,
            bands: 42,
            data: (0..42 * 10).map(|i| i as f32 * 0.01).collect(),
        };
        write_cochleagram(&path, &c, &CochleagramParams::default(), Some("x.wav")).unwrap();
        let (back, sidecar) = read_cochleagram(&path, 42).unwrap();
        assert_eq!(back, c);
        let sidecar = sidecar.unwrap();
        assert_eq!((sidecar.steps, sidecar.bands, sidecar.centres_hz.len()), (10, 42, 42));
        // NumPy's own header, byte for byte.
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..6], b"\x93NUMPY");
        let header = String::from_utf8_lossy(&bytes[..128]).into_owned();
        assert!(header.contains("'descr': '<f4'") && header.contains("'shape': (10, 42"), "{header}");

        let err = read_cochleagram(&path, 40).unwrap_err().to_string();
        assert!(err.contains("shape [10, 42]") && err.contains("c.npy"), "{err}");
        let nan = Cochleagram {
            data: {
                let mut d = c.data.clone();
                d[45] = f32::NAN;
                d
            },
            ..c
        };
        let nan_path = dir.path().join("nan.npy");
        write_cochleagram(&nan_path, &nan, &CochleagramParams::default(), None).unwrap();
        let err = read_cochleagram(&nan_path, 42).unwrap_err().to_string();
        assert!(err.contains("step 1, band 3") && err.contains("not a finite number"), "{err}");
        let junk = dir.path().join("junk.npy");
        std::fs::write(&junk, b"not numpy at all").unwrap();
        assert!(read_cochleagram(&junk, 42).unwrap_err().to_string().contains("not a NumPy .npy file"));
    }
}
