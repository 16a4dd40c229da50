//! The sound kept with the picture: the track on the output, auditions, and following the clock.

use foley_engine::timeline::OUTPUT_SAMPLE_RATE;

use crate::ui::audio::{AudioOut, SoundOutput as _};
use crate::ui::player::{Player, SoundClock};

use super::{FoleyApp, Listen};

impl FoleyApp {
    pub(super) fn audition(&mut self, index: usize) {
        let Some(session) = &self.session else { return };
        let Some(hit) = session.hits.hits().get(index) else { return };
        let samples = session
            .db()
            .and_then(|db| hit.clip.as_deref().and_then(|id| db.find(id)).and_then(|i| db.clip_samples(i).ok()));
        if let Some(p) = &mut self.player {
            p.pause();
        }
        if let (Some(samples), Some(audio)) = (samples, self.audio_out()) {
            audio.set_track(&samples, OUTPUT_SAMPLE_RATE, 1);
            audio.play_from(0.0);
        }
        // The next play or seek puts the whole track back.
        self.audition_pending = true;
        self.audio_sync.assume(self.sound_clock());
    }

    /// The output device, opened on first use; without one, says so once.
    pub(super) fn audio_out(&mut self) -> Option<&mut AudioOut> {
        if self.audio.is_none() && !self.audio_failed {
            match AudioOut::open() {
                Ok(a) => self.audio = Some(a),
                Err(e) => {
                    self.audio_failed = true;
                    self.error = Some(format!("no sound output ({e}): everything else works, silently"));
                }
            }
        }
        self.audio.as_mut()
    }

    /// Puts the track to listen to on the output, at the playhead.
    pub(super) fn load_track(&mut self) {
        let samples = match self.listen {
            Listen::Original => self.original.clone().map(|o| (o, 1)),
            Listen::Generated => self.session.as_ref().map(|s| {
                let (samples, channels) = s.output();
                (samples.to_vec(), channels)
            }),
        };
        let Some((samples, channels)) = samples else { return };
        if let Some(audio) = self.audio_out() {
            audio.set_track(&samples, OUTPUT_SAMPLE_RATE, channels);
        }
        self.audition_pending = false;
        self.audio_sync.reset();
        self.sync_audio();
    }

    /// The picture's clock as the sound must follow it; silent at 0 without a video.
    pub(super) fn sound_clock(&self) -> SoundClock {
        self.player.as_ref().map_or(SoundClock { anchor_s: 0.0, since: None }, Player::sound_clock)
    }

    /// Starts, stops or moves the sound with the picture, when the picture's clock changed.
    /// Called after every command and every UI frame, so that a change the player makes itself
    /// (a seek's frame arriving, the end) is followed too.
    pub(super) fn sync_audio(&mut self) {
        let clock = self.sound_clock();
        if self.audition_pending {
            if !self.audio_sync.is_current(clock) {
                self.load_track();
            }
            return;
        }
        if let Some(audio) = &mut self.audio {
            self.audio_sync.follow(clock, audio);
        }
    }
}
