//! mlmon's native strict reader: JSON-lines blocks into Arrow buffers, a Python extension module.
//!
//! `parse_block` releases the GIL while it parses, so mlmon's parse workers run on all cores.
//! The buffers go to Python without a copy (they support the buffer protocol) and pyarrow wraps
//! them with `Array.from_buffers`.

pub mod block;
pub mod columns;
pub mod instant;
pub mod plan;
pub mod slots;
pub mod summary;
pub mod walk;

use std::os::raw::{c_int, c_void};

use pyo3::exceptions::PyBufferError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

use crate::columns::{Bits, Col};
use crate::plan::{FeatureKind, Fields, Plan};

/// Memory owned by Rust, readable from Python through the buffer protocol.
#[pyclass(frozen, module = "mlmon._native")]
pub struct Buf {
    data: BufData,
}

enum BufData {
    U8(Vec<u8>),
    F64(Vec<f64>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    U32(Vec<u32>),
    U64(Vec<u64>),
}

impl Buf {
    fn raw(&self) -> (*const u8, usize) {
        fn of<T>(v: &[T]) -> (*const u8, usize) {
            (v.as_ptr() as *const u8, std::mem::size_of_val(v))
        }
        match &self.data {
            BufData::U8(v) => of(v),
            BufData::F64(v) => of(v),
            BufData::I32(v) => of(v),
            BufData::I64(v) => of(v),
            BufData::U32(v) => of(v),
            BufData::U64(v) => of(v),
        }
    }
}

#[pymethods]
impl Buf {
    /// # Safety
    /// Called by CPython with a valid `Py_buffer` to fill; the memory stays valid while the view
    /// holds its reference to this object (PyBuffer_FillInfo takes one).
    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut ffi::Py_buffer,
        flags: c_int,
    ) -> PyResult<()> {
        if flags & ffi::PyBUF_WRITABLE == ffi::PyBUF_WRITABLE {
            return Err(PyBufferError::new_err("the buffer is read-only"));
        }
        let (ptr, len) = slf.get().raw();
        let rc = ffi::PyBuffer_FillInfo(
            view,
            slf.as_ptr(),
            ptr as *mut c_void,
            len as ffi::Py_ssize_t,
            1,
            flags,
        );
        if rc == -1 {
            return Err(PyErr::fetch(slf.py()));
        }
        Ok(())
    }

    unsafe fn __releasebuffer__(&self, _view: *mut ffi::Py_buffer) {}

    fn __len__(&self) -> usize {
        self.raw().1
    }
}

fn buf(py: Python<'_>, data: BufData) -> PyResult<Py<Buf>> {
    Py::new(py, Buf { data })
}

/// The read plan, compiled once per run.
#[pyclass(frozen, name = "Plan", module = "mlmon._native")]
pub struct PyPlan {
    plan: Plan,
}

#[pymethods]
impl PyPlan {
    /// timestamp: dotted path; by: path or None; summary: the six serving paths (latency, status,
    /// success, prediction, pred_class, confidence) or None; features: (path, [(numeric, name)])
    /// or None; marker: bytes or None; success_values: lower-case status texts meaning success;
    /// naive_utc: times with no offset are UTC (else the native reader leaves them to Python);
    /// join: the join field's path (labels) or None, read as text into the column after the group.
    #[new]
    #[pyo3(signature = (timestamp, by, summary, features, marker, success_values, naive_utc=false, join=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        timestamp: String,
        by: Option<String>,
        summary: Option<[String; 6]>,
        features: Option<(String, Vec<(bool, String)>)>,
        marker: Option<Vec<u8>>,
        success_values: Vec<String>,
        naive_utc: bool,
        join: Option<String>,
    ) -> PyPlan {
        let fields = Fields {
            timestamp: &timestamp,
            by: by.as_deref(),
            join: join.as_deref(),
            summary: summary.as_ref().map(|s| {
                [
                    s[0].as_str(),
                    s[1].as_str(),
                    s[2].as_str(),
                    s[3].as_str(),
                    s[4].as_str(),
                    s[5].as_str(),
                ]
            }),
            features: features.as_ref().map(|(path, specs)| {
                let specs = specs
                    .iter()
                    .map(|(numeric, name)| {
                        let kind = if *numeric {
                            FeatureKind::Numeric
                        } else {
                            FeatureKind::Categorical
                        };
                        (kind, name.as_str())
                    })
                    .collect();
                (path.as_str(), specs)
            }),
        };
        let mut plan = Plan::new(fields, marker.filter(|m| !m.is_empty()), success_values);
        plan.naive_utc = naive_utc;
        PyPlan { plan }
    }
}

