//! LOAD CSV: where a file may come from, and reading it record by record.
//!
//! Owns: resolving a `file:///…` URL (or a bare relative path) inside the server's import
//! directory — `..` and symlinks that lead outside it are refused, and so are other
//! schemes — and a streaming reader over the file (RFC 4180 quoting by the `csv` crate,
//! `.gz` decompressed on the fly, a UTF-8 byte-order mark dropped). Each record becomes
//! a list of strings or, with headers, a map by header name; an empty field is null in
//! a map, as Neo4j reads it. Progress (rows, bytes, rate, ETA) goes to the log every
//! [`PROGRESS_EVERY`] on long files.
//!
//! Also owns the LOAD CSV operator's state ([`LoadCsv`]) and the engine's list of files
//! being read ([`Imports`], behind `CALL weft.imports()`). Errors name the file, the line
//! and, where one field is at fault, its column.

use crate::error::{ErrorKind, QueryError, Result};
use crate::exec::pipeline::Op;
use crate::exec::row::Row;
use crate::exec::ExecCtx;
use crate::expr::{eval, CExpr};
use crate::graph::GraphWrite;
use crate::value::QValue;
use std::collections::BTreeMap;
use std::io::{BufReader, Read};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// The generated names (never visible to queries or `RETURN *`) under which the planner
/// keeps the current record's line and file for `linenumber()` and `file()`.
pub const LINE_VARIABLE: &str = "  csv line";
pub const FILE_VARIABLE: &str = "  csv file";

/// How often a long import reports its progress in the log.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// Read buffer in front of the file (and of the decompressor).
const READ_BUFFER: usize = 256 * 1024;

/// The error of a file that cannot be read: Neo4j's `ExternalResourceFailed`.
pub(crate) fn resource_error(message: impl Into<String>) -> QueryError {
    QueryError::runtime(ErrorKind::ArgumentError, "ExternalResourceFailed", message)
}

/// The file `url` names inside `import_dir`, checked to stay inside it.
pub(crate) fn resolve(url: &str, import_dir: Option<&Path>) -> Result<PathBuf> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("ftp://") {
        return Err(resource_error(format!(
            "LOAD CSV from '{url}' is refused: this server reads files from its import directory only \
             (copy the file there and use 'file:///name.csv')"
        )));
    }
    if lower.contains("://") && !lower.starts_with("file:") {
        return Err(resource_error(format!(
            "LOAD CSV cannot read '{url}': only file:/// URLs inside the import directory are supported"
        )));
    }
    let Some(dir) = import_dir else {
        return Err(resource_error(
            "LOAD CSV is not available: the server has no import directory (start it with --data-dir or --import-dir)",
        ));
    };
    let root = dir
        .canonicalize()
        .map_err(|e| resource_error(format!("the import directory {} cannot be opened: {e}", dir.display())))?;
    let outside = || {
        resource_error(format!(
            "LOAD CSV may only read files inside the import directory {}: '{url}' leads outside it",
            root.display()
        ))
    };
    let relative = if let Some(rest) = lower.strip_prefix("file:") {
        // Neo4j's form: file:///name.csv is <import-dir>/name.csv.
        let rest = &url[url.len() - rest.len()..];
        PathBuf::from(percent_decode(rest.trim_start_matches('/'))?)
    } else if Path::new(url).is_absolute() {
        // Memgraph's form: a path on the server, which must lie in the import directory.
        let path = Path::new(url);
        match path.strip_prefix(&root).or_else(|_| path.strip_prefix(dir)) {
            Ok(inside) => inside.to_path_buf(),
            Err(_) => return Err(outside()),
        }
    } else {
        PathBuf::from(url)
    };
    // First by the text alone, so that the answer says nothing of what exists outside;
    // then once more after following symlinks.
    let mut within = PathBuf::new();
    for part in relative.components() {
        match part {
            Component::Normal(name) => within.push(name),
            Component::CurDir => {}
            Component::ParentDir if within.pop() => {}
            _ => return Err(outside()),
        }
    }
    let wanted = root.join(&within);
    let path = wanted
        .canonicalize()
        .map_err(|e| resource_error(format!("cannot open '{url}' (looked for {}): {e}", wanted.display())))?;
    if !path.starts_with(&root) {
        return Err(outside());
    }
    if !path.is_file() {
        return Err(resource_error(format!("'{url}' is not a file ({})", path.display())));
    }
    Ok(path)
}

