//! Sound output: one track at a time through the default device (rodio on cpal), started and
//! stopped with the video's clock. The device lives on its own `audio-out` thread and takes
//! orders over a bounded channel, so the UI never waits on it (a seek in rodio waits for the
//! output to take it). Without a device the app plays silently and says so once.

use std::num::NonZero;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::Duration;

use rodio::buffer::SamplesBuffer;

enum Order {
    /// Interleaved samples, their rate and channels.
    SetTrack(Vec<f32>, u32, u16),
    Clear,
    PlayFrom(f64),
    Pause,
    Seek(f64),
}

/// Where sound goes: the device, or in tests a stand-in that keeps time.
pub trait SoundOutput {
    /// Plays from `time_s` on the track.
    fn play_from(&mut self, time_s: f64);
    fn pause(&mut self);
    /// Moves to `time_s` (playing or not).
    fn seek(&mut self, time_s: f64);
}

/// The output, driven from its own thread.
pub struct AudioOut {
    orders: SyncSender<Order>,
}

impl std::fmt::Debug for AudioOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioOut").finish_non_exhaustive()
    }
}

impl AudioOut {
    /// Opens the default output device (on the `audio-out` thread).
    pub fn open() -> Result<Self, String> {
        let (orders, rx) = sync_channel::<Order>(32);
        let (opened_tx, opened_rx) = sync_channel::<Result<(), String>>(1);
        std::thread::Builder::new()
            .name("audio-out".to_owned())
            .spawn(move || output_thread(&rx, &opened_tx))
            .map_err(|e| e.to_string())?;
        opened_rx.recv_timeout(Duration::from_secs(5)).map_err(|_| "the sound device did not open".to_owned())??;
        Ok(Self { orders })
    }

    fn send(&self, order: Order) {
        // A full queue means the device is stuck; the picture goes on without it.
        let _ = self.orders.try_send(order);
    }

    /// Replaces the track (`channels` interleaved, `rate` Hz); paused at its start.
    pub fn set_track(&mut self, samples: &[f32], rate: u32, channels: u16) {
        self.send(Order::SetTrack(samples.to_vec(), rate, channels));
    }

    /// Removes the track.
    pub fn clear(&mut self) {
        self.send(Order::Clear);
    }
}

impl SoundOutput for AudioOut {
    fn play_from(&mut self, time_s: f64) {
        self.send(Order::PlayFrom(time_s));
    }

    fn pause(&mut self) {
        self.send(Order::Pause);
    }

    fn seek(&mut self, time_s: f64) {
        self.send(Order::Seek(time_s));
    }
}

fn output_thread(orders: &Receiver<Order>, opened: &SyncSender<Result<(), String>>) {
    let mut sink = match rodio::DeviceSinkBuilder::open_default_sink() {
        Ok(sink) => sink,
        Err(e) => {
            let _ = opened.send(Err(e.to_string()));
            return;
        }
    };
    sink.log_on_drop(false);
    let player = rodio::Player::connect_new(sink.mixer());
    player.pause();
    let _ = opened.send(Ok(()));
    let mut has_track = false;
    // Ends when the app drops its `AudioOut`.
    while let Ok(order) = orders.recv() {
        match order {
            Order::SetTrack(samples, rate, channels) => {
                player.clear();
                player.pause();
                if let (Some(channels), Some(rate)) = (NonZero::new(channels), NonZero::new(rate)) {
                    has_track = !samples.is_empty();
                    player.append(SamplesBuffer::new(channels, rate, samples));
                    player.pause();
                }
            }
            Order::Clear => {
                player.clear();
                has_track = false;
            }
            Order::PlayFrom(t) if has_track => {
                let _ = player.try_seek(Duration::from_secs_f64(t.max(0.0)));
                player.play();
            }
            Order::Pause => player.pause(),
            Order::Seek(t) if has_track => {
                // A seek the source cannot do leaves the position where it was.
                let _ = player.try_seek(Duration::from_secs_f64(t.max(0.0)));
            }
            Order::PlayFrom(_) | Order::Seek(_) => {}
        }
    }
}
