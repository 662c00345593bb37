//! Address notation: `bb:dd.f`, printed and parsed.

use abide_pci::Address;

#[test]
fn address_displays_like_lspci() {
    assert_eq!(Address::new(0, 0x1F, 3).to_string(), "00:1f.3");
    assert_eq!(Address::new(0xAB, 1, 0).to_string(), "ab:01.0");
}

#[test]
fn addresses_parse_and_print() {
    let parsed = |text| Address::parse(text).map(|a| (a.bus, a.device, a.function));
    assert_eq!(parsed("00:1f.2"), Ok((0, 0x1f, 2)));
    assert_eq!(parsed("0:2.0"), Ok((0, 2, 0)));
    assert_eq!(parsed("0000:ff:1F.7"), Ok((0xff, 0x1f, 7)));
    for (bus, device, function) in [(0, 0, 0), (1, 31, 7), (255, 2, 3)] {
        let address = Address::new(bus, device, function);
        assert_eq!(Address::parse(&address.to_string()), Ok(address));
    }
}

#[test]
fn bad_addresses_say_what_is_expected() {
    for bad in [
        "",
        "1f.2",
        "00:1f",
        "00:1f.",
        "x0:1f.2",
        "00:1f.2.3",
        "000:1f.2",
        "00:1f.22",
        "00:+1.2",
        "0000:00:00:00.0",
    ] {
        let error = Address::parse(bad).unwrap_err();
        assert!(error.contains("is not a PCI address"), "{bad}: {error}");
    }
    assert!(Address::parse("00:20.0").unwrap_err().contains("00..1f"));
    assert!(Address::parse("00:1f.8").unwrap_err().contains("0..7"));
    assert!(Address::parse("0001:00:1f.2")
        .unwrap_err()
        .contains("domain 0"));
}
