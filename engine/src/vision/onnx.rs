//! Reading ONNX model files: the few protobuf messages foley needs, decoded with `prost`.
//!
//! Only the fields used here are declared; protobuf skips the rest. Tags follow `onnx.proto`.

use std::collections::HashMap;
use std::path::Path;

use prost::Message;

use super::VisionError;

#[derive(Clone, PartialEq, Message)]
pub struct ModelProto {
    #[prost(int64, tag = "1")]
    pub ir_version: i64,
    #[prost(string, tag = "2")]
    pub producer_name: String,
    #[prost(message, optional, tag = "7")]
    pub graph: Option<GraphProto>,
    #[prost(message, repeated, tag = "8")]
    pub opset_import: Vec<OperatorSetIdProto>,
}

#[derive(Clone, PartialEq, Message)]
pub struct OperatorSetIdProto {
    #[prost(string, tag = "1")]
    pub domain: String,
    #[prost(int64, tag = "2")]
    pub version: i64,
}

#[derive(Clone, PartialEq, Message)]
pub struct GraphProto {
    #[prost(message, repeated, tag = "1")]
    pub node: Vec<NodeProto>,
    #[prost(string, tag = "2")]
    pub name: String,
    #[prost(message, repeated, tag = "5")]
    pub initializer: Vec<TensorProto>,
    #[prost(message, repeated, tag = "11")]
    pub input: Vec<ValueInfoProto>,
    #[prost(message, repeated, tag = "12")]
    pub output: Vec<ValueInfoProto>,
}

#[derive(Clone, PartialEq, Message)]
pub struct NodeProto {
    #[prost(string, repeated, tag = "1")]
    pub input: Vec<String>,
    #[prost(string, repeated, tag = "2")]
    pub output: Vec<String>,
    #[prost(string, tag = "3")]
    pub name: String,
    #[prost(string, tag = "4")]
    pub op_type: String,
    #[prost(message, repeated, tag = "5")]
    pub attribute: Vec<AttributeProto>,
    #[prost(string, tag = "7")]
    pub domain: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct AttributeProto {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(float, tag = "2")]
    pub f: f32,
    #[prost(int64, tag = "3")]
    pub i: i64,
    #[prost(bytes = "vec", tag = "4")]
    pub s: Vec<u8>,
    #[prost(message, optional, tag = "5")]
    pub t: Option<TensorProto>,
    #[prost(float, repeated, tag = "7")]
    pub floats: Vec<f32>,
    #[prost(int64, repeated, tag = "8")]
    pub ints: Vec<i64>,
    #[prost(int32, tag = "20")]
    pub r#type: i32,
}

/// `TensorProto.DataType.FLOAT`.
pub const DATA_TYPE_FLOAT: i32 = 1;
/// `TensorProto.DataType.UINT8`.
pub const DATA_TYPE_UINT8: i32 = 2;
/// `TensorProto.DataType.INT8`.
pub const DATA_TYPE_INT8: i32 = 3;
/// `TensorProto.DataType.INT32`.
pub const DATA_TYPE_INT32: i32 = 6;

#[derive(Clone, PartialEq, Message)]
pub struct TensorProto {
    #[prost(int64, repeated, tag = "1")]
    pub dims: Vec<i64>,
    #[prost(int32, tag = "2")]
    pub data_type: i32,
    #[prost(float, repeated, tag = "4")]
    pub float_data: Vec<f32>,
    /// Inline values of int32, int8 and uint8 tensors (one per element).
    #[prost(int32, repeated, tag = "5")]
    pub int32_data: Vec<i32>,
    #[prost(string, tag = "8")]
    pub name: String,
    #[prost(bytes = "vec", tag = "9")]
    pub raw_data: Vec<u8>,
    /// 1 = EXTERNAL: the data lives in another file.
    #[prost(int32, tag = "14")]
    pub data_location: i32,
}

#[derive(Clone, PartialEq, Message)]
pub struct ValueInfoProto {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(message, optional, tag = "2")]
    pub r#type: Option<TypeProto>,
}

#[derive(Clone, PartialEq, Message)]
pub struct TypeProto {
    #[prost(message, optional, tag = "1")]
    pub tensor_type: Option<TensorTypeProto>,
}

#[derive(Clone, PartialEq, Message)]
pub struct TensorTypeProto {
    #[prost(int32, tag = "1")]
    pub elem_type: i32,
    #[prost(message, optional, tag = "2")]
    pub shape: Option<TensorShapeProto>,
}

#[derive(Clone, PartialEq, Message)]
pub struct TensorShapeProto {
    #[prost(message, repeated, tag = "1")]
    pub dim: Vec<Dimension>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Dimension {
    #[prost(int64, optional, tag = "1")]
    pub dim_value: Option<i64>,
    #[prost(string, optional, tag = "2")]
    pub dim_param: Option<String>,
}

/// One dimension of a declared tensor shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dim {
    Fixed(i64),
    /// A symbolic or unknown size, e.g. the batch.
    Free,
}

