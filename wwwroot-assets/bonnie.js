// Where an officer was on each page, so that Back from an event or a message to a page of search results returns to
// the row they left, not to the top: the results come back only after the search has run again, when the browser
// has already given up restoring the position itself (a review lost its place on every Back).
(() => {
    const key = () => "bonnie-scroll:" + location.pathname + location.search;
    let pending = false;
    addEventListener("scroll", () => {
        if (pending) {
            return;
        }
        pending = true;
        requestAnimationFrame(() => {
            pending = false;
            try {
                sessionStorage.setItem(key(), String(Math.round(scrollY)));
            } catch {
                // Storage full or refused: the page then opens at its top, as without this.
            }
        });
    }, { passive: true });

    // The address a Back or Forward went to, and where the officer had left it, read at once: while the page before is
    // still on the screen, the browser scrolls the short page to its top and that would be saved over it. Only a return
    // to that very address restores its position, not a link followed later to the same page.
    let returned = null;
    addEventListener("popstate", () => {
        const y = sessionStorage.getItem(key());
        returned = y === null ? null : { href: location.href, y: Number(y) };
    });

    window.bonnieScroll = {
        /** After a Back or Forward to this address: scrolls to where the officer left it; true when it did. */
        restoreAfterReturn() {
            const to = returned;
            returned = null;
            if (to === null || to.href !== location.href) {
                return false;
            }
            scrollTo(0, to.y);
            return true;
        },
    };
})();
