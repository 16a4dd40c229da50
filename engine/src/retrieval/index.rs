//! Exact nearest-neighbour search over hit windows, fast enough for a Greatest-Hits-size database.
//!
//! Windows are projected onto their leading principal components (fitted once, at build time).
//! Projection onto orthonormal axes never lengthens a difference, so the projected distance is a
//! lower bound of the true one. A query ranks every window by the cheap projected distance, then
//! computes true distances in that order until the next lower bound exceeds the k-th best true
//! distance found: the result is exactly the k nearest, and on real windows (whose variance sits
//! in few components) only a few dozen true distances are computed.

use candle_core::{Device, Tensor};
use rand::RngExt as _;
use rand::SeedableRng as _;

/// Principal components kept (a multiple of 8, so distance loops vectorise).
pub const RANK: usize = 64;
/// The leading components that rank candidates first (a quarter of the memory to stream).
const COARSE: usize = 16;
/// At most this many windows are used to fit the components.
const FIT_ROWS: usize = 4096;
const ITERATIONS: usize = 30;

/// The projection and the projected windows.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchIndex {
    pub dim: usize,
    /// `dim` values.
    pub mean: Vec<f32>,
    /// `RANK` rows of `dim` values, orthonormal (rows of zeros where the data has fewer dimensions).
    pub basis: Vec<f32>,
    /// `RANK` values per window.
    pub projected: Vec<f32>,
    /// The first `COARSE` of them per window, contiguous.
    coarse: Vec<f32>,
}

impl SearchIndex {
    /// Fits the components to `windows` (`n * dim` values) and projects them.
    pub fn fit(windows: &[f32], dim: usize) -> Result<Self, candle_core::Error> {
        let n = windows.len() / dim;
        let mut mean = vec![0.0f64; dim];
        for row in windows.chunks_exact(dim) {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += f64::from(v);
            }
        }
        let mean: Vec<f32> = mean.iter().map(|m| (m / n.max(1) as f64) as f32).collect();
        // Evenly spaced rows, so the fit is deterministic and covers the whole database.
        let take = n.min(FIT_ROWS);
        let mut sample = Vec::with_capacity(take * dim);
        for k in 0..take {
            let row = &windows[(k * n / take.max(1)) * dim..][..dim];
            sample.extend(row.iter().zip(&mean).map(|(v, m)| v - m));
        }
        let mut basis = if take == 0 { vec![0.0; RANK * dim] } else { principal_axes(&sample, take, dim)? };
        // Axes by the variance they carry, largest first, so the first few bound best.
        let variance =
            |axis: &[f32]| -> f64 { sample.chunks_exact(dim).map(|r| f64::from(dot(axis, r)).powi(2)).sum() };
        let mut axes: Vec<(f64, Vec<f32>)> = basis.chunks_exact(dim).map(|a| (variance(a), a.to_vec())).collect();
        axes.sort_by(|a, b| b.0.total_cmp(&a.0));
        basis = axes.into_iter().flat_map(|a| a.1).collect();
        let mut projected = Vec::with_capacity(n * RANK);
        let index = Self { dim, mean, basis, projected: Vec::new(), coarse: Vec::new() };
        for row in windows.chunks_exact(dim) {
            projected.extend(index.project(row));
        }
        Ok(Self::with_projected(index.dim, index.mean, index.basis, projected))
    }

    /// An index from its stored parts.
    #[must_use]
    pub fn with_projected(dim: usize, mean: Vec<f32>, basis: Vec<f32>, projected: Vec<f32>) -> Self {
        let coarse = projected.chunks_exact(RANK).flat_map(|p| p[..COARSE].iter().copied()).collect();
        Self { dim, mean, basis, projected, coarse }
    }

    /// Number of windows indexed.
    #[must_use]
    pub fn len(&self) -> usize {
        self.projected.len() / RANK
    }

    /// Whether nothing is indexed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.projected.is_empty()
    }

    /// The coordinates of `window` on the components.
    #[must_use]
    pub fn project(&self, window: &[f32]) -> Vec<f32> {
        let centred: Vec<f32> = window.iter().zip(&self.mean).map(|(v, m)| v - m).collect();
        self.basis.chunks_exact(self.dim).map(|axis| dot(axis, &centred)).collect()
    }

    /// The `k` windows nearest to `query` among those `allow` accepts, nearest first, with their
    /// squared distances. `distance(i)` is the true squared distance to window `i`.
    pub fn nearest(
        &self,
        query: &[f32],
        k: usize,
        allow: &dyn Fn(usize) -> bool,
        distance: &dyn Fn(usize) -> f32,
    ) -> Vec<(usize, f32)> {
        let q = self.project(query);
        // Three bounds, each tighter and dearer: the leading components, all of them, the true
        // distance. Candidates come in order of the first; each is dropped at the first bound
        // that cannot beat the k-th best so far.
        let mut bounds: Vec<(f32, usize)> = self
            .coarse
            .chunks_exact(COARSE)
            .enumerate()
            .filter(|(i, _)| allow(*i))
            .map(|(i, p)| (squared_distance(p, &q[..COARSE]), i))
            .collect();
        let mut best: Vec<(usize, f32)> = Vec::with_capacity(k + 1);
        let mut done = 0;
        let mut batch = (4 * k).max(32);
        while done < bounds.len() {
            let end = (done + batch).min(bounds.len());
            let rest = &mut bounds[done..];
            if end - done < rest.len() {
                rest.select_nth_unstable_by(end - done, |a, b| a.0.total_cmp(&b.0));
            }
            rest[..end - done].sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
            for &(bound, i) in &bounds[done..end] {
                if best.len() == k && bound >= best[k - 1].1 {
                    return best;
                }
                if best.len() == k && squared_distance(&self.projected[i * RANK..(i + 1) * RANK], &q) >= best[k - 1].1 {
                    continue;
                }
                let d = distance(i);
                let at = best.partition_point(|b| b.1 <= d);
                best.insert(at, (i, d));
                best.truncate(k);
            }
            done = end;
            batch *= 2;
        }
        best
    }
}

