//! What the JSON and CSV file outputs share: a sink that writes every raw
//! sample to a file (gzip-compressed when the name ends in `.gz`), encoding
//! and writing on a blocking thread so the VUs' runtime workers never wait
//! on the disk. The format is the only difference between them.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::metrics::{DeliveryStats, SampleBatch, Sink, SinkError, SinkFuture, Snapshot, Summary};
use crate::output::{OutputConfigError, OutputSpec};
use crate::util::civil_date::civil_from_days;

/// Turns raw samples into bytes of one file format.
pub trait SampleFormat: Send + 'static {
    /// Written once, when the file is created (CSV's header line).
    fn header(&mut self, _out: &mut Vec<u8>) {}
    /// Appends every sample of `batch`; returns how many points it wrote.
    fn encode(&mut self, batch: &SampleBatch, out: &mut Vec<u8>) -> u64;
}

/// A file output of format `F`.
pub struct SampleFileSink<F: SampleFormat> {
    name: String,
    required: bool,
    stats: Arc<DeliveryStats>,
    /// `None` only while lent to a blocking thread, or after a failure.
    state: Option<Box<FileState<F>>>,
}

struct FileState<F> {
    path: PathBuf,
    gzip: bool,
    format: F,
    writer: Option<FileWriter>,
    /// Reused between snapshots.
    buffer: Vec<u8>,
}

enum FileWriter {
    Plain(BufWriter<File>),
    Gzip(GzEncoder<BufWriter<File>>),
}

const WRITE_BUFFER: usize = 256 * 1024;

impl FileWriter {
    fn create(path: &Path, gzip: bool) -> std::io::Result<Self> {
        let file = BufWriter::with_capacity(WRITE_BUFFER, File::create(path)?);
        Ok(if gzip {
            FileWriter::Gzip(GzEncoder::new(file, Compression::fast()))
        } else {
            FileWriter::Plain(file)
        })
    }

    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            FileWriter::Plain(w) => w.write_all(bytes),
            FileWriter::Gzip(w) => w.write_all(bytes),
        }
    }

    /// Flushes everything, including gzip's trailer, to the file.
    fn finish(self) -> std::io::Result<()> {
        let mut file = match self {
            FileWriter::Plain(w) => w,
            FileWriter::Gzip(w) => w.finish()?,
        };
        file.flush()?;
        file.get_ref().sync_data()
    }
}

impl<F: SampleFormat> FileState<F> {
    fn open(&mut self) -> std::io::Result<&mut FileWriter> {
        if self.writer.is_none() {
            let mut writer = FileWriter::create(&self.path, self.gzip)?;
            self.buffer.clear();
            self.format.header(&mut self.buffer);
            writer.write_all(&self.buffer)?;
            self.writer = Some(writer);
        }
        Ok(self.writer.as_mut().expect("just opened"))
    }

    /// Encodes and writes one batch; the points it holds.
    fn write_batch(&mut self, batch: &SampleBatch) -> (u64, std::io::Result<()>) {
        let mut buffer = std::mem::take(&mut self.buffer);
        buffer.clear();
        let points = self.format.encode(batch, &mut buffer);
        let result = self.open().and_then(|w| w.write_all(&buffer));
        self.buffer = buffer;
        (points, result)
    }
}

impl<F: SampleFormat> SampleFileSink<F> {
    /// A sink writing `spec.target` in `format`; gzip when it ends in `.gz`.
    /// The file is created by the health check or the first write.
    pub fn new(spec: &OutputSpec, format: F) -> Result<Self, OutputConfigError> {
        if spec.target.trim().is_empty() {
            return Err(OutputConfigError::BadTarget {
                origin: spec.origin.clone(),
                message: "name the file to write".into(),
            });
        }
        let path = PathBuf::from(&spec.target);
        Ok(SampleFileSink {
            name: spec.display_name(),
            required: spec.common.required,
            stats: Arc::new(DeliveryStats::default()),
            state: Some(Box::new(FileState {
                gzip: spec.target.ends_with(".gz"),
                path,
                format,
                writer: None,
                buffer: Vec::new(),
            })),
        })
    }

