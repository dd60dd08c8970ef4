//! The order lanes start in. Which lanes may run together is fixed (`can_run_beside`); the
//! order decides how long the run takes. A lane that holds others back (an architecture's
//! user lane holds back its system lane and every other lane on the host's kernel) started
//! at the wrong time leaves a core idle: longest first did that for about 7 of the default
//! run's 33 minutes. A run has few lanes, so every order is tried on the expected costs and
//! the shortest kept; beyond `EXHAUSTIVE` lanes (8! orders; a run of every architecture has
//! 18), a local search from longest first: one lane moved to another place in the order,
//! or two swapped, kept when the run ends sooner, until no such move helps.

use std::cmp::Reverse;

use crate::arch::Arch;
use crate::lanes::Lane;

const EXHAUSTIVE: usize = 8;

/// Whether `job` may start while `other` runs (see `side_by_side`'s two rules).
pub fn can_run_beside(job: (Lane, Arch), other: (Lane, Arch)) -> bool {
    let on_host_kernel = |(lane, _): (Lane, Arch)| lane != Lane::System;
    job.1 != other.1 && !(on_host_kernel(job) && on_host_kernel(other))
}

/// The first of `waiting` (indexes into `jobs`) that may start beside every `running` job.
pub fn first_free(
    waiting: &[usize],
    jobs: &[(Lane, Arch)],
    running: &[(Lane, Arch)],
) -> Option<usize> {
    waiting
        .iter()
        .copied()
        .find(|&i| running.iter().all(|&other| can_run_beside(jobs[i], other)))
}

/// The indexes of `jobs` in the order that ends soonest on `costs` when `workers` at a time
/// each take the first job in it that may start.
pub fn best(jobs: &[(Lane, Arch)], costs: &[u64], workers: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&i| Reverse(costs[i]));
    if jobs.len() > EXHAUSTIVE {
        return improved_by_moves(order, jobs, costs, workers);
    }
    let mut shortest = (makespan(&order, jobs, costs, workers), order.clone());
    // Strictly shorter only: among equals the first found, longest first, stays.
    each_permutation(&mut order, |candidate| {
        let length = makespan(candidate, jobs, costs, workers);
        if length < shortest.0 {
            shortest = (length, candidate.to_vec());
        }
    });
    shortest.1
}

/// `order` improved one move at a time: a lane taken out and put back elsewhere, or two
/// lanes swapped, the first such move that shortens the run kept, until none does (each kept move shortens the run,
/// so this ends; `MOVE_ROUNDS` bounds it all the same). About `n^2` orders are tried per
/// round, each simulated in `n^2` steps: for 18 lanes, milliseconds.
fn improved_by_moves(
    mut order: Vec<usize>,
    jobs: &[(Lane, Arch)],
    costs: &[u64],
    workers: usize,
) -> Vec<usize> {
    const MOVE_ROUNDS: usize = 100;
    let mut length = makespan(&order, jobs, costs, workers);
    for _ in 0..MOVE_ROUNDS {
        let Some((shorter, candidate)) = first_shorter_move(&order, jobs, costs, workers, length)
        else {
            break;
        };
        (length, order) = (shorter, candidate);
    }
    order
}

/// The first order one move away from `order` that runs shorter than `length`, with its
/// length.
fn first_shorter_move(
    order: &[usize],
    jobs: &[(Lane, Arch)],
    costs: &[u64],
    workers: usize,
    length: u64,
) -> Option<(u64, Vec<usize>)> {
    for from in 0..order.len() {
        for to in (0..order.len()).filter(|&to| to != from) {
            let mut moved = order.to_vec();
            let job = moved.remove(from);
            moved.insert(to, job);
            let mut swapped = order.to_vec();
            swapped.swap(from, to);
            for candidate in [moved, swapped] {
                let shorter = makespan(&candidate, jobs, costs, workers);
                if shorter < length {
                    return Some((shorter, candidate));
                }
            }
        }
    }
    None
}

/// How long a run in `order` takes on `costs`, `workers` at a time.
fn makespan(order: &[usize], jobs: &[(Lane, Arch)], costs: &[u64], workers: usize) -> u64 {
    let mut waiting = order.to_vec();
    // (job, when it ends)
    let mut running: Vec<(usize, u64)> = Vec::new();
    let mut now = 0;
    loop {
        while running.len() < workers {
            let beside: Vec<(Lane, Arch)> = running.iter().map(|&(i, _)| jobs[i]).collect();
            let Some(next) = first_free(&waiting, jobs, &beside) else {
                break;
            };
            waiting.retain(|&i| i != next);
            running.push((next, now + costs[next]));
        }
        // Nothing running means nothing waits either: with no lane running, any may start.
        let Some(end) = running.iter().map(|&(_, end)| end).min() else {
            return now;
        };
        now = end;
        running.retain(|&(_, end)| end > now);
    }
}

