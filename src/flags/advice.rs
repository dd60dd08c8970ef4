//! `madvise` advice (`MADV_*`): the same values on every supported architecture.

/// What `madvise` and `process_madvise` are told about a range.
///
/// Some advice destroys contents or makes later accesses fault (`DontNeed` on shared
/// memory, `Free`, `Remove`, `GuardInstall`, `HwPoison`, `SoftOffline`); the safe layer only
/// offers those through `unsafe` methods.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(u32)]
#[non_exhaustive]
pub enum Advice {
    /// No special treatment.
    Normal = 0,
    /// Expect random access: read ahead less.
    Random = 1,
    /// Expect sequential access: read ahead more, free behind.
    Sequential = 2,
    /// Expect access soon: start reading in.
    WillNeed = 3,
    /// Not needed soon: free now. Private anonymous pages read back as zeros afterwards.
    DontNeed = 4,
    /// Free lazily, when memory is short (Linux 4.5; private anonymous only).
    Free = 8,
    /// Free the range and its backing store (punch a hole; Linux 2.6.16).
    Remove = 9,
    /// Do not copy into a child on `fork`.
    DontFork = 10,
    /// Undo `DontFork`.
    DoFork = 11,
    /// Candidate for kernel samepage merging.
    Mergeable = 12,
    /// Undo `Mergeable`.
    Unmergeable = 13,
    /// Use transparent huge pages.
    HugePage = 14,
    /// Do not use transparent huge pages.
    NoHugePage = 15,
    /// Exclude from core dumps.
    DontDump = 16,
    /// Undo `DontDump`.
    DoDump = 17,
    /// A child sees zeros here after `fork` (Linux 4.14; private anonymous only).
    WipeOnFork = 18,
    /// Undo `WipeOnFork`.
    KeepOnFork = 19,
    /// Deactivate: reclaim first under pressure (Linux 5.4).
    Cold = 20,
    /// Reclaim now (Linux 5.4).
    PageOut = 21,
    /// Fault in readable page tables, as a read would (Linux 5.14).
    PopulateRead = 22,
    /// Fault in writable page tables, as a write would (Linux 5.14).
    PopulateWrite = 23,
    /// `DontNeed` that also applies to locked pages (Linux 5.18).
    DontNeedLocked = 24,
    /// Collapse into transparent huge pages now (Linux 6.1).
    Collapse = 25,
    /// Poison the pages as if the hardware had failed (needs `CAP_SYS_ADMIN`).
    HwPoison = 100,
    /// Migrate and take the pages offline (needs `CAP_SYS_ADMIN`).
    SoftOffline = 101,
    /// Install guard regions: any access raises `SIGSEGV` (Linux 6.13).
    GuardInstall = 102,
    /// Remove guard regions (Linux 6.13).
    GuardRemove = 103,
}

impl Advice {
    /// Every advice this crate names, in the order of their values.
    pub const ALL: [Advice; 27] = [
        Advice::Normal,
        Advice::Random,
        Advice::Sequential,
        Advice::WillNeed,
        Advice::DontNeed,
        Advice::Free,
        Advice::Remove,
        Advice::DontFork,
        Advice::DoFork,
        Advice::Mergeable,
        Advice::Unmergeable,
        Advice::HugePage,
        Advice::NoHugePage,
        Advice::DontDump,
        Advice::DoDump,
        Advice::WipeOnFork,
        Advice::KeepOnFork,
        Advice::Cold,
        Advice::PageOut,
        Advice::PopulateRead,
        Advice::PopulateWrite,
        Advice::DontNeedLocked,
        Advice::Collapse,
        Advice::HwPoison,
        Advice::SoftOffline,
        Advice::GuardInstall,
        Advice::GuardRemove,
    ];

    /// The kernel's `MADV_*` value.
    #[inline]
    pub const fn raw(self) -> u32 {
        self as u32
    }

    /// The advice with the kernel's value `raw`, or `None` for a value this crate does not
    /// name (a newer kernel's advice, which [`sys::madvise_raw`](crate::sys::madvise_raw)
    /// passes on as it is).
    ///
    /// ```
    /// use mman::Advice;
    /// assert_eq!(Advice::from_raw(4), Some(Advice::DontNeed));
    /// assert_eq!(Advice::from_raw(Advice::Collapse.raw()), Some(Advice::Collapse));
    /// assert_eq!(Advice::from_raw(5), None); // no MADV_ value 5
    /// ```
    pub const fn from_raw(raw: u32) -> Option<Advice> {
        let mut i = 0;
        while i < Advice::ALL.len() {
            if Advice::ALL[i] as u32 == raw {
                return Some(Advice::ALL[i]);
            }
            i += 1;
        }
        None
    }

    /// Whether the running kernel knows this advice: `madvise(NULL, 0, advice)`, which the
    /// kernel answers `EINVAL` for advice it does not know (checked before anything else)
    /// and 0 otherwise, touching nothing. Advice a kernel knows may still be refused for a
    /// particular range or kind of memory. See [`sys::advice_supported`](crate::sys::advice_supported).
    ///
    /// ```
    /// use mman::Advice;
    /// assert!(Advice::DontNeed.is_supported()); // every Linux has it
    /// if !Advice::GuardInstall.is_supported() {
    ///     // Linux before 6.13: guard pages fall back to PROT_NONE (see Mapping::guard).
    /// }
    /// ```
    pub fn is_supported(self) -> bool {
        crate::sys::advice_supported(self.raw()) == Ok(true)
    }
}