/// `%20` and friends in a file URL, decoded.
fn percent_decode(s: &str) -> Result<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
            let Some(byte) = hex else {
                return Err(resource_error(format!(
                    "malformed escape in file URL '{s}' at byte {i}"
                )));
            };
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| resource_error(format!("file URL '{s}' does not decode to UTF-8")))
}

/// The imports running in one engine, for `CALL weft.imports()` (which `weft shell`
/// polls to draw a progress bar).
#[derive(Debug, Default)]
pub struct Imports {
    running: Mutex<Vec<Weak<Progress>>>,
}

/// How far one file has been read.
#[derive(Debug)]
pub struct Progress {
    /// The file's path.
    pub path: String,
    /// Its size on disk (compressed size for `.gz`).
    pub size: u64,
    pub started: Instant,
    /// Bytes read from disk so far.
    pub read: AtomicU64,
    /// Records read so far.
    pub rows: AtomicU64,
}

impl Imports {
    /// Registers a file being read; it leaves the list when the returned handle drops.
    fn start(&self, path: &str, size: u64) -> Arc<Progress> {
        let progress = Arc::new(Progress {
            path: path.to_owned(),
            size,
            started: Instant::now(),
            read: AtomicU64::new(0),
            rows: AtomicU64::new(0),
        });
        if let Ok(mut running) = self.running.lock() {
            running.retain(|p| p.strong_count() > 0);
            running.push(Arc::downgrade(&progress));
        }
        progress
    }

    /// The files being read now, oldest first.
    pub fn running(&self) -> Vec<Arc<Progress>> {
        self.running
            .lock()
            .map(|running| running.iter().filter_map(Weak::upgrade).collect())
            .unwrap_or_default()
    }
}

