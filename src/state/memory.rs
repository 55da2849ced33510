//! Memory checks made *before* allocating, so that a model too large for the machine fails at
//! once with a clear message instead of being killed by the kernel.

use std::sync::OnceLock;

use rayon::prelude::*;

/// Not enough memory for an allocation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{what} needs {} but only {} is available{}; use fewer qubits or free memory",
        human_bytes(*.needed), human_bytes(*.available),
        if *.from_env { " (limit set by QEP_MEMORY_LIMIT)" } else { "" })]
pub struct MemoryError {
    /// What was about to be allocated.
    pub what: String,
    /// Bytes needed (saturated at `u128::MAX`).
    pub needed: u128,
    /// Bytes available.
    pub available: u128,
    /// Whether the limit came from `QEP_MEMORY_LIMIT`.
    pub from_env: bool,
}

/// Formats a byte count with binary units (`1.5 GiB`).
pub fn human_bytes(b: u128) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Parses `"8G"`, `"512M"`, `"1024"` (bytes) as used by `QEP_MEMORY_LIMIT`.
pub fn parse_bytes(s: &str) -> Option<u128> {
    let s = s.trim();
    let (num, mult) = match s.chars().last()? {
        'k' | 'K' => (&s[..s.len() - 1], 1u128 << 10),
        'm' | 'M' => (&s[..s.len() - 1], 1 << 20),
        'g' | 'G' => (&s[..s.len() - 1], 1 << 30),
        't' | 'T' => (&s[..s.len() - 1], 1 << 40),
        _ => (s, 1),
    };
    let v: f64 = num.trim().parse().ok()?;
    (v >= 0.0).then_some((v * mult as f64) as u128)
}

/// Bytes the process may still allocate: `QEP_MEMORY_LIMIT` if set, else 90 % of the kernel's
/// `MemAvailable` (read once), else 8 GiB when `/proc/meminfo` is unreadable.
pub fn available_bytes() -> (u128, bool) {
    static AVAIL: OnceLock<(u128, bool)> = OnceLock::new();
    *AVAIL.get_or_init(|| {
        if let Some(v) = std::env::var("QEP_MEMORY_LIMIT")
            .ok()
            .and_then(|s| parse_bytes(&s))
        {
            return (v, true);
        }
        let avail = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|t| {
                t.lines()
                    .find(|l| l.starts_with("MemAvailable:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|kb| kb.parse::<u128>().ok())
            })
            .map(|kb| kb * 1024 * 9 / 10)
            .unwrap_or(8 << 30);
        (avail, false)
    })
}

/// Checks that `bytes` more can be allocated for `what`.
///
/// # Errors
/// [`MemoryError`] naming `what`, the bytes needed and available.
pub fn check_alloc(bytes: usize, what: &str) -> Result<(), MemoryError> {
    check_alloc_u128(bytes as u128, what)
}

/// As [`check_alloc`], for sizes that may overflow `usize` (e.g. `16 · 2^60`).
///
/// # Errors
/// [`MemoryError`] naming `what`, the bytes needed and available.
pub fn check_alloc_u128(bytes: u128, what: &str) -> Result<(), MemoryError> {
    let (available, from_env) = available_bytes();
    if bytes > available {
        return Err(MemoryError {
            what: what.to_string(),
            needed: bytes,
            available,
            from_env,
        });
    }
    Ok(())
}

/// Bytes of the process already resident (`VmRSS` of `/proc/self/status`: program, model,
/// buffers freed but kept by the allocator), 0 where that file is unreadable. A command's peak is
/// this plus what it will allocate, so a [`MemoryPlan`] counts it.
pub fn resident_bytes() -> u128 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u128>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// What a command holds besides its named buffers: worker-thread stacks, allocator arenas,
/// per-thread partial sums, tridiagonal matrices and the like (measured: about 1 MiB at two
/// threads; a margin of 8 MiB).
const SMALL_BUFFERS: u128 = 8 << 20;

/// The peak memory of one command as a sum of named buffers, checked once, before any of
/// them is allocated: what the command will hold at its peak (state vectors, Krylov bases,
/// workspaces, density matrices, per-thread copies) plus what the process already holds.
/// The error names every buffer, so a user sees where the memory goes:
///
/// ```text
/// qep evolve --method krylov [state ψ 1.0 GiB + Krylov basis (31 vectors) 31.0 GiB + …]
///   needs 33.5 GiB but only 1.0 GiB is available (limit set by QEP_MEMORY_LIMIT); …
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MemoryPlan {
    what: String,
    items: Vec<(String, u128)>,
}

impl MemoryPlan {
    /// An empty plan for `what` (e.g. `"qep spectrum"`), with the bytes already resident.
    pub fn new(what: impl Into<String>) -> Self {
        let mut p = Self {
            what: what.into(),
            items: Vec::new(),
        };
        p.add("already resident", resident_bytes());
        p.add("thread stacks and small buffers", SMALL_BUFFERS);
        p
    }

    /// An empty plan that does not count the process's resident memory (for library callers
    /// that plan one part of a larger job).
    pub fn part(what: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            items: Vec::new(),
        }
    }

    /// Adds a buffer of `bytes` named `name` (zero-sized buffers are not listed).
    pub fn add(&mut self, name: impl Into<String>, bytes: u128) -> &mut Self {
        if bytes > 0 {
            self.items.push((name.into(), bytes));
        }
        self
    }

    /// Adds `count` buffers of `each` bytes, named `"{name} ({count} × {each})"`.
    pub fn add_n(&mut self, name: &str, count: usize, each: u128) -> &mut Self {
        let total = each.saturating_mul(count as u128);
        if count == 1 {
            self.add(name, total)
        } else {
            self.add(format!("{name} ({count} × {})", human_bytes(each)), total)
        }
    }

    /// Adds every buffer of another plan (its name is dropped).
    pub fn extend(&mut self, other: &MemoryPlan) -> &mut Self {
        self.items.extend(other.items.iter().cloned());
        self
    }

    /// The total in bytes (saturating).
    pub fn total(&self) -> u128 {
        self.items
            .iter()
            .fold(0u128, |acc, (_, b)| acc.saturating_add(*b))
    }

    /// The named buffers, in the order added.
    pub fn items(&self) -> &[(String, u128)] {
        &self.items
    }

    /// `what [a 1.0 GiB + b 2.0 GiB]`: the plan as the subject of a message.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self
            .items
            .iter()
            .map(|(n, b)| format!("{n} {}", human_bytes(*b)))
            .collect();
        format!("{} [{}]", self.what, parts.join(" + "))
    }

    /// Checks the total against the available memory.
    ///
    /// # Errors
    /// [`MemoryError`] whose `what` lists every buffer with its size.
    pub fn check(&self) -> Result<(), MemoryError> {
        check_alloc_u128(self.total(), &self.describe())
    }
}

