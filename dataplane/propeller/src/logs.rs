//! Task logs for readers: what the propeller API's `TailLogs` serves (follows
//! a running attempt, then what is stored) over the local runtime's log files.

use std::path::PathBuf;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_stream::Stream;
use tonic::Status;
use updraft_proto::updraft::propeller::v1::LogChunk;

use crate::local::{RunningAttempts, log_path};

/// How often a followed log is checked for new bytes.
const FOLLOW_POLL: Duration = Duration::from_millis(200);
/// Largest chunk sent in one message.
const CHUNK_BYTES: usize = 64 * 1024;

/// Reads task logs kept by the local runtime.
#[derive(Debug, Clone)]
pub struct LogReader {
    work_root: PathBuf,
    running: RunningAttempts,
}

impl LogReader {
    /// Logs under `work_root`; `running` tells which attempts are still going.
    pub fn new(work_root: PathBuf, running: RunningAttempts) -> Self {
        Self { work_root, running }
    }

    /// The whole log of an attempt so far, if it exists.
    pub async fn read_all(&self, attempt_key: &str) -> std::io::Result<Option<Vec<u8>>> {
        match tokio::fs::read(log_path(&self.work_root, attempt_key)).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Whether the attempt is still running (its log may grow).
    pub fn is_running(&self, attempt_key: &str) -> bool {
        self.running.contains(attempt_key)
    }

    /// Chunks of the log from `offset`; with `follow`, keeps reading while the
    /// attempt runs and ends with a chunk marked `complete`.
    pub fn tail(
        &self,
        attempt_key: String,
        offset: u64,
        follow: bool,
    ) -> impl Stream<Item = Result<LogChunk, Status>> + Send + 'static {
        let path = log_path(&self.work_root, &attempt_key);
        let running = self.running.clone();
        async_stream_like(move |sender| async move {
            let mut offset = offset;
            let mut file: Option<tokio::fs::File> = None;
            loop {
                if file.is_none() {
                    file = tokio::fs::File::open(&path).await.ok();
                }
                let still_running = running.contains(&attempt_key);
                let mut sent_any = false;
                if let Some(open) = file.as_mut() {
                    if open.seek(std::io::SeekFrom::Start(offset)).await.is_err() {
                        let _ = sender.send(Err(Status::internal("internal error"))).await;
                        return;
                    }
                    let mut buffer = vec![0; CHUNK_BYTES];
                    loop {
                        let read = match open.read(&mut buffer).await {
                            Ok(read) => read,
                            Err(error) => {
                                tracing::error!(%error, attempt = %attempt_key, "cannot read task log");
                                let _ = sender.send(Err(Status::internal("internal error"))).await;
                                return;
                            }
                        };
                        if read == 0 {
                            break;
                        }
                        let chunk = LogChunk {
                            offset,
                            data: buffer[..read].to_vec(),
                            complete: false,
                        };
                        offset += read as u64;
                        sent_any = true;
                        if sender.send(Ok(chunk)).await.is_err() {
                            return;
                        }
                    }
                } else if !still_running && !follow {
                    let _ = sender
                        .send(Err(Status::not_found(format!(
                            "no log for task attempt {attempt_key}"
                        ))))
                        .await;
                    return;
                }
                if !follow || !still_running {
                    let _ = sender
                        .send(Ok(LogChunk {
                            offset,
                            data: Vec::new(),
                            complete: !still_running,
                        }))
                        .await;
                    return;
                }
                if !sent_any {
                    tokio::time::sleep(FOLLOW_POLL).await;
                }
            }
        })
    }
}

/// A stream fed by a task writing into a channel. The task stops when the
/// reader leaves, even while it waits without sending (a quiet log).
pub(crate) fn async_stream_like<T, F, Fut>(
    producer: F,
) -> impl Stream<Item = Result<T, Status>> + Send + 'static
where
    T: Send + 'static,
    F: FnOnce(tokio::sync::mpsc::Sender<Result<T, Status>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (sender, receiver) = tokio::sync::mpsc::channel(16);
    let reader_gone = sender.clone();
    let producing = producer(sender);
    tokio::spawn(async move {
        tokio::select! {
            () = producing => {}
            () = reader_gone.closed() => {}
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(receiver)
}

#[cfg(test)]
mod tests {
    use super::async_stream_like;

    #[tokio::test]
    async fn a_producer_that_never_sends_stops_when_its_reader_leaves() {
        let (let_go, released) = tokio::sync::oneshot::channel::<()>();
        let stream = async_stream_like::<(), _, _>(move |_sender| async move {
            // Dropped, and so closed, only when the producer is.
            let _held = let_go;
            std::future::pending::<()>().await;
        });

        drop(stream);

        let waited = tokio::time::timeout(std::time::Duration::from_secs(60), released).await;
        assert!(
            matches!(waited, Ok(Err(_))),
            "the producer was never let go"
        );
    }
}
