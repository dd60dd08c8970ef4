//! The queue's position arithmetic, as pure functions of the capacity: positions are counts
//! of bytes modulo `2 * capacity`, which keeps the distance from the consumer's position
//! to the producer's (at most `capacity`) unambiguous with no division, and never lets a
//! counter reach the integer's own wrap (where, for a capacity that is not a power of two,
//! `position % capacity` stops being the byte's place: the aliasing hole closed in 9e6509b).
//!
//! Every function takes `capacity` with `2 * capacity` representable (the region has
//! `2 * capacity` bytes of views) and positions below `2 * capacity`; none can overflow.

/// The offset from the first view of the byte at `position`: below `capacity`.
#[inline]
pub(super) fn offset(capacity: usize, position: usize) -> usize {
    if position >= capacity {
        position - capacity
    } else {
        position
    }
}

/// Bytes from position `from` on to position `to`.
#[inline]
pub(super) fn distance(capacity: usize, from: usize, to: usize) -> usize {
    if to >= from {
        to - from
    } else {
        // `2 * capacity - from` is at most `2 * capacity`, and the sum is below it.
        2 * capacity - from + to
    }
}

/// Position `position` moved on by `n` bytes (at most `capacity`).
#[inline]
pub(super) fn advance(capacity: usize, position: usize, n: usize) -> usize {
    let left = 2 * capacity - position;
    if n >= left {
        n - left
    } else {
        position + n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the aliasing argument of `MirrorBuffer` rests on, at every position of small
    /// rings, including those just before the positions wrap: from any consumer position
    /// `h` with `q` bytes queued, the queued bytes `[h, h + q)` and the free space
    /// `[h + q, h + capacity)` together are `capacity` positions whose offsets are each
    /// offset once, and the functions agree on where the producer is.
    #[test]
    fn a_window_of_capacity_positions_is_every_offset_once_also_across_the_wrap() {
        for capacity in 1..=12 {
            for head in 0..2 * capacity {
                for queued in 0..=capacity {
                    let tail = advance(capacity, head, queued);
                    assert!(tail < 2 * capacity);
                    assert_eq!(distance(capacity, head, tail), queued);
                    let mut seen = [false; 12];
                    let mut position = head;
                    for _ in 0..capacity {
                        let at = offset(capacity, position);
                        assert!(
                            !seen[at],
                            "capacity {capacity}, head {head}, queued {queued}"
                        );
                        seen[at] = true;
                        position = advance(capacity, position, 1);
                    }
                    // The free space ends where the queued bytes begin, one lap on.
                    assert_eq!(offset(capacity, position), offset(capacity, head));
                }
            }
        }
    }

    /// The saved review test's case, without its 6 TiB of address space: a 3 TiB ring (48
    /// MiB on 32-bit targets: `3 << (half the word + 8)` either way; not a power of two) with the consumer a little before the positions wrap and more than
    /// that queued, and the largest capacity whose views fit the address space's integer.
    /// The producer's position lands past the wrap at the offset the bytes lie at, and the
    /// free space still starts right after the queued bytes.
    #[test]
    fn positions_wrap_without_overflow_or_aliasing_for_huge_capacities() {
        let page = 4096;
        for capacity in [
            3usize << (usize::BITS / 2 + 8),
            (usize::MAX / 2) & !(page - 1),
        ] {
            for before_wrap in [1, page, 1 << 20] {
                let head = 2 * capacity - before_wrap;
                for queued in [before_wrap - 1, before_wrap, before_wrap + page, capacity] {
                    let tail = advance(capacity, head, queued);
                    assert_eq!(distance(capacity, head, tail), queued);
                    let expected = (offset(capacity, head) + queued) % capacity;
                    assert_eq!(offset(capacity, tail), expected);
                    let free = capacity - queued;
                    let end = advance(capacity, tail, free);
                    assert_eq!(offset(capacity, end), offset(capacity, head));
                    assert_eq!(distance(capacity, head, end) % capacity, 0);
                }
            }
        }
    }
}