fn bits(py: Python<'_>, b: Bits) -> PyResult<(PyObject, usize)> {
    let nulls = b.len - b.ones;
    if nulls == 0 {
        return Ok((py.None(), 0));
    }
    Ok((buf(py, BufData::U8(b.bytes))?.into_any(), nulls))
}

/// Parse a block of whole lines (`first_line` is the number of its first line).
///
/// Returns (lines, counts, bad_index, bad_code, bad_start, bad_end, row_lines, columns) where
/// counts are per reason code, the bad_* buffers describe every line that is neither a row nor
/// blank, and each column is (kind, validity or None, null_count, values, offsets or None) with
/// kind "f64", "i64", "bool" or "str". The last column is the timestamp in UTC nanoseconds where
/// the native reader could read it (null: Python reads the row's `_ts_text`/`_ts_num`); a row's
/// `_ts_text` is kept only where it is null (a time the native reader read is not copied).
#[pyfunction]
fn parse_block<'py>(
    py: Python<'py>,
    plan: &Bound<'py, PyPlan>,
    data: &Bound<'py, PyBytes>,
    first_line: i64,
) -> PyResult<Bound<'py, PyTuple>> {
    let plan = &plan.get().plan;
    let bytes = data.as_bytes();
    if bytes.len() >= i32::MAX as usize {
        return Err(pyo3::exceptions::PyValueError::new_err(
            "block too large for int32 offsets",
        ));
    }
    let out = py.allow_threads(|| block::parse(plan, bytes, first_line));
    let cols = PyList::empty(py);
    for col in out.columns {
        let item = match col {
            Col::F64(c) => {
                let (valid, nulls) = bits(py, c.valid)?;
                (
                    "f64",
                    valid,
                    nulls,
                    buf(py, BufData::F64(c.values))?.into_any(),
                    py.None(),
                )
            }
            Col::I64(c) => {
                let (valid, nulls) = bits(py, c.valid)?;
                (
                    "i64",
                    valid,
                    nulls,
                    buf(py, BufData::I64(c.values))?.into_any(),
                    py.None(),
                )
            }
            Col::Bool(c) => {
                let (valid, nulls) = bits(py, c.valid)?;
                (
                    "bool",
                    valid,
                    nulls,
                    buf(py, BufData::U8(c.values.bytes))?.into_any(),
                    py.None(),
                )
            }
            Col::Str(c) => {
                let (valid, nulls) = bits(py, c.valid)?;
                let offsets = buf(py, BufData::I32(c.offsets))?.into_any();
                (
                    "str",
                    valid,
                    nulls,
                    buf(py, BufData::U8(c.data))?.into_any(),
                    offsets,
                )
            }
        };
        cols.append(item)?;
    }
    let items: Vec<PyObject> = vec![
        out.lines.into_pyobject(py)?.into_any().unbind(),
        out.counts.to_vec().into_pyobject(py)?.into_any().unbind(),
        buf(py, BufData::U32(out.bad_index))?.into_any(),
        buf(py, BufData::U8(out.bad_code))?.into_any(),
        buf(py, BufData::U64(out.bad_start))?.into_any(),
        buf(py, BufData::U64(out.bad_end))?.into_any(),
        buf(py, BufData::I64(out.row_lines))?.into_any(),
        cols.into_any().unbind(),
    ];
    PyTuple::new(py, items)
}

/// Newlines in a block of bytes (SIMD memchr, the GIL released): framing counts every block.
#[pyfunction]
fn count_newlines(py: Python<'_>, data: &Bound<'_, PyBytes>) -> usize {
    let bytes = data.as_bytes();
    py.allow_threads(|| memchr::memchr_iter(b'\n', bytes).count())
}

