//! The Linux workload of the power-cut loop (`crashtest --unix`): a busybox
//! shell loop, started once in the background of the Unix personality,
//! that counts into `/home/n` (a file in `unix`'s RAM file system, which
//! persists because `unix` does). After every boot it must be the same
//! process (same pid in `unix ps`), still counting, and `/home/n` must not
//! have gone back past what it held before the last `sync`.

use std::time::Duration;

use crate::session::Session;

/// The shell line that starts the loop: the script, in the
/// background.
pub const LOOP_LINE: &str =
    "sh -c 'i=0; while :; do i=$((i+1)); echo $i > /home/n; sleep 0.05; done' &";

/// Reads of an empty `/home/n` before giving up: a checkpoint may fall
/// between the loop's truncation of the file and its write.
const EMPTY_READS: u32 = 10;

/// How long to wait between two reads that must differ (the loop writes
/// every 50 ms or so, slower under TCG on a loaded machine).
const RUNNING_WAIT: Duration = Duration::from_millis(1500);

/// What the loop must keep from boot to boot.
#[derive(Debug, Default)]
pub struct UnixLoop {
    /// The loop's pid, from the first boot.
    pid: Option<u64>,
    /// `/home/n` as read before the last completed `sync`.
    synced: u64,
    /// The highest value read.
    pub highest: u64,
}

impl UnixLoop {
    /// After a boot: starts the loop on the first, else checks it is the
    /// same process, did not go back and still counts.
    pub fn after_boot(&mut self, session: &mut Session) -> Result<(), String> {
        let Some(pid) = self.pid else {
            let reply = super::command(session, LOOP_LINE)?;
            if reply.contains("error") || reply.contains("exit status") {
                return Err(format!("the loop did not start: {reply:?}"));
            }
            let first = self.read(session)?;
            self.pid = Some(loop_pid(&super::command(session, "unix ps")?)?);
            std::thread::sleep(RUNNING_WAIT);
            return self.still_counting(session, first);
        };
        let now = loop_pid(&super::command(session, "unix ps")?)?;
        if now != pid {
            return Err(format!(
                "the loop was pid {pid}, is pid {now} after the resume"
            ));
        }
        let value = self.read(session)?;
        if value < self.synced {
            return Err(format!(
                "/home/n went back: {value} after a sync saw {}",
                self.synced
            ));
        }
        std::thread::sleep(RUNNING_WAIT);
        self.still_counting(session, value)
    }

    /// Before a `sync`: what `/home/n` holds (the sync keeps at least it).
    pub fn before_sync(&mut self, session: &mut Session) -> Result<u64, String> {
        self.read(session)
    }

    /// The `sync` after [`before_sync`](Self::before_sync) completed.
    pub fn synced(&mut self, value: u64) {
        self.synced = value;
    }

    fn still_counting(&mut self, session: &mut Session, before: u64) -> Result<(), String> {
        let after = self.read(session)?;
        if after <= before {
            return Err(format!("the loop stopped: /home/n stayed at {before}"));
        }
        Ok(())
    }

    /// `/home/n`, read by `cat` (again while it is empty).
    fn read(&mut self, session: &mut Session) -> Result<u64, String> {
        for _ in 0..EMPTY_READS {
            let reply = super::command(session, "sh -c 'cat /home/n'")?;
            if let Some(value) = last_number_line(&reply) {
                self.highest = self.highest.max(value);
                return Ok(value);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err("/home/n stayed empty".into())
    }
}

/// The last line of `reply` that is a number alone.
fn last_number_line(reply: &str) -> Option<u64> {
    reply
        .lines()
        .filter_map(|line| line.trim().parse().ok())
        .next_back()
}

/// The loop's pid in a `unix ps` table: of the processes running the
/// loop's script (a child forked to run `sleep` shows the script too until
/// it execs), the one whose parent does not.
pub fn loop_pid(ps: &str) -> Result<u64, String> {
    // Rows: pid ppid pgid sid state mem command...
    let rows: Vec<(u64, u64)> = ps
        .lines()
        .filter(|line| line.contains("while :") && !line.contains("$@"))
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let pid = words.next()?.parse().ok()?;
            let ppid = words.next()?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect();
    let roots: Vec<u64> = rows
        .iter()
        .filter(|(_, ppid)| !rows.iter().any(|(pid, _)| pid == ppid))
        .map(|(pid, _)| *pid)
        .collect();
    match roots.as_slice() {
        [pid] => Ok(*pid),
        [] => Err(format!("no loop in unix ps:\n{ps}")),
        _ => Err(format!("more than one loop in unix ps:\n{ps}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_loop_not_its_forked_child_nor_the_starter() {
        let ps = "\
pid  ppid  pgid  sid  state  mem      command
1    0     1     1    S      3.1 MiB  /bin/sh -c \"$@\" & sh /bin/sh -c i=0; while :; do i=$((i+1)); done
7    1     7     7    S      3.2 MiB  /bin/sh -c i=0; while :; do i=$((i+1)); done
9    7     7     7    R      3.2 MiB  /bin/sh -c i=0; while :; do i=$((i+1)); done
10   7     7     7    S      1.0 MiB  sleep 0.05
";
        assert_eq!(loop_pid(ps), Ok(7));
        assert!(loop_pid("pid ppid\n").is_err());
    }

    #[test]
    fn reads_the_number_cat_printed() {
        let reply = "sh -c 'cat /home/n'\r\n1234\r\nabide$ ";
        assert_eq!(last_number_line(reply), Some(1234));
        assert_eq!(last_number_line("sh -c 'cat /home/n'\nabide$ "), None);
    }
}
