//! The ONNX graph as a list of GPU operations: shapes inferred per image (the batch is free),
//! activations fused into the op before them, residual additions fused into 1x1 convolutions,
//! `Flatten` resolved to a view, and each intermediate given a reusable buffer slot.
//!
//! Quantised graphs in ONNX Runtime's QDQ form run in f32: a `DequantizeLinear` of constant int8
//! weights is folded into float weights once, and each `QuantizeLinear` + `DequantizeLinear` pair
//! on an activation becomes a clamp that also rounds to the quantisation step, so the GPU computes
//! the values the int8 kernels of ONNX Runtime compute, up to rounding at ties.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::super::VisionError;
use super::super::onnx::{DATA_TYPE_INT8, DATA_TYPE_UINT8, GraphProto, ModelProto, NodeProto, TensorProto};

/// The ops the wgpu encoder runs.
pub const SUPPORTED_OPS: [&str; 9] =
    ["Conv", "Clip", "Relu", "Add", "GlobalAveragePool", "Flatten", "Gemm", "QuantizeLinear", "DequantizeLinear"];

/// A clamp applied to an op's result (Clip, ReLU, a quantise-dequantise pair, or none).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clamp {
    pub min: f32,
    pub max: f32,
    /// After clamping, round to a multiple of this step (ties to even, as `QuantizeLinear`
    /// does); 0 keeps the value continuous.
    pub step: f32,
}

impl Clamp {
    pub const NONE: Clamp = Clamp { min: -f32::MAX, max: f32::MAX, step: 0.0 };

    /// `DequantizeLinear(QuantizeLinear(x))` with `scale`, `zero_point` and the integer range
    /// `lo..=hi`: `clamp(round(x / scale) + zero_point, lo, hi) - zero_point`, times `scale`.
    /// The bounds are whole steps, so clamping before rounding gives the same values.
    #[must_use]
    pub fn quantised(scale: f32, zero_point: f32, lo: f32, hi: f32) -> Self {
        Clamp { min: (lo - zero_point) * scale, max: (hi - zero_point) * scale, step: scale }
    }

    fn is_none(self) -> bool {
        self == Self::NONE
    }
}

/// Shape of one image's tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Chw(u32, u32, u32),
    Vector(u32),
}

impl Shape {
    pub fn len(self) -> usize {
        match self {
            Shape::Chw(c, h, w) => c as usize * h as usize * w as usize,
            Shape::Vector(k) => k as usize,
        }
    }
}

/// Index into [`Program::values`].
pub type ValueId = usize;
/// Index into [`Program::weights`].
pub type WeightId = usize;

#[derive(Debug, Clone, PartialEq)]
pub struct ConvOp {
    pub x: ValueId,
    pub weight: WeightId,
    pub bias: Option<WeightId>,
    pub residual: Option<ValueId>,
    pub out: ValueId,
    pub groups: u32,
    pub kernel: [u32; 2],
    pub stride: [u32; 2],
    /// Top, left, bottom, right.
    pub pads: [u32; 4],
    pub dilation: [u32; 2],
    pub clamp: Clamp,
}

impl ConvOp {
    /// A 1x1 convolution with stride 1, no padding and one group: a plain matrix product.
    #[must_use]
    pub fn is_pointwise(&self) -> bool {
        self.kernel == [1, 1] && self.stride == [1, 1] && self.pads == [0; 4] && self.groups == 1
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Conv(ConvOp),
    Add { a: ValueId, b: ValueId, out: ValueId, clamp: Clamp },
    Clamp { x: ValueId, out: ValueId, clamp: Clamp },
    GlobalAveragePool { x: ValueId, out: ValueId },
    Gemm { a: ValueId, b: WeightId, c: Option<WeightId>, out: ValueId, trans_b: bool, alpha: f32, beta: f32 },
}

impl Op {
    fn inputs(&self) -> Vec<ValueId> {
        match self {
            Op::Conv(c) => std::iter::once(c.x).chain(c.residual).collect(),
            Op::Add { a, b, .. } => vec![*a, *b],
            Op::Clamp { x, .. } | Op::GlobalAveragePool { x, .. } => vec![*x],
            Op::Gemm { a, .. } => vec![*a],
        }
    }

