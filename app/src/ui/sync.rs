//! Keeps the sound on the picture's clock: each UI frame, the player's [`SoundClock`] is compared
//! with the one last sent to the output, and any change (play, pause, seek, a seek's frame
//! arriving, a shuttle, a step, the end) is sent as one order. Orders go out only on a change, so
//! a device is not told the same thing sixty times a second.

use super::audio::SoundOutput;
use super::player::SoundClock;

/// What the output was last told.
#[derive(Debug, Default)]
pub struct AudioSync {
    sent: Option<SoundClock>,
}

impl AudioSync {
    /// Forgets what the output was told, so that the next [`Self::follow`] tells it again (after
    /// its track was replaced).
    pub fn reset(&mut self) {
        self.sent = None;
    }

    /// Whether `clock` is what the output was last told.
    #[must_use]
    pub fn is_current(&self, clock: SoundClock) -> bool {
        self.sent == Some(clock)
    }

    /// Takes `clock` as told without telling the output (it is doing something else, e.g.
    /// auditioning one clip, until the clock next changes).
    pub fn assume(&mut self, clock: SoundClock) {
        self.sent = Some(clock);
    }

    /// Tells `out` where the sound must be, if that changed since the last call.
    pub fn follow(&mut self, clock: SoundClock, out: &mut dyn SoundOutput) {
        if self.is_current(clock) {
            return;
        }
        self.sent = Some(clock);
        if clock.since.is_some() {
            out.play_from(clock.position_s());
        } else {
            out.pause();
            out.seek(clock.anchor_s);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::ui::player::Player;
    use crate::ui::player::tests::{pump, shown, video_25fps};

    const FRAME_S: f64 = 0.04;

    /// An output that keeps time as a device would, on the wall clock.
    #[derive(Debug, Default)]
    struct Simulated {
        anchor_s: f64,
        since: Option<Instant>,
        orders: usize,
    }

    impl Simulated {
        fn position_s(&self) -> f64 {
            self.anchor_s + self.since.map_or(0.0, |s| s.elapsed().as_secs_f64())
        }
    }

    impl SoundOutput for Simulated {
        fn play_from(&mut self, time_s: f64) {
            self.anchor_s = time_s;
            self.since = Some(Instant::now());
            self.orders += 1;
        }

        fn pause(&mut self) {
            self.anchor_s = self.position_s();
            self.since = None;
            self.orders += 1;
        }

        fn seek(&mut self, time_s: f64) {
            self.anchor_s = time_s;
            if self.since.is_some() {
                self.since = Some(Instant::now());
            }
            self.orders += 1;
        }
    }

    struct Rig {
        player: Player,
        sync: AudioSync,
        out: Simulated,
    }

    impl Rig {
        /// One UI frame: the player advances, the sound follows.
        fn frame(&mut self) {
            self.player.update().unwrap();
            self.sync.follow(self.player.sound_clock(), &mut self.out);
        }

        /// Runs UI frames for `seconds` and returns the largest distance between where the
        /// sound is and the start of the frame on screen, over the frames where a picture is
        /// settled (not awaiting a seek), and whether the sound was playing at the end.
        fn run(&mut self, seconds: f64) -> (f64, bool) {
            let end = Instant::now() + Duration::from_secs_f64(seconds);
            let mut worst = 0.0_f64;
            while Instant::now() < end {
                self.frame();
                if !self.player.seeking()
                    && let Some(t) = shown(&self.player)
                {
                    let offset = self.out.position_s() - t;
                    // The sound runs through the frame on screen: from its start to the next.
                    let outside = if offset < 0.0 { -offset } else { (offset - FRAME_S).max(0.0) };
                    worst = worst.max(outside);
                }
                std::thread::sleep(Duration::from_millis(3));
            }
            (worst, self.out.since.is_some())
        }

        fn settle(&mut self) {
            let deadline = Instant::now() + Duration::from_secs(3);
            while self.player.seeking() && Instant::now() < deadline {
                self.frame();
                std::thread::sleep(Duration::from_millis(2));
            }
            self.frame();
        }
    }

    /// After each way of moving the picture, the sound is within one frame of the frame on
    /// screen: playing when the picture plays at normal speed, silent and in place otherwise.
    #[test]
    fn the_sound_follows_the_picture_after_every_seek_play_shuttle_and_speed_change() {
        let dir = tempfile::tempdir().unwrap();
        let mut player = Player::open(&video_25fps(dir.path()), || {}).unwrap();
        pump(&mut player, |p| shown(p) == Some(0.0));
        let mut rig = Rig { player, sync: AudioSync::default(), out: Simulated::default() };
        // Within one frame, with 5 ms for the moment between the frame and the reading.
        let within = |what: &str, (worst, _): (f64, bool)| {
            assert!(worst <= 0.005, "{what}: the sound was {worst:.3} s outside the frame on screen");
        };

        rig.player.play();
        let r = rig.run(0.3);
        within("play", r);
        assert!(r.1, "play: the sound does not play");

        rig.player.seek(1.0);
        rig.settle();
        let r = rig.run(0.2);
        within("seek while playing", r);
        assert!(r.1 && rig.out.position_s() >= 1.0, "seek while playing: the sound is at {}", rig.out.position_s());

        // Seek, then play before the seek's frame has come.
        rig.player.pause();
        rig.player.seek(0.5);
        rig.player.play();
        rig.settle();
        let r = rig.run(0.2);
        within("play straight after a seek", r);
        assert!(r.1 && (0.5..0.8).contains(&rig.out.position_s()), "at {}", rig.out.position_s());

        // Shuttles are silent, and the sound waits where the picture stops.
        // L while playing: twice the speed.
        rig.player.shuttle_press(true);
        assert_eq!(rig.player.shuttle_rate(), Some(2.0));
        let r = rig.run(0.1);
        assert!(!r.1, "the sound plays during a 2x shuttle");
        rig.player.shuttle(-2.0);
        let r = rig.run(0.1);
        assert!(!r.1, "the sound plays during a backwards shuttle");
        rig.player.pause();
        rig.settle();
        let r = rig.run(0.1);
        within("pause after a shuttle", r);
        assert!(!r.1);

        // From a backwards shuttle to normal playback (L at -1x).
        rig.player.shuttle(-1.0);
        rig.run(0.1);
        rig.player.shuttle_press(true);
        assert!(rig.player.is_playing() && rig.player.shuttle_rate().is_none());
        rig.settle();
        let r = rig.run(0.2);
        within("normal speed after a shuttle", r);
        assert!(r.1);

        // Steps while paused move the sound with the picture.
        rig.player.pause();
        rig.player.seek(1.2);
        rig.settle();
        rig.player.step_forward();
        pump(&mut rig.player, |p| shown(p) == Some(1.24));
        within("step", rig.run(0.05));
        assert!((rig.out.position_s() - 1.24).abs() < 1e-9);

        // Played to the end it stops on the last frame; played again, it starts over.
        rig.player.seek(1.8);
        rig.player.play();
        let deadline = Instant::now() + Duration::from_secs(3);
        while rig.player.is_playing() && Instant::now() < deadline {
            rig.run(0.01);
        }
        assert_eq!(shown(&rig.player), Some(1.96));
        let r = rig.run(0.05);
        within("the end", r);
        assert!(!r.1, "the sound plays on past the end");
        rig.player.play();
        rig.settle();
        let r = rig.run(0.3);
        within("play from the end", r);
        assert!(r.1 && rig.out.position_s() < 0.5, "play from the end: the sound is at {}", rig.out.position_s());

        // Nothing is re-sent while nothing changes.
        rig.player.pause();
        rig.run(0.05);
        let orders = rig.out.orders;
        rig.run(0.1);
        assert_eq!(rig.out.orders, orders, "orders were sent while nothing changed");
    }
}
