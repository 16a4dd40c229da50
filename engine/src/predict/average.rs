//! A moving average of the weights over training steps (Polyak averaging). Adam's last steps
//! scatter the weights around where the loss is low, and which scattered point an epoch ends on
//! moves the validation figures as much as a second seed; the average of the recent steps sits
//! nearer the middle.

use std::collections::BTreeMap;

use candle_core::{Tensor, Var};

use super::PredictError;
use super::model::Params;

/// An exponential moving average of every parameter.
pub(super) struct WeightAverage {
    decay: f64,
    /// Steps averaged so far.
    pub(super) updates: usize,
    pub(super) tensors: BTreeMap<String, Tensor>,
}

impl WeightAverage {
    /// Starts at `params`; each step then keeps `decay` of the average.
    pub(super) fn new(params: &Params, decay: f64) -> Result<Self, PredictError> {
        let tensors = params
            .vars
            .iter()
            .map(|(k, v)| Ok((k.clone(), v.as_tensor().copy()?)))
            .collect::<Result<_, PredictError>>()?;
        Ok(Self { decay, updates: 0, tensors })
    }

    /// Continues an average from saved tensors (`updates` steps into it).
    pub(super) fn from_saved(decay: f64, updates: usize, tensors: BTreeMap<String, Tensor>) -> Self {
        Self { decay, updates, tensors }
    }

    /// The share of the average kept at the next step: `decay`, or less over the first steps, so
    /// that the starting weights do not linger in it (`(1 + n) / (10 + n)` after `n` steps).
    fn kept(&self) -> f64 {
        let n = self.updates as f64;
        self.decay.min((1.0 + n) / (10.0 + n))
    }

    /// Takes in the weights after a step.
    pub(super) fn update(&mut self, params: &Params) -> Result<(), PredictError> {
        let kept = self.kept();
        for (name, var) in &params.vars {
            if let Some(avg) = self.tensors.get_mut(name) {
                // Detached: each average would otherwise hold the one before it for autograd,
                // and so every step's copy of the weights.
                *avg = ((&*avg * kept)? + (var.as_tensor().detach() * (1.0 - kept))?)?.detach();
            }
        }
        self.updates += 1;
        Ok(())
    }

    /// The averaged weights, as parameters to score and save.
    pub(super) fn params(&self) -> Result<Params, PredictError> {
        let vars = self
            .tensors
            .iter()
            .map(|(k, t)| Ok((k.clone(), Var::from_tensor(t)?)))
            .collect::<Result<_, PredictError>>()?;
        Ok(Params { vars })
    }
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;

    fn params(value: f32) -> Params {
        let t = Tensor::from_vec(vec![value; 3], 3, &Device::Cpu).unwrap();
        Params { vars: BTreeMap::from([("w".to_owned(), Var::from_tensor(&t).unwrap())]) }
    }

    fn values(p: &Params) -> Vec<f32> {
        p.get("w").unwrap().to_vec1().unwrap()
    }

    #[test]
    fn the_average_forgets_the_start_and_follows_the_steps_with_its_decay() {
        let mut avg = WeightAverage::new(&params(0.0), 0.9).unwrap();
        // The first step keeps 1/10 of the start.
        avg.update(&params(1.0)).unwrap();
        assert!((values(&avg.params().unwrap())[0] - 0.9).abs() < 1e-6);
        for _ in 0..200 {
            avg.update(&params(1.0)).unwrap();
        }
        assert!((values(&avg.params().unwrap())[0] - 1.0).abs() < 1e-5, "a constant is its own average");
        // From then on each step keeps 0.9 of the average.
        avg.update(&params(2.0)).unwrap();
        assert!((values(&avg.params().unwrap())[0] - 1.1).abs() < 1e-5);
        assert_eq!(avg.updates, 202);
    }

    #[test]
    fn the_average_keeps_no_history_of_the_steps() {
        let p = params(1.0);
        let mut avg = WeightAverage::new(&p, 0.9).unwrap();
        for _ in 0..3 {
            avg.update(&p).unwrap();
        }
        assert!(avg.tensors.values().all(|t| !t.track_op()), "an average that tracks its ops keeps every step");
    }

    #[test]
    fn the_average_is_a_copy_the_steps_do_not_move() {
        let p = params(3.0);
        let avg = WeightAverage::new(&p, 0.99).unwrap();
        p.vars["w"].set(&Tensor::from_vec(vec![7.0f32; 3], 3, &Device::Cpu).unwrap()).unwrap();
        assert_eq!(values(&avg.params().unwrap()), vec![3.0; 3]);
    }
}
