//! Two processes exchanging messages through a POSIX shared memory object.
//!
//! The parent creates `/dev/shm/mman-pingpong-<pid>` and forks; the child opens the same
//! name. They take turns through an atomic word at offset 0 and pass each message through
//! a length word and a byte area with copies (`read_at`/`write_at`). Atomics are views that
//! borrow the mapping mutably, so a copy and an atomic of this process never race.

use std::ffi::CString;
use std::sync::atomic::Ordering;

use mman::{Access, Mapping, SharedMemory};

/// Offsets in the shared object.
const TURN: usize = 0; // u32: whose turn it is
const LEN: usize = 4; // u32: length of the message
const TEXT: usize = 8; // the message bytes
const PARENT: u32 = 0;
const CHILD: u32 = 1;
const ROUNDS: u32 = 5;

fn wait_for_turn(view: &mut Mapping, me: u32) -> mman::Result<()> {
    let turn = view.atomic_u32(TURN)?;
    while turn.load(Ordering::Acquire) != me {
        std::thread::yield_now();
    }
    Ok(())
}

fn send(view: &mut Mapping, text: &str, to: u32) -> mman::Result<()> {
    view.write_at(TEXT, text.as_bytes())?;
    view.write_at(LEN, &(text.len() as u32).to_ne_bytes())?;
    view.atomic_u32(TURN)?.store(to, Ordering::Release);
    Ok(())
}

fn receive(view: &Mapping) -> mman::Result<String> {
    let mut len = [0u8; 4];
    view.read_at(LEN, &mut len)?;
    let mut text = vec![0u8; u32::from_ne_bytes(len) as usize];
    view.read_at(TEXT, &mut text)?;
    Ok(String::from_utf8_lossy(&text).into_owned())
}

fn child(name: &CString) -> mman::Result<()> {
    let shm = SharedMemory::open(name, Access::ReadWrite)?;
    let mut view = shm.map()?;
    for round in 1..=ROUNDS {
        wait_for_turn(&mut view, CHILD)?;
        let ping = receive(&view)?;
        println!("  child  <- {ping}");
        send(&mut view, &format!("pong {round}"), PARENT)?;
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let name = CString::new(format!("mman-pingpong-{}", std::process::id()))?;
    let shm = SharedMemory::create(&name, mman::page_size() as u64)?;
    let mut view = shm.map()?;
    println!("shared object /dev/shm/{}", name.to_str()?);

    // SAFETY: the process is single-threaded here; the child leaves with _exit.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let code = match child(&name) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("child: {e}");
                1
            }
        };
        // SAFETY: ends the child without running the parent's destructors (which would
        // unlink the object).
        unsafe { libc::_exit(code) };
    }
    if pid < 0 {
        return Err("fork failed".into());
    }
    for round in 1..=ROUNDS {
        send(&mut view, &format!("ping {round}"), CHILD)?;
        wait_for_turn(&mut view, PARENT)?;
        println!("  parent <- {}", receive(&view)?);
    }
    let mut status = 0;
    // SAFETY: waits for the child forked above.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    if status != 0 {
        return Err(format!("child failed with status {status}").into());
    }
    println!("{ROUNDS} round trips done");
    Ok(())
}
