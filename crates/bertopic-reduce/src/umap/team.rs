//! A fixed team of threads for the fit's SGD sweep: tens of thousands of short phases, each of
//! which must finish before the next starts. rayon's fork-join costs microseconds per phase
//! (waking sleeping workers, splitting, joining), a sizeable share of a 10,000-point fit on two
//! cores; here a phase ends when its last chunk is done, at the cost of a few atomic operations.
//!
//! Chunks are claimed one at a time from a shared counter, so a core slowed by other load takes
//! fewer. A phase waits only for chunks in progress, never for a member to show up: a member
//! the OS has descheduled (other processes, more threads than cores) holds nothing back, and
//! joins the current phase when it runs again. Which member runs a chunk never changes its
//! result: the callers' chunks depend only on the phase's inputs.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// Spins before a waiting member starts yielding its core: 256 pauses are some microseconds,
/// about one chunk's work; a longer wait means the chunk's owner is likely descheduled.
const SPINS: u32 = 1 << 8;

/// Bits of the shared word that count claimed chunks; the phase number sits above them.
const CHUNK_BITS: u32 = 28;

/// Most phases / chunks per phase a team can run (checked by [`run`]): the word must hold the
/// phase after the last, and a phase's claim count, which reaches its chunk count.
pub(super) const MAX_PHASES: u64 = (1 << (64 - CHUNK_BITS)) - 1;
pub(super) const MAX_CHUNKS: usize = (1 << CHUNK_BITS) - 1;

/// Runs phases `0..phases` in order on `threads` threads (the caller's and `threads − 1`
/// scoped ones): phase `p` is `chunks(p)` calls `work(p, chunk)`, one per chunk, on any
/// member, and every call of phase `p` happens before (and its writes are visible to) every
/// call of phase `p + 1`.
///
/// # Panics
/// If `phases` > [`MAX_PHASES`] or a phase has more than [`MAX_CHUNKS`] chunks; and, after all
/// members have stopped, if `work` panicked.
pub(super) fn run<C, W>(threads: usize, phases: u64, chunks: C, work: W)
where
    C: Fn(u64) -> usize + Sync,
    W: Fn(u64, usize) + Sync,
{
    assert!(
        phases <= MAX_PHASES,
        "{phases} phases: at most {MAX_PHASES}"
    );
    let team = Team {
        word: AtomicU64::new(0),
        done: AtomicUsize::new(0),
        failed: AtomicBool::new(false),
    };
    let member = || {
        let _guard = FailGuard(&team.failed);
        team.member(phases, &chunks, &work);
    };
    if threads <= 1 {
        return member();
    }
    std::thread::scope(|s| {
        for _ in 1..threads {
            // A thread the OS refuses is one member fewer: the phases need only the caller's.
            let _ = std::thread::Builder::new()
                .name("umap-sgd".into())
                .spawn_scoped(s, member);
        }
        member();
    });
}

struct Team {
    /// The current phase (high bits) and how many of its chunks are claimed (low
    /// [`CHUNK_BITS`]), in one word so that a claim can never land in another phase.
    word: AtomicU64,
    /// Chunks of the current phase finished.
    done: AtomicUsize,
    /// Set when a member panicked: the others stop waiting for its chunk and panic too, so the
    /// scope ends and the panic reaches the caller instead of a hang.
    failed: AtomicBool,
}

impl Team {
    fn member<C, W>(&self, phases: u64, chunks: &C, work: &W)
    where
        C: Fn(u64) -> usize,
        W: Fn(u64, usize),
    {
        let mut spins = 0u32;
        loop {
            let w = self.word.load(Ordering::Acquire);
            let (phase, claimed) = (w >> CHUNK_BITS, (w & MAX_CHUNKS as u64) as usize);
            if phase >= phases {
                return;
            }
            let n = chunks(phase);
            assert!(
                n <= MAX_CHUNKS,
                "{n} chunks in a phase: at most {MAX_CHUNKS}"
            );
            if claimed < n {
                // Acquire on success: this member then sees everything the phase before wrote.
                if self
                    .word
                    .compare_exchange_weak(w, w + 1, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
                {
                    work(phase, claimed);
                    // The last chunk to finish starts the next phase. AcqRel: the finisher
                    // reads the writes of every chunk finished before it (one release
                    // sequence), and the next phase's members read them through `word`.
                    if self.done.fetch_add(1, Ordering::AcqRel) + 1 == n {
                        self.advance(phase);
                    }
                    spins = 0;
                }
            } else if n == 0 {
                // An empty phase: whoever sees it first moves on (the others' exchange fails).
                let _ = self.word.compare_exchange(
                    w,
                    (phase + 1) << CHUNK_BITS,
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                );
            } else {
                // Every chunk is claimed; wait for those in progress.
                if self.failed.load(Ordering::Relaxed) {
                    panic!("another thread of the UMAP SGD team panicked");
                }
                if spins < SPINS {
                    spins += 1;
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
        }
    }

    /// Ends `phase` (all its chunks are done, so no member works in it any more).
    fn advance(&self, phase: u64) {
        self.done.store(0, Ordering::Relaxed);
        self.word
            .store((phase + 1) << CHUNK_BITS, Ordering::Release);
    }
}

/// Marks the team failed when its member unwinds.
struct FailGuard<'a>(&'a AtomicBool);

impl Drop for FailGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every chunk of every phase runs exactly once, after every chunk of the phase before,
    /// on any team size, more members than cores included; empty phases are passed.
    #[test]
    fn phases_are_ordered_and_chunks_run_once() {
        for threads in [1, 2, 3, 8] {
            let (phases, width) = (400u64, 7);
            // Phase p has p % 8 chunks (so some are empty, some narrower than the team).
            let chunks = |p: u64| (p % 8) as usize;
            let cells: Vec<AtomicU64> = (0..width).map(|_| AtomicU64::new(0)).collect();
            let runs: Vec<AtomicUsize> = (0..phases).map(|_| AtomicUsize::new(0)).collect();
            run(threads, phases, chunks, |p, c| {
                let p_ = p as usize;
                if p_ > 0 {
                    let before = runs[p_ - 1].load(Ordering::Relaxed);
                    assert_eq!(before, chunks(p - 1), "phase {p} began too early");
                }
                if p_ + 1 < runs.len() {
                    assert_eq!(runs[p_ + 1].load(Ordering::Relaxed), 0, "{p} ran late");
                }
                // A cell holds one past the last phase that ran its chunk.
                let last = cells[c].swap(p + 1, Ordering::Relaxed);
                assert!(last <= p, "chunk {c} of phase {p} ran twice");
                runs[p_].fetch_add(1, Ordering::Relaxed);
            });
            for (p, r) in runs.iter().enumerate() {
                assert_eq!(
                    r.load(Ordering::Relaxed),
                    chunks(p as u64),
                    "{threads}, {p}"
                );
            }
        }
    }

    /// A member's panic reaches the caller; the others do not wait forever.
    #[test]
    fn a_panic_ends_the_team() {
        let r = std::panic::catch_unwind(|| {
            run(
                3,
                100,
                |_| 4,
                |p, c| {
                    if p == 10 && c == 2 {
                        panic!("member fails");
                    }
                },
            )
        });
        assert!(r.is_err());
    }
}
