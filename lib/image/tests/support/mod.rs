//! What the image tests share: a realistic image and the tracing serializer.
#![allow(dead_code)]

pub mod sample;
pub mod tracer;