    fn out(&self) -> ValueId {
        match self {
            Op::Conv(c) => c.out,
            Op::Add { out, .. } | Op::Clamp { out, .. } | Op::GlobalAveragePool { out, .. } | Op::Gemm { out, .. } => {
                *out
            }
        }
    }

    fn out_mut(&mut self) -> &mut ValueId {
        match self {
            Op::Conv(c) => &mut c.out,
            Op::Add { out, .. } | Op::Clamp { out, .. } | Op::GlobalAveragePool { out, .. } | Op::Gemm { out, .. } => {
                out
            }
        }
    }

    fn clamp_mut(&mut self) -> Option<&mut Clamp> {
        match self {
            Op::Conv(c) => Some(&mut c.clamp),
            Op::Add { clamp, .. } => Some(clamp),
            _ => None,
        }
    }
}

/// A short description of `op` for people: its kind, kernel, stride, channels and output shape.
#[must_use]
pub fn describe(program: &Program, op: &Op) -> String {
    let shape = |v: ValueId| match program.values[v].shape {
        Shape::Chw(c, h, w) => format!("{c}x{h}x{w}"),
        Shape::Vector(k) => format!("{k}"),
    };
    let channels = |v: ValueId| match program.values[v].shape {
        Shape::Chw(c, _, _) => c,
        Shape::Vector(k) => k,
    };
    match op {
        Op::Conv(c) => {
            let kind = if c.groups > 1 && c.groups == channels(c.x) { " depthwise" } else { "" };
            let fused = if c.residual.is_some() { " +residual" } else { "" };
            format!(
                "Conv{kind} {}x{}/{} {}->{}{fused}, {}",
                c.kernel[0],
                c.kernel[1],
                c.stride[0],
                channels(c.x),
                channels(c.out),
                shape(c.out)
            )
        }
        Op::Add { out, .. } => format!("Add, {}", shape(*out)),
        Op::Clamp { out, clamp, .. } if clamp.step > 0.0 => format!("QuantizeLinear+DequantizeLinear, {}", shape(*out)),
        Op::Clamp { out, .. } => format!("Clamp, {}", shape(*out)),
        Op::GlobalAveragePool { x, out } => format!("GlobalAveragePool {} -> {}", shape(*x), shape(*out)),
        Op::Gemm { out, .. } => format!("Gemm, {}", shape(*out)),
    }
}

/// An activation tensor: its per-image shape and the buffer slot holding it.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub name: String,
    pub shape: Shape,
    pub slot: usize,
}

/// A constant tensor from the model's initializers.
#[derive(Debug, Clone, PartialEq)]
pub struct Weight {
    pub name: String,
    pub dims: Vec<i64>,
    pub data: Vec<f32>,
}

/// The graph compiled for the GPU, computing `outputs` from `input`.
#[derive(Debug, Clone)]
pub struct Program {
    pub values: Vec<Value>,
    pub weights: Vec<Weight>,
    pub ops: Vec<Op>,
    pub input: ValueId,
    pub outputs: Vec<ValueId>,
    /// Number of activation buffers; each holds the largest per-image tensor times the batch.
    pub slots: usize,
    /// Values in the largest per-image tensor.
    pub max_value_len: usize,
}

struct Builder<'a> {
    path: &'a Path,
    initializers: HashMap<&'a str, &'a TensorProto>,
    values: Vec<Value>,
    by_name: HashMap<String, ValueId>,
    /// Flatten outputs: another name for a value.
    aliases: HashMap<String, ValueId>,
    weights: Vec<Weight>,
    weight_ids: HashMap<String, WeightId>,
    /// Outputs of `DequantizeLinear` on constants: float weights computed once.
    dequantised: HashMap<String, Weight>,
    /// Outputs of `QuantizeLinear` on activations, waiting for their `DequantizeLinear`.
    quantised: HashMap<String, Quantised>,
}

