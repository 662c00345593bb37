//! Splitting a line for `/bin/sh`: the shell's `sh` passes a quoted script
//! as one word.

use abide_datatable::{split_sh_words, UnterminatedQuote};

#[test]
fn splits_sh_words_as_a_unix_shell_quotes() {
    let cases: &[(&str, &[&str])] = &[
        ("sh", &["sh"]),
        (
            "sh -c 'echo hello | wc -c'",
            &["sh", "-c", "echo hello | wc -c"],
        ),
        (
            r#"sh -c "echo hello | wc -c""#,
            &["sh", "-c", "echo hello | wc -c"],
        ),
        (r#"sh -c 'a "b" c'"#, &["sh", "-c", r#"a "b" c"#]),
        (
            r#"sh -c "a 'b' \"c\" \$x \n""#,
            &["sh", "-c", r#"a 'b' "c" $x \n"#],
        ),
        (r"a\ b c\'d", &["a b", "c'd"]),
        ("x'y z'w ''", &["xy zw", ""]),
        ("sh -c 'i=0; echo $i' &", &["sh", "-c", "i=0; echo $i", "&"]),
    ];
    for &(line, words) in cases {
        let split: Vec<String> = split_sh_words(line)
            .unwrap()
            .into_iter()
            .map(|word| word.text)
            .collect();
        assert_eq!(split, words, "{line:?}");
    }
    let amps: Vec<bool> = split_sh_words("a & '&' \\& &&")
        .unwrap()
        .iter()
        .map(|word| word.unquoted_amp)
        .collect();
    assert_eq!(amps, [false, true, false, false, false]);
    for line in ["sh -c 'open", r#"sh -c "open"#, r#"sh "a\"#] {
        assert_eq!(split_sh_words(line), Err(UnterminatedQuote), "{line:?}");
    }
}
