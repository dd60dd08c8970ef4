//! `floor_map_unmap(len) -> isize`, written by hand for each architecture: the same job as
//! `mman_map_unmap`, in the fewest instructions its calling convention and system-call ABI
//! allow. Numbers are Linux's for that architecture; `PROT_READ | PROT_WRITE` is 3 and
//! `MAP_PRIVATE | MAP_ANONYMOUS` 0x22 on each one here.

#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".globl floor_map_unmap",
    ".type floor_map_unmap, @function",
    "floor_map_unmap:",
    "    mov rsi, rdi", // len
    "    xor edi, edi", // addr: NULL
    "    mov edx, 3",
    "    mov r10d, 0x22",
    "    mov r8, -1", // fd
    "    xor r9d, r9d", // offset
    "    mov eax, 9", // mmap
    "    syscall", // clobbers rcx and r11 only: rsi still holds len
    "    cmp rax, -4095",
    "    jae 2f", // -errno: return it
    "    mov rdi, rax",
    "    mov eax, 11", // munmap
    "    syscall",
    "    xor eax, eax",
    "2:",
    "    ret",
    ".size floor_map_unmap, . - floor_map_unmap",
);

#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    ".globl floor_map_unmap",
    ".type floor_map_unmap, @function",
    "floor_map_unmap:",
    "    mov x1, x0", // len
    "    mov x0, #0",
    "    mov x2, #3",
    "    mov x3, #0x22",
    "    mov x4, #-1",
    "    mov x5, #0",
    "    mov x8, #222", // mmap
    "    svc #0", // changes x0 only: x1 still holds len
    "    cmn x0, #4095",
    "    b.hs 2f", // -errno: return it
    "    mov x8, #215", // munmap
    "    svc #0",
    "    mov x0, #0",
    "2:",
    "    ret",
    ".size floor_map_unmap, . - floor_map_unmap",
);

#[cfg(target_arch = "riscv64")]
core::arch::global_asm!(
    ".globl floor_map_unmap",
    ".type floor_map_unmap, @function",
    "floor_map_unmap:",
    "    mv a1, a0", // len
    "    li a0, 0",
    "    li a2, 3",
    "    li a3, 0x22",
    "    li a4, -1",
    "    li a5, 0",
    "    li a7, 222", // mmap
    "    ecall", // changes a0 only: a1 still holds len
    "    lui t0, 0xfffff", // -4096
    "    bltu t0, a0, 2f", // -errno: return it
    "    li a7, 215", // munmap
    "    ecall",
    "    li a0, 0",
    "2:",
    "    ret",
    ".size floor_map_unmap, . - floor_map_unmap",
);

// `sc` may change r0 and r4-r12, so len waits in the red zone below the stack pointer
// (ELFv2 gives a leaf 288 bytes there). An error comes back as a positive errno with cr0.SO
// set.
#[cfg(all(target_arch = "powerpc64", target_endian = "little"))]
core::arch::global_asm!(
    ".globl floor_map_unmap",
    ".type floor_map_unmap, @function",
    "floor_map_unmap:",
    "    mr 4, 3", // len
    "    std 4, -8(1)",
    "    li 3, 0",
    "    li 5, 3",
    "    li 6, 0x22",
    "    li 7, -1",
    "    li 8, 0",
    "    li 0, 90", // mmap
    "    sc",
    "    bns 2f",
    "    neg 3, 3", // -errno: return it
    "    blr",
    "2:",
    "    ld 4, -8(1)",
    "    li 0, 91", // munmap
    "    sc",
    "    li 3, 0",
    "    blr",
    ".size floor_map_unmap, . - floor_map_unmap",
);

// s390x's mmap takes the address of its six arguments in memory, here below the stack
// pointer's new value; `svc N` carries a number below 256 in the instruction. The kernel
// changes r2 only, so r3 still holds len for munmap.
#[cfg(target_arch = "s390x")]
core::arch::global_asm!(
    ".globl floor_map_unmap",
    ".type floor_map_unmap, @function",
    "floor_map_unmap:",
    "    lgr %r3, %r2", // len
    "    aghi %r15, -48",
    "    mvghi 0(%r15), 0",
    "    stg %r3, 8(%r15)",
    "    mvghi 16(%r15), 3",
    "    mvghi 24(%r15), 0x22",
    "    mvghi 32(%r15), -1",
    "    mvghi 40(%r15), 0",
    "    la %r2, 0(%r15)",
    "    svc 90", // mmap
    "    aghi %r15, 48",
    "    lghi %r1, -4095",
    "    clgr %r2, %r1",
    "    jhe 2f", // -errno: return it
    "    svc 91", // munmap
    "    lghi %r2, 0",
    "2:",
    "    br %r14",
    ".size floor_map_unmap, . - floor_map_unmap",
);