/// An activation quantised by `QuantizeLinear`.
#[derive(Debug, Clone, Copy)]
struct Quantised {
    x: ValueId,
    scale: f32,
    zero_point: f32,
    /// The integer type's range.
    lo: f32,
    hi: f32,
}

impl<'a> Builder<'a> {
    fn bad(&self, reason: String) -> VisionError {
        VisionError::BadModel { path: self.path.to_owned(), reason }
    }

    fn value(&self, name: &str, node: &NodeProto) -> Result<ValueId, VisionError> {
        if self.quantised.contains_key(name) {
            return Err(self.bad(format!(
                "node `{}` ({}) reads the integer tensor `{name}`; the wgpu encoder runs QuantizeLinear only followed by DequantizeLinear (ONNX Runtime's QDQ form)",
                node.name, node.op_type
            )));
        }
        self.aliases.get(name).or_else(|| self.by_name.get(name)).copied().ok_or_else(|| {
            self.bad(format!("node `{}` ({}) reads `{name}`, which is not computed before it", node.name, node.op_type))
        })
    }

    fn add_value(&mut self, name: &str, shape: Shape) -> ValueId {
        let id = self.values.len();
        self.values.push(Value { name: name.to_owned(), shape, slot: usize::MAX });
        self.by_name.insert(name.to_owned(), id);
        id
    }

    fn weight(&mut self, name: &str, node: &NodeProto) -> Result<WeightId, VisionError> {
        if let Some(&id) = self.weight_ids.get(name) {
            return Ok(id);
        }
        // Moved, not copied: from here on `weight_ids` finds it.
        if let Some(weight) = self.dequantised.remove(name) {
            let id = self.weights.len();
            self.weights.push(weight);
            self.weight_ids.insert(name.to_owned(), id);
            return Ok(id);
        }
        let tensor = self.initializers.get(name).ok_or_else(|| {
            self.bad(format!(
                "node `{}` ({}) needs `{name}` to be a constant weight; the wgpu encoder runs only graphs whose weights are initializers",
                node.name, node.op_type
            ))
        })?;
        let data = tensor.to_f32(self.path)?;
        let id = self.weights.len();
        self.weights.push(Weight { name: name.to_owned(), dims: tensor.dims.clone(), data });
        self.weight_ids.insert(name.to_owned(), id);
        Ok(id)
    }

    fn scalar(&self, name: &str, node: &NodeProto) -> Result<f32, VisionError> {
        let tensor = self.constant(name, node)?;
        match tensor.to_f32(self.path)?.as_slice() {
            [v] => Ok(*v),
            _ => Err(self.bad(format!("`{name}` of node `{}` is not a single number", node.name))),
        }
    }

    /// A single number of any numeric type (a zero point is an integer tensor).
    fn scalar_any(&self, name: &str, node: &NodeProto) -> Result<f32, VisionError> {
        match self.constant(name, node)?.to_f64(self.path)?.as_slice() {
            [v] => Ok(*v as f32),
            _ => Err(self.bad(format!("`{name}` of node `{}` is not a single number", node.name))),
        }
    }