/// Bytes of one state vector of `n` qubits with `elem_bytes`-byte amplitudes (saturating).
pub fn state_bytes(n: usize, elem_bytes: usize) -> u128 {
    if n >= 120 {
        return u128::MAX;
    }
    (1u128 << n).saturating_mul(elem_bytes as u128)
}

/// A zero-filled vector of `len` elements, on pages of the kernel's default size.
///
/// No transparent-huge-page hint: on this kind of virtual machine (a memory balloon hands
/// freed memory back to the host within seconds) the first touch of a fresh 2 MiB page costs
/// several times that of the same bytes in 4 KiB pages: the 24-qubit TFIM EP gradient, idle
/// machine, spent 10.2–10.5 s of system time clearing its 3 GB of Krylov basis and vectors
/// with the hint and 1.8–1.9 s without (31.6–33.0 s wall against 27.3–27.7 s), and its user
/// time, mostly `H·ψ` passes over those vectors, was the same.
///
/// From [`PARALLEL_TOUCH_FROM`] elements on, the pages are first touched by all worker
/// threads at once: on this kind of VM a first touch (the kernel clearing the page) costs about
/// as much as an `H·ψ` over the same memory, and one thread alone leaves the other cores idle.
///
/// Does not check memory: call [`check_alloc`] first for sizes that come from user input.
pub fn zeroed<T: Copy + Default + Send + Sync>(len: usize) -> Vec<T> {
    filled_with(len, |_, chunk| chunk.fill(T::default()))
}

/// Length from which [`zeroed`] and [`filled_with`] touch the pages in parallel.
pub const PARALLEL_TOUCH_FROM: usize = 1 << 16;

