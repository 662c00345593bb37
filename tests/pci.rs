//! System test: the PCI bus service (`user/programs/pci`) lists the
//! functions of QEMU's q35 machine and hands one function's capabilities to
//! the one component that claims it.
//!
//! The shell claims with `lspci claim`, which keeps the handles the reply
//! carried in the shell's own handle table. `caps` (init reading that table
//! from the kernel) must show each of them with the kind the claim said it
//! is; a second claim must be refused while the first holds; a release
//! must take the device handles away again (they are revoked), and the
//! claim must survive a crash of the bus service.

mod support;

use support::*;

/// Boots the default system and waits for the shell's prompt.
fn boot() -> Session {
    let mut session = step(Session::boot(BootOptions::default()));
    step(session.expect(host::SHELL_PROMPT, BOOT));
    session
}

/// Sends `line` and waits until the answer contains `reply` and the next
/// prompt follows it; returns the output since the line was sent.
fn run(session: &mut Session, line: &str, reply: &str) -> String {
    let before = session.output().len();
    step(session.send(&format!("{line}\n")));
    step(session.expect_next(reply, REPLY));
    step(session.expect_next(host::SHELL_PROMPT, REPLY));
    session.output()[before..].to_string()
}

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

/// The number on the line after the `id` header.
fn ps_id(output: &str) -> u64 {
    output
        .lines()
        .skip_while(|line| line.trim() != "id")
        .nth(1)
        .and_then(|line| line.trim().parse().ok())
        .unwrap_or_else(|| panic!("no id in:\n{output}"))
}

#[test]
fn lspci_lists_the_bus_and_a_device_is_claimed_once() {
    let mut session = boot();

    // q35's own functions: the MCH host bridge and the ICH9's LPC (ISA)
    // bridge, AHCI controller and SMBus controller.
    let list = run(&mut session, "lspci", "SATA controller");
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
    let claim = run(&mut session, "lspci claim 00:1f.2", "lease");
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
    let shell = ps_id(&run(
        &mut session,
        "ps | where name == shell | select id",
        "id",
    ));
    let caps_line = format!("caps {shell}");
    let caps = run(&mut session, &caps_line, "rights");
    let held = handle_rows(&caps);
    for row in &granted {
        assert!(
            held.contains(row),
            "{row:?} is not in the shell's table:\n{caps}"
        );
    }

    // One claim at a time; the listing names the claimant.
    run(
        &mut session,
        "lspci claim 00:1f.2",
        "error: 00:1f.2 is claimed by shell",
    );
    run(
        &mut session,
        "lspci | where claimed == shell | select address claimed",
        "00:1f.2",
    );

    // Bad requests get errors that say what is wrong.
    run(
        &mut session,
        "lspci claim 00:1f.7",
        "no PCI function at 00:1f.7",
    );
    run(
        &mut session,
        "lspci claim bogus",
        "`bogus` is not a PCI address",
    );
    run(&mut session, "lspci frob", "usage: lspci");

    // A release revokes what the claim granted: no device handle is left in
    // the shell's table, and the function can be claimed again.
    run(&mut session, "lspci release 00:1f.2", "released 00:1f.2");
    let caps = run(&mut session, &caps_line, "rights");
    for (handle, kind) in handle_rows(&caps) {
        assert!(
            kind != "ioports" && kind != "interrupt",
            "handle {handle} ({kind}) outlived the release:\n{caps}"
        );
    }
    run(&mut session, "lspci | where claimed == shell", "(no rows)");
    run(&mut session, "lspci claim 00:1f.2", "ioports");

    // The bus service keeps its claims across its own restart.
    run(&mut session, "crash pci", "pci faulted (injected)");
    run(
        &mut session,
        "lspci | where claimed == shell | select address",
        "00:1f.2",
    );
    run(&mut session, "lspci release 00:1f.2", "released 00:1f.2");
    run(&mut session, "lspci | where claimed == shell", "(no rows)");

    step(session.send("poweroff\n"));
    let status = step(session.wait_exit(REPLY));
    let output = session.output();
    assert_kernel_healthy(&output);
    assert_eq!(status, 0, "output:\n{output}");
}
