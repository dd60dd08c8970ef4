//! Command-line parsing, by hand: the grammar is small and a parser crate
//! would cost more build time than it saves.

use crate::arch::Arch;
use crate::bench::Parts;
use crate::fuzz;
use crate::lanes::Lane;
use crate::mutants;
use crate::system::Series;

pub const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  setup    install what the test lanes need (Debian 12; apt-get as root,
           otherwise prints the commands to run as root)
  test     run the test lanes
  bench    measure mman against asm, rustix, glibc and memmap2 (a few
           minutes); writes target/bench/results.json and results.md;
           `bench copies` times only the shared-memory copies (seconds),
           `bench numa` only the move_pages query (seconds),
           `bench alloc` only the allocators and the mirrored ring (a minute),
           `bench reservations` only a reservation's life (seconds)
           `bench floors` only mmap+munmap against hand-written asm,
           counted in the disassembly on every architecture
  fuzz     run the fuzz targets (shm_name, mapping_ops, reservation_ops)
           longer than the host lane does:
           `fuzz [TARGET...] [--runs N | --time SECONDS]`
           (default: every target, 60 s each); corpus and crashing inputs
           in target/fuzz/
  mutants  mutation testing with cargo-mutants against the host tests:
           `mutants [--file GLOB...] [--sample N [--seed S]]` (default: every
           module, one run each: hours); writes xtask/mutants/last-run.md, a
           whole module's counts to xtask/mutants/results.txt, and the
           README's table from it (`mutants --readme`: only that table)

test options (repeatable; default: every lane on every arch it supports):
  --lane host|user|system   host: x86_64 natively, with rustup's toolchain
                            user: the other architectures under qemu-user,
                              with Debian's Rust
                            system: every architecture as the whole userland
                              of Debian's kernels, booted under qemu-system
  --arch ARCH               only lanes on these architectures: x86_64,
                            aarch64, riscv64, powerpc64le, s390x,
                            loongarch64, i686, armv7, mips64el, or `all`
                            (default: the first six, the 64-bit ones)
  --kernel 6.1|6.12|newest  system lane: only these kernels (default: every
                            series Debian has for the arch of 6.1, 6.12 and
                            its newest (sid's): x86_64 and aarch64 all three,
                            riscv64 6.12 and newest, loongarch64 the newest,
                            the others 6.1 and 6.12; i686's 6.12 is the
                            x86_64 kernel's ia32 layer)
  -v, --verbose             system lane: show the whole console, not only
                            init's lines (it is always in target/system/)
  --jobs N                  how many lanes run at once, each in a process of
                            its own with its output in target/lanes/ (default:
                            one per core; 1 runs them in turn, in this process)
";

pub enum Command {
    Help,
    Setup,
    Test(TestOptions),
    Bench(Parts),
    Fuzz(fuzz::Options),
    Mutants(mutants::Options),
}

/// What `cargo xtask test` should run. An empty list means "all".
#[derive(Default)]
pub struct TestOptions {
    pub lanes: Vec<Lane>,
    pub arches: Vec<Arch>,
    /// Only the system lane boots kernels; the others run on the host's.
    pub kernels: Vec<Series>,
    pub verbose: bool,
    /// Lanes at once (`--jobs`); `None`: one per core.
    pub jobs: Option<usize>,
    /// Where a lane run by `side_by_side` writes its results (`--results`, not in the usage:
    /// only `test` itself passes it).
    pub results: Option<std::path::PathBuf>,
}

pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Command, String> {
    match args.next().as_deref() {
        None | Some("help" | "-h" | "--help") => Ok(Command::Help),
        Some("setup") => match args.next() {
            None => Ok(Command::Setup),
            Some(extra) => Err(format!("`setup` takes no arguments (got `{extra}`)")),
        },
        Some("test") => parse_test(args),
        Some("bench") => match args.next().as_deref() {
            None => Ok(Command::Bench(Parts::All)),
            Some("copies") => Ok(Command::Bench(Parts::Copies)),
            Some("numa") => Ok(Command::Bench(Parts::Numa)),
            Some("alloc") => Ok(Command::Bench(Parts::Alloc)),
            Some("reservations") => Ok(Command::Bench(Parts::Reservations)),
            Some("floors") => Ok(Command::Bench(Parts::Floors)),
            Some(extra) => Err(format!(
                "`bench` takes no argument but `copies`, `numa`, `alloc`, `reservations` or \
                 `floors` (got `{extra}`)"
            )),
        },
        Some("fuzz") => fuzz::parse(args).map(Command::Fuzz),
        Some("mutants") => mutants::parse(args).map(Command::Mutants),
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
            "--arch" => match value()?.as_str() {
                "all" => options.arches.extend(Arch::ALL),
                name => options.arches.push(choose(name, &Arch::ALL, Arch::name)?),
            },
            "--kernel" => options
                .kernels
                .push(choose(&value()?, &Series::ALL, Series::name)?),
            "-v" | "--verbose" => options.verbose = true,
            "--jobs" => {
                let text = value()?;
                match text.parse::<usize>() {
                    Ok(n) if n > 0 => options.jobs = Some(n),
                    _ => {
                        return Err(format!(
                            "`--jobs` takes a count of 1 or more (got `{text}`)"
                        ))
                    }
                }
            }
            "--results" => options.results = Some(value()?.into()),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn arches(args: &[&str]) -> Result<Vec<Arch>, String> {
        let args = ["test"].iter().chain(args).map(|a| a.to_string());
        match parse(args)? {
            Command::Test(options) => Ok(options.arches),
            _ => Err("not a test command".into()),
        }
    }

    #[test]
    fn arch_all_names_every_architecture() {
        assert_eq!(arches(&["--arch", "all"]).unwrap(), Arch::ALL.to_vec());
        assert_eq!(arches(&["--arch=all"]).unwrap(), Arch::ALL.to_vec());
    }

    #[test]
    fn an_arch_is_named_or_refused() {
        assert_eq!(arches(&["--arch", "armv7"]).unwrap(), vec![Arch::Armv7]);
        assert!(arches(&["--arch", "vax"]).unwrap_err().contains("mips64el"));
        assert!(arches(&[]).unwrap().is_empty());
    }
}