/// A vector of `len` elements, on default pages as [`zeroed`], whose entries `fill(offset,
/// chunk)` writes chunk by chunk (in parallel from [`PARALLEL_TOUCH_FROM`] elements on):
/// each page is first touched by the thread that computes its entries, and never written
/// twice (no zeroing pass before the real values). `fill` must write every entry of `chunk`,
/// whose first element is entry `offset`.
pub fn filled_with<T: Copy + Default + Send + Sync>(
    len: usize,
    fill: impl Fn(usize, &mut [T]) + Sync,
) -> Vec<T> {
    let mut v: Vec<T> = Vec::with_capacity(len);
    // Default-initialised in place and then handed to `fill`: the `Default` write and the
    // `fill` write land in the same cache lines, so the page is touched once.
    let chunk = len
        .div_ceil(4 * rayon::current_num_threads().max(1))
        .max(1 << 12);
    let init = |(ci, c): (usize, &mut [std::mem::MaybeUninit<T>])| {
        c.iter_mut()
            .for_each(|x| *x = std::mem::MaybeUninit::new(T::default()));
        // SAFETY: every element of `c` was just initialised.
        let c = unsafe { std::slice::from_raw_parts_mut(c.as_mut_ptr().cast::<T>(), c.len()) };
        fill(ci * chunk, c);
    };
    let spare = &mut v.spare_capacity_mut()[..len];
    if len < PARALLEL_TOUCH_FROM {
        spare.chunks_mut(chunk).enumerate().for_each(init);
    } else {
        spare.par_chunks_mut(chunk).enumerate().for_each(init);
    }
    // SAFETY: the first `len` elements were just initialised, and the capacity is ≥ len.
    unsafe { v.set_len(len) };
    v
}

/// Bytes of the ranges in which [`zeroed_populated`] and [`zeroed_populated_n`] have the
/// kernel fault in pages, one range per task of the thread pool: small enough that a single
/// Lanczos vector of 16 qubits (512 KiB) is faulted in by two threads, not one while the other
/// waits (a fresh page costs about what an `H·ψ` over it does here, and a basis faulted in
/// vector by vector on one thread took a fifth of a 16-qubit EP gradient), large enough that
/// the system call per range is nothing next to its 64 pages.
const POPULATE_CHUNK: usize = 256 << 10;

/// A zero vector of `len` elements whose pages are all mapped before it is used (the circuit
/// executor's state): the allocator's zeroed memory (fresh pages for a large vector, not
/// written by a zeroing pass as [`zeroed`] does),
/// faulted in as ordinary 4 KiB pages by `madvise(MADV_POPULATE_WRITE)` (Linux ≥ 5.14) over
/// ranges of 256 KiB in parallel (a Lanczos basis vector of 16–18 qubits,
/// 0.5–2 MiB, faulted in page by page by its first pass took a trap per page, and a solve's
/// fresh vectors cost about what its products did).
///
/// Why not fault them in from the block passes, on transparent huge pages as before: this
/// virtual machine returns free 2 MiB blocks to its host a few seconds after they are freed,
/// and a fresh huge page must come from such a block, so every one cost the host's faults
/// (256 MiB: 0.6–1.0 s of system time after a pause, in any process); 4 KiB pages are taken
/// from the guest's smaller free blocks first, and one `madvise` call faults them in without
/// the zero-page mapping and copy-on-write fault a pass that reads a page before writing it
/// takes (256 MiB: 0.08–0.10 s of system time). Where the call fails (older kernels) the pages
/// are faulted in by the passes, as before.
pub fn zeroed_populated<T: bytemuck::Zeroable>(len: usize) -> Vec<T> {
    zeroed_populated_n(1, len).pop().unwrap_or_default()
}

