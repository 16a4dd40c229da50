//! The playhead's clock and what moves it: play, pause, the J/L shuttle, seeks and steps; and
//! the clock the sound follows.

use std::sync::PoisonError;
use std::sync::mpsc::TryRecvError;
use std::time::Instant;

use foley_engine::media::MediaError;

use super::{MAX_SHUTTLE_RATE, Player, Reply, Request};

/// The sound's clock, from [`Player::sound_clock`]: silent at `anchor_s`, or playing from
/// `anchor_s` since the instant `since`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SoundClock {
    pub anchor_s: f64,
    pub since: Option<Instant>,
}

impl SoundClock {
    /// Where the sound is now, on the video's timeline.
    #[must_use]
    pub fn position_s(&self) -> f64 {
        self.anchor_s + self.since.map_or(0.0, |s| s.elapsed().as_secs_f64())
    }
}

impl Player {
    /// The playhead, in seconds on the video's timeline.
    pub fn position_s(&self) -> f64 {
        match self.playing_since {
            Some(since) => {
                let t = self.anchor_time_s + self.rate * since.elapsed().as_secs_f64();
                if self.rate == 1.0 { t } else { t.clamp(0.0, self.info.duration_s.max(0.0)) }
            }
            None => self.current.as_ref().map_or(self.anchor_time_s, |f| f.time_s),
        }
    }

    /// The shuttle speed while shuttling (any rate but normal playback), else `None`.
    #[must_use]
    pub fn shuttle_rate(&self) -> Option<f64> {
        (self.playing_since.is_some() && self.rate != 1.0).then_some(self.rate)
    }

    /// Where the sound must be: it changes whenever the clock is re-anchored (play, pause, seek,
    /// a seek's frame arriving, a shuttle starting or ending, a step, the end), and only then.
    /// Sound plays only at normal speed with the picture there: not while a seek's frame is
    /// awaited, not while shuttling.
    #[must_use]
    pub fn sound_clock(&self) -> SoundClock {
        let since = self.playing_since.filter(|_| self.rate == 1.0 && !self.awaiting_seek);
        let anchor_s = match (since, self.shuttle_rate()) {
            (Some(_), _) | (None, Some(_)) => self.anchor_time_s,
            (None, None) if self.awaiting_seek => self.anchor_time_s,
            (None, None) => self.position_s(),
        };
        SoundClock { anchor_s, since }
    }

    pub fn play(&mut self) {
        if self.shuttle_rate().is_some() {
            self.pause();
        }
        if self.playing_since.is_none() {
            if self.at_end && self.next.is_none() {
                self.seek(0.0);
            }
            // A seek's frame that has not come yet re-anchors the clock when it comes; until
            // then the target, not the stale frame on screen, is the playhead.
            if !self.awaiting_seek {
                self.anchor_time_s = self.current.as_ref().map_or(0.0, |f| f.time_s);
            }
            self.playing_since = Some(Instant::now());
        }
    }

    pub fn pause(&mut self) {
        if self.shuttle_rate().is_some() {
            let t = self.position_s();
            self.playing_since = None;
            self.rate = 1.0;
            self.shuttle_in_flight = false;
            // The frame on screen may be the proxy's: fetch the full-resolution one.
            self.seek(t);
        } else if self.playing_since.take().is_some() {
            self.anchor_time_s = self.current.as_ref().map_or(0.0, |f| f.time_s);
        }
    }

    /// What J (`forward` false) and L do, as in editing tools: from a standstill, play at normal
    /// speed that way; pressed again, double the speed (up to [`MAX_SHUTTLE_RATE`]); pressed
    /// against the direction of play, halve it, and past normal speed, turn round.
    pub fn shuttle_press(&mut self, forward: bool) {
        let current = if self.is_playing() { self.rate } else { 0.0 };
        let sign = if forward { 1.0 } else { -1.0 };
        let rate = if current == 0.0 {
            sign
        } else if current.signum() == sign {
            (current * 2.0).clamp(-MAX_SHUTTLE_RATE, MAX_SHUTTLE_RATE)
        } else if current.abs() > 1.0 {
            current / 2.0
        } else {
            sign
        };
        self.shuttle(rate);
    }

