//! System tests: the second real program of the Unix personality, Debian's
//! static bash (`/bin/bash` of the root tree), runs unmodified. A script
//! (arrays, `[[ ]]`, brace expansion, `$(( ))`, functions and `local`,
//! here-strings, process substitution through `/dev/fd`, pipelines of
//! busybox applets, `$BASH_VERSION`, exit status) runs from busybox's
//! `sh` as `bash FILE`; `bash -c` runs from `sh -c` and from the Abide
//! shell's own `bash`; and an interactive bash on the console ends with
//! `exit`, back to `abide$`.
//!
//! Drives: the default system (`user/services/unix`, `user/apps/shell`)
//! with the root tree and the script in an `--add` directory. Configs:
//! `system/default.conf`.

mod support;

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use abide_tool::rootfs::{AddSpec, RootTree};
use support::*;

/// The script bash runs: each line of its output names what it shows.
const SCRIPT: &str = r#"# Each line of output names the feature it shows.
trap 'echo "trap EXIT"' EXIT
echo "version ${BASH_VERSION%%(*}"
fruits=(apple banana cherry)
fruits+=(date)
echo "array ${#fruits[@]} ${fruits[1]} ${fruits[*]: -1} ${!fruits[*]}"
declare -A colour=([sky]=blue [grass]=green)
echo "assoc ${colour[sky]} ${#colour[@]}"
x=abc
if [[ $x == a* && -n $x && ! -e /nonexistent ]]; then echo "test [[ ]] yes"; fi
[[ "hello123" =~ ^([a-z]+)([0-9]+)$ ]] && echo "regex ${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
echo brace {a,b,c} {1..5} {x..z} pre{1,2}post
echo "arith $(( 6 * 7 )) $(( 2 ** 10 )) $(( 17 % 5 )) $(( (3 + 4) << 2 ))"
declare -i counter=10; counter+=5; echo "integer $counter"
count() { local n=$1 total=0; for ((i = 1; i <= n; i++)); do total=$((total + i)); done; echo "$total"; }
fact() { if (( $1 <= 1 )); then echo 1; else echo $(( $1 * $(fact $(( $1 - 1 ))) )); fi; }
n=outer
f() { local n=inner; echo "local $n"; }
f
echo "function after $n sum $(count 10) fact $(fact 6)"
read -r a b <<< "here string"
echo "here-string $a/$b"
echo "expansion ${x^^} ${x/b/B} ${#x} ${x:1:1} ${unset:-default}"
printf -v padded '%05d' 42; echo "printf-v $padded"
mapfile -t lines < <(printf 'one\ntwo\nthree\n')
echo "mapfile ${#lines[@]} ${lines[2]}"
case $x in a*) echo "case a*";; *) echo "case other";; esac
printf 'c\nb\na\nb\n' | sort | uniq | tr '\n' ' ' | sed 's/ $/\n/'
echo "pipeline $(seq 1 100 | grep 7 | wc -l)"
echo "process-substitution $(cat <(echo from-fd))"
diff <(printf '1\n2\n') <(printf '1\n2\n') && echo "diff same"
sleep 0.1 & wait $!; echo "wait $?"
false; echo "status $?"
( exit 7 ); echo "subshell $?"
set -o pipefail; false | true; echo "pipefail $?"
exit 5
"#;

/// What the script prints: Debian's bash-static 5.2.15 on Linux prints the
/// same (then exits with 5).
const EXPECTED: &str = "version 5.2.15
array 4 banana date 0 1 2 3
assoc blue 2
test [[ ]] yes
regex hello 123
brace a b c 1 2 3 4 5 x y z pre1post pre2post
arith 42 1024 2 28
integer 15
local inner
function after outer sum 55 fact 720
here-string here/string
expansion ABC aBc 3 b default
printf-v 00042
mapfile 3 three
case a*
a b c
pipeline 19
process-substitution from-fd
diff same
wait 0
status 1
subshell 7
pipefail 1
trap EXIT
";

/// Time for the whole script.
const SCRIPT_RUN: Duration = Duration::from_secs(180);

/// A host directory holding the script, for `--add` at `/opt/bash`.
fn script_dir() -> PathBuf {
    let dir = fresh_add_dir("unix-bash");
    fs::write(dir.join("features.sh"), SCRIPT).unwrap();
    dir
}

/// The lines a command printed: those after the echoed command line, up
/// to (without) the line holding `last`, without carriage returns.
fn printed(output: &str, last: &str) -> String {
    output
        .lines()
        .skip(1)
        .map(|line| line.trim_end_matches('\r'))
        .take_while(|line| !line.contains(last))
        .map(|line| format!("{line}\n"))
        .collect()
}

#[test]
fn bash_runs_scripts_and_interactively() {
    let dir = script_dir();
    let spec: AddSpec = format!("{}:/opt/bash", dir.display()).parse().unwrap();
    let mut session = boot_to_shell(BootOptions {
        root_tree: RootTree::Required,
        add: vec![spec],
        ..BootOptions::default()
    });

    // `bash FILE` from busybox's sh (two dozen forks and execs: longer
    // than one console command under TCG on a loaded machine).
    let before = session.output().len();
    step(session.send("sh -c 'bash /opt/bash/features.sh'\n"));
    step(session.expect_next("exit status 5", SCRIPT_RUN));
    step(session.expect_next(host::SHELL_PROMPT, REPLY));
    let output = session.output()[before..].to_string();
    assert_eq!(printed(&output, "exit status 5"), EXPECTED, "{output}");

    // `bash -c` from `sh -c`, and from the Abide shell's own `bash`.
    command(
        &mut session,
        "sh -c \"bash -c 'echo \\$BASH_VERSION'\"",
        "5.2.15(1)-release",
    );
    command(
        &mut session,
        "bash -c 'for w in one two three; do echo $w; done | wc -l'",
        "3",
    );
    command(&mut session, "bash -c 'exit 4'", "exit status 4");

    // Interactive: bash's own prompt on the console, `exit` returns.
    step(session.send("bash\n"));
    step(session.expect_next("bash-5.2# ", REPLY));
    step(session.send("echo $(( 6 * 7 ))\n"));
    step(session.expect_next("42", REPLY));
    step(session.expect_next("bash-5.2# ", REPLY));
    step(session.send("exit\n"));
    step(session.expect_next(host::SHELL_PROMPT, REPLY));

    let stats = command(&mut session, "unix stats", "calls");
    eprintln!("{stats}");
    assert_kernel_healthy(&session.output());
    power_off(&mut session);
    fs::remove_dir_all(&dir).unwrap();
}
