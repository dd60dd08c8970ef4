//! Command-line parsing, by hand: the grammar is small and a parser crate
//! would cost more build time than it saves.

use crate::arch::Arch;
use crate::lanes::Lane;

pub const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  setup    install what the test lanes need (Debian 12; apt-get as root,
           otherwise prints the commands to run as root)
  test     run the test lanes

test options (repeatable; default: every lane on every arch it supports):
  --lane host|user          host: x86_64 natively, with rustup's toolchain
                            user: aarch64 under qemu-user, with Debian's Rust
  --arch x86_64|aarch64     only lanes on these architectures
";

pub enum Command {
    Help,
    Setup,
    Test(TestOptions),
}

/// What `cargo xtask test` should run. An empty list means "all".
///
/// The planned `system` lane (boot a kernel under qemu-system) adds itself
/// to `Lane::ALL` and brings a `kernels` list here, filled by
/// `--kernel 6.1|6.12`, which only that lane reads.
#[derive(Default)]
pub struct TestOptions {
    pub lanes: Vec<Lane>,
    pub arches: Vec<Arch>,
}

pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Command, String> {
    match args.next().as_deref() {
        None | Some("help" | "-h" | "--help") => Ok(Command::Help),
        Some("setup") => match args.next() {
            None => Ok(Command::Setup),
            Some(extra) => Err(format!("`setup` takes no arguments (got `{extra}`)")),
        },
        Some("test") => parse_test(args),
        Some(other) => Err(format!("unknown command `{other}`")),
    }
}

fn parse_test(mut args: impl Iterator<Item = String>) -> Result<Command, String> {
    let mut options = TestOptions::default();
    while let Some(arg) = args.next() {
        // Accept both `--lane user` and `--lane=user`.
        let (flag, value) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_string(), Some(value.to_string())),
            None => (arg, None),
        };
        let mut value = || {
            value
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("`{flag}` needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--lane" => options
                .lanes
                .push(choose(&value()?, &Lane::ALL, Lane::name)?),
            "--arch" => options
                .arches
                .push(choose(&value()?, &Arch::ALL, Arch::name)?),
            _ => return Err(format!("unknown option `{flag}`")),
        }
    }
    Ok(Command::Test(options))
}

/// Picks the choice whose name is `value`, or explains which names exist.
fn choose<T: Copy>(value: &str, choices: &[T], name: fn(T) -> &'static str) -> Result<T, String> {
    choices
        .iter()
        .copied()
        .find(|&c| name(c) == value)
        .ok_or_else(|| {
            let names: Vec<_> = choices.iter().map(|&c| name(c)).collect();
            format!(
                "unknown value `{value}` (expected one of: {})",
                names.join(", ")
            )
        })
}
