//! Arrow-layout column builders (validity bitmaps, float64 values, utf8 with int32 offsets).
//!
//! The buffers are handed to Python as they are and wrapped by `pyarrow.Array.from_buffers`.

/// A bitmap in Arrow's bit order (least significant bit first).
#[derive(Default, Debug)]
pub struct Bits {
    pub bytes: Vec<u8>,
    pub len: usize,
    pub ones: usize,
}

impl Bits {
    #[inline]
    pub fn push(&mut self, bit: bool) {
        if self.len.is_multiple_of(8) {
            self.bytes.push(0);
        }
        if bit {
            self.bytes[self.len / 8] |= 1 << (self.len % 8);
            self.ones += 1;
        }
        self.len += 1;
    }

    pub fn truncate(&mut self, len: usize) {
        while self.len > len {
            self.len -= 1;
            let (byte, bit) = (self.len / 8, self.len % 8);
            if self.bytes[byte] & (1 << bit) != 0 {
                self.ones -= 1;
                self.bytes[byte] &= !(1 << bit);
            }
        }
        self.bytes.truncate(len.div_ceil(8));
    }

    pub fn get(&self, i: usize) -> bool {
        self.bytes[i / 8] & (1 << (i % 8)) != 0
    }
}

/// A nullable float64 column.
#[derive(Default, Debug)]
pub struct F64Col {
    pub values: Vec<f64>,
    pub valid: Bits,
}

impl F64Col {
    #[inline]
    pub fn push(&mut self, v: Option<f64>) {
        self.values.push(v.unwrap_or(0.0));
        self.valid.push(v.is_some());
    }

    pub fn truncate(&mut self, len: usize) {
        self.values.truncate(len);
        self.valid.truncate(len);
    }
}

/// A nullable int64 column.
#[derive(Default, Debug)]
pub struct I64Col {
    pub values: Vec<i64>,
    pub valid: Bits,
}

impl I64Col {
    #[inline]
    pub fn push(&mut self, v: Option<i64>) {
        self.values.push(v.unwrap_or(0));
        self.valid.push(v.is_some());
    }

    pub fn truncate(&mut self, len: usize) {
        self.values.truncate(len);
        self.valid.truncate(len);
    }
}

/// A nullable boolean column (values bit-packed).
#[derive(Default, Debug)]
pub struct BoolCol {
    pub values: Bits,
    pub valid: Bits,
}

impl BoolCol {
    #[inline]
    pub fn push(&mut self, v: Option<bool>) {
        self.values.push(v.unwrap_or(false));
        self.valid.push(v.is_some());
    }

    pub fn truncate(&mut self, len: usize) {
        self.values.truncate(len);
        self.valid.truncate(len);
    }
}

/// A text value: a string, or an integer that reads as its decimal digits.
#[derive(Clone, Copy, Debug)]
pub enum Text<'a> {
    Str(&'a str),
    Int(i128),
}

/// An integer in decimal, as Python's `str(int)` writes it (i64 digits when it fits: faster).
#[inline]
pub fn int_text(digits: &mut itoa::Buffer, i: i128) -> &str {
    match i64::try_from(i) {
        Ok(small) => digits.format(small),
        Err(_) => digits.format(i),
    }
}

/// A nullable utf8 column with int32 offsets (the block is below 2 GiB, so is its text).
#[derive(Debug)]
pub struct StrCol {
    pub offsets: Vec<i32>,
    pub data: Vec<u8>,
    pub valid: Bits,
}

impl Default for StrCol {
    fn default() -> Self {
        StrCol {
            offsets: vec![0],
            data: Vec::new(),
            valid: Bits::default(),
        }
    }
}

impl StrCol {
    #[inline]
    pub fn push(&mut self, v: Option<&str>) {
        if let Some(s) = v {
            self.data.extend_from_slice(s.as_bytes());
        }
        self.offsets.push(self.data.len() as i32);
        self.valid.push(v.is_some());
    }

    /// Push text or an integer written in decimal (`str(int)` in Python), without allocating.
    #[inline]
    pub fn push_text(&mut self, v: Option<Text<'_>>) {
        match v {
            Some(Text::Str(s)) => self.data.extend_from_slice(s.as_bytes()),
            Some(Text::Int(i)) => {
                let mut digits = itoa::Buffer::new();
                self.data
                    .extend_from_slice(int_text(&mut digits, i).as_bytes());
            }
            None => {}
        }
        self.offsets.push(self.data.len() as i32);
        self.valid.push(v.is_some());
    }

    pub fn truncate(&mut self, len: usize) {
        self.offsets.truncate(len + 1);
        self.data.truncate(self.offsets[len] as usize);
        self.valid.truncate(len);
    }

    pub fn get(&self, i: usize) -> Option<&str> {
        if !self.valid.get(i) {
            return None;
        }
        let (s, e) = (self.offsets[i] as usize, self.offsets[i + 1] as usize);
        std::str::from_utf8(&self.data[s..e]).ok()
    }
}

/// One canonical column.
#[derive(Debug)]
pub enum Col {
    F64(F64Col),
    I64(I64Col),
    Str(StrCol),
    Bool(BoolCol),
}

impl Col {
    pub fn truncate(&mut self, len: usize) {
        match self {
            Col::F64(c) => c.truncate(len),
            Col::I64(c) => c.truncate(len),
            Col::Str(c) => c.truncate(len),
            Col::Bool(c) => c.truncate(len),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_push_and_truncate() {
        let mut b = Bits::default();
        for i in 0..20 {
            b.push(i % 3 == 0);
        }
        assert_eq!(b.ones, 7);
        b.truncate(9);
        assert_eq!((b.len, b.ones, b.bytes.len()), (9, 3, 2));
        assert!(b.get(0) && !b.get(1) && b.get(3) && b.get(6));
        assert_eq!(b.bytes[1], 0);
    }

    #[test]
    fn strings_roll_back() {
        let mut c = StrCol::default();
        c.push(Some("ab"));
        c.push(None);
        c.push(Some("cde"));
        c.truncate(2);
        assert_eq!(c.offsets, vec![0, 2, 2]);
        assert_eq!(c.data, b"ab");
        assert_eq!((c.get(0), c.get(1)), (Some("ab"), None));
    }

    #[test]
    fn integers_are_written_as_python_writes_them() {
        let mut c = StrCol::default();
        for i in [
            0i128,
            -1,
            42,
            i64::MIN as i128,
            i64::MAX as i128,
            u64::MAX as i128,
            i64::MIN as i128 - 1,
        ] {
            c.push_text(Some(Text::Int(i)));
        }
        let got: Vec<&str> = (0..7).map(|i| c.get(i).unwrap()).collect();
        assert_eq!(
            got,
            [
                "0",
                "-1",
                "42",
                "-9223372036854775808",
                "9223372036854775807",
                "18446744073709551615",
                "-9223372036854775809"
            ]
        );
    }
}
