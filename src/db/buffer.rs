//! Recycled byte buffers: the large, short-lived buffers a chunk passes
//! through (its rows as read, its rows' encodings) are taken from a small
//! process-wide pool and go back to it when dropped.
//!
//! Owns: [`Buf`] and the pool behind it.
//!
//! Why: such a buffer is a few MiB, so glibc maps it (the mmap threshold is
//! fixed at 1 MiB to keep the heap from fragmenting, see `main.rs`) and
//! unmaps it when freed; every chunk then touched its buffers' pages for
//! the first time, and the kernel zeroed each one. On the bench's MariaDB
//! table that was 230,000 page faults per 1M rows and a third of parity's
//! CPU time. A recycled buffer keeps its pages: the pool lends buffers of
//! at least [`POOL_MIN`] bytes, takes back only those it lent, and holds
//! at most [`POOL_MAX`], so what it keeps is bounded by what was in use at
//! once, and memory stays flat in table size.

use std::ops::{Deref, DerefMut};
use std::sync::Mutex;

/// Buffers kept for reuse, per element type, at most. A new buffer is lent
/// only while the pool is empty, and only lent buffers come back, so the
/// pool never holds more than were in use at once (a run of 4 jobs uses
/// about 20 at a time).
const POOL_MAX: usize = 64;
/// Buffers of fewer bytes come from the heap cheaply: not kept, and not
/// asked for (an empty buffer of a digest that keeps no encodings must not
/// hold a pooled one).
const POOL_MIN: usize = 256 << 10;

/// An element type whose buffers are recycled, with its pool.
pub trait Recycle: Copy + Send + 'static {
    #[doc(hidden)]
    fn pool() -> &'static Pool<Self>;
}

static BYTES: Pool<u8> = Pool::new();
static WORDS: Pool<u32> = Pool::new();

impl Recycle for u8 {
    fn pool() -> &'static Pool<u8> {
        &BYTES
    }
}

impl Recycle for u32 {
    fn pool() -> &'static Pool<u32> {
        &WORDS
    }
}

/// Buffers kept for reuse.
#[doc(hidden)]
pub struct Pool<T>(Mutex<Vec<Vec<T>>>);

impl<T> Pool<T> {
    const fn new() -> Pool<T> {
        Pool(Mutex::new(Vec::new()))
    }

    /// An empty buffer of at least `capacity` items: for a large one, the
    /// pooled one that fits best (the smallest that holds `capacity`, else
    /// the largest, grown); else, or when the pool is empty, a new one.
    fn take(&self, capacity: usize) -> Vec<T> {
        if capacity * size_of::<T>() < POOL_MIN {
            return Vec::with_capacity(capacity);
        }
        let taken = {
            let mut pool = self.0.lock().unwrap_or_else(|e| e.into_inner());
            let fits = pool
                .iter()
                .enumerate()
                .filter(|(_, b)| b.capacity() >= capacity)
                .min_by_key(|(_, b)| b.capacity())
                .map(|(i, _)| i);
            let pick = fits.or_else(|| {
                pool.iter()
                    .enumerate()
                    .max_by_key(|(_, b)| b.capacity())
                    .map(|(i, _)| i)
            });
            pick.map(|i| pool.swap_remove(i))
        };
        match taken {
            Some(mut b) => {
                b.clear();
                b.reserve(capacity);
                b
            }
            None => Vec::with_capacity(capacity),
        }
    }

    /// Keeps `b` for reuse, unless it is small or the pool is full.
    fn give(&self, b: Vec<T>) {
        if b.capacity() * size_of::<T>() < POOL_MIN {
            return;
        }
        let mut pool = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < POOL_MAX {
            pool.push(b);
        }
    }
}

/// A buffer that goes back to its pool when dropped, if the pool lent it.
#[derive(Debug, Default)]
pub struct Buf<T: Recycle = u8> {
    vec: Vec<T>,
    /// Lent by the pool (asked for with a large capacity): only such a
    /// buffer goes back. One grown from a small start was never counted
    /// among those in use, and kept, a buffer grown anew for every chunk
    /// would fill the pool.
    lent: bool,
}

impl<T: Recycle> Buf<T> {
    /// An empty buffer of at least `capacity` items, recycled when the
    /// pool has one.
    pub fn with_capacity(capacity: usize) -> Buf<T> {
        Buf {
            vec: T::pool().take(capacity),
            lent: capacity * size_of::<T>() >= POOL_MIN,
        }
    }
}

impl<T: Recycle> From<Vec<T>> for Buf<T> {
    fn from(vec: Vec<T>) -> Buf<T> {
        Buf { vec, lent: false }
    }
}

impl<T: Recycle> Deref for Buf<T> {
    type Target = Vec<T>;
    fn deref(&self) -> &Vec<T> {
        &self.vec
    }
}

impl<T: Recycle> DerefMut for Buf<T> {
    fn deref_mut(&mut self) -> &mut Vec<T> {
        &mut self.vec
    }
}

impl<T: Recycle> Drop for Buf<T> {
    fn drop(&mut self) {
        if self.lent {
            T::pool().give(std::mem::take(&mut self.vec));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_buffer_comes_back_with_its_pages_and_the_pool_stays_bounded() {
        let pool = Pool::<u8>::new();
        let mut b = pool.take(POOL_MIN * 2);
        b.extend_from_slice(b"rows");
        let ptr = b.as_ptr();
        pool.give(b);
        // Reused: the same allocation, emptied.
        let again = pool.take(POOL_MIN);
        assert_eq!(again.as_ptr(), ptr);
        assert!(again.is_empty());
        // The best fit: the smallest buffer that holds what is asked.
        pool.give(again);
        let (small, large) = (pool.take(POOL_MIN * 4), pool.take(POOL_MIN * 8));
        let small_ptr = small.as_ptr();
        pool.give(large);
        pool.give(small);
        let best = pool.take(POOL_MIN * 3);
        assert_eq!(best.as_ptr(), small_ptr);
        drop(best);
        // Too small to keep: only the large one is left; and too small to
        // take it (an empty buffer must not hold a pooled one).
        pool.give(Vec::with_capacity(1024));
        assert_eq!(pool.0.lock().unwrap().len(), 1);
        assert_eq!(pool.take(0).capacity(), 0);
        assert_eq!(pool.0.lock().unwrap().len(), 1);
        // Bounded.
        for _ in 0..POOL_MAX * 2 {
            pool.give(Vec::with_capacity(POOL_MIN));
        }
        assert_eq!(pool.0.lock().unwrap().len(), POOL_MAX);
    }

    #[test]
    fn only_a_buffer_the_pool_lent_goes_back() {
        // Asked for large: lent, and it stays lent as it grows.
        let mut lent = Buf::<u8>::with_capacity(POOL_MIN);
        lent.extend_from_slice(&[0; POOL_MIN + 1]);
        assert!(lent.lent);
        // Grown from a small start, or made elsewhere: freed, not kept,
        // however large it grew.
        let mut grown = Buf::<u8>::with_capacity(0);
        grown.extend_from_slice(&[0; POOL_MIN * 2]);
        assert!(!grown.lent);
        assert!(!Buf::from(vec![0u8; POOL_MIN * 2]).lent);
        assert!(!Buf::<u32>::with_capacity(POOL_MIN / 4 - 1).lent);
        assert!(Buf::<u32>::with_capacity(POOL_MIN / 4).lent);
    }
}
