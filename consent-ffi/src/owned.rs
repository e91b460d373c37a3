//! Structs the library allocates and the caller releases with one call (a feed page, a
//! history page): the C struct comes first, then everything its pointers point into,
//! in one box.

use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::boundary::{FfiError, FfiResult};

/// The texts and arrays a library-owned page points into. Each is a heap buffer of its
/// own, so moving the arena (into the page's box) moves none of them.
#[derive(Default)]
pub(crate) struct Arena {
    texts: Vec<CString>,
    seqs: Vec<Vec<u64>>,
}

impl Arena {
    /// A NUL-terminated copy of `s` that lives as long as the page; NULL for `None`.
    pub(crate) fn text(&mut self, s: Option<&str>) -> FfiResult<*const c_char> {
        let Some(s) = s else {
            return Ok(std::ptr::null());
        };
        let c = CString::new(s).map_err(|_| FfiError::invalid("a text holds a NUL byte"))?;
        let p = c.as_ptr();
        self.texts.push(c);
        Ok(p)
    }

    /// A copy of `seqs` that lives as long as the page, and its length; NULL when empty.
    pub(crate) fn seqs(&mut self, seqs: &[u64]) -> (*const u64, usize) {
        if seqs.is_empty() {
            return (std::ptr::null(), 0);
        }
        let v = seqs.to_vec();
        let p = v.as_ptr();
        self.seqs.push(v);
        (p, seqs.len())
    }
}

/// A page, its items and its arena. `page` comes first, so a pointer to the page is a
/// pointer to this.
#[repr(C)]
struct Owned<P, I> {
    page: P,
    items: Vec<I>,
    arena: Arena,
}

/// Boxes `items` and `arena` with the page `page_of` makes from the items' address
/// (NULL when there are none) and count, and returns the page, to be released with
/// [`free_page`] and the same `P` and `I`.
pub(crate) fn owned_page<P, I>(
    items: Vec<I>,
    arena: Arena,
    page_of: impl FnOnce(*const I, usize) -> P,
) -> *mut P {
    let first = if items.is_empty() {
        std::ptr::null()
    } else {
        items.as_ptr()
    };
    let page = page_of(first, items.len());
    Box::into_raw(Box::new(Owned { page, items, arena })).cast::<P>()
}

/// Releases a page from [`owned_page`]. NULL is fine.
///
/// # Safety
/// `page` is NULL or came from `owned_page::<P, I>` and was not released yet.
pub(crate) unsafe fn free_page<P, I>(page: *mut P) {
    if page.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: a `Box<Owned<P, I>>` whose first field is the page, by contract.
        drop(unsafe { Box::from_raw(page.cast::<Owned<P, I>>()) });
    }));
}
