//! System test: the PCI bus service (`user/drivers/pci`) lists the
//! functions of QEMU's q35 machine and hands one function's capabilities to
//! the one component that claims it.
//!
//! The shell claims with `lspci claim`, which keeps the handles the reply
//! carried in the shell's own handle table. `caps` (init reading that table
//! from the kernel) must show each of them with the kind the claim said it
//! is; a second claim must be refused while the first holds; a release
//! must take the device handles away again (they are revoked), and the
//! claim must survive a crash of the bus service.
//!
//! Drives: `user/drivers/pci` and `user/apps/shell` (`lspci`), with `user/init`
//! (`caps`), in the default system: `user/init`,
//! `user/drivers/{serial,vga,pci}`, `user/services/{log,kv,counter}`,
//! `user/apps/shell`. Configs: `system/default.conf`.

mod support;

use support::*;

/// The (handle, kind) rows of a table whose first two columns are those:
/// `lspci claim`'s and `caps`'.
fn handle_rows(output: &str) -> Vec<(u32, String)> {
    output
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let handle = words.next()?.parse().ok()?;
            Some((handle, words.next()?.to_string()))
        })
        .collect()
}

#[test]
fn lspci_lists_the_bus_and_a_device_is_claimed_once() {
    let mut session = boot_to_shell(BootOptions::default());

    // q35's own functions: the MCH host bridge and the ICH9's LPC (ISA)
    // bridge, AHCI controller and SMBus controller.
    let list = command(&mut session, "lspci", "SATA controller");
    for needle in [
        "address",
        "vendor",
        "bars",
        "claimed",
        "00:00.0  8086    29c0",
        "Host bridge",
        "00:1f.0  8086    2918",
        "ISA bridge",
        "00:1f.2  8086    2922",
        "SMBus",
    ] {
        assert_contains(&list, needle);
    }
    // The AHCI controller's row ends with its IRQ and its (absent) claimant.
    let ahci = list
        .lines()
        .find(|line| line.starts_with("00:1f.2"))
        .unwrap_or_else(|| panic!("no 00:1f.2 row in:\n{list}"));
    let words: Vec<&str> = ahci.split_whitespace().collect();
    let (irq, claimant) = (words[words.len() - 2], words[words.len() - 1]);
    assert_eq!(claimant, "-", "claimed at boot:\n{list}");
    assert_contains(ahci, "io ");
    assert_contains(ahci, "mem ");

    // Its claim: the lease, I/O BAR 4, memory BAR 5 and the IRQ line.
    let claim = command(&mut session, "lspci claim 00:1f.2", "lease");
    let granted = handle_rows(&claim);
    let kinds: Vec<&str> = granted.iter().map(|(_, kind)| kind.as_str()).collect();
    let mut expected = vec!["channel", "ioports", "memory"];
    if irq != "-" {
        expected.push("interrupt");
        assert_contains(&claim, &format!("IRQ {irq}"));
    }
    assert_eq!(kinds, expected, "the claim's handles:\n{claim}");
    assert_contains(&claim, "BAR 4: ports 0x");
    assert_contains(&claim, "BAR 5: memory 0x");
    assert!(!claim.contains("withheld"), "withheld:\n{claim}");

    // The handles are in the shell's table, each of the kind the reply
    // said (the kernel's view, through init).
    let shell = id_of(&command(
        &mut session,
        "ps | where name == shell | select id",
        "id",
    ));
    let caps_line = format!("caps {shell}");
    let caps = command(&mut session, &caps_line, "rights");
    let held = handle_rows(&caps);
    for row in &granted {
        assert!(
            held.contains(row),
            "{row:?} is not in the shell's table:\n{caps}"
        );
    }

    // One claim at a time; the listing names the claimant.
    command(
        &mut session,
        "lspci claim 00:1f.2",
        "error: 00:1f.2 is claimed by shell",
    );
    command(
        &mut session,
        "lspci | where claimed == shell | select address claimed",
        "00:1f.2",
    );

    // Bad requests get errors that say what is wrong.
    command(
        &mut session,
        "lspci claim 00:1f.7",
        "no PCI function at 00:1f.7",
    );
    command(
        &mut session,
        "lspci claim bogus",
        "`bogus` is not a PCI address",
    );
    command(&mut session, "lspci frob", "usage: lspci");

    // A release revokes what the claim granted: no device handle is left in
    // the shell's table, and the function can be claimed again.
    command(&mut session, "lspci release 00:1f.2", "released 00:1f.2");
    let caps = command(&mut session, &caps_line, "rights");
    for (handle, kind) in handle_rows(&caps) {
        assert!(
            kind != "ioports" && kind != "interrupt",
            "handle {handle} ({kind}) outlived the release:\n{caps}"
        );
    }
    command(&mut session, "lspci | where claimed == shell", "(no rows)");
    command(&mut session, "lspci claim 00:1f.2", "ioports");

    // The bus service keeps its claims across its own restart.
    command(&mut session, "crash pci", "pci faulted (injected)");
    command(
        &mut session,
        "lspci | where claimed == shell | select address",
        "00:1f.2",
    );
    command(&mut session, "lspci release 00:1f.2", "released 00:1f.2");
    command(&mut session, "lspci | where claimed == shell", "(no rows)");

    step(session.send("poweroff\n"));
    let status = step(session.wait_exit(REPLY));
    let output = session.output();
    assert_kernel_healthy(&output);
    assert_eq!(status, 0, "output:\n{output}");
}

/// The process id in a `ps | … | select id` answer.
fn id_of(output: &str) -> u64 {
    first_number(output, "id")
}
