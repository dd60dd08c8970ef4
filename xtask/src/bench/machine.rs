//! What the numbers belong to: the date, the kernel (`uname -r`), the CPU, the Rust
//! compiler that built the measured code, and how busy the machine was.

use std::fs;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

pub struct Machine {
    /// UTC, `YYYY-MM-DD`.
    pub date: String,
    pub kernel: String,
    pub cpu: String,
    pub cores: usize,
    pub rustc: String,
    /// The 1-minute load average as the run ends: above 1, something else shared the CPUs
    /// and the wall times are less trustworthy.
    pub load: f64,
}

pub fn describe(program: &Path) -> Result<Machine, String> {
    let cpuinfo = read("/proc/cpuinfo")?;
    Ok(Machine {
        date: today(),
        // What `uname -r` prints.
        kernel: read("/proc/sys/kernel/osrelease")?.trim().to_string(),
        cpu: cpu_model(&cpuinfo),
        cores: cpuinfo
            .lines()
            .filter(|l| l.starts_with("processor"))
            .count(),
        rustc: rustc_version(program)?,
        load: read("/proc/loadavg")?
            .split_whitespace()
            .next()
            .and_then(|load| load.parse().ok())
            .unwrap_or(f64::NAN),
    })
}

/// x86's `model name`; aarch64 kernels name no model, only the implementer and part numbers.
fn cpu_model(cpuinfo: &str) -> String {
    let field = |name: &str| {
        cpuinfo.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            (key.trim() == name).then(|| value.trim().to_string())
        })
    };
    field("model name").unwrap_or_else(|| {
        let implementer = field("CPU implementer").unwrap_or_default();
        let part = field("CPU part").unwrap_or_default();
        format!("CPU implementer {implementer}, part {part}")
    })
}

/// The compiler that built the measured program, from the `.comment` note rustc leaves in
/// every binary: the one that matters, whatever `rustc` on PATH would say.
fn rustc_version(program: &Path) -> Result<String, String> {
    const NOTE: &[u8] = b"rustc version ";
    let bytes = fs::read(program).map_err(|e| format!("cannot read {}: {e}", program.display()))?;
    let start = bytes
        .windows(NOTE.len())
        .position(|w| w == NOTE)
        .ok_or_else(|| format!("no `rustc version` note in {}", program.display()))?;
    let rest = &bytes[start + NOTE.len()..];
    let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    Ok(format!("rustc {}", String::from_utf8_lossy(&rest[..end])))
}

/// Today's UTC date, from the days since 1970 (Howard Hinnant's `civil_from_days`): the
/// xtask has no date crate, and one date is not worth one.
pub fn today() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

fn read(path: &str) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))
}
