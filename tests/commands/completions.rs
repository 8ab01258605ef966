//! `ykmfa completions` and `ykmfa man`: every shell's script and the man page are generated from
//! the real binary and must name every command `ykmfa --help` lists, so a command added later is
//! covered without touching this file. The bash script is loaded into a real bash and asked to
//! complete; the man page is rendered by groff with every warning on.

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const SHELLS: [&str; 5] = ["bash", "zsh", "fish", "powershell", "elvish"];

fn ykmfa(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ykmfa"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run ykmfa")
}

fn stdout_of(args: &[&str]) -> String {
    let out = ykmfa(args);
    assert!(
        out.status.success(),
        "ykmfa {args:?} failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// The commands `ykmfa --help` lists (without clap's own `help`).
fn subcommands() -> Vec<String> {
    let help = stdout_of(&["--help"]);
    let names: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        // A command's line starts with two spaces; its wrapped description with more.
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .map(str::to_owned)
        .collect();
    for expected in ["tokens", "enroll", "completions", "man"] {
        assert!(
            names.iter().any(|n| n == expected),
            "'{expected}' missing from the commands parsed out of --help: {names:?}\n{help}"
        );
    }
    names
}

/// Whether `word` occurs in `text` as a whole word (so "man" in "manifest" does not count).
fn mentions(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && !after.is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

#[test]
fn every_shell_gets_a_script_naming_every_command_and_flag() {
    let commands = subcommands();
    for shell in SHELLS {
        let script = stdout_of(&["completions", shell]);
        assert!(script.len() > 500, "{shell}: a suspiciously short script");
        for command in &commands {
            assert!(
                mentions(&script, command),
                "the {shell} script does not mention '{command}'"
            );
        }
        for flag in ["profile", "serial", "json", "endpoint-url"] {
            // fish names long flags as `-l NAME`, every other shell as `--NAME`.
            let written = match shell {
                "fish" => format!("-l {flag}"),
                _ => format!("--{flag}"),
            };
            assert!(
                script.contains(&written),
                "the {shell} script lacks {written}"
            );
        }
    }
}

#[test]
fn the_word_check_is_not_fooled_by_longer_words() {
    assert!(mentions("'man:Print the man page'", "man"));
    assert!(mentions("ykmfa__man)", "man"));
    assert!(!mentions("a manifest", "man"));
    assert!(!mentions("ykmfa", "man"));
}

/// Loads the bash script into bash and completes `words` (the last one being typed).
fn bash_complete(script: &Path, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source '{}'\nCOMP_WORDS=({})\nCOMP_CWORD={}\nCOMP_LINE=\"${{COMP_WORDS[*]}}\"\nCOMP_POINT=${{#COMP_LINE}}\n_ykmfa ykmfa '{}' '{}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        script.display(),
        quoted.join(" "),
        words.len() - 1,
        words[words.len() - 1],
        words[words.len().saturating_sub(2)],
    );
    let out = Command::new("bash")
        .arg("--norc")
        .arg("-c")
        .arg(program)
        .stdin(Stdio::null())
        .output()
        .expect("run bash");
    assert!(
        out.status.success(),
        "bash failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ykmfa-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn bash_completes_commands_flags_and_shells() {
    let dir = temp_dir("bash-completion");
    let script = dir.join("ykmfa.bash");
    std::fs::write(&script, stdout_of(&["completions", "bash"])).expect("write script");

    let commands = bash_complete(&script, &["ykmfa", "en"]);
    assert_eq!(commands, ["enroll"], "completing 'ykmfa en'");
    let all = bash_complete(&script, &["ykmfa", ""]);
    for command in subcommands() {
        assert!(all.contains(&command), "'{command}' not offered: {all:?}");
    }
    let flags = bash_complete(&script, &["ykmfa", "enroll", "--ser"]);
    assert_eq!(flags, ["--serial"], "completing 'ykmfa enroll --ser'");
    let shells = bash_complete(&script, &["ykmfa", "completions", ""]);
    for shell in SHELLS {
        assert!(shells.iter().any(|s| s == shell), "{shell}: {shells:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn scripts_parse_in_the_shells_installed_here() {
    // bash is always here (the bench needs it); zsh and fish are checked where installed.
    let mut checked = Vec::new();
    for (shell, check) in [("bash", "-n"), ("zsh", "-n"), ("fish", "--no-execute")] {
        if shell != "bash" && Command::new(shell).arg("--version").output().is_err() {
            eprintln!("{shell} is not installed: its script is checked for content only");
            continue;
        }
        let dir = temp_dir(&format!("{shell}-syntax"));
        let path = dir.join("script");
        std::fs::write(&path, stdout_of(&["completions", shell])).expect("write");
        let out = Command::new(shell)
            .arg(check)
            .arg(&path)
            .output()
            .expect("run shell");
        assert!(
            out.status.success(),
            "{shell} rejects its script: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        checked.push(shell);
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(checked.contains(&"bash"));
}

#[test]
fn an_unknown_shell_is_a_usage_error_listing_the_shells() {
    let out = ykmfa(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("invalid value 'tcsh'"), "{stderr}");
    for shell in SHELLS {
        assert!(stderr.contains(shell), "{shell} not listed: {stderr}");
    }
    assert!(out.stdout.is_empty());
}

/// The page's roff skeleton: title, the usual sections, and every command.
fn assert_man_structure(page: &str, commands: &[String]) {
    let mut lines = page
        .lines()
        .filter(|l| !l.starts_with(".ie") && !l.starts_with(".el"));
    let title = lines.next().expect("a title line");
    assert!(title.starts_with(".TH ykmfa 1"), "title: {title}");
    for section in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH DESCRIPTION",
        ".SH OPTIONS",
        ".SH SUBCOMMANDS",
    ] {
        assert!(page.lines().any(|l| l == section), "no '{section}'");
    }
    for command in commands {
        // roff escapes the hyphen.
        let reference = format!("ykmfa\\-{command}(1)");
        assert!(page.contains(&reference), "no {reference} in SUBCOMMANDS");
    }
    assert!(
        page.contains("Exit codes: 0 ok"),
        "the exit codes are missing"
    );
}

/// Renders a page with groff (every warning on) and returns the text.
fn render(page: &[u8]) -> String {
    let mut child = Command::new("groff")
        // -k: UTF-8 input through preconv, as man(1) does; -P-cbou: plain text, no overstrike.
        .args(["-k", "-man", "-Tutf8", "-ww", "-P-cbou"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("groff is needed to render the man page (Debian: groff-base)");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(page).expect("feed groff");
    }
    let out = child.wait_with_output().expect("groff");
    assert!(out.status.success(), "groff failed");
    let warnings = String::from_utf8_lossy(&out.stderr);
    assert!(warnings.trim().is_empty(), "groff warns: {warnings}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_man_page_renders_and_lists_every_command() {
    let commands = subcommands();
    let page = stdout_of(&["man"]);
    assert_man_structure(&page, &commands);
    let text = render(page.as_bytes());
    assert!(text.contains("NAME"), "{text}");
    assert!(
        text.contains("ykmfa - Put AWS IAM MFA on hardware tokens"),
        "{text}"
    );
    for command in &commands {
        assert!(
            text.contains(&format!("ykmfa-{command}(1)")),
            "rendered page lacks ykmfa-{command}(1)"
        );
    }
}

#[test]
fn man_dir_writes_a_page_per_command() {
    let commands = subcommands();
    let dir = temp_dir("man-pages").join("man1");
    let out = ykmfa(&["man", "--dir", dir.to_str().expect("UTF-8 path")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "pages go to the directory only");
    let main = std::fs::read_to_string(dir.join("ykmfa.1")).expect("ykmfa.1");
    assert_eq!(main, stdout_of(&["man"]), "--dir and stdout differ");
    for command in &commands {
        let path = dir.join(format!("ykmfa-{command}.1"));
        let page = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let text = render(&page);
        assert!(
            text.contains(&format!("ykmfa-{command}")),
            "{}: {text}",
            path.display()
        );
    }
    // The enroll page carries its examples and the permissions it needs.
    let enroll = render(&std::fs::read(dir.join("ykmfa-enroll.1")).expect("enroll page"));
    assert!(enroll.contains("--serial"), "{enroll}");
    assert!(enroll.contains("iam:CreateVirtualMFADevice"), "{enroll}");
    let _ = std::fs::remove_dir_all(dir.parent().expect("parent"));
}
