//! [`FrameEncoder`] on ONNX Runtime (`ort` with `load-dynamic`): the library is the one the
//! set-up placed (see [`crate::paths::onnxruntime_library`]), loaded once per process.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::TensorRef;

use super::{EncoderSpec, FrameEncoder, ImageBatch, Layout, VisionError};

/// Runs an ONNX CNN with ONNX Runtime on the CPU.
pub struct OrtEncoder {
    spec: EncoderSpec,
    session: Session,
    threads: usize,
    /// The loaded library's own version.
    runtime_version: &'static str,
}

impl std::fmt::Debug for OrtEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrtEncoder").field("model", &self.spec.onnx_path).finish_non_exhaustive()
    }
}

/// The process's ONNX Runtime environment and the version of the library loaded; loading the
/// library twice is not possible, so a failure is remembered too.
fn environment() -> Result<&'static (Environment, String), VisionError> {
    static ENV: OnceLock<Result<(Environment, String), (PathBuf, String)>> = OnceLock::new();
    let library = crate::paths::onnxruntime_library()?;
    let env = ENV.get_or_init(|| {
        let fail = |e: &dyn std::fmt::Display| (library.clone(), e.to_string());
        let builder = ort::init_from(&library).map_err(|e| fail(&e))?;
        let env = builder.with_name("foley").build().map_err(|e| fail(&e))?;
        let version = loaded_version(&library).map_err(|e| fail(&e))?;
        Ok((env, version))
    });
    env.as_ref().map_err(|(path, reason)| VisionError::RuntimeLoad { path: path.clone(), reason: reason.clone() })
}

/// The version the ONNX Runtime library at `library` reports of itself: what actually runs, which
/// `ORT_DYLIB_PATH` may make another than the one foley was built for.
fn loaded_version(library: &Path) -> Result<String, String> {
    // SAFETY: `library` is the ONNX Runtime library `ort::init_from` has just loaded, so opening
    // it again only adds a reference and runs no initialisers; `OrtGetApiBase` and
    // `GetVersionString` take no arguments, and the string lives as long as the library, which
    // stays loaded while it is copied.
    unsafe {
        let lib = libloading::Library::new(library).map_err(|e| e.to_string())?;
        let get_base: libloading::Symbol<'_, unsafe extern "C" fn() -> *const ort::sys::OrtApiBase> =
            lib.get(b"OrtGetApiBase").map_err(|e| e.to_string())?;
        let base = get_base();
        if base.is_null() {
            return Err("OrtGetApiBase returned nothing".to_owned());
        }
        let version = ((*base).GetVersionString)();
        if version.is_null() {
            return Err("the library reports no version".to_owned());
        }
        Ok(std::ffi::CStr::from_ptr(version).to_string_lossy().into_owned())
    }
}

impl OrtEncoder {
    /// Opens the model with as many intra-op threads as there are cores.
    pub fn new(spec: EncoderSpec) -> Result<Self, VisionError> {
        let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Self::with_threads(spec, threads)
    }

    /// Opens the model with `threads` intra-op threads.
    pub fn with_threads(spec: EncoderSpec, threads: usize) -> Result<Self, VisionError> {
        let (env, runtime_version) = environment()?;
        let fail =
            |e: &dyn std::fmt::Display| VisionError::Inference { path: spec.onnx_path.clone(), reason: e.to_string() };
        let session = Session::builder(env)
            .map_err(|e| fail(&e))?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(|e| fail(&e))?
            .with_intra_threads(threads)
            .map_err(|e| fail(&e))?
            .commit_from_file(&spec.onnx_path)
            .map_err(|e| fail(&e))?;
        Ok(Self { spec, session, threads, runtime_version: runtime_version.as_str() })
    }

    /// Runs `batch` and returns the named output, flattened (e.g. the logits, to check weights).
    pub fn run_output(&mut self, batch: &ImageBatch, output: &str) -> Result<Vec<f32>, VisionError> {
        batch.check_size(&self.spec.manifest.input)?;
        let fail = |e: &dyn std::fmt::Display| VisionError::Inference {
            path: self.spec.onnx_path.clone(),
            reason: e.to_string(),
        };
        let input = &self.spec.manifest.input;
        let (n, h, w) = (batch.len() as i64, i64::from(input.height), i64::from(input.width));
        let nhwc;
        let (shape, data) = match input.layout {
            Layout::Nchw => ([n, 3, h, w], batch.data.as_slice()),
            Layout::Nhwc => {
                nhwc = batch.to_nhwc();
                ([n, h, w, 3], nhwc.as_slice())
            }
        };
        let tensor = TensorRef::from_array_view((shape, data)).map_err(|e| fail(&e))?;
        let outputs = self.session.run(ort::inputs![input.name.as_str() => tensor]).map_err(|e| fail(&e))?;
        let value = outputs.get(output).ok_or_else(|| fail(&format!("the model has no output `{output}`")))?;
        let (_, values) = value.try_extract_tensor::<f32>().map_err(|e| fail(&e))?;
        Ok(values.to_vec())
    }
}

impl FrameEncoder for OrtEncoder {
    fn spec(&self) -> &EncoderSpec {
        &self.spec
    }

    fn device(&self) -> String {
        format!("ONNX Runtime {} on the CPU ({} threads)", self.runtime_version, self.threads)
    }

    fn preferred_batch(&self) -> usize {
        16
    }

    fn encode(&mut self, batch: &ImageBatch) -> Result<Vec<f32>, VisionError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let name = self.spec.manifest.output.name.clone();
        let features = self.run_output(batch, &name)?;
        let expected = batch.len() * self.spec.manifest.output.size;
        if features.len() != expected {
            return Err(VisionError::Inference {
                path: self.spec.onnx_path.clone(),
                reason: format!(
                    "output `{name}` has {} values for {} images; the manifest says {} per image",
                    features.len(),
                    batch.len(),
                    self.spec.manifest.output.size
                ),
            });
        }
        Ok(features)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The device names the version the loaded library reports of itself, not a constant.
    #[test]
    fn the_device_names_the_version_the_loaded_library_reports() {
        let encoder = OrtEncoder::with_threads(EncoderSpec::default_encoder().unwrap(), 1).unwrap();
        let reported = loaded_version(&crate::paths::onnxruntime_library().unwrap()).unwrap();
        let parts: Vec<&str> = reported.split('.').collect();
        assert!(parts.len() == 3 && parts.iter().all(|p| p.parse::<u32>().is_ok()), "{reported}");
        assert_eq!(encoder.device(), format!("ONNX Runtime {reported} on the CPU (1 threads)"));
    }
}
