//! Sound output: one track at a time through the default device (rodio on cpal), started and
//! stopped with the video's clock. Without a device the app plays silently and says so once.

use std::num::NonZero;
use std::time::Duration;

use rodio::buffer::SamplesBuffer;

/// The open output and the track on it.
pub struct AudioOut {
    // Dropping the sink closes the device; the player feeds its mixer.
    _sink: rodio::MixerDeviceSink,
    player: rodio::Player,
    has_track: bool,
}

impl std::fmt::Debug for AudioOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioOut").field("has_track", &self.has_track).finish_non_exhaustive()
    }
}

impl AudioOut {
    /// Opens the default output device.
    pub fn open() -> Result<Self, String> {
        let mut sink = rodio::DeviceSinkBuilder::open_default_sink().map_err(|e| e.to_string())?;
        sink.log_on_drop(false);
        let player = rodio::Player::connect_new(sink.mixer());
        player.pause();
        Ok(Self { _sink: sink, player, has_track: false })
    }

    /// Replaces the track (mono, `rate` Hz); paused at its start.
    pub fn set_track(&mut self, samples: &[f32], rate: u32) {
        self.player.clear();
        self.player.pause();
        let (Some(channels), Some(rate)) = (NonZero::new(1u16), NonZero::new(rate)) else { return };
        self.player.append(SamplesBuffer::new(channels, rate, samples.to_vec()));
        self.player.pause();
        self.has_track = !samples.is_empty();
    }

    /// Removes the track.
    pub fn clear(&mut self) {
        self.player.clear();
        self.has_track = false;
    }

    /// Plays from `time_s`.
    pub fn play_from(&self, time_s: f64) {
        if self.has_track {
            self.seek(time_s);
            self.player.play();
        }
    }

    pub fn pause(&self) {
        self.player.pause();
    }

    /// Moves the track to `time_s` (playing or not).
    pub fn seek(&self, time_s: f64) {
        if self.has_track {
            // A seek the source cannot do leaves the position where it was; nothing to report.
            let _ = self.player.try_seek(Duration::from_secs_f64(time_s.max(0.0)));
        }
    }
}