/// `count` vectors as [`zeroed_populated`] makes one, their pages faulted in together: the
/// ranges of all of them are the tasks of one parallel pass, so a batch of small vectors keeps
/// every thread busy in one fork instead of one fork (and one wake-up) per vector.
pub fn zeroed_populated_n<T: bytemuck::Zeroable>(count: usize, len: usize) -> Vec<Vec<T>> {
    let layout = std::alloc::Layout::array::<T>(len).expect("vector size overflows");
    if layout.size() == 0 {
        return (0..count).map(|_| Vec::new()).collect();
    }
    let mut out = Vec::with_capacity(count);
    #[cfg(target_os = "linux")]
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for _ in 0..count {
        // SAFETY: the layout has a nonzero size.
        let p = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<T>();
        if p.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        #[cfg(target_os = "linux")]
        {
            let page = 4096;
            let start = (p as usize).div_ceil(page) * page;
            let end = (p as usize + layout.size()) / page * page;
            let mut a = start;
            while a < end {
                let b = (a + POPULATE_CHUNK).min(end);
                ranges.push((a, b));
                a = b;
            }
        }
        // SAFETY: `p` was allocated by the global allocator with the layout of `len` elements
        // of `T`, and all-zero bytes are a valid `T` (`Zeroable`).
        out.push(unsafe { Vec::from_raw_parts(p, len, len) });
    }
    #[cfg(target_os = "linux")]
    {
        let populate = |&(a, b): &(usize, usize)| {
            // SAFETY: `a..b` lies inside one of the allocations above, page-aligned;
            // populating pages maps them without changing their (zero) contents. A failure is
            // harmless: the pages are then faulted in on first touch.
            unsafe {
                libc::madvise(a as *mut libc::c_void, b - a, libc::MADV_POPULATE_WRITE);
            }
        };
        if ranges.len() > 1 {
            ranges.par_iter().for_each(populate);
        } else {
            ranges.iter().for_each(populate);
        }
    }
    out
}

/// The global allocator qep's binaries install: the system allocator, except that every block
/// of at least [`CacheLineAlloc::FROM`] bytes starts on a 64-byte cache line.
///
/// Why: glibc's `malloc` returns blocks 16 bytes past a cache line (its chunk header), so
/// every 64-byte AVX-512 load and store of a state vector or Krylov vector spans two lines,
/// and the `H·ψ` kernel, whose sources sit 2^16 amplitudes apart in the same L1 sets, evicts
/// the line two of them share in between. A block is over-allocated by 64 bytes through the
/// system allocator and handed out from its first cache line; the distance back to the
/// system's pointer is stored in the 8 bytes before it. Zeroed blocks stay `calloc`'s, so a
/// large fresh block is still not written by a zeroing pass (see [`zeroed_populated`]).
/// Smaller blocks, and layouts asking for more than 64-byte alignment, go to the system
/// allocator unchanged.
///
/// ```
/// use std::alloc::{GlobalAlloc, Layout};
/// use qep::state::memory::CacheLineAlloc;
/// let layout = Layout::array::<f64>(1 << 12).unwrap();
/// unsafe {
///     let p = CacheLineAlloc.alloc_zeroed(layout);
///     assert_eq!(p as usize % 64, 0);
///     assert_eq!(*p.cast::<f64>().add(4095), 0.0);
///     CacheLineAlloc.dealloc(p, layout);
/// }
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct CacheLineAlloc;

impl CacheLineAlloc {
    /// Blocks from this many bytes on start on a cache line.
    pub const FROM: usize = 4096;
    /// The cache line.
    const LINE: usize = 64;

    /// Whether a block of `layout` is a cache-line block.
    fn lined(layout: std::alloc::Layout) -> bool {
        layout.size() >= Self::FROM && layout.align() <= Self::LINE
    }

    /// The system layout behind a cache-line block of `size` bytes.
    fn outer(size: usize) -> Option<std::alloc::Layout> {
        std::alloc::Layout::from_size_align(size.checked_add(Self::LINE)?, 16).ok()
    }

    /// The first cache line of the system block `raw` (16-byte aligned, 64 bytes longer than
    /// the block), with the distance back to `raw` stored before it.
    ///
    /// # Safety
    /// `raw` is a non-null system block of at least `LINE` more bytes than will be used.
    unsafe fn place(raw: *mut u8) -> *mut u8 {
        let gap = Self::gap(raw);
        let p = raw.add(gap);
        p.cast::<usize>().sub(1).write_unaligned(gap);
        p
    }

    /// Bytes from the system block `raw` to its first cache line after its start: 16, 32, 48
    /// or 64, since the system honours the 16-byte alignment of [`CacheLineAlloc::outer`]
    /// (room for the stored distance before the line, and the block's bytes after it).
    fn gap(raw: *mut u8) -> usize {
        Self::LINE - (raw as usize & (Self::LINE - 1))
    }

