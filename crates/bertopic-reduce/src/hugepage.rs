//! Memory that the kernel is asked to back with 2 MiB pages: arrays read at random rows.
//!
//! The UMAP SGD reads a random row of the layout for every negative sample. With 4 KiB pages, a
//! million points' layout (20 MB at five dimensions) spans 5,000 pages, more than the TLB holds,
//! so nearly every such read also walks the page tables. Linux's transparent huge pages are
//! often on only for memory that asks (`madvise` mode); this buffer asks. Elsewhere, or when
//! the kernel declines, it is ordinary memory: only the speed differs, never the values.

/// Buffers smaller than this stay on ordinary pages: they fit the TLB anyway.
const MIN_BYTES: usize = 4 << 20;
#[cfg(any(test, target_os = "linux"))]
const HUGE_PAGE: usize = 2 << 20;

/// An owned `[f32]` in its own anonymous mapping, advised as huge pages and starting on a huge
/// page boundary. Its own mapping, not the allocator's memory: pages the allocator already
/// touched stay 4 KiB, since the kernel picks the page size when a page is first touched.
pub(crate) struct HugeBuf {
    #[cfg(target_os = "linux")]
    map: linux::Map,
    len: usize,
}

impl HugeBuf {
    /// A copy of `src`; `None` when `src` is small (use it in place), on systems other than
    /// Linux, or when the mapping fails.
    pub(crate) fn copy_of(src: &[f32]) -> Option<Self> {
        let bytes = std::mem::size_of_val(src);
        if bytes < MIN_BYTES {
            return None;
        }
        #[cfg(target_os = "linux")]
        {
            let mut h = Self {
                map: linux::Map::new(bytes)?,
                len: src.len(),
            };
            h.as_mut_slice().copy_from_slice(src);
            Some(h)
        }
        #[cfg(not(target_os = "linux"))]
        None
    }

    pub(crate) fn as_mut_slice(&mut self) -> &mut [f32] {
        #[cfg(target_os = "linux")]
        {
            // SAFETY: the mapping holds at least `len` f32s from `start` (zero-filled by the
            // kernel, so initialised), is aligned for f32, and is borrowed mutably through self.
            unsafe { std::slice::from_raw_parts_mut(self.map.start.cast::<f32>(), self.len) }
        }
        #[cfg(not(target_os = "linux"))]
        &mut []
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use super::HUGE_PAGE;

    /// One anonymous private mapping; `start` is its first huge-page boundary.
    pub(super) struct Map {
        base: *mut libc::c_void,
        size: usize,
        pub(super) start: *mut u8,
    }

    // SAFETY: the mapping is owned by one Map, like a Vec's buffer.
    unsafe impl Send for Map {}
    // SAFETY: shared access only reads.
    unsafe impl Sync for Map {}

    impl Map {
        /// At least `bytes` from a huge-page boundary.
        pub(super) fn new(bytes: usize) -> Option<Self> {
            let size = bytes.checked_add(2 * HUGE_PAGE)?;
            // SAFETY: a fresh anonymous private mapping; no existing memory is affected.
            let base = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    size,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            if base == libc::MAP_FAILED {
                return None;
            }
            let pad = (base as usize).next_multiple_of(HUGE_PAGE) - base as usize;
            // SAFETY: pad < HUGE_PAGE, so start and start + bytes lie inside the mapping.
            let start = unsafe { base.cast::<u8>().add(pad) };
            // SAFETY: advising our own untouched mapping changes how it is backed, never its
            // contents; a refusal (kernel without THP) leaves 4 KiB pages.
            unsafe { libc::madvise(start.cast(), size - pad, libc::MADV_HUGEPAGE) };
            Some(Self { base, size, start })
        }
    }

    impl Drop for Map {
        fn drop(&mut self) {
            // SAFETY: the mapping made in `new`, unmapped once.
            unsafe { libc::munmap(self.base, self.size) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_copy_holds_the_same_values_and_a_small_one_is_declined() {
        let big: Vec<f32> = (0..(MIN_BYTES / 4 + 7)).map(|i| i as f32 * 0.5).collect();
        assert!(HugeBuf::copy_of(&big[..1000]).is_none());
        if cfg!(target_os = "linux") {
            let mut h = HugeBuf::copy_of(&big).expect("large buffers are copied");
            assert_eq!(h.as_mut_slice(), &big[..]);
            assert_eq!(h.as_mut_slice().as_ptr() as usize % HUGE_PAGE, 0);
        }
    }
}