/// A baseline feature's edges, for counting log values into its slots (see slots.rs).
#[pyclass(frozen, module = "mlmon._native", name = "EdgeSlots")]
pub struct PyEdgeSlots {
    inner: slots::Slots,
}

/// A C-contiguous buffer of float64 (a numpy array) as a slice.
fn f64_slice(buf: &pyo3::buffer::PyBuffer<f64>) -> PyResult<&[f64]> {
    if !buf.is_c_contiguous() {
        return Err(PyBufferError::new_err(
            "a C-contiguous float64 buffer is needed",
        ));
    }
    // SAFETY: the buffer is C-contiguous float64 and `buf` keeps the exporter alive and its
    // memory in place for the lifetime of the borrow
    Ok(unsafe { std::slice::from_raw_parts(buf.buf_ptr() as *const f64, buf.item_count()) })
}

#[pymethods]
impl PyEdgeSlots {
    /// ValueError unless the edges are strictly ascending numbers.
    #[new]
    fn new(edges: pyo3::buffer::PyBuffer<f64>) -> PyResult<Self> {
        let edges = f64_slice(&edges)?.to_vec();
        slots::Slots::new(edges)
            .map(|inner| PyEdgeSlots { inner })
            .ok_or_else(|| {
                pyo3::exceptions::PyValueError::new_err("edges must be strictly ascending numbers")
            })
    }

    /// The count of `values` in each slot (int64, 2 x edges + 1), counted with the GIL released.
    fn count(&self, py: Python<'_>, values: pyo3::buffer::PyBuffer<f64>) -> PyResult<Buf> {
        let v = f64_slice(&values)?;
        let inner = &self.inner;
        let counts = py.allow_threads(|| {
            let mut counts = vec![0i64; inner.slots()];
            inner.count(v, &mut counts);
            counts
        });
        Ok(Buf {
            data: BufData::I64(counts),
        })
    }
}

/// One Arrow array handed over by Python: (offset, buffers) as `pyarrow.Array.offset` and
/// `.buffers()` give them.
type ArrIn = (usize, Vec<Option<pyo3::buffer::PyBuffer<i8>>>);

/// A buffer's bytes (C-contiguous, as pyarrow's are).
fn bytes_of(buf: &pyo3::buffer::PyBuffer<i8>) -> Option<&[u8]> {
    if !buf.is_c_contiguous() {
        return None;
    }
    // SAFETY: a C-contiguous buffer of item_count bytes; `buf` keeps the exporter alive and its
    // memory in place while the borrow lasts
    Some(unsafe { std::slice::from_raw_parts(buf.buf_ptr() as *const u8, buf.item_count()) })
}

/// The bytes as values of T (None when not aligned for T).
fn typed<T: Copy>(b: &[u8]) -> Option<&[T]> {
    // SAFETY: only plain number types (f64, i64, i32) are read this way: any bits are a value
    let (head, body, _) = unsafe { b.align_to::<T>() };
    head.is_empty().then_some(body)
}

/// The i-th buffer of an array: None when it is absent (a validity bitmap with no nulls).
fn nth(a: &ArrIn, i: usize) -> Option<Option<&[u8]>> {
    match a.1.get(i) {
        Some(Some(b)) => bytes_of(b).map(Some),
        Some(None) => Some(None),
        None => None,
    }
}

fn valid_of<'a>(a: &'a ArrIn, n: usize) -> Option<summary::Valid<'a>> {
    summary::Valid::new(nth(a, 0)?, a.0, n).ok()
}

fn prim_of<'a, T: Copy>(a: &'a ArrIn, n: usize) -> Option<summary::Prim<'a, T>> {
    let values = typed::<T>(nth(a, 1)??)?;
    summary::Prim::new(valid_of(a, n)?, values, a.0, n).ok()
}