/// The leading `RANK` principal axes of `rows` (`n * dim`, centred) by subspace iteration on their
/// covariance, as rows of a `RANK x dim` matrix.
fn principal_axes(rows: &[f32], n: usize, dim: usize) -> Result<Vec<f32>, candle_core::Error> {
    let x = Tensor::from_slice(rows, (n, dim), &Device::Cpu)?;
    let covariance = x.t()?.matmul(&x)?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let mut q: Vec<f32> = (0..dim * RANK).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    orthonormalise_columns(&mut q, dim);
    for _ in 0..ITERATIONS {
        let z = covariance.matmul(&Tensor::from_slice(&q, (dim, RANK), &Device::Cpu)?)?;
        q = z.flatten_all()?.to_vec1()?;
        orthonormalise_columns(&mut q, dim);
    }
    // Columns of q (dim x RANK) become rows of the basis.
    let mut basis = vec![0.0f32; RANK * dim];
    for r in 0..dim {
        for c in 0..RANK {
            basis[c * dim + r] = q[r * RANK + c];
        }
    }
    Ok(basis)
}

/// Modified Gram-Schmidt on the columns of a row-major `dim x RANK` matrix; a column with
/// nothing left after removing the previous ones becomes zero.
fn orthonormalise_columns(m: &mut [f32], dim: usize) {
    let column = |m: &[f32], c: usize| -> Vec<f64> { (0..dim).map(|r| f64::from(m[r * RANK + c])).collect() };
    let mut done: Vec<Vec<f64>> = Vec::with_capacity(RANK);
    for c in 0..RANK {
        let mut v = column(m, c);
        let scale = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        for u in &done {
            let p: f64 = u.iter().zip(&v).map(|(a, b)| a * b).sum();
            v.iter_mut().zip(u).for_each(|(x, a)| *x -= p * a);
        }
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm > 1e-6 * scale.max(1e-30) {
            v.iter_mut().for_each(|x| *x /= norm);
        } else {
            v.iter_mut().for_each(|x| *x = 0.0);
        }
        for r in 0..dim {
            m[r * RANK + c] = v[r] as f32;
        }
        done.push(v);
    }
}

