//! The architectures the lanes build for, and the names of their tools.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Arch {
    X86_64,
    Aarch64,
}

impl Arch {
    pub const ALL: [Arch; 2] = [Arch::X86_64, Arch::Aarch64];

    /// The machine xtask runs on: CI and the development machines are x86_64.
    pub const HOST: Arch = Arch::X86_64;

    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
        }
    }

    pub fn triple(self) -> String {
        format!("{}-unknown-linux-gnu", self.name())
    }

    /// A GNU tool for this architecture, e.g. `aarch64-linux-gnu-strip`.
    /// Debian also installs the native tools under their prefixed names
    /// (`x86_64-linux-gnu-strip`), so one naming scheme covers every arch.
    pub fn gnu_tool(self, tool: &str) -> String {
        format!("{}-linux-gnu-{tool}", self.name())
    }

    /// The qemu-user emulator that runs this architecture's Linux binaries.
    pub fn qemu_user(self) -> String {
        format!("qemu-{}", self.name())
    }
}