/// Calls `visit` with every order of `items` (Heap's algorithm), the given one first.
fn each_permutation(items: &mut [usize], mut visit: impl FnMut(&[usize])) {
    let mut counters = vec![0; items.len()];
    visit(items);
    let mut i = 1;
    while i < items.len() {
        if counters[i] < i {
            match i % 2 {
                0 => items.swap(0, i),
                _ => items.swap(counters[i], i),
            }
            visit(items);
            counters[i] += 1;
            i = 1;
        } else {
            counters[i] = 0;
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The default run, with the lanes' times from this round's full run.
    fn default_run() -> (Vec<(Lane, Arch)>, Vec<u64>) {
        let lanes = [
            ((Lane::Host, Arch::X86_64), 430),
            ((Lane::User, Arch::Aarch64), 150),
            ((Lane::User, Arch::Riscv64), 600),
            ((Lane::System, Arch::X86_64), 630),
            ((Lane::System, Arch::Aarch64), 880),
            ((Lane::System, Arch::Riscv64), 760),
        ];
        lanes.into_iter().unzip()
    }

    #[test]
    fn lanes_of_one_arch_or_on_the_host_kernel_never_run_together() {
        let (host, user_arm) = ((Lane::Host, Arch::X86_64), (Lane::User, Arch::Aarch64));
        let (system_x86, system_arm) =
            ((Lane::System, Arch::X86_64), (Lane::System, Arch::Aarch64));
        assert!(!can_run_beside(host, user_arm));
        assert!(!can_run_beside(host, system_x86));
        assert!(!can_run_beside(user_arm, system_arm));
        assert!(can_run_beside(host, system_arm));
        assert!(can_run_beside(system_x86, system_arm));
    }

    #[test]
    fn the_chosen_order_beats_longest_first_where_that_idles_a_core() {
        let (jobs, costs) = default_run();
        let mut longest_first: Vec<usize> = (0..jobs.len()).collect();
        longest_first.sort_by_key(|&i| Reverse(costs[i]));
        // Longest first starts two system lanes; riscv64's user lane then holds back
        // everything on the host's kernel, and a core idles for 670 s in all.
        assert_eq!(makespan(&longest_first, &jobs, &costs, 2), 2060);
        let chosen = best(&jobs, &costs, 2);
        let length = makespan(&chosen, &jobs, &costs, 2);
        // The best any order gives here (half the lanes' total would be 1725 s): the host
        // lane first, riscv64's user lane next, aarch64's user lane last.
        assert_eq!(length, 1790, "order {chosen:?}");
        let mut sorted = chosen.clone();
        sorted.sort();
        assert_eq!(sorted, [0, 1, 2, 3, 4, 5], "every lane once");
    }

    #[test]
    fn one_worker_runs_every_lane_in_turn() {
        let (jobs, costs) = default_run();
        let order = best(&jobs, &costs, 1);
        assert_eq!(
            makespan(&order, &jobs, &costs, 1),
            costs.iter().sum::<u64>()
        );
    }

    /// Lanes that may all run together: the moves balance the two cores better than
    /// longest first does, here down to the least possible: of nine lanes of 100 to 108 s
    /// one core runs five, which take at least 100 + 101 + 102 + 103 + 104 = 510 s.
    #[test]
    fn many_lanes_that_can_all_run_together_are_balanced() {
        let jobs: Vec<(Lane, Arch)> = Arch::ALL.iter().map(|&arch| (Lane::System, arch)).collect();
        let costs: Vec<u64> = (0..jobs.len() as u64).map(|i| 100 + i).collect();
        assert!(jobs.len() > EXHAUSTIVE);
        let longest_first: Vec<usize> = (0..jobs.len()).rev().collect();
        let chosen = best(&jobs, &costs, 2);
        let (before, after) = (
            makespan(&longest_first, &jobs, &costs, 2),
            makespan(&chosen, &jobs, &costs, 2),
        );
        assert_eq!((before, after), (518, 510));
    }

    /// Every architecture (18 lanes, too many to try every order), with times of the order
    /// measured (rounded; user lanes warm): longest first leaves the lanes on the host's
    /// kernel, which run one at a time, to the end; moves find an order that ends sooner,
    /// and no single move improves it.
    #[test]
    fn many_lanes_are_ordered_by_moves_where_longest_first_idles() {
        let mut lanes = vec![
            ((Lane::Host, Arch::X86_64), 660),
            ((Lane::System, Arch::X86_64), 630),
        ];
        // (arch, its user lane, its system lane: every kernel of it)
        let others = [
            (Arch::Aarch64, 150, 880),
            (Arch::Riscv64, 600, 760),
            (Arch::Powerpc64le, 130, 740),
            (Arch::S390x, 200, 1050),
            (Arch::Loongarch64, 270, 310),
            (Arch::I686, 500, 370),
            (Arch::Armv7, 120, 490),
            (Arch::Mips64el, 780, 310),
        ];
        for (arch, user, system) in others {
            lanes.push(((Lane::User, arch), user));
            lanes.push(((Lane::System, arch), system));
        }
        let (jobs, costs): (Vec<_>, Vec<u64>) = lanes.into_iter().unzip();
        assert_eq!(jobs.len(), 18);
        let mut longest_first: Vec<usize> = (0..jobs.len()).collect();
        longest_first.sort_by_key(|&i| Reverse(costs[i]));
        let before = makespan(&longest_first, &jobs, &costs, 2);
        let chosen = best(&jobs, &costs, 2);
        let after = makespan(&chosen, &jobs, &costs, 2);
        let half = costs.iter().sum::<u64>().div_ceil(2);
        // 81 min against 75, which half the lanes' total (4475 s) bounds from below: on
        // two cores no order brings every architecture within 50 minutes.
        assert_eq!((before, after, half), (4860, 4480, 4475));
        assert_eq!(first_shorter_move(&chosen, &jobs, &costs, 2, after), None);
        let mut sorted = chosen.clone();
        sorted.sort();
        assert_eq!(sorted, (0..18).collect::<Vec<_>>(), "every lane once");
    }

    #[test]
    fn every_order_is_visited_once() {
        let mut items = [0, 1, 2, 3];
        let mut seen = Vec::new();
        each_permutation(&mut items, |order| seen.push(order.to_vec()));
        assert_eq!(seen.len(), 24);
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 24);
    }
}