/// Sum of products, in eight lanes so the compiler vectorises it.
#[must_use]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Squared Euclidean distance, in eight lanes.
#[must_use]
pub fn squared_distance(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| (x - y) * (x - y)).sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            let d = x[l] - y[l];
            acc[l] += d * d;
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Windows with low-dimensional structure plus noise, like real cochleagram windows.
    fn data(n: usize, dim: usize, seed: u64) -> Vec<f32> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let factors: Vec<Vec<f32>> =
            (0..12).map(|_| (0..dim).map(|_| rng.random_range(-1.0f32..1.0)).collect()).collect();
        let mut out = Vec::with_capacity(n * dim);
        for _ in 0..n {
            let w: Vec<f32> = factors.iter().map(|_| rng.random_range(-1.0f32..1.0)).collect();
            for d in 0..dim {
                let v: f32 = factors.iter().zip(&w).map(|(f, w)| f[d] * w).sum();
                out.push(v + 0.05 * rng.random_range(-1.0f32..1.0));
            }
        }
        out
    }

    fn brute_force(windows: &[f32], dim: usize, q: &[f32], k: usize, allow: &dyn Fn(usize) -> bool) -> Vec<usize> {
        let mut all: Vec<(f32, usize)> = windows
            .chunks_exact(dim)
            .enumerate()
            .filter(|(i, _)| allow(*i))
            .map(|(i, w)| (squared_distance(w, q), i))
            .collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0));
        all.iter().take(k).map(|a| a.1).collect()
    }

    #[test]
    fn the_search_is_exact_and_honours_the_filter() {
        let dim = 90;
        let windows = data(3000, dim, 1);
        let index = SearchIndex::fit(&windows, dim).unwrap();
        assert_eq!(index.len(), 3000);
        let queries = data(40, dim, 2);
        let allow = |i: usize| !i.is_multiple_of(3);
        for q in queries.chunks_exact(dim) {
            let distance = |i: usize| squared_distance(&windows[i * dim..(i + 1) * dim], q);
            let found: Vec<usize> = index.nearest(q, 5, &allow, &distance).iter().map(|f| f.0).collect();
            assert_eq!(found, brute_force(&windows, dim, q, 5, &allow));
        }
    }

    #[test]
    fn the_basis_is_orthonormal_and_bounds_distances_from_below() {
        let dim = 70;
        let windows = data(500, dim, 3);
        let index = SearchIndex::fit(&windows, dim).unwrap();
        let rows: Vec<&[f32]> = index.basis.chunks_exact(dim).collect();
        for (i, a) in rows.iter().enumerate() {
            for (j, b) in rows.iter().enumerate() {
                let d = dot(a, b);
                let norm_a = dot(a, a);
                if norm_a > 0.0 && dot(b, b) > 0.0 {
                    assert!((d - if i == j { 1.0 } else { 0.0 }).abs() < 1e-4, "{i} {j} {d}");
                }
            }
        }
        let (a, b) = (&windows[..dim], &windows[dim..2 * dim]);
        assert!(squared_distance(&index.project(a), &index.project(b)) <= squared_distance(a, b) * 1.0001);
    }

    #[test]
    fn small_databases_and_empty_filters_work() {
        let dim = 16;
        let windows = data(5, dim, 4);
        let index = SearchIndex::fit(&windows, dim).unwrap();
        let q = &windows[2 * dim..3 * dim];
        let distance = |i: usize| squared_distance(&windows[i * dim..(i + 1) * dim], q);
        let found = index.nearest(q, 3, &|_| true, &distance);
        assert_eq!(found[0].0, 2);
        assert_eq!(found.len(), 3);
        assert!(index.nearest(q, 3, &|_| false, &distance).is_empty());
    }
}