// loongarch64: `syscall 0` may change $t0-$t8 besides a0, so len stays in a1 for munmap;
// -4096 is one `lu12i.w` (a 12-bit immediate reaches only -2048).
#[cfg(target_arch = "loongarch64")]
core::arch::global_asm!(
    ".globl floor_map_unmap",
    ".type floor_map_unmap, @function",
    "floor_map_unmap:",
    "    move $a1, $a0", // len
    "    move $a0, $zero",
    "    li.w $a2, 3",
    "    li.w $a3, 0x22",
    "    li.w $a4, -1",
    "    move $a5, $zero",
    "    li.w $a7, 222", // mmap
    "    syscall 0",
    "    lu12i.w $t0, -1", // -4096
    "    bltu $t0, $a0, 2f", // -errno: return it
    "    li.w $a7, 215", // munmap
    "    syscall 0",
    "    move $a0, $zero",
    "2:",
    "    ret",
    ".size floor_map_unmap, . - floor_map_unmap",
);

// i386: cdecl passes len on the stack and wants ebx, esi, edi and ebp back; mmap2 takes the
// sixth argument in ebp and its offset in 4096-byte units (0 here). The kernel changes eax
// only, so ecx still holds len for munmap.
#[cfg(target_arch = "x86")]
core::arch::global_asm!(
    ".globl floor_map_unmap",
    ".type floor_map_unmap, @function",
    "floor_map_unmap:",
    "    push ebp",
    "    push ebx",
    "    push esi",
    "    push edi",
    "    mov ecx, dword ptr [esp + 20]", // len
    "    xor ebx, ebx",                  // addr: NULL
    "    mov edx, 3",
    "    mov esi, 0x22",
    "    mov edi, -1",  // fd
    "    xor ebp, ebp", // offset
    "    mov eax, 192", // mmap2
    "    int 0x80",
    "    cmp eax, -4095",
    "    jae 2f", // -errno: return it
    "    mov ebx, eax",
    "    mov eax, 91", // munmap
    "    int 0x80",
    "    xor eax, eax",
    "2:",
    "    pop edi",
    "    pop esi",
    "    pop ebx",
    "    pop ebp",
    "    ret",
    ".size floor_map_unmap, . - floor_map_unmap",
);

// 32-bit ARM (EABI, ARM mode): r4, r5 and r7 (the number) belong to the caller and are saved
// with lr, which the pop returns through. The kernel changes r0 only, so r1 still holds len.
#[cfg(target_arch = "arm")]
core::arch::global_asm!(
    ".globl floor_map_unmap",
    ".type floor_map_unmap, %function",
    "floor_map_unmap:",
    "    push {{r4, r5, r7, lr}}",
    "    mov r1, r0", // len
    "    mov r0, #0",
    "    mov r2, #3",
    "    mov r3, #0x22",
    "    mvn r4, #0",   // fd: -1
    "    mov r5, #0",   // offset
    "    mov r7, #192", // mmap2
    "    svc #0",
    "    cmn r0, #4096",
    "    bhi 2f",      // above -4096: -errno, return it
    "    mov r7, #91", // munmap
    "    svc #0",
    "    mov r0, #0",
    "2:",
    "    pop {{r4, r5, r7, pc}}",
    ".size floor_map_unmap, . - floor_map_unmap",
);

// mips64 (n64): the kernel flags an error in $7 and returns the errno positive, and keeps
// $4-$6, so len is still in a1 for munmap. Delay slots filled by hand: `.set noreorder`.
#[cfg(target_arch = "mips64")]
core::arch::global_asm!(
    ".globl floor_map_unmap",
    ".type floor_map_unmap, @function",
    "floor_map_unmap:",
    "    .set noreorder",
    "    move $5, $4", // len
    "    move $4, $0",
    "    li $6, 3",
    "    li $7, 0x802", // MAP_PRIVATE | MAP_ANONYMOUS (0x800 on mips)
    "    li $8, -1",
    "    move $9, $0",
    "    li $2, 5009", // mmap
    "    syscall",
    "    bnez $7, 2f",    // failed: $2 is the errno
    "    move $4, $2",    // (delay slot) the address
    "    li $2, 5011",    // munmap
    "    syscall",
    "    jr $31",
    "    move $2, $0",    // (delay slot) return 0
    "2:",
    "    jr $31",
    "    dsubu $2, $0, $2", // (delay slot) return -errno
    "    .set reorder",
    ".size floor_map_unmap, . - floor_map_unmap",
);