fn utf8_of(a: &ArrIn, n: usize) -> Option<summary::Utf8<'_>> {
    let offsets = typed::<i32>(nth(a, 1)??)?;
    summary::Utf8::new(valid_of(a, n)?, offsets, nth(a, 2)??, a.0, n).ok()
}

fn table_of<'a>(
    n: usize,
    group: &'a Option<ArrIn>,
    cols: &'a [ArrIn; 6],
) -> Option<summary::Table<'a>> {
    let [success, latency, class, confidence, value, ts] = cols;
    Some(summary::Table {
        n,
        group: match group {
            Some(g) => Some(utf8_of(g, n)?),
            None => None,
        },
        success: summary::BoolArr::new(valid_of(success, n)?, nth(success, 1)??, success.0, n)
            .ok()?,
        latency: prim_of(latency, n)?,
        class: utf8_of(class, n)?,
        confidence: prim_of(confidence, n)?,
        value: prim_of(value, n)?,
        ts: prim_of(ts, n)?,
    })
}

/// Summary's share of a table, by group (see summary.rs): None leaves the table to the Python
/// path. The columns are `n` rows of the group (utf8, or None without a group column), success
/// (bool), latency (float64), class (utf8), confidence, prediction value (float64) and time
/// (int64). Each group is (key, records, status_n, successes, latencies, confidences, conf_low,
/// histogram, class names, class counts, value_n, value_outside, ts_min, ts_max).
#[pyfunction]
#[pyo3(signature = (n, group, success, latency, class, confidence, value, ts, low_confidence, range, edges))]
#[allow(clippy::too_many_arguments)]
fn summary_block<'py>(
    py: Python<'py>,
    n: usize,
    group: Option<ArrIn>,
    success: ArrIn,
    latency: ArrIn,
    class: ArrIn,
    confidence: ArrIn,
    value: ArrIn,
    ts: ArrIn,
    low_confidence: f64,
    range: Option<(f64, f64)>,
    edges: Vec<f64>,
) -> PyResult<Option<Bound<'py, PyList>>> {
    let cols = [success, latency, class, confidence, value, ts];
    let Some(table) = table_of(n, &group, &cols) else {
        return Ok(None);
    };
    let options = summary::Options {
        low_confidence,
        range,
        edges: &edges,
    };
    let Ok(groups) = py.allow_threads(|| summary::aggregate(&table, &options)) else {
        return Ok(None);
    };
    let out = PyList::empty(py);
    for (key, g) in groups {
        let key = match key {
            Some(k) => match std::str::from_utf8(k) {
                Ok(s) => s.into_pyobject(py)?.into_any().unbind(),
                Err(_) => return Ok(None),
            },
            None => py.None(),
        };
        let mut names = Vec::with_capacity(g.classes.len());
        let mut counts = Vec::with_capacity(g.classes.len());
        for (k, count) in &g.classes {
            match std::str::from_utf8(k) {
                Ok(s) => names.push(s),
                Err(_) => return Ok(None),
            }
            counts.push(*count);
        }
        let items: Vec<PyObject> = vec![
            key,
            g.records.into_pyobject(py)?.into_any().unbind(),
            g.status_n.into_pyobject(py)?.into_any().unbind(),
            g.successes.into_pyobject(py)?.into_any().unbind(),
            buf(py, BufData::F64(g.latency))?.into_any(),
            buf(py, BufData::F64(g.confidence))?.into_any(),
            g.conf_low.into_pyobject(py)?.into_any().unbind(),
            g.hist.into_pyobject(py)?.into_any().unbind(),
            names.into_pyobject(py)?.into_any().unbind(),
            counts.into_pyobject(py)?.into_any().unbind(),
            g.value_n.into_pyobject(py)?.into_any().unbind(),
            g.value_outside.into_pyobject(py)?.into_any().unbind(),
            g.ts_min.into_pyobject(py)?.into_any().unbind(),
            g.ts_max.into_pyobject(py)?.into_any().unbind(),
        ];
        out.append(PyTuple::new(py, items)?)?;
    }
    Ok(Some(out))
}