/// Counts the bytes read from the file (before decompression), for progress.
struct Counting<R> {
    inner: R,
    progress: Arc<Progress>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// How a file is read: what LOAD CSV's clause says.
#[derive(Clone, Debug)]
pub struct CsvFormat {
    /// The first record names the fields (rows are maps, not lists).
    pub headers: bool,
    pub delimiter: u8,
    pub quote: u8,
    /// A field equal to this is null (Memgraph's NULLIF).
    pub null_if: Option<String>,
    /// Malformed records are skipped instead of failing the statement (IGNORE BAD).
    pub ignore_bad: bool,
}

impl Default for CsvFormat {
    fn default() -> Self {
        CsvFormat {
            headers: false,
            delimiter: b',',
            quote: b'"',
            null_if: None,
            ignore_bad: false,
        }
    }
}

/// An open CSV file being read record by record.
pub struct CsvSource {
    reader: csv::Reader<Box<dyn Read + Send + Sync>>,
    /// The header names, when the file has a header row.
    headers: Option<Vec<String>>,
    null_if: Option<String>,
    ignore_bad: bool,
    /// The path as `file()` reports it.
    path: String,
    record: csv::ByteRecord,
    rows: u64,
    progress: Arc<Progress>,
    reported: Instant,
}

impl CsvSource {
    /// Opens `path` (already resolved) to read as `format` says, listed in `imports` while
    /// it is read; reads the header row if there is one.
    pub fn open(path: &Path, format: &CsvFormat, imports: &Imports) -> Result<CsvSource> {
        let shown = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|e| resource_error(format!("cannot open {shown}: {e}")))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let progress = imports.start(&shown, size);
        let counted = Counting {
            inner: file,
            progress: progress.clone(),
        };
        let input: Box<dyn Read + Send + Sync> = if shown.ends_with(".gz") {
            Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(
                READ_BUFFER,
                counted,
            )))
        } else {
            Box::new(counted)
        };
        // A UTF-8 byte-order mark goes before the CSV parser sees the first field (a
        // quoted first header would otherwise keep its quotes).
        let mut input = input;
        let mut head = [0u8; 3];
        let mut got = 0;
        while got < head.len() {
            match input.read(&mut head[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(resource_error(format!("cannot read {shown}: {e}"))),
            }
        }
        let kept = if head[..got] == *b"\xEF\xBB\xBF" { 0 } else { got };
        let input: Box<dyn Read + Send + Sync> = Box::new(std::io::Cursor::new(head[..kept].to_vec()).chain(input));
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(format.delimiter)
            .quote(format.quote)
            .buffer_capacity(READ_BUFFER)
            .from_reader(input);
        let mut source = CsvSource {
            reader,
            headers: None,
            null_if: format.null_if.clone(),
            ignore_bad: format.ignore_bad,
            path: shown,
            record: csv::ByteRecord::new(),
            rows: 0,
            progress,
            reported: Instant::now(),
        };
        if format.headers {
            source.headers = Some(match source.next_fields()? {
                Some((fields, _)) => fields,
                None => Vec::new(),
            });
        }
        Ok(source)
    }

    /// The path as `file()` reports it.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The next record as a row value and the line it starts on, or `None` at the end;
    /// with IGNORE BAD, malformed records are passed over.
    pub fn next_row(&mut self) -> Result<Option<(QValue, u64)>> {
        loop {
            match self.next_record() {
                Err(e) if self.ignore_bad && e.detail == "ExternalResourceFailed" => continue,
                other => return other,
            }
        }
    }

    fn next_record(&mut self) -> Result<Option<(QValue, u64)>> {
        let Some((fields, line)) = self.next_fields()? else {
            self.report(true);
            return Ok(None);
        };
        self.rows += 1;
        self.progress.rows.store(self.rows, Ordering::Relaxed);
        if self.reported.elapsed() >= PROGRESS_EVERY {
            self.report(false);
        }
        let null_if = self.null_if.as_deref();
        let value = |f: String| match null_if {
            Some(null) if f == null => QValue::Null,
            _ => QValue::String(f),
        };
        let Some(headers) = &self.headers else {
            return Ok(Some((QValue::List(fields.into_iter().map(value).collect()), line)));
        };
        if fields.len() > headers.len() {
            return Err(self.malformed(
                line,
                headers.len() + 1,
                format!(
                    "the record has {} fields but the header names {}",
                    fields.len(),
                    headers.len()
                ),
            ));
        }
        let mut map = BTreeMap::new();
        let mut fields = fields.into_iter();
        for name in headers {
            let value = match fields.next() {
                Some(f) if !f.is_empty() => value(f),
                _ => QValue::Null,
            };
            map.insert(name.clone(), value);
        }
        Ok(Some((QValue::Map(map), line)))
    }

    /// The next record's fields as UTF-8 strings, and its line.
    fn next_fields(&mut self) -> Result<Option<(Vec<String>, u64)>> {
        let more = self.reader.read_byte_record(&mut self.record).map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            resource_error(format!("cannot read {} at line {line}: {e}", self.path))
        })?;
        if !more {
            return Ok(None);
        }
        let line = self.record.position().map_or(0, |p| p.line());
        let mut fields = Vec::with_capacity(self.record.len());
        for (column, raw) in self.record.iter().enumerate() {
            match std::str::from_utf8(raw) {
                Ok(s) => fields.push(s.to_owned()),
                Err(e) => {
                    let message = format!("field is not valid UTF-8 (from byte {})", e.valid_up_to());
                    return Err(self.malformed(line, column + 1, message));
                }
            }
        }
        Ok(Some((fields, line)))
    }

    fn malformed(&self, line: u64, column: usize, what: String) -> QueryError {
        QueryError::runtime(
            ErrorKind::ArgumentError,
            "ExternalResourceFailed",
            format!("malformed CSV in {}, line {line}, column {column}: {what}", self.path),
        )
    }

    /// Logs rows, bytes, rate and (for an uncompressed file of known size) the time left.
    fn report(&mut self, done: bool) {
        self.reported = Instant::now();
        let secs = self.progress.started.elapsed().as_secs_f64().max(1e-3);
        if done && secs < PROGRESS_EVERY.as_secs_f64() {
            return;
        }
        let (read, size) = (self.progress.read.load(Ordering::Relaxed), self.progress.size);
        let rate = read as f64 / secs;
        let eta = (rate > 0.0 && size > read).then(|| (size - read) as f64 / rate);
        tracing::info!(
            file = %self.path,
            rows = self.rows,
            mb = read as f64 / 1e6,
            of_mb = size as f64 / 1e6,
            mb_per_s = rate / 1e6,
            rows_per_s = self.rows as f64 / secs,
            eta_s = eta.unwrap_or(0.0),
            done,
            "LOAD CSV progress"
        );
    }
}

