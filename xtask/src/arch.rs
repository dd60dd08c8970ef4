//! The architectures the lanes build for, and the names of their tools: everything the
//! xtask knows about one architecture, apart from how to boot it (`system/qemu.rs`) and
//! which Debian kernels it has (`system/kernels.rs`).

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Arch {
    X86_64,
    Aarch64,
    Riscv64,
    Powerpc64le,
    S390x,
    Loongarch64,
    I686,
    Armv7,
    /// mips64 little-endian, n64 ABI. Tier 3 in Rust and its `asm!` is unstable: built with
    /// rustc-web under `RUSTC_BOOTSTRAP=1`, as every `-Zbuild-std` target is.
    Mips64el,
}

impl Arch {
    pub const ALL: [Arch; 9] = [
        Arch::X86_64,
        Arch::Aarch64,
        Arch::Riscv64,
        Arch::Powerpc64le,
        Arch::S390x,
        Arch::I686,
        Arch::Armv7,
        Arch::Loongarch64,
        Arch::Mips64el,
    ];

    /// What a plain `cargo xtask test` (and so CI) runs: the 64-bit architectures, whose
    /// lanes fit the full run's time budget together (about 47 minutes cold on two cores).
    /// All nine (`--arch all`) took 68 minutes 48 s in the same conditions, so the 32-bit ones
    /// and mips64el run when asked for; see the README for each lane's time.
    pub const DEFAULT: [Arch; 6] = [
        Arch::X86_64,
        Arch::Aarch64,
        Arch::Riscv64,
        Arch::Powerpc64le,
        Arch::S390x,
        Arch::Loongarch64,
    ];

    /// The machine xtask runs on: CI and the development machines are x86_64.
    pub const HOST: Arch = Arch::X86_64;

    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
            Arch::Riscv64 => "riscv64",
            Arch::Powerpc64le => "powerpc64le",
            Arch::S390x => "s390x",
            Arch::Loongarch64 => "loongarch64",
            Arch::I686 => "i686",
            Arch::Armv7 => "armv7",
            Arch::Mips64el => "mips64el",
        }
    }

    /// Rust's target triple.
    pub fn triple(self) -> String {
        match self {
            // The general-purpose profile (IMAFDC): Debian's riscv64 baseline.
            Arch::Riscv64 => "riscv64gc-unknown-linux-gnu".into(),
            // ARM mode (Thumb targets give r7, the syscall number's register, to the frame
            // pointer), hard-float EABI: Debian's armhf.
            Arch::Armv7 => "armv7-unknown-linux-gnueabihf".into(),
            // The n64 ABI (64-bit pointers and registers), Debian's mips64el.
            Arch::Mips64el => "mips64el-unknown-linux-gnuabi64".into(),
            _ => format!("{}-unknown-linux-gnu", self.name()),
        }
    }

    /// Debian's name for the architecture (packages, kernels).
    pub fn debian(self) -> &'static str {
        match self {
            Arch::X86_64 => "amd64",
            Arch::Aarch64 => "arm64",
            Arch::Riscv64 => "riscv64",
            Arch::Powerpc64le => "ppc64el",
            Arch::S390x => "s390x",
            Arch::Loongarch64 => "loong64",
            Arch::I686 => "i386",
            Arch::Armv7 => "armhf",
            Arch::Mips64el => "mips64el",
        }
    }

    /// A GNU tool for this architecture, e.g. `aarch64-linux-gnu-strip`.
    /// Debian also installs the native tools under their prefixed names
    /// (`x86_64-linux-gnu-strip`), so one naming scheme covers every arch.
    /// loongarch64's (`gcc`, `strip`) are stand-ins under `target/`: bookworm has none.
    pub fn gnu_tool(self, tool: &str) -> String {
        if self == Arch::Loongarch64 {
            return crate::loongarch::tool(tool);
        }
        match self {
            Arch::Armv7 => format!("arm-linux-gnueabihf-{tool}"),
            Arch::Mips64el => format!("mips64el-linux-gnuabi64-{tool}"),
            _ => format!("{}-linux-gnu-{tool}", self.name()),
        }
    }

    /// The qemu-user emulator that runs this architecture's Linux binaries.
    pub fn qemu_user(self) -> String {
        match self {
            Arch::Powerpc64le => "qemu-ppc64le".into(),
            Arch::I686 => "qemu-i386".into(),
            Arch::Armv7 => "qemu-arm".into(),
            _ => format!("qemu-{}", self.name()),
        }
    }

    /// Whether Debian ships a prebuilt std for this target that matches rustc-web
    /// (`/usr/lib/rustlib/<triple>`): the host's, and arm64's from `libstd-rust-web-dev:arm64`.
    /// The others' (1.85) do not match rustc-web 1.96, so their std is built from
    /// `rust-web-src` with `-Zbuild-std` (once; cached in the target directory).
    pub fn prebuilt_std(self) -> bool {
        matches!(self, Arch::X86_64 | Arch::Aarch64)
    }

    /// Linker flags this target's static programs need besides `+crt-static`.
    pub fn link_args(self) -> &'static [&'static str] {
        match self {
            // A debug std is large enough to land between the libc.a members pulled in by
            // the first and the second `-lc`, out of reach (±1 MiB) of their `jal` to
            // `__syscall_error` ("relocation truncated to fit: R_RISCV_JAL"); sorting the
            // sections by name keeps libc's plain `.text` together.
            Arch::Riscv64 => &["-Wl,--sort-section=name"],
            _ => &[],
        }
    }

    /// The largest page size a kernel for this architecture may use: segments of a program
    /// linked by hand must be aligned to it (Debian's powerpc64le 6.1 kernel runs 64 KiB
    /// pages, its loong64 kernel 16 KiB of LoongArch's 4, 16 or 64; mips kernels come with
    /// 4, 16 or 64 KiB pages, Debian's malta ones with 4; the others 4 KiB).
    pub fn max_page_size(self) -> usize {
        match self {
            Arch::Powerpc64le | Arch::Loongarch64 | Arch::Mips64el => 64 << 10,
            _ => 4 << 10,
        }
    }
}