    /// Plays at `rate` times normal speed, backwards for a negative rate. A rate of 1 is normal
    /// playback; any other shows, at each moment, the frame due then (from the scrub proxy where
    /// it reaches), without sound.
    pub fn shuttle(&mut self, rate: f64) {
        if !rate.is_finite() || rate == 0.0 {
            self.pause();
            return;
        }
        if rate == 1.0 {
            self.play();
            return;
        }
        let t = self.position_s();
        if self.shuttle_rate().is_none() {
            // Streaming ends; frames already decoded for it are stale.
            let _ = self.requests.try_send(Request::Hold);
            self.generation += 1;
            self.next = None;
            self.awaiting_seek = false;
            self.step_pending = false;
        }
        self.rate = rate.clamp(-MAX_SHUTTLE_RATE, MAX_SHUTTLE_RATE);
        self.anchor_time_s = t;
        self.playing_since = Some(Instant::now());
        self.shuttle_in_flight = false;
        self.at_end = false;
    }

    /// Shows the frame on screen at `time_s`; playback continues from there if it was running.
    pub fn seek(&mut self, time_s: f64) {
        let time_s = time_s.clamp(0.0, self.info.duration_s.max(0.0));
        if self.shuttle_rate().is_some() {
            // The shuttle goes on from there and fetches the frame itself.
            self.anchor_time_s = time_s;
            self.playing_since = Some(Instant::now());
            self.shuttle_in_flight = false;
            return;
        }
        self.generation += 1;
        self.next = None;
        self.at_end = false;
        self.awaiting_seek = true;
        self.seek_started = Some(Instant::now());
        self.step_pending = false;
        self.anchor_time_s = time_s;
        if self.playing_since.is_some() {
            self.playing_since = Some(Instant::now());
        }
        // The queue holds at most a few requests; a full one means seeks are already pending
        // and the newest generation still wins when it gets through.
        let _ = self.requests.try_send(Request::Seek { time_s, generation: self.generation });
        if let Some(proxy) = &self.proxy {
            proxy.mailbox.post(time_s, self.generation);
        }
    }

    /// Shows the next frame (pauses first).
    pub fn step_forward(&mut self) {
        self.pause();
        match self.next.take() {
            Some(next) => self.show(next),
            None => self.step_pending = !self.at_end,
        }
    }

    /// Shows the previous frame (pauses first).
    pub fn step_back(&mut self) {
        self.pause();
        if let Some(current) = &self.current {
            // Just before the current frame's timestamp, the previous frame is on screen.
            let target = current.time_s - 1e-3;
            if target >= 0.0 {
                self.seek(target);
            }
        }
    }

    /// Shows what came for the shuttle and asks for the frame due at the clock.
    pub(super) fn update_shuttle(&mut self) -> Result<(), MediaError> {
        loop {
            match self.replies.try_recv() {
                Ok(Reply::Preview { frame, generation } | Reply::Frame { frame, generation })
                    if generation == self.generation && self.shuttle_in_flight =>
                {
                    self.show(frame);
                    self.shuttle_in_flight = false;
                    // A full-resolution seek streams on after its frame; the shuttle needs no more.
                    let _ = self.requests.try_send(Request::Hold);
                }
                Ok(Reply::End { generation }) if generation == self.generation => self.shuttle_in_flight = false,
                Ok(Reply::Failed(err)) => {
                    self.pause();
                    return Err(err);
                }
                Ok(_) => {} // stale, or more than the shuttle asked for
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        let t = self.position_s();
        if !self.shuttle_in_flight {
            let due = self.proxy.as_ref().map(|proxy| {
                proxy.frames.lock().unwrap_or_else(PoisonError::into_inner).frame_at(t).map(|(time, _)| time)
            });
            let shown = self.current.as_ref().map(|f| f.time_s);
            match due {
                Some(Some(time)) if Some(time) == shown => {}
                Some(Some(_)) => {
                    self.generation += 1;
                    self.shuttle_in_flight = true;
                    if let Some(proxy) = &self.proxy {
                        proxy.mailbox.post(t, self.generation);
                    }
                }
                // Where the proxy does not reach, the full-resolution decoder seeks.
                _ => {
                    self.generation += 1;
                    self.shuttle_in_flight =
                        self.requests.try_send(Request::Seek { time_s: t, generation: self.generation }).is_ok();
                }
            }
        }
        let duration = self.info.duration_s.max(0.0);
        if !self.shuttle_in_flight && ((self.rate < 0.0 && t <= 0.0) || (self.rate > 0.0 && t >= duration)) {
            self.pause();
        }
        Ok(())
    }

    /// Seconds until the next frame is due, while playing.
    pub fn time_to_next_frame(&self) -> Option<f64> {
        if let Some(rate) = self.shuttle_rate() {
            return Some((1.0 / (self.info.fps.max(1.0) * rate.abs())).max(0.005));
        }
        let next = self.next.as_ref()?;
        self.is_playing().then(|| (next.time_s - self.position_s()).max(0.0))
    }
}