impl std::fmt::Display for Dim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dim::Fixed(v) => write!(f, "{v}"),
            Dim::Free => f.write_str("?"),
        }
    }
}

/// Formats a shape as `[?, 3, 224, 224]`.
#[must_use]
pub fn format_shape(dims: &[Dim]) -> String {
    format!("[{}]", dims.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
}

impl ModelProto {
    /// The model as ONNX file bytes.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        self.encode_to_vec()
    }
}

/// Decodes an ONNX file. The error names the file and says it is not ONNX when protobuf decoding
/// fails or the model has no graph.
pub fn read_model(path: &Path) -> Result<ModelProto, VisionError> {
    let bytes = std::fs::read(path).map_err(|source| VisionError::Io { path: path.to_owned(), source })?;
    decode_model(path, &bytes)
}

pub(crate) fn decode_model(path: &Path, bytes: &[u8]) -> Result<ModelProto, VisionError> {
    let not_onnx = |reason: String| VisionError::NotOnnx { path: path.to_owned(), reason };
    let model = ModelProto::decode(bytes).map_err(|e| not_onnx(format!("protobuf decoding failed: {e}")))?;
    let graph = model.graph.as_ref().ok_or_else(|| not_onnx("it holds no graph".to_owned()))?;
    if model.ir_version <= 0 || graph.node.is_empty() {
        return Err(not_onnx("it has no IR version or no nodes".to_owned()));
    }
    Ok(model)
}

impl ValueInfoProto {
    /// The declared dimensions, if this is a tensor with a shape.
    #[must_use]
    pub fn dims(&self) -> Option<Vec<Dim>> {
        let shape = self.r#type.as_ref()?.tensor_type.as_ref()?.shape.as_ref()?;
        Some(
            shape
                .dim
                .iter()
                .map(|d| match d.dim_value {
                    Some(v) if v > 0 => Dim::Fixed(v),
                    _ => Dim::Free,
                })
                .collect(),
        )
    }
}

impl TensorProto {
    /// The tensor's values as f32 (float tensors only, stored inline).
    pub fn to_f32(&self, path: &Path) -> Result<Vec<f32>, VisionError> {
        if self.data_type != DATA_TYPE_FLOAT {
            return Err(VisionError::BadModel {
                path: path.to_owned(),
                reason: format!("tensor `{}` has data type {}, expected float32", self.name, self.data_type),
            });
        }
        Ok(self.to_f64(path)?.into_iter().map(|v| v as f32).collect())
    }

    /// The tensor's values as f64: float32, or the integers of an int8, uint8 or int32 tensor
    /// (quantised weights, their zero points and biases), stored inline.
    pub fn to_f64(&self, path: &Path) -> Result<Vec<f64>, VisionError> {
        let bad = |reason: String| VisionError::BadModel { path: path.to_owned(), reason };
        if self.data_location == 1 {
            return Err(bad(format!(
                "tensor `{}` is stored in an external file; save the model with its weights inside",
                self.name
            )));
        }
        let raw = &self.raw_data;
        let values: Vec<f64> = match self.data_type {
            DATA_TYPE_FLOAT if raw.is_empty() => self.float_data.iter().map(|&v| f64::from(v)).collect(),
            DATA_TYPE_FLOAT => {
                raw.chunks_exact(4).map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))).collect()
            }
            DATA_TYPE_UINT8 | DATA_TYPE_INT8 | DATA_TYPE_INT32 if raw.is_empty() => {
                self.int32_data.iter().map(|&v| f64::from(v)).collect()
            }
            DATA_TYPE_UINT8 => raw.iter().map(|&b| f64::from(b)).collect(),
            DATA_TYPE_INT8 => raw.iter().map(|&b| f64::from(b.cast_signed())).collect(),
            DATA_TYPE_INT32 => {
                raw.chunks_exact(4).map(|b| f64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))).collect()
            }
            other => {
                return Err(bad(format!(
                    "tensor `{}` has data type {other}; foley reads float32, int8, uint8 and int32 tensors",
                    self.name
                )));
            }
        };
        let count: i64 = self.dims.iter().product();
        if i64::try_from(values.len()).ok() != Some(count) {
            return Err(bad(format!(
                "tensor `{}` holds {} values but its shape {:?} needs {count}",
                self.name,
                values.len(),
                self.dims
            )));
        }
        Ok(values)
    }
}

impl NodeProto {
    /// The attributes by name.
    #[must_use]
    pub fn attributes(&self) -> HashMap<&str, &AttributeProto> {
        self.attribute.iter().map(|a| (a.name.as_str(), a)).collect()
    }
}
