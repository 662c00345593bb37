//! The `interface!` macro in less common forms: no methods, private
//! interfaces, trailing commas, user types, names that shadow the prelude,
//! kernel errors.

use abide_ipc::wire::{self, Header};
use abide_ipc::{CallError, RemoteError};
use serde::{Deserialize, Serialize};

/// A `Result` alias in scope must not confuse the generated code.
#[allow(dead_code)]
type Result<T> = core::result::Result<T, ()>;

/// A user type used as an argument and a return value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    x: i32,
    y: i32,
}

/// A user enum.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Axis {
    X,
    Y,
}

abide_ipc::interface! {
    /// Nothing to call.
    interface Empty {}
}

abide_ipc::interface! {
    pub(crate) interface Geometry {
        /// Moves `point` along `axis`.
        10 => fn shift(point: Point, axis: Axis, by: i32,) -> Point;
        /// Fails with a kernel error.
        20 => fn fail() -> u8;
        /// Many arguments of many types.
        4294967295 => fn mixed(a: u8, b: Option<bool>, c: (u16, char), d: Vec<Point>, e: f64) -> (u64, String);
    }
}

struct Plane;

impl Empty::Server for Plane {}

impl Geometry::Server for Plane {
    fn shift(
        &mut self,
        point: Point,
        axis: Axis,
        by: i32,
    ) -> core::result::Result<Point, RemoteError> {
        let x = if axis == Axis::X {
            point.x + by
        } else {
            point.x
        };
        let y = if axis == Axis::Y {
            point.y + by
        } else {
            point.y
        };
        Ok(Point { x, y })
    }

    fn fail(&mut self) -> core::result::Result<u8, RemoteError> {
        Err(abide_abi::syscall::Error::PeerClosed.into())
    }

    fn mixed(
        &mut self,
        a: u8,
        b: Option<bool>,
        c: (u16, char),
        d: Vec<Point>,
        e: f64,
    ) -> core::result::Result<(u64, String), RemoteError> {
        Ok((
            u64::from(a) + u64::from(c.0) + d.len() as u64,
            format!("{b:?} {} {e}", c.1),
        ))
    }
}

#[test]
fn empty_interface_answers_unknown_method() {
    assert_eq!(Empty::ORDINALS, &[] as &[u32]);
    let request = wire::encode_message(&Header::request(1, 2), &()).unwrap();
    let reply = Empty::dispatch(&mut Plane, &request);
    assert_eq!(
        abide_ipc::client::decode_reply::<()>(&reply, Some(2)),
        Err(CallError::Remote(RemoteError::UnknownMethod(1)))
    );
    assert_eq!(
        Empty::Request::decode_args(0, &[]),
        Err(RemoteError::UnknownMethod(0))
    );
}

#[test]
fn user_types_round_trip() {
    let request = Geometry::shift::encode(1, Point { x: 1, y: 2 }, Axis::Y, -5).unwrap();
    let reply = Geometry::dispatch(&mut Plane, &request);
    assert_eq!(
        Geometry::shift::decode_reply(&reply, Some(1)),
        Ok(Point { x: 1, y: -3 })
    );
}

#[test]
fn many_arguments() {
    assert_eq!(Geometry::mixed::ORDINAL, u32::MAX);
    let request =
        Geometry::mixed::encode(3, 1, Some(true), (2, 'é'), vec![Point { x: 0, y: 0 }], 0.5)
            .unwrap();
    let reply = Geometry::dispatch(&mut Plane, &request);
    assert_eq!(
        Geometry::mixed::decode_reply(&reply, Some(3)),
        Ok((4, "Some(true) é 0.5".to_string()))
    );
}

#[test]
fn kernel_errors_travel() {
    let reply = Geometry::dispatch(&mut Plane, &Geometry::fail::encode(8).unwrap());
    let error = Geometry::fail::decode_reply(&reply, Some(8)).unwrap_err();
    let CallError::Remote(remote) = error else {
        panic!("expected a remote error, got {error:?}");
    };
    assert_eq!(
        remote.kernel_error(),
        Some(abide_abi::syscall::Error::PeerClosed)
    );
}