    /// A block of `layout` from `system` (the system allocator's `alloc` or `alloc_zeroed`):
    /// itself below the threshold, else over-allocated and placed on its first cache line.
    ///
    /// # Safety
    /// As [`std::alloc::GlobalAlloc::alloc`].
    unsafe fn alloc_with(
        layout: std::alloc::Layout,
        system: impl FnOnce(std::alloc::Layout) -> *mut u8,
    ) -> *mut u8 {
        if !Self::lined(layout) {
            return system(layout);
        }
        let Some(outer) = Self::outer(layout.size()) else {
            return std::ptr::null_mut();
        };
        let raw = system(outer);
        if raw.is_null() {
            raw
        } else {
            Self::place(raw)
        }
    }

    /// The system block of the cache-line block `p`.
    ///
    /// # Safety
    /// `p` was returned by [`CacheLineAlloc::place`].
    unsafe fn raw(p: *mut u8) -> *mut u8 {
        p.sub(p.cast::<usize>().sub(1).read_unaligned())
    }
}

// SAFETY: every block is a system block (or lies inside one, with the distance back to its
// start stored just before it); `dealloc` and `realloc` tell the two kinds apart by the same
// rule `alloc` used, from the layout the caller must pass back unchanged.
unsafe impl std::alloc::GlobalAlloc for CacheLineAlloc {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        Self::alloc_with(layout, |l| std::alloc::System.alloc(l))
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        Self::alloc_with(layout, |l| std::alloc::System.alloc_zeroed(l))
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        use std::alloc::System;
        if !Self::lined(layout) {
            return System.dealloc(ptr, layout);
        }
        if let Some(outer) = Self::outer(layout.size()) {
            System.dealloc(Self::raw(ptr), outer);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        use std::alloc::{Layout, System};
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return std::ptr::null_mut();
        };
        match (Self::lined(layout), Self::lined(new_layout)) {
            (false, false) => System.realloc(ptr, layout, new_size),
            (true, true) => {
                let (Some(old), Some(new)) = (Self::outer(layout.size()), Self::outer(new_size))
                else {
                    return std::ptr::null_mut();
                };
                let raw = Self::raw(ptr);
                let gap = ptr as usize - raw as usize;
                let raw2 = System.realloc(raw, old, new.size());
                if raw2.is_null() {
                    return raw2;
                }
                // The system may move the block to another offset from a cache line: the
                // contents follow the new first line.
                Self::place_keep(raw2, gap, layout.size().min(new_size))
            }
            _ => {
                // Crossing the threshold: a fresh block of the other kind, and a copy.
                let p = self.alloc(new_layout);
                if !p.is_null() {
                    std::ptr::copy_nonoverlapping(ptr, p, layout.size().min(new_size));
                    self.dealloc(ptr, layout);
                }
                p
            }
        }
    }
}

impl CacheLineAlloc {
    /// [`CacheLineAlloc::place`] for a block the system moved: its `len` bytes of contents
    /// sit `gap` bytes into `raw` and move to the new first cache line.
    ///
    /// # Safety
    /// As for `place`; `raw + gap .. raw + gap + len` is inside the block.
    unsafe fn place_keep(raw: *mut u8, gap: usize, len: usize) -> *mut u8 {
        let want = Self::gap(raw);
        if want != gap {
            std::ptr::copy(raw.add(gap), raw.add(want), len);
        }
        Self::place(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn populated_batches_are_separate_zero_vectors() {
        // One range (less than a page), several ranges per vector with a ragged end, none.
        for len in [100usize, (POPULATE_CHUNK / 8) * 3 + 517, 0] {
            let mut vs = zeroed_populated_n::<f64>(3, len);
            assert_eq!(vs.len(), 3);
            for v in &vs {
                assert_eq!(v.len(), len);
                assert!(v.iter().all(|&x| x == 0.0));
            }
            // Writing one leaves the others zero: three allocations, not one shared.
            vs[1]
                .iter_mut()
                .enumerate()
                .for_each(|(i, x)| *x = i as f64 + 1.0);
            assert!(vs[0].iter().chain(&vs[2]).all(|&x| x == 0.0));
            assert!(vs[1].iter().enumerate().all(|(i, &x)| x == i as f64 + 1.0));
        }
        assert!(zeroed_populated_n::<f64>(0, 10).is_empty());
        assert_eq!(zeroed_populated::<u32>(4097), vec![0u32; 4097]);
    }
}
