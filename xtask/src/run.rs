//! Running a child process: its output streams to ours as it comes, and every line is also
//! read as libtest output, so that a test program's run can be judged (`libtest`).

use std::io::{self, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::libtest::{Ending, Output};

/// Runs `cmd` to completion; true if it exited with status 0.
pub fn run(cmd: &mut Command) -> bool {
    let (ending, _) = run_program(cmd);
    ending == Some(Ending::Exit(0))
}

/// Runs `cmd` to completion: how it ended (None: it could not be started or waited for,
/// which is said on stderr) and what it printed, read as libtest output.
pub fn run_program(cmd: &mut Command) -> (Option<Ending>, Output) {
    run_limited(cmd, None)
}

/// Runs a test program like `run_program`, in a process group of its own, for at most
/// `limit`: then the whole group is killed (`Ending::TimedOut`). When the program ends,
/// whatever it forked and left running is killed too: it would hold the output pipes open
/// and hang the lane, and it belongs to no test any more.
pub fn run_test_program(cmd: &mut Command, limit: Duration) -> (Option<Ending>, Output) {
    cmd.process_group(0);
    run_limited(cmd, Some(limit))
}

fn run_limited(cmd: &mut Command, limit: Option<Duration>) -> (Option<Ending>, Output) {
    eprintln!("--> {}", describe(cmd));
    // CI has no stdin, and nothing here should wait for a person.
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            eprintln!("cannot start {}: {e}", cmd.get_program().to_string_lossy());
            return (None, Output::default());
        }
    };
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    // One thread per pipe: reading only one could deadlock on the other.
    let (mut out, err, waited) = thread::scope(|s| {
        let out = s.spawn(|| relay(stdout, io::stdout()));
        let err = s.spawn(|| relay(stderr, io::stderr()));
        let waited = wait(&mut child, limit);
        if limit.is_some() {
            kill_group(child.id());
        }
        (
            out.join().expect("relay thread"),
            err.join().expect("relay thread"),
            waited,
        )
    });
    out.absorb(err);
    let ending = match waited {
        Ok((_, true)) => {
            let limit = limit.expect("only a limited run times out");
            eprintln!("killed after {limit:?}: {}", describe(cmd));
            Some(Ending::TimedOut(limit.as_secs()))
        }
        Ok((status, false)) => {
            if !status.success() {
                eprintln!("command failed ({status}): {}", describe(cmd));
            }
            match (status.code(), status.signal()) {
                (Some(code), _) => Some(Ending::Exit(code)),
                (None, Some(signal)) => Some(Ending::Signal(signal)),
                (None, None) => None,
            }
        }
        Err(e) => {
            eprintln!(
                "cannot wait for {}: {e}",
                cmd.get_program().to_string_lossy()
            );
            None
        }
    };
    (ending, out)
}

/// Waits for `child`, for at most `limit`; past it, kills the child's process group. The
/// status, and whether it was killed for time.
fn wait(child: &mut Child, limit: Option<Duration>) -> io::Result<(ExitStatus, bool)> {
    let Some(limit) = limit else {
        return child.wait().map(|status| (status, false));
    };
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok((status, false));
        }
        if Instant::now() >= deadline {
            kill_group(child.id());
            // Should kill(1) be missing, at least the program itself ends.
            let _ = child.kill();
            return child.wait().map(|status| (status, true));
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// SIGKILL to every process left in the group `group` (xtask has no libc binding, so
/// through kill(1); an empty group is no error worth saying).
fn kill_group(group: u32) {
    let _ = Command::new("kill")
        .args(["-s", "KILL", "--", &format!("-{group}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Copies `from` to `to` chunk by chunk (so a half-written line such as
/// libtest's `test name ... ` shows up at once), counting whole lines.
fn relay(mut from: impl Read, mut to: impl Write) -> Output {
    let mut output = Output::default();
    let mut buf = [0u8; 8192];
    let mut line = Vec::new();
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        // Our own terminal going away must not stop the child's pipe draining.
        let _ = to.write_all(&buf[..n]).and_then(|()| to.flush());
        for &byte in &buf[..n] {
            if byte == b'\n' {
                output.observe(&String::from_utf8_lossy(&line));
                line.clear();
            } else {
                line.push(byte);
            }
        }
    }
    if !line.is_empty() {
        output.observe(&String::from_utf8_lossy(&line));
    }
    output
}

/// The command as a shell line, with the environment variables it sets, so
/// that it can be copied and rerun by hand (from the workspace root).
pub fn describe(cmd: &Command) -> String {
    let envs = cmd
        .get_envs()
        .filter_map(|(k, v)| Some((k, v?)))
        .map(|(k, v)| format!("{}={}", k.to_string_lossy(), quote(&v.to_string_lossy())));
    let words = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|w| quote(&w.to_string_lossy()));
    envs.chain(words).collect::<Vec<_>>().join(" ")
}

fn quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_=+./:,@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `script` with sh as a test program limited to `limit`: how it ended, and whether
    /// that took under 10 s (every script here would take 30 s if anything waited for it).
    fn run_sh(script: &str, limit: Duration) -> (Option<Ending>, bool) {
        let start = Instant::now();
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        let (ending, _) = run_test_program(&mut cmd, limit);
        (ending, start.elapsed() < Duration::from_secs(10))
    }

    #[test]
    fn a_test_program_past_its_time_limit_is_killed_with_its_children() {
        let script = "sleep 30 & echo 'test a ... ok'; sleep 30";
        let ran = run_sh(script, Duration::from_millis(300));
        assert_eq!(ran, (Some(Ending::TimedOut(0)), true));
    }

    #[test]
    fn what_a_test_program_leaves_running_does_not_hold_the_lane() {
        // The background sleep keeps stdout open after the shell exits.
        let ran = run_sh("sleep 30 & exit 3", Duration::from_secs(60));
        assert_eq!(ran, (Some(Ending::Exit(3)), true));
    }
}