    fn constant(&self, name: &str, node: &NodeProto) -> Result<&'a TensorProto, VisionError> {
        self.initializers
            .get(name)
            .copied()
            .ok_or_else(|| self.bad(format!("node `{}` ({}) needs `{name}` to be a constant", node.name, node.op_type)))
    }

    /// `QuantizeLinear`: remembers the activation, its scale, zero point and integer range (a
    /// per-tensor quantisation; the type is the zero point's, uint8 without one).
    fn quantise(&mut self, node: &NodeProto, out: String) -> Result<(), VisionError> {
        let input = |i: usize| node.input.get(i).map(String::as_str).filter(|s| !s.is_empty());
        let x_name = input(0).ok_or_else(|| self.bad(format!("node `{}` lacks input 0", node.name)))?;
        let x = self.value(x_name, node)?;
        let scale_name = input(1).ok_or_else(|| self.bad(format!("node `{}` lacks its scale", node.name)))?;
        let scale = self.scalar(scale_name, node)?;
        let (zero_point, data_type) = match input(2) {
            Some(n) => (self.scalar_any(n, node)?, self.constant(n, node)?.data_type),
            None => (0.0, DATA_TYPE_UINT8),
        };
        let (lo, hi) = match data_type {
            DATA_TYPE_UINT8 => (0.0, 255.0),
            DATA_TYPE_INT8 => (-128.0, 127.0),
            other => {
                return Err(self.bad(format!(
                    "QuantizeLinear `{}` quantises to data type {other}; the wgpu encoder runs uint8 and int8",
                    node.name
                )));
            }
        };
        if !(scale.is_finite() && scale > 0.0) {
            return Err(self.bad(format!("QuantizeLinear `{}` has scale {scale}", node.name)));
        }
        self.quantised.insert(out, Quantised { x, scale, zero_point, lo, hi });
        Ok(())
    }

    /// `DequantizeLinear` of a constant: float weights, `(q - zero_point) * scale` per tensor or
    /// per channel along `axis`.
    fn dequantise_constant(&mut self, node: &NodeProto, out: String) -> Result<(), VisionError> {
        let input = |i: usize| node.input.get(i).map(String::as_str).filter(|s| !s.is_empty());
        let name = |i: usize| input(i).ok_or_else(|| self.bad(format!("node `{}` lacks input {i}", node.name)));
        let q = self.constant(name(0)?, node)?;
        let scale = self.constant(name(1)?, node)?.to_f64(self.path)?;
        let zero_point = match input(2) {
            Some(n) => self.constant(n, node)?.to_f64(self.path)?,
            None => vec![0.0; scale.len()],
        };
        let values = q.to_f64(self.path)?;
        let dims = q.dims.clone();
        let channels = if scale.len() == 1 {
            None
        } else {
            let rank = i64::try_from(dims.len()).unwrap_or(0);
            let axis = int(node, "axis", 1);
            let axis = usize::try_from(if axis < 0 { axis + rank } else { axis }).unwrap_or(usize::MAX);
            match dims.get(axis) {
                Some(&d) if usize::try_from(d).ok() == Some(scale.len()) => {
                    let inner: i64 = dims[axis + 1..].iter().product();
                    Some(usize::try_from(inner).unwrap_or(1).max(1))
                }
                _ => {
                    return Err(self.bad(format!(
                        "DequantizeLinear `{}`: {} scales do not fit axis {axis} of shape {dims:?}",
                        node.name,
                        scale.len()
                    )));
                }
            }
        };
        if zero_point.len() != scale.len() {
            return Err(self.bad(format!(
                "DequantizeLinear `{}`: {} zero points for {} scales",
                node.name,
                zero_point.len(),
                scale.len()
            )));
        }
        let data = values
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let c = channels.map_or(0, |inner| (i / inner) % scale.len());
                ((v - zero_point[c]) * scale[c]) as f32
            })
            .collect();
        self.dequantised.insert(out.clone(), Weight { name: out, dims, data });
        Ok(())
    }
}

fn ints(node: &NodeProto, name: &str) -> Option<Vec<i64>> {
    node.attribute.iter().find(|a| a.name == name).map(|a| a.ints.clone())
}

fn int(node: &NodeProto, name: &str, default: i64) -> i64 {
    node.attribute.iter().find(|a| a.name == name).map_or(default, |a| a.i)
}

fn float(node: &NodeProto, name: &str, default: f32) -> f32 {
    node.attribute.iter().find(|a| a.name == name).map_or(default, |a| a.f)
}

