//! A serde serializer that writes postcard's format (byte for byte what
//! `postcard::to_allocvec` writes) and records every scalar it writes — each
//! integer, bool, option tag, length and enum variant — with the path of
//! struct fields that leads to it. Given a slot number and a value, it
//! writes that value in the slot instead: a mutation of one field of a
//! real image, whatever its depth or privacy.

use std::fmt;

use serde::ser::{self, Serialize};

/// What kind of scalar a slot is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    /// An unsigned integer of this many bits.
    Unsigned(u32),
    /// A signed integer of this many bits.
    Signed(u32),
    Bool,
    /// The tag of an `Option`.
    OptionTag,
    /// The length of a sequence, map, string or byte array.
    Length,
    /// An enum variant's index.
    Variant,
}

/// One scalar the image holds.
#[derive(Debug, Clone)]
pub struct Slot {
    pub scalar: Scalar,
    pub value: u64,
    /// Struct fields from the root, joined by dots.
    pub path: String,
}

#[derive(Debug)]
pub struct TraceError(String);

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TraceError {}

impl ser::Error for TraceError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        TraceError(msg.to_string())
    }
}

/// Serializes `value`, replacing slot `mutation.0` by `mutation.1`;
/// returns the bytes and the slots.
pub fn trace<T: Serialize>(value: &T, mutation: Option<(usize, u64)>) -> (Vec<u8>, Vec<Slot>) {
    let mut tracer = Tracer {
        out: Vec::new(),
        slots: Vec::new(),
        path: Vec::new(),
        mutation,
    };
    value.serialize(&mut tracer).expect("the image serializes");
    (tracer.out, tracer.slots)
}

struct Tracer {
    out: Vec<u8>,
    slots: Vec<Slot>,
    path: Vec<&'static str>,
    mutation: Option<(usize, u64)>,
}

impl Tracer {
    fn varint(&mut self, mut value: u64) {
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                self.out.push(byte);
                return;
            }
            self.out.push(byte | 0x80);
        }
    }

    /// Records a slot and returns the value to write in it.
    fn slot(&mut self, scalar: Scalar, value: u64) -> u64 {
        let index = self.slots.len();
        self.slots.push(Slot {
            scalar,
            value,
            path: self.path.join("."),
        });
        match self.mutation {
            Some((target, new)) if target == index => new,
            _ => value,
        }
    }

    fn unsigned(&mut self, bits: u32, value: u64) {
        let value = self.slot(Scalar::Unsigned(bits), value);
        if bits == 8 {
            self.out.push(value as u8);
        } else {
            self.varint(value);
        }
    }

    fn signed(&mut self, bits: u32, value: i64) {
        let zigzag = ((value << 1) ^ (value >> 63)) as u64;
        let value = self.slot(Scalar::Signed(bits), zigzag);
        if bits == 8 {
            self.out.push(value as u8);
        } else {
            self.varint(value);
        }
    }

    fn length(&mut self, len: usize) {
        let len = self.slot(Scalar::Length, len as u64);
        self.varint(len);
    }

    fn variant(&mut self, index: u32) {
        let index = self.slot(Scalar::Variant, u64::from(index));
        self.varint(index);
    }
}

type Result<T = ()> = std::result::Result<T, TraceError>;

