//! Bounding a child process: one that runs past its limit is killed (and reaped), not waited on
//! forever. A GDScript error before `quit()`, say, would otherwise leave Godot running.

use anyhow::{Context, Result, anyhow};
use std::io::Read;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// Waits for `child` at most `limit`: its status, or `None` when it ran longer and was killed.
pub fn wait_for(child: &mut Child, limit: Duration) -> std::io::Result<Option<ExitStatus>> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits for `child` at most `limit`; one that runs longer is killed and reported as `what`.
pub fn wait_bounded(child: &mut Child, what: &str, limit: Duration) -> Result<ExitStatus> {
    wait_for(child, limit)?.with_context(|| format!("{what} did not finish within {}s and was killed", limit.as_secs()))
}

/// Runs `cmd` (its output the terminal's) for at most `limit`; fails if it fails.
pub fn run_bounded(mut cmd: Command, what: &str, limit: Duration) -> Result<()> {
    let mut child = cmd.spawn().with_context(|| what.to_string())?;
    let status = wait_bounded(&mut child, what, limit)?;
    if status.success() { Ok(()) } else { Err(anyhow!("{what} failed ({status})")) }
}

/// `cmd.output()` for at most `limit`: stdin closed, stdout and stderr read meanwhile (a full
/// pipe would stall the child). Its status is not checked.
pub fn output_bounded(cmd: &mut Command, what: &str, limit: Duration) -> Result<Output> {
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().with_context(|| what.to_string())?;
    fn read_all(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    }
    let stdout = read_all(child.stdout.take().expect("piped stdout"));
    let stderr = read_all(child.stderr.take().expect("piped stderr"));
    let status = wait_bounded(&mut child, what, limit)?;
    Ok(Output { status, stdout: stdout.join().unwrap_or_default(), stderr: stderr.join().unwrap_or_default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_past_its_limit_is_killed() {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let start = Instant::now();
        let e = wait_bounded(&mut child, "sleep 30", Duration::from_secs(1)).unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(10), "{:?}", start.elapsed());
        assert_eq!(format!("{e:#}"), "sleep 30 did not finish within 1s and was killed");
        assert!(child.try_wait().unwrap().is_some(), "killed and reaped");
    }

    #[test]
    fn output_is_read_while_waiting() {
        // More than a pipe holds, on both streams: a child that waited for a reader would stall.
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "head -c 300000 /dev/zero; head -c 200000 /dev/zero >&2; exit 3"]);
        let out = output_bounded(&mut cmd, "sh", Duration::from_secs(30)).unwrap();
        assert_eq!((out.stdout.len(), out.stderr.len(), out.status.code()), (300_000, 200_000, Some(3)));
    }

    #[test]
    fn a_run_fails_as_workspace_run_does() {
        assert!(run_bounded(Command::new("true"), "true", Duration::from_secs(30)).is_ok());
        assert_eq!(run_bounded(Command::new("false"), "false", Duration::from_secs(30)).unwrap_err().to_string(), "false failed (exit status: 1)");
        assert!(run_bounded(Command::new("/nonexistent/program"), "missing", Duration::from_secs(1)).map_err(|e| format!("{e:#}")).unwrap_err().starts_with("missing: "));
    }
}