/// The LOAD CSV operator's state: what it reads and where each record goes.
#[derive(Clone)]
pub struct LoadCsv {
    pub source: CExpr,
    pub format: CsvFormat,
    /// Slots of the record's value, of its line and of the file's path (read by
    /// `linenumber()` and `file()`).
    pub slot: usize,
    pub line_slot: usize,
    pub file_slot: usize,
    pub open: OpenFile,
}

/// The file being read and the input row it was opened for. A clone is closed: a
/// copy of an operator that has not run is a fresh plan.
#[derive(Default)]
pub struct OpenFile(Option<(Row, Box<CsvSource>)>);

impl Clone for OpenFile {
    fn clone(&self) -> Self {
        OpenFile(None)
    }
}

impl LoadCsv {
    /// The next row: the next record of the open file, else of the file the next input
    /// row names.
    pub fn pull<G: GraphWrite>(&mut self, input: &mut Op, ctx: &mut ExecCtx<G>) -> Result<Option<Row>> {
        loop {
            if let Some((row, file)) = &mut self.open.0 {
                if let Some((value, line)) = file.next_row()? {
                    let mut out = row.clone();
                    out[self.slot] = value;
                    out[self.line_slot] = QValue::Int(line as i64);
                    out[self.file_slot] = QValue::String(file.path().to_owned());
                    return Ok(Some(out));
                }
                self.open.0 = None;
            }
            let Some(mut row) = input.next(ctx)? else {
                return Ok(None);
            };
            let url = match eval(&self.source, &mut row, ctx)? {
                QValue::String(url) => url,
                other => {
                    return Err(QueryError::runtime(
                        ErrorKind::TypeError,
                        "InvalidArgumentType",
                        format!("LOAD CSV FROM expects a STRING (a file URL), got {}", other.type_name()),
                    ))
                }
            };
            let path = resolve(&url, ctx.import_dir())?;
            let file = CsvSource::open(&path, &self.format, &ctx.imports())?;
            self.open.0 = Some((row, Box::new(file)));
        }
    }
}