    /// Runs `work` on the file state on a blocking thread.
    async fn on_file<T: Send + 'static>(
        &mut self,
        work: impl FnOnce(&mut FileState<F>) -> T + Send + 'static,
    ) -> Result<T, SinkError> {
        let Some(mut state) = self.state.take() else {
            return Err(SinkError::Fatal(format!(
                "{}: stopped after an earlier failure",
                self.name
            )));
        };
        let (state, result) = tokio::task::spawn_blocking(move || {
            let result = work(&mut state);
            (state, result)
        })
        .await
        .map_err(|e| SinkError::Fatal(format!("file writer failed: {e}")))?;
        self.state = Some(state);
        Ok(result)
    }

    async fn write_snapshot(&mut self, snapshot: Arc<Snapshot>) -> Result<(), SinkError> {
        let Some(samples) = snapshot.samples.clone() else {
            return Ok(());
        };
        self.stats.add_dropped(samples.dropped);
        if samples.samples.is_empty() {
            return Ok(());
        }
        let (points, result) = self.on_file(move |s| s.write_batch(&samples)).await?;
        match result {
            Ok(()) => {
                self.stats.add_sent(points);
                Ok(())
            }
            Err(e) => {
                self.stats.add_dropped(points);
                let path = self.path_text();
                // A disk that refused once (full, gone) is not retried.
                self.state = None;
                Err(SinkError::Fatal(format!("cannot write {path}: {e}")))
            }
        }
    }

    fn path_text(&self) -> String {
        self.state
            .as_ref()
            .map(|s| s.path.display().to_string())
            .unwrap_or_else(|| self.name.clone())
    }
}

impl<F: SampleFormat> Sink for SampleFileSink<F> {
    fn name(&self) -> &str {
        &self.name
    }

    fn write(&mut self, snapshot: Arc<Snapshot>) -> SinkFuture<'_> {
        Box::pin(self.write_snapshot(snapshot))
    }

    fn finish(&mut self, _summary: Arc<Summary>) -> SinkFuture<'_> {
        Box::pin(async move {
            let path = self.path_text();
            // A run without samples still leaves a valid file (CSV: the header).
            let result = self
                .on_file(|s| {
                    s.open()?;
                    s.writer.take().expect("just opened").finish()
                })
                .await?;
            result.map_err(|e| SinkError::Fatal(format!("cannot write {path}: {e}")))
        })
    }

    fn health_check(&mut self) -> SinkFuture<'_> {
        Box::pin(async move {
            let path = self.path_text();
            let result = self.on_file(|s| s.open().map(|_| ())).await?;
            result.map_err(|e| SinkError::Fatal(format!("cannot create {path}: {e}")))
        })
    }

    fn required(&self) -> bool {
        self.required
    }

    fn wants_samples(&self) -> bool {
        true
    }

    fn delivery_stats(&self) -> Option<Arc<DeliveryStats>> {
        Some(self.stats.clone())
    }
}

/// Appends `time_ns` (since the Unix epoch) as RFC 3339 UTC with
/// nanoseconds: `2024-05-01T12:00:00.123456789Z`.
pub fn push_rfc3339_nanos(out: &mut Vec<u8>, time_ns: u64) {
    Rfc3339Clock::default().push(out, time_ns);
}

/// RFC 3339 formatting for a stream of timestamps: the date and time of
/// day are formatted once per second, only the nanoseconds per sample.
#[derive(Debug, Default)]
pub struct Rfc3339Clock {
    second: Option<u64>,
    /// `2024-05-01T12:00:00.` for `second`.
    prefix: Vec<u8>,
}

impl Rfc3339Clock {
    pub fn push(&mut self, out: &mut Vec<u8>, time_ns: u64) {
        let secs = time_ns / 1_000_000_000;
        if self.second != Some(secs) {
            let (year, month, day) = civil_from_days((secs / 86_400) as i64);
            let of_day = secs % 86_400;
            self.prefix.clear();
            // Writing into a Vec cannot fail.
            let _ = write!(
                self.prefix,
                "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.",
                of_day / 3600,
                of_day % 3600 / 60,
                of_day % 60
            );
            self.second = Some(secs);
        }
        out.extend_from_slice(&self.prefix);
        let mut nanos = time_ns % 1_000_000_000;
        let mut digits = [b'0'; 9];
        for d in digits.iter_mut().rev() {
            *d = b'0' + (nanos % 10) as u8;
            nanos /= 10;
        }
        out.extend_from_slice(&digits);
        out.push(b'Z');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc3339(ns: u64) -> String {
        let mut out = Vec::new();
        push_rfc3339_nanos(&mut out, ns);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn formats_known_instants_with_nanoseconds() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(
            rfc3339(951_782_400_000_000_001),
            "2000-02-29T00:00:00.000000001Z"
        );
        assert_eq!(
            rfc3339(1_704_067_199_999_999_999),
            "2023-12-31T23:59:59.999999999Z"
        );
        assert_eq!(
            rfc3339(1_714_564_800_123_456_789),
            "2024-05-01T12:00:00.123456789Z"
        );
    }
}
