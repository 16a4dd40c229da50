//! Limited-memory BFGS (Nocedal and Wright, algorithm 7.4) with a backtracking line search, over
//! vectors of `f32` as long as a waveform: the history is kept in `f32`, the dot products are
//! summed in `f64`.

use std::collections::VecDeque;

/// Armijo's sufficient-decrease constant.
const SUFFICIENT_DECREASE: f64 = 1e-4;
/// How much a rejected step shrinks, and how often.
const BACKTRACK: f64 = 0.25;
const MAX_BACKTRACKS: usize = 8;

/// The minimiser's state: the last `memory` steps and gradient changes.
pub(super) struct Lbfgs {
    memory: usize,
    /// `(s, y, 1 / s.y)` for each remembered step, oldest first.
    history: VecDeque<(Vec<f32>, Vec<f32>, f64)>,
    /// The length of the first step, relative to the point's norm (later steps take their
    /// length from the curvature the history measured).
    first_step: f64,
}

/// Where the minimiser stands: a point, its loss and its gradient.
pub(super) struct Point {
    pub x: Vec<f32>,
    pub loss: f64,
    pub gradient: Vec<f32>,
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum()
}

impl Lbfgs {
    pub(super) fn new(memory: usize, first_step: f64) -> Self {
        Self { memory, history: VecDeque::with_capacity(memory), first_step }
    }

    /// One step from `point`: a search direction from the history, then a step along it that
    /// lowers the loss enough. `evaluate` writes the gradient at a point into its second argument
    /// and returns the loss. Returns how many evaluations the step took, or `None` (leaving
    /// `point` as it was and forgetting the history) if no step along the direction lowered the
    /// loss enough.
    pub(super) fn step(
        &mut self,
        point: &mut Point,
        evaluate: &mut impl FnMut(&[f32], &mut [f32]) -> f64,
    ) -> Option<usize> {
        let direction = self.direction(&point.gradient, &point.x);
        let slope = dot(&point.gradient, &direction);
        if slope.is_nan() || slope >= 0.0 {
            self.history.clear();
            return None;
        }
        let mut t = 1.0;
        let mut gradient = vec![0.0; point.x.len()];
        for tries in 1..=MAX_BACKTRACKS {
            let x: Vec<f32> = point.x.iter().zip(&direction).map(|(x, d)| x + (t * f64::from(*d)) as f32).collect();
            let loss = evaluate(&x, &mut gradient);
            // (A loss that is not a number fails the test and shortens the step.)
            if loss <= point.loss + SUFFICIENT_DECREASE * t * slope {
                let s: Vec<f32> = x.iter().zip(&point.x).map(|(a, b)| a - b).collect();
                let y: Vec<f32> = gradient.iter().zip(&point.gradient).map(|(a, b)| a - b).collect();
                let sy = dot(&s, &y);
                // Only a step along which the gradient grew keeps the inverse Hessian positive.
                if sy > 0.0 {
                    if self.history.len() == self.memory {
                        self.history.pop_front();
                    }
                    self.history.push_back((s, y, 1.0 / sy));
                }
                *point = Point { x, loss, gradient };
                return Some(tries);
            }
            t *= BACKTRACK;
        }
        self.history.clear();
        None
    }

    /// `-H g` by the two-loop recursion; with no history, the steepest descent scaled to
    /// `first_step` of `x`'s norm.
    fn direction(&self, gradient: &[f32], x: &[f32]) -> Vec<f32> {
        let mut q: Vec<f64> = gradient.iter().map(|g| f64::from(*g)).collect();
        let dot64 = |a: &[f64], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * f64::from(*y)).sum::<f64>();
        let mut alphas = Vec::with_capacity(self.history.len());
        for (s, y, rho) in self.history.iter().rev() {
            let alpha = rho * dot64(&q, s);
            q.iter_mut().zip(y).for_each(|(q, y)| *q -= alpha * f64::from(*y));
            alphas.push(alpha);
        }
        let scale = match self.history.back() {
            Some((_, y, rho)) => 1.0 / (rho * dot(y, y)),
            None => {
                let norm = dot(gradient, gradient).sqrt();
                if norm > 0.0 { self.first_step * dot(x, x).sqrt() / norm } else { 0.0 }
            }
        };
        q.iter_mut().for_each(|q| *q *= scale);
        for ((s, y, rho), alpha) in self.history.iter().zip(alphas.iter().rev()) {
            let beta = rho * dot64(&q, y);
            q.iter_mut().zip(s).for_each(|(q, s)| *q += (alpha - beta) * f64::from(*s));
        }
        q.iter().map(|q| -*q as f32).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rosenbrock's valley in many dimensions.
    fn rosenbrock(x: &[f32], gradient: &mut [f32]) -> f64 {
        gradient.fill(0.0);
        let mut loss = 0.0;
        for i in 0..x.len() - 1 {
            let (a, b) = (f64::from(x[i]), f64::from(x[i + 1]));
            loss += 100.0 * (b - a * a).powi(2) + (1.0 - a).powi(2);
            gradient[i] += (-400.0 * a * (b - a * a) - 2.0 * (1.0 - a)) as f32;
            gradient[i + 1] += (200.0 * (b - a * a)) as f32;
        }
        loss
    }

    #[test]
    fn it_finds_the_bottom_of_rosenbrocks_valley() {
        let x = vec![-1.2_f32, 1.0, -1.2, 1.0, -1.2, 1.0];
        let mut gradient = vec![0.0; x.len()];
        let loss = rosenbrock(&x, &mut gradient);
        let mut point = Point { x, loss, gradient };
        let mut lbfgs = Lbfgs::new(5, 0.01);
        let mut steps = 0;
        while steps < 200 && point.loss > 1e-8 {
            let Some(_) = lbfgs.step(&mut point, &mut rosenbrock) else { break };
            steps += 1;
        }
        assert!(point.loss < 1e-6, "loss {} after {steps} steps", point.loss);
        assert!(point.x.iter().all(|v| (v - 1.0).abs() < 1e-2), "{:?}", point.x);
    }
}
