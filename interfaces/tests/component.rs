//! The ids servers key their clients by.

use abide_interfaces::component::client_id;

#[test]
fn client_ids_are_fnv1a_of_the_name_and_never_zero() {
    assert_eq!(client_id(""), 0x811c_9dc5);
    assert_eq!(client_id("a"), 0xe40c_292c);
    assert_ne!(client_id("shell"), client_id("vga-shell"));
    assert_ne!(client_id("x"), 0);
}
