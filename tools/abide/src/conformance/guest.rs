//! The shell scripts that run inside the guest — the same text on the Linux
//! peer and on Abide — and the marker lines they print so the host finds
//! the run's output on the serial console.
//!
//! The suite's output goes to the console through `tee` and to a log file in
//! the guest's `/tmp`; at the end the guest counts the result lines of that
//! file itself ([`COUNTS`]) and the host checks its own count of what
//! arrived against it, so output lost or garbled on the way is noticed
//! instead of being taken for failures.

/// The driver's file name inside `/suite` (and `/diff`).
pub const DRIVER_NAME: &str = "run";
/// Printed before the suite starts.
pub const BEGIN: &str = "@@conformance begin";
/// `@@conformance counts PASS FAIL SKIPPED`, the guest's own count.
pub const COUNTS: &str = "@@conformance counts";
/// Printed when the run is over.
pub const END: &str = "@@conformance end";

/// The command of `../shared/conformance/README.md`, for these applets.
pub fn suite_command(applets: &[String]) -> String {
    format!(
        "cd /suite/testsuite && SKIP_INTERNET_TESTS=1 PATH=/bin ./runtest -v {}",
        applets.join(" ")
    )
}

/// `/suite/run`: the README's command, its output on the console and in
/// `/tmp/conformance.log`, then the guest's count of the result lines.
/// Standard input is `/dev/null` so no case can wait on the console.
pub fn suite_driver(applets: &[String]) -> String {
    format!(
        "#!/bin/sh\n\
         # The busybox test suite, run by `abide conformance` (tools/abide/src/conformance).\n\
         PATH=/bin\n\
         log=/tmp/conformance.log\n\
         echo '{BEGIN}'\n\
         ( {} ) </dev/null 2>&1 | tee $log\n\
         echo \"{COUNTS} $(grep -c '^PASS: ' $log) $(grep -c '^FAIL: ' $log) $(grep -c '^SKIPPED: ' $log)\"\n\
         echo '{END}'\n",
        suite_command(applets)
    )
}

/// Printed when the differential driver starts.
pub const DIFF_START: &str = "@@diff start";
/// Printed before a differential script's standard output: `@@diff begin NAME`.
pub const DIFF_BEGIN: &str = "@@diff begin";
/// Printed after it: `@@diff end NAME STATUS` (it may follow output that
/// has no final newline on the same line).
pub const DIFF_END: &str = "@@diff end";
/// Printed when every script has run.
pub const DIFF_DONE: &str = "@@diff done";
/// The longest one differential script may run, in seconds (busybox
/// `timeout`; a script killed so exits with 143 on both systems).
pub const DIFF_SCRIPT_TIMEOUT_S: u32 = 300;

/// `/diff/run`: each `/diff/*.sh` in name order, in a fresh empty working
/// directory, standard input `/dev/null`, standard error discarded; its
/// standard output between the markers and its exit status.
pub fn diff_driver() -> String {
    format!(
        "#!/bin/sh\n\
         # The differential suite, run by `abide conformance --diff` (tools/abide/src/conformance).\n\
         PATH=/bin\n\
         echo '{DIFF_START}'\n\
         for f in /diff/*.sh; do\n\
         \tname=${{f##*/}}\n\
         \trm -rf /tmp/diff.work && mkdir /tmp/diff.work\n\
         \t(cd /tmp/diff.work && timeout {DIFF_SCRIPT_TIMEOUT_S} sh \"$f\" </dev/null >/tmp/diff.out 2>/dev/null)\n\
         \tstatus=$?\n\
         \techo \"{DIFF_BEGIN} $name\"\n\
         \tcat /tmp/diff.out\n\
         \techo \"{DIFF_END} $name $status\"\n\
         done\n\
         rm -rf /tmp/diff.work /tmp/diff.out\n\
         echo '{DIFF_DONE}'\n"
    )
}

/// The Linux peer's `/init`: procfs, the driver `driver` (a guest path),
/// and power off.
pub fn linux_init(driver: &str) -> String {
    format!(
        "#!/bin/sh\n\
         # The Linux peer of `abide conformance`: mount procfs, run the driver, power off.\n\
         PATH=/bin\n\
         mount -t proc proc /proc\n\
         sh {driver}\n\
         poweroff -f\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_is_the_readmes() {
        let applets = ["cat".to_string(), "ash".to_string()];
        assert_eq!(
            suite_command(&applets),
            "cd /suite/testsuite && SKIP_INTERNET_TESTS=1 PATH=/bin ./runtest -v cat ash"
        );
        let driver = suite_driver(&applets);
        assert!(driver.contains(&suite_command(&applets)));
        assert!(driver.contains(BEGIN) && driver.contains(COUNTS) && driver.contains(END));
    }

    #[test]
    fn the_diff_driver_marks_each_script() {
        let driver = diff_driver();
        assert!(driver.contains("for f in /diff/*.sh; do\n\tname=${f##*/}\n"));
        assert!(driver.contains("echo \"@@diff end $name $status\""));
        assert!(linux_init("/diff/run").contains("sh /diff/run\npoweroff -f\n"));
    }
}