/// The one byte a FIELDTERMINATOR, DELIMITER or QUOTE names (`'\t'` written out is a
/// tab), or `default` when the clause names none.
pub(crate) fn one_char(what: &str, given: Option<&str>, default: u8) -> Result<u8> {
    match given {
        None => Ok(default),
        Some("\\t") => Ok(b'\t'),
        Some(t) if t.len() == 1 => Ok(t.as_bytes()[0]),
        Some(t) => Err(QueryError::compile(
            ErrorKind::SyntaxError,
            "InvalidArgumentValue",
            format!("{what} must be a single ASCII character, got '{t}'"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(files: &[(&str, &[u8])]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in files {
            std::fs::write(dir.path().join(name), bytes).unwrap();
        }
        dir
    }

    fn headed() -> CsvFormat {
        CsvFormat {
            headers: true,
            ..CsvFormat::default()
        }
    }

    fn rows(path: &Path, headers: bool) -> Vec<(QValue, u64)> {
        let format = CsvFormat {
            headers,
            ..CsvFormat::default()
        };
        let mut source = CsvSource::open(path, &format, &Imports::default()).unwrap();
        std::iter::from_fn(|| source.next_row().unwrap()).collect()
    }

    #[test]
    fn quoted_fields_newlines_and_bom() {
        let dir = dir_with(&[
            (
                "a.csv",
                b"\xEF\xBB\xBFid,name\n1,\"Smith, \"\"J\"\"\"\n2,\"two\nlines\"\n3,\n",
            ),
            ("q.csv", b"\xEF\xBB\xBF\"id\",\"name\"\n7,x\n"),
        ]);
        let quoted = rows(&dir.path().join("q.csv"), true);
        let QValue::Map(header) = &quoted[0].0 else {
            panic!("map")
        };
        assert_eq!(header["id"], QValue::String("7".into()), "a BOM before a quoted header");
        let got = rows(&dir.path().join("a.csv"), true);
        assert_eq!(got.len(), 3);
        let QValue::Map(first) = &got[0].0 else { panic!("map") };
        assert_eq!(first["id"], QValue::String("1".into()));
        assert_eq!(first["name"], QValue::String("Smith, \"J\"".into()));
        assert_eq!(got[0].1, 2);
        let QValue::Map(second) = &got[1].0 else { panic!("map") };
        assert_eq!(second["name"], QValue::String("two\nlines".into()));
        let QValue::Map(third) = &got[2].0 else { panic!("map") };
        assert_eq!((got[2].1, &third["name"]), (5, &QValue::Null));
    }

    #[test]
    fn a_file_is_listed_while_it_is_read() {
        let dir = dir_with(&[("l.csv", b"a\n1\n2\n")]);
        let imports = Imports::default();
        let mut source = CsvSource::open(&dir.path().join("l.csv"), &headed(), &imports).unwrap();
        source.next_row().unwrap();
        let running = imports.running();
        assert_eq!(running.len(), 1);
        assert!(running[0].path.ends_with("l.csv"));
        assert_eq!((running[0].rows.load(Ordering::Relaxed), running[0].size), (1, 6));
        assert_eq!(running[0].read.load(Ordering::Relaxed), 6);
        drop((running, source));
        assert!(imports.running().is_empty());
    }

    #[test]
    fn gzip_is_read_through() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"a;b\nx;y\n").unwrap();
        let dir = dir_with(&[("z.csv.gz", &gz.finish().unwrap())]);
        let mut source = CsvSource::open(
            &dir.path().join("z.csv.gz"),
            &CsvFormat {
                delimiter: b';',
                ..CsvFormat::default()
            },
            &Imports::default(),
        )
        .unwrap();
        let (first, _) = source.next_row().unwrap().unwrap();
        assert_eq!(
            first,
            QValue::List(vec![QValue::String("a".into()), QValue::String("b".into())])
        );
    }

    #[test]
    fn too_many_fields_and_bad_utf8_name_line_and_column() {
        let dir = dir_with(&[("bad.csv", b"a,b\n1,2,3\n"), ("enc.csv", b"a\n\xff\n")]);
        let mut source = CsvSource::open(&dir.path().join("bad.csv"), &headed(), &Imports::default()).unwrap();
        let e = source.next_row().unwrap_err();
        assert!(e.message.contains("line 2, column 3"), "{}", e.message);
        let mut source = CsvSource::open(&dir.path().join("enc.csv"), &headed(), &Imports::default()).unwrap();
        let e = source.next_row().unwrap_err();
        assert!(
            e.message.contains("line 2, column 1") && e.message.contains("UTF-8"),
            "{}",
            e.message
        );
    }

    #[test]
    fn paths_stay_inside_the_import_directory() {
        let outer = tempfile::tempdir().unwrap();
        let import = outer.path().join("import");
        std::fs::create_dir(&import).unwrap();
        std::fs::write(outer.path().join("secret.csv"), "x").unwrap();
        std::fs::write(import.join("my file.csv"), "x").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(outer.path().join("secret.csv"), import.join("link.csv")).unwrap();
        let ok = resolve("file:///my%20file.csv", Some(&import)).unwrap();
        assert!(ok.ends_with("my file.csv"));
        // Memgraph's absolute paths: inside the import directory only.
        let absolute = import.join("my file.csv");
        assert_eq!(resolve(absolute.to_str().unwrap(), Some(&import)).unwrap(), ok);
        let secret = outer.path().join("secret.csv");
        assert!(resolve(secret.to_str().unwrap(), Some(&import))
            .unwrap_err()
            .message
            .contains("outside"));
        for url in [
            "file:///../secret.csv",
            "../secret.csv",
            "file:///link.csv",
            "sub/../../nothing-there.csv",
        ] {
            let e = resolve(url, Some(&import)).unwrap_err();
            assert!(e.message.contains("outside"), "{url}: {}", e.message);
        }
        for url in ["https://example.com/a.csv", "s3://bucket/a.csv"] {
            assert_eq!(
                resolve(url, Some(&import)).unwrap_err().detail,
                "ExternalResourceFailed"
            );
        }
        assert!(resolve("file:///a.csv", None)
            .unwrap_err()
            .message
            .contains("--import-dir"));
        assert!(resolve("file:///missing.csv", Some(&import))
            .unwrap_err()
            .message
            .contains("missing.csv"));
    }
}
