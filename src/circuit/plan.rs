//! Pass planning for the fast executor ([`super::fast`]): which fused ops each sweep over the
//! state applies, and which qubit positions its cache block holds.
//!
//! A pass holds the low positions `0..low_min` (contiguous runs, whole registers) and up to
//! `b − low_min` further positions. An op can join a pass when the positions it needs lie in
//! the block and no earlier op left for a later pass touches its qubits (program order per
//! qubit is kept). The positions are chosen by lookahead: starting from the low ones, the pass
//! repeatedly adds the positions of the one waiting op (among the first few) whose addition
//! lets the pass take the most ops, until the block is full or no addition takes more. Taking
//! positions in the order the first waiting op asks for them (the simplest rule) fills the
//! block with qubits that unlock a single op on layered circuits, and costs about one pass per
//! layer once the state has many more qubits than the block; the lookahead follows the light
//! cone of the circuit instead and takes several layers per pass.

use super::fuse::FusedOp;

/// Waiting ops whose positions are tried as the next addition to a pass.
const CANDIDATES: usize = 24;
/// Ops scanned when a candidate block is scored (keeps planning linear in long circuits).
const SCORE_WINDOW: usize = 4096;
/// Ops scanned past the first one left behind when a pass is finally taken.
const SCAN_AFTER_BLOCK: usize = 1 << 14;

/// The ops of `remaining` (indices into `ops`, in program order, at most `limit` of them
/// scanned) that a pass over the positions `s` takes, and the indices of the first `cands`
/// ops it leaves behind whose needed positions are not all in `s`.
fn take(
    ops: &[FusedOp],
    remaining: &[usize],
    s: usize,
    limit: usize,
    cands: usize,
) -> (Vec<usize>, Vec<usize>) {
    let mut blocked = 0usize;
    let mut taken = Vec::new();
    let mut waiting = Vec::new();
    let mut after_block = 0usize;
    for &i in remaining.iter().take(limit) {
        if blocked != 0 {
            after_block += 1;
            if after_block > SCAN_AFTER_BLOCK {
                break;
            }
        }
        let (need, touch) = (ops[i].need(), ops[i].touch());
        if touch & blocked != 0 || need & !s != 0 {
            if need & !s != 0 && waiting.len() < cands {
                waiting.push(i);
            }
            blocked |= touch;
            continue;
        }
        taken.push(i);
    }
    (taken, waiting)
}

/// Groups `ops` on `n` qubits into passes over blocks of `b` positions whose low `low_min`
/// positions are always held: `(chosen position mask, op indices in order)` per pass (module
/// doc). Every op lands in exactly one pass, after every earlier op that shares a qubit.
pub(super) fn plan(
    ops: &[FusedOp],
    n: usize,
    b: usize,
    low_min: usize,
) -> Vec<(usize, Vec<usize>)> {
    let all = if n >= usize::BITS as usize {
        usize::MAX
    } else {
        (1usize << n) - 1
    };
    let mut remaining: Vec<usize> = (0..ops.len()).collect();
    let mut out = Vec::new();
    while !remaining.is_empty() {
        let s = if n <= b {
            all
        } else {
            choose(ops, &remaining, b, (1usize << low_min) - 1)
        };
        // Fill the block up with the lowest free positions: longer contiguous runs.
        let mut s = s;
        let mut p = 0;
        while (s.count_ones() as usize) < b && p < n {
            s |= 1 << p;
            p += 1;
        }
        let (take_now, _) = take(ops, &remaining, s, usize::MAX, 0);
        debug_assert!(!take_now.is_empty(), "a pass takes at least the first op");
        let mut taken = take_now.iter().peekable();
        let rest: Vec<usize> = remaining
            .iter()
            .copied()
            .filter(|i| {
                if taken.peek() == Some(&i) {
                    taken.next();
                    false
                } else {
                    true
                }
            })
            .collect();
        out.push((s, take_now));
        remaining = rest;
    }
    out
}

/// The positions of the next pass: `low` plus additions chosen by lookahead (module doc).
/// The first waiting op's positions always fit (every op needs at most `b − low` positions
/// outside the low ones), so the pass takes at least one op.
fn choose(ops: &[FusedOp], remaining: &[usize], b: usize, low: usize) -> usize {
    let mut s = low;
    let (mut best_taken, mut waiting) = take(ops, remaining, s, SCORE_WINDOW, CANDIDATES);
    loop {
        let mut best: Option<(usize, usize)> = None;
        for &i in &waiting {
            let t = s | ops[i].need();
            if t.count_ones() as usize > b || best.is_some_and(|(bt, _)| bt == t) {
                continue;
            }
            let (taken, _) = take(ops, remaining, t, SCORE_WINDOW, 0);
            // Strictly more ops, or the first addition at all (the pass must take something).
            if taken.len() > best.map_or(best_taken.len(), |(_, n)| n)
                || (best.is_none() && best_taken.is_empty())
            {
                best = Some((t, taken.len()));
            }
        }
        match best {
            Some((t, _)) => {
                s = t;
                let next = take(ops, remaining, s, SCORE_WINDOW, CANDIDATES);
                best_taken = next.0;
                waiting = next.1;
            }
            None => return s,
        }
    }
}