/// Read the next block of a stream into one new bytes object: `carry` (the start of a line
/// the last block left), then up to `size` bytes that `readinto` writes in place (called until
/// it is full or returns 0), cut after the last newline. One copy of the stream's bytes, where
/// reading then joining made two. Returns (block, rest, bytes read): the block is None when
/// no newline came (the rest is then carry and all that was read).
#[pyfunction]
fn read_block<'py>(
    py: Python<'py>,
    carry: &Bound<'py, PyBytes>,
    readinto: &Bound<'py, PyAny>,
    size: usize,
) -> PyResult<(PyObject, Bound<'py, PyBytes>, usize)> {
    let head = carry.as_bytes();
    let total = head.len() + size;
    if total >= isize::MAX as usize / 2 {
        return Err(pyo3::exceptions::PyValueError::new_err("block too large"));
    }
    // SAFETY: a new bytes object of `total` bytes, not yet seen by any other code: it is
    // filled here and through memoryviews that are released before it is handed out
    let raw = unsafe { ffi::PyBytes_FromStringAndSize(std::ptr::null(), total as ffi::Py_ssize_t) };
    if raw.is_null() {
        return Err(PyErr::fetch(py));
    }
    // owned from here on: freed on every early return
    let mut guard = Owned(raw);
    let base = unsafe { ffi::PyBytes_AsString(raw) } as *mut u8;
    unsafe { std::ptr::copy_nonoverlapping(head.as_ptr(), base, head.len()) };
    let mut filled = head.len();
    while filled < total {
        let view = unsafe {
            ffi::PyMemoryView_FromMemory(
                base.add(filled) as *mut std::os::raw::c_char,
                (total - filled) as ffi::Py_ssize_t,
                ffi::PyBUF_WRITE,
            )
        };
        let view = unsafe { Bound::from_owned_ptr_or_err(py, view)? };
        let got = readinto.call1((&view,));
        // whatever readinto kept of the view can no longer reach the memory
        view.call_method0("release")?;
        let n: Option<usize> = got?.extract()?;
        let n = n.unwrap_or(0);
        if n == 0 {
            break;
        }
        if n > total - filled {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "readinto reported more bytes than it was given room for",
            ));
        }
        filled += n;
    }
    let read = filled - head.len();
    let data = unsafe { std::slice::from_raw_parts(base as *const u8, filled) };
    let Some(cut) = memchr::memrchr(b'\n', data) else {
        return Ok((py.None(), PyBytes::new(py, data), read));
    };
    let rest = PyBytes::new(py, &data[cut + 1..]);
    // SAFETY: `raw` is a new bytes object only this function holds: its length is set to the
    // block's, and the terminating NUL every bytes object has written after it, as
    // `_PyBytes_Resize` does, but without a realloc. The allocation keeps its size (the bytes
    // after the block, the start of the next line, are unused until it is freed): blocks of
    // one size reuse each other's memory, where a shrunk block left a hole no next block fits.
    unsafe {
        (*(raw as *mut ffi::PyVarObject)).ob_size = (cut + 1) as ffi::Py_ssize_t;
        *base.add(cut + 1) = 0;
    }
    guard.0 = std::ptr::null_mut();
    let block = unsafe { Bound::from_owned_ptr(py, raw) };
    Ok((block.unbind(), rest, read))
}

/// A reference this function owns until it hands it out (null: handed out or freed).
struct Owned(*mut ffi::PyObject);

impl Drop for Owned {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: an owned reference, dropped while the GIL is held (read_block holds it)
            unsafe { ffi::Py_DECREF(self.0) };
        }
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(count_newlines, m)?)?;
    m.add_class::<PyEdgeSlots>()?;
    m.add_class::<PyPlan>()?;
    m.add_class::<Buf>()?;
    m.add_function(wrap_pyfunction!(parse_block, m)?)?;
    m.add_function(wrap_pyfunction!(summary_block, m)?)?;
    m.add_function(wrap_pyfunction!(read_block, m)?)?;
    m.add(
        "CODES",
        (
            "row",
            "blank",
            "non_record",
            "bad_encoding",
            "wrong_type",
            "duplicate_key",
            "uncertain",
        ),
    )?;
    Ok(())
}