impl ser::Serializer for &mut Tracer {
    type Ok = ();
    type Error = TraceError;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn serialize_bool(self, v: bool) -> Result {
        let v = self.slot(Scalar::Bool, u64::from(v));
        self.out.push(v as u8);
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result {
        // postcard writes an i8 as its byte.
        let v = self.slot(Scalar::Signed(8), u64::from(v as u8));
        self.out.push(v as u8);
        Ok(())
    }
    fn serialize_i16(self, v: i16) -> Result {
        self.signed(16, v.into());
        Ok(())
    }
    fn serialize_i32(self, v: i32) -> Result {
        self.signed(32, v.into());
        Ok(())
    }
    fn serialize_i64(self, v: i64) -> Result {
        self.signed(64, v);
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result {
        self.unsigned(8, v.into());
        Ok(())
    }
    fn serialize_u16(self, v: u16) -> Result {
        self.unsigned(16, v.into());
        Ok(())
    }
    fn serialize_u32(self, v: u32) -> Result {
        self.unsigned(32, v.into());
        Ok(())
    }
    fn serialize_u64(self, v: u64) -> Result {
        self.unsigned(64, v);
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result {
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result {
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result {
        let mut buf = [0u8; 4];
        self.serialize_str(v.encode_utf8(&mut buf))
    }
    fn serialize_str(self, v: &str) -> Result {
        self.serialize_bytes(v.as_bytes())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result {
        self.length(v.len());
        self.out.extend_from_slice(v);
        Ok(())
    }
    fn serialize_none(self) -> Result {
        let tag = self.slot(Scalar::OptionTag, 0);
        self.out.push(tag as u8);
        Ok(())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result {
        let tag = self.slot(Scalar::OptionTag, 1);
        self.out.push(tag as u8);
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, index: u32, _: &'static str) -> Result {
        self.variant(index);
        Ok(())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, v: &T) -> Result {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        index: u32,
        variant: &'static str,
        v: &T,
    ) -> Result {
        self.variant(index);
        self.path.push(variant);
        v.serialize(&mut *self)?;
        self.path.pop();
        Ok(())
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self> {
        let len = len.ok_or_else(|| TraceError("a sequence without a length".into()))?;
        self.length(len);
        Ok(self)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self> {
        Ok(self)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self> {
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        index: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self> {
        self.variant(index);
        self.path.push(variant);
        Ok(self)
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self> {
        let len = len.ok_or_else(|| TraceError("a map without a length".into()))?;
        self.length(len);
        Ok(self)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self> {
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        index: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self> {
        self.variant(index);
        self.path.push(variant);
        Ok(self)
    }
    fn collect_str<T: ?Sized + fmt::Display>(self, value: &T) -> Result {
        self.serialize_str(&value.to_string())
    }
    fn is_human_readable(&self) -> bool {
        false
    }
}

impl ser::SerializeSeq for &mut Tracer {
    type Ok = ();
    type Error = TraceError;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, v: &T) -> Result {
        v.serialize(&mut **self)
    }
    fn end(self) -> Result {
        Ok(())
    }
}

impl ser::SerializeTuple for &mut Tracer {
    type Ok = ();
    type Error = TraceError;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, v: &T) -> Result {
        v.serialize(&mut **self)
    }
    fn end(self) -> Result {
        Ok(())
    }
}

impl ser::SerializeTupleStruct for &mut Tracer {
    type Ok = ();
    type Error = TraceError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, v: &T) -> Result {
        v.serialize(&mut **self)
    }
    fn end(self) -> Result {
        Ok(())
    }
}

impl ser::SerializeTupleVariant for &mut Tracer {
    type Ok = ();
    type Error = TraceError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, v: &T) -> Result {
        v.serialize(&mut **self)
    }
    fn end(self) -> Result {
        self.path.pop();
        Ok(())
    }
}

impl ser::SerializeMap for &mut Tracer {
    type Ok = ();
    type Error = TraceError;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, k: &T) -> Result {
        k.serialize(&mut **self)
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, v: &T) -> Result {
        v.serialize(&mut **self)
    }
    fn end(self) -> Result {
        Ok(())
    }
}

impl ser::SerializeStruct for &mut Tracer {
    type Ok = ();
    type Error = TraceError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, v: &T) -> Result {
        self.path.push(key);
        v.serialize(&mut **self)?;
        self.path.pop();
        Ok(())
    }
    fn end(self) -> Result {
        Ok(())
    }
}

impl ser::SerializeStructVariant for &mut Tracer {
    type Ok = ();
    type Error = TraceError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, v: &T) -> Result {
        self.path.push(key);
        v.serialize(&mut **self)?;
        self.path.pop();
        Ok(())
    }
    fn end(self) -> Result {
        self.path.pop();
        Ok(())
    }
}