fn to_u32(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

/// Refuses a graph with any op the wgpu encoder does not run, naming the first such op.
pub fn check_ops(path: &Path, graph: &GraphProto) -> Result<(), VisionError> {
    for node in &graph.node {
        if !SUPPORTED_OPS.contains(&node.op_type.as_str()) || !(node.domain.is_empty() || node.domain == "ai.onnx") {
            return Err(VisionError::UnsupportedOp {
                path: path.to_owned(),
                op: if node.domain.is_empty() {
                    node.op_type.clone()
                } else {
                    format!("{}.{}", node.domain, node.op_type)
                },
                node: node.name.clone(),
            });
        }
    }
    Ok(())
}

impl Program {
    /// Compiles `model` to compute the named `outputs` from the input `input` (shape [N, 3, h, w]).
    pub fn compile(
        path: &Path,
        model: &ModelProto,
        input: &str,
        input_hw: (u32, u32),
        outputs: &[&str],
    ) -> Result<Self, VisionError> {
        let bad = |reason: String| VisionError::BadModel { path: path.to_owned(), reason };
        let graph = model.graph.as_ref().ok_or_else(|| bad("no graph".to_owned()))?;
        check_ops(path, graph)?;
        let nodes = needed_nodes(graph, outputs);
        let mut b = Builder {
            path,
            initializers: graph.initializer.iter().map(|t| (t.name.as_str(), t)).collect(),
            values: Vec::new(),
            by_name: HashMap::new(),
            aliases: HashMap::new(),
            weights: Vec::new(),
            weight_ids: HashMap::new(),
            dequantised: HashMap::new(),
            quantised: HashMap::new(),
        };
        let input_id = b.add_value(input, Shape::Chw(3, input_hw.0, input_hw.1));
        let mut ops = Vec::new();
        for node in nodes {
            if let Some(op) = lower(&mut b, node)? {
                ops.push(op);
            }
        }
        let output_ids = outputs
            .iter()
            .map(|name| {
                b.aliases
                    .get(*name)
                    .or_else(|| b.by_name.get(*name))
                    .copied()
                    .ok_or_else(|| bad(format!("the graph does not compute `{name}`")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let ops = fuse(ops, &output_ids);
        let mut program = Program {
            values: b.values,
            weights: b.weights,
            ops,
            input: input_id,
            outputs: output_ids,
            slots: 0,
            max_value_len: 0,
        };
        program.assign_slots();
        Ok(program)
    }

    /// Gives every value a buffer slot, reusing a slot once its value has been read for the last
    /// time (an op never writes the slot it reads).
    fn assign_slots(&mut self) {
        let mut last_use: HashMap<ValueId, usize> = HashMap::new();
        for (i, op) in self.ops.iter().enumerate() {
            for v in op.inputs() {
                last_use.insert(v, i);
            }
        }
        for &v in &self.outputs {
            last_use.insert(v, usize::MAX);
        }
        let mut free: Vec<usize> = Vec::new();
        let mut live: Vec<ValueId> = Vec::new();
        let mut slots = 1;
        self.values[self.input].slot = 0;
        live.push(self.input);
        let mut used = vec![self.input];
        for (i, op) in self.ops.iter().enumerate() {
            live.retain(|v| {
                let keep = last_use.get(v).is_some_and(|&last| last >= i);
                if !keep {
                    free.push(self.values[*v].slot);
                }
                keep
            });
            let out = op.out();
            let slot = free.pop().unwrap_or_else(|| {
                slots += 1;
                slots - 1
            });
            self.values[out].slot = slot;
            live.push(out);
            used.push(out);
        }
        self.slots = slots;
        self.max_value_len = used.iter().map(|&v| self.values[v].shape.len()).max().unwrap_or(0);
    }
}

/// The nodes that contribute to `outputs`, in graph order.
fn needed_nodes<'g>(graph: &'g GraphProto, outputs: &[&str]) -> Vec<&'g NodeProto> {
    let mut wanted: HashSet<&str> = outputs.iter().copied().collect();
    let mut keep = vec![false; graph.node.len()];
    for (i, node) in graph.node.iter().enumerate().rev() {
        if node.output.iter().any(|o| wanted.contains(o.as_str())) {
            keep[i] = true;
            wanted.extend(node.input.iter().map(String::as_str));
        }
    }
    graph.node.iter().zip(keep).filter_map(|(n, k)| k.then_some(n)).collect()
}

fn lower(b: &mut Builder<'_>, node: &NodeProto) -> Result<Option<Op>, VisionError> {
    let out_name = node.output.first().cloned().unwrap_or_default();
    let input = |i: usize| node.input.get(i).map(String::as_str).filter(|s| !s.is_empty());
    let name = |i: usize| input(i).ok_or_else(|| b.bad(format!("node `{}` lacks input {i}", node.name)));
    Ok(Some(match node.op_type.as_str() {
        "Conv" => {
            let x = b.value(name(0)?, node)?;
            let Shape::Chw(c_in, h, w) = b.values[x].shape else {
                return Err(b.bad(format!("Conv `{}` reads a tensor that is not an image", node.name)));
            };
            let weight = b.weight(name(1)?, node)?;
            let bias = input(2).map(|n| b.weight(n, node)).transpose()?;
            let dims = b.weights[weight].dims.clone();
            let groups = to_u32(int(node, "group", 1));
            if dims.len() != 4 || groups == 0 || !c_in.is_multiple_of(groups) || dims[1] != i64::from(c_in / groups) {
                return Err(b.bad(format!(
                    "Conv `{}`: weight shape {dims:?} does not fit {c_in} input channels in {groups} groups",
                    node.name
                )));
            }
            let c_out = to_u32(dims[0]);
            if !c_out.is_multiple_of(groups) {
                return Err(b.bad(format!("Conv `{}`: {c_out} output channels in {groups} groups", node.name)));
            }
            let kernel = [to_u32(dims[2]), to_u32(dims[3])];
            // Attributes come from the file: their lengths and signs are checked, not trusted.
            let fixed = |attr: &str, len: usize, default: u32, least: u32| -> Result<Vec<u32>, VisionError> {
                let Some(values) = ints(node, attr) else { return Ok(vec![default; len]) };
                let converted: Vec<u32> = values.iter().map(|&v| u32::try_from(v).unwrap_or(u32::MAX)).collect();
                if converted.len() != len || converted.iter().any(|&v| v < least || v > 65_536) {
                    return Err(b.bad(format!(
                        "Conv `{}`: {attr} {values:?} are not {len} values of at least {least}",
                        node.name
                    )));
                }
                Ok(converted)
            };
            if kernel.contains(&0) {
                return Err(b.bad(format!("Conv `{}`: weight shape {dims:?} has an empty kernel", node.name)));
            }
            let (strides, dilations) = (fixed("strides", 2, 1, 1)?, fixed("dilations", 2, 1, 1)?);
            let (stride, dilation) = ([strides[0], strides[1]], [dilations[0], dilations[1]]);
            let auto_pad = node
                .attribute
                .iter()
                .find(|a| a.name == "auto_pad")
                .map(|a| String::from_utf8_lossy(&a.s).into_owned());
            let pads = match auto_pad.as_deref() {
                None | Some("NOTSET") => {
                    let p = fixed("pads", 4, 0, 0)?;
                    [p[0], p[1], p[2], p[3]]
                }
                Some("VALID") => [0; 4],
                Some(mode @ ("SAME_UPPER" | "SAME_LOWER")) => {
                    let same = |size: u32, k: u32, s: u32, d: u32| {
                        let out = size.div_ceil(s);
                        let total = (out.saturating_sub(1) * s + (k - 1) * d + 1).saturating_sub(size);
                        if mode == "SAME_UPPER" {
                            (total / 2, total - total / 2)
                        } else {
                            (total - total / 2, total / 2)
                        }
                    };
                    let (t, bo) = same(h, kernel[0], stride[0], dilation[0]);
                    let (l, r) = same(w, kernel[1], stride[1], dilation[1]);
                    [t, l, bo, r]
                }
                Some(other) => return Err(b.bad(format!("Conv `{}`: auto_pad {other}", node.name))),
            };
            let extent = |size: u32, pad: u32, k: u32, s: u32, d: u32| {
                (i64::from(size) + i64::from(pad) - i64::from(d) * (i64::from(k) - 1) - 1) / i64::from(s) + 1
            };
            let h_out = extent(h, pads[0] + pads[2], kernel[0], stride[0], dilation[0]);
            let w_out = extent(w, pads[1] + pads[3], kernel[1], stride[1], dilation[1]);
            if h_out <= 0 || w_out <= 0 {
                return Err(b.bad(format!("Conv `{}`: the kernel does not fit the {h}x{w} input", node.name)));
            }
            let out = b.add_value(&out_name, Shape::Chw(c_out, to_u32(h_out), to_u32(w_out)));
            Op::Conv(ConvOp {
                x,
                weight,
                bias,
                residual: None,
                out,
                groups,
                kernel,
                stride,
                pads,
                dilation,
                clamp: Clamp::NONE,
            })
        }
        "Clip" | "Relu" => {
            let x = b.value(name(0)?, node)?;
            let clamp = if node.op_type == "Relu" {
                Clamp { min: 0.0, max: f32::MAX, step: 0.0 }
            } else {
                // Opset 11+ passes the bounds as inputs; older opsets as attributes.
                let min = match input(1) {
                    Some(n) => b.scalar(n, node)?,
                    None => float(node, "min", -f32::MAX),
                };
                let max = match input(2) {
                    Some(n) => b.scalar(n, node)?,
                    None => float(node, "max", f32::MAX),
                };
                Clamp { min, max, step: 0.0 }
            };
            let shape = b.values[x].shape;
            let out = b.add_value(&out_name, shape);
            Op::Clamp { x, out, clamp }
        }
        "Add" => {
            let a = b.value(name(0)?, node)?;
            let c = b.value(name(1)?, node)?;
            if b.values[a].shape != b.values[c].shape {
                return Err(
                    b.bad(format!("Add `{}` broadcasts; the wgpu encoder adds tensors of one shape", node.name))
                );
            }
            let shape = b.values[a].shape;
            let out = b.add_value(&out_name, shape);
            Op::Add { a, b: c, out, clamp: Clamp::NONE }
        }
        "QuantizeLinear" => {
            b.quantise(node, out_name)?;
            return Ok(None);
        }
        "DequantizeLinear" => {
            let x_name = name(0)?;
            if b.initializers.contains_key(x_name) {
                b.dequantise_constant(node, out_name)?;
                return Ok(None);
            }
            let Some(q) = b.quantised.get(x_name).copied() else {
                return Err(b.bad(format!(
                    "DequantizeLinear `{}` reads `{x_name}`, neither a constant nor the output of a QuantizeLinear",
                    node.name
                )));
            };
            // QDQ pairs share their scale and zero point; anything else is not a plain rounding.
            let scale = b.scalar(name(1)?, node)?;
            let zero_point = input(2).map(|n| b.scalar_any(n, node)).transpose()?.unwrap_or(0.0);
            if scale != q.scale || zero_point != q.zero_point {
                return Err(b.bad(format!(
                    "DequantizeLinear `{}` uses another scale or zero point than the QuantizeLinear before it",
                    node.name
                )));
            }
            let shape = b.values[q.x].shape;
            let out = b.add_value(&out_name, shape);
            Op::Clamp { x: q.x, out, clamp: Clamp::quantised(q.scale, q.zero_point, q.lo, q.hi) }
        }
        "GlobalAveragePool" => {
            let x = b.value(name(0)?, node)?;
            let Shape::Chw(c, _, _) = b.values[x].shape else {
                return Err(b.bad(format!("GlobalAveragePool `{}` reads a tensor that is not an image", node.name)));
            };
            let out = b.add_value(&out_name, Shape::Chw(c, 1, 1));
            Op::GlobalAveragePool { x, out }
        }
        "Flatten" => {
            if int(node, "axis", 1) != 1 {
                return Err(b.bad(format!("Flatten `{}`: only axis 1 is supported", node.name)));
            }
            let x = b.value(name(0)?, node)?;
            // NCHW flattened from axis 1 has the same memory: a view, no op.
            let len = b.values[x].shape.len();
            b.values[x].shape = Shape::Vector(u32::try_from(len).unwrap_or(u32::MAX));
            b.aliases.insert(out_name, x);
            return Ok(None);
        }
        "Gemm" => {
            let a = b.value(name(0)?, node)?;
            let Shape::Vector(k) = b.values[a].shape else {
                return Err(b.bad(format!("Gemm `{}` reads a tensor that is not flat (add a Flatten)", node.name)));
            };
            if int(node, "transA", 0) != 0 {
                return Err(b.bad(format!("Gemm `{}`: transA is not supported", node.name)));
            }
            let trans_b = int(node, "transB", 0) != 0;
            let weight = b.weight(name(1)?, node)?;
            let dims = b.weights[weight].dims.clone();
            let (wk, m) = match (dims.as_slice(), trans_b) {
                ([m, k], true) | ([k, m], false) => (*k, *m),
                _ => return Err(b.bad(format!("Gemm `{}`: B has shape {dims:?}", node.name))),
            };
            if wk != i64::from(k) {
                return Err(b.bad(format!("Gemm `{}`: B has shape {dims:?} for {k} inputs", node.name)));
            }
            let c = input(2).map(|n| b.weight(n, node)).transpose()?;
            if let Some(c) = c
                && b.weights[c].data.len() != usize::try_from(m).unwrap_or(0)
            {
                return Err(b.bad(format!("Gemm `{}`: C must be a vector of {m}", node.name)));
            }
            let out = b.add_value(&out_name, Shape::Vector(to_u32(m)));
            Op::Gemm { a, b: weight, c, out, trans_b, alpha: float(node, "alpha", 1.0), beta: float(node, "beta", 1.0) }
        }
        other => {
            return Err(VisionError::UnsupportedOp {
                path: b.path.to_owned(),
                op: other.to_owned(),
                node: node.name.clone(),
            });
        }
    }))
}

fn consumers(ops: &[Op], v: ValueId) -> usize {
    ops.iter().map(|op| op.inputs().iter().filter(|&&i| i == v).count()).sum()
}

/// Folds a clamp into the op before it, and `Add(conv, x)` into the 1x1 convolution as a residual,
/// when the intermediate result is used nowhere else.
fn fuse(mut ops: Vec<Op>, outputs: &[ValueId]) -> Vec<Op> {
    // Residual: a Conv whose only reader is an Add runs at the Add's place with the other operand.
    let mut i = 0;
    while i < ops.len() {
        if let Op::Add { a, b, out, clamp } = ops[i].clone() {
            let conv_at = ops[..i].iter().rposition(|op| {
                matches!(op, Op::Conv(c) if (c.out == a || c.out == b) && c.residual.is_none() && c.clamp.is_none())
            });
            if let Some(j) = conv_at
                && let Op::Conv(conv) = &ops[j]
                && !outputs.contains(&conv.out)
                && consumers(&ops, conv.out) == 1
                && a != b
            {
                let mut conv = conv.clone();
                conv.residual = Some(if conv.out == a { b } else { a });
                conv.out = out;
                conv.clamp = clamp;
                ops[i] = Op::Conv(conv);
                ops.remove(j);
                continue;
            }
        }
        i += 1;
    }
    // Clamp: folded into the op that produced its input.
    let mut i = 0;
    while i < ops.len() {
        if let Op::Clamp { x, out, clamp } = ops[i].clone()
            && let Some(j) = ops[..i].iter().rposition(|op| op.out() == x)
            && !outputs.contains(&x)
            && consumers(&ops, x) == 1
            && ops[j].clamp_mut().is_some_and(|c| c.is_none())
        {
            if let Some(c) = ops[j].clamp_mut() {
                *c = clamp;
            }
            *ops[j].out_mut() = out;
            ops.remove(i);
            continue;
        }
        i += 1;
    }
    ops
}
