//! The full-resolution decoding thread: streams frames ahead of the playhead and answers seeks.

use std::sync::mpsc::{Receiver, SyncSender, TryRecvError};

use foley_engine::media::VideoReader;

use super::{Reply, Request};

/// Asks the scheduler to run the calling thread after the others (Linux `nice` 10).
pub(super) fn lower_thread_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid and setpriority only read their integer arguments; a failure leaves
        // the priority as it was, which is harmless.
        let done = unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 10) };
        if done != 0 {
            log::debug!("could not lower the proxy thread's priority");
        }
    }
}

pub(super) fn decode_loop(
    mut reader: VideoReader,
    requests: &Receiver<Request>,
    replies: &SyncSender<Reply>,
    wake: &dyn Fn(),
) {
    let mut generation = 0;
    let mut idle = true; // nothing to decode until the first seek
    loop {
        // Take every waiting request; only the newest one matters.
        let mut seek = None;
        loop {
            match requests.try_recv() {
                Ok(Request::Seek { time_s, generation }) => seek = Some((time_s, generation)),
                Ok(Request::Hold) => {
                    seek = None;
                    idle = true;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return,
            }
        }
        if seek.is_none() && idle {
            match requests.recv() {
                Ok(Request::Seek { time_s, generation }) => seek = Some((time_s, generation)),
                Ok(Request::Hold) => continue,
                Err(_) => return,
            }
        }
        let result = match seek {
            Some((time_s, g)) => {
                generation = g;
                reader.seek(time_s)
            }
            None => reader.next_frame(),
        };
        idle = !matches!(result, Ok(Some(_)));
        let reply = match result {
            Ok(Some(frame)) => Reply::Frame { frame, generation },
            Ok(None) => Reply::End { generation },
            Err(err) => Reply::Failed(err),
        };
        if replies.send(reply).is_err() {
            return;
        }
        wake();
    }
}
