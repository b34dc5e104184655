// Where an officer was on each page of search results, so that Back from an event or a message returns to the row
// they left, not to the top: the results come back only after the search has run again, when the browser has already
// given up restoring the position itself (a review lost its place on every Back).
(() => {
    const storageKey = "bonnie-scroll";
    // Positions of the last pages of results only: one small entry per address, the oldest dropped first.
    const kept = 50;
    const onResults = () => location.pathname === "/search";
    const address = () => location.pathname + location.search;

    const read = () => {
        try {
            return JSON.parse(sessionStorage.getItem(storageKey) || "{}");
        } catch {
            return {};
        }
    };

    let pending = false;
    addEventListener("scroll", () => {
        if (pending || !onResults()) {
            return;
        }
        pending = true;
        requestAnimationFrame(() => {
            pending = false;
            if (!onResults()) {
                return;
            }
            const positions = read();
            delete positions[address()];
            positions[address()] = Math.round(scrollY);
            const addresses = Object.keys(positions);
            for (const old of addresses.slice(0, Math.max(0, addresses.length - kept))) {
                delete positions[old];
            }
            try {
                sessionStorage.setItem(storageKey, JSON.stringify(positions));
            } catch {
                // Storage full or refused: the page then opens at its top, as without this.
            }
        });
    }, { passive: true });

    // The address a Back or Forward went to, and where the officer had left it, read at once: while the page before is
    // still on the screen, the browser scrolls the short page to its top and that would be saved over it. Only a return
    // to that very address restores its position, and only until the officer scrolls, types or clicks: a position
    // restored after they began to read (a broad query's counts take seconds) would pull the page from under them.
    let returned = null;
    addEventListener("popstate", () => {
        const y = read()[address()];
        returned = typeof y === "number" ? { href: location.href, y } : null;
    });
    for (const input of ["wheel", "keydown", "touchstart", "pointerdown"]) {
        addEventListener(input, () => { returned = null; }, { passive: true, capture: true });
    }

    // To the window's top (below the app bar: each target's scroll-margin-top), focused for a screen reader too.
    const show = (element) => {
        element.scrollIntoView({ block: "start" });
        element.focus({ preventScroll: true });
    };

    window.bonnieScroll = {
        /** A panel of the page (by its id) brought into view and focused, from a button far above it. */
        showPanel(id) {
            const panel = document.getElementById(id);
            if (panel !== null) {
                show(panel);
            }
        },
        /** A page of results turned to: its rows from the window's top, and the focus on them. */
        showRows(rows) {
            show(rows);
        },

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

// Escape closes the menu where it lies over the page (below 1280 px), as it closes a dialog: MudBlazor closes it only on
// a click beside it, and a keyboard user had no way out but the menu button (a review). A key something else already
// used (a dialog, an open list) is left to it.
// The overlay MudBlazor lays under the menu while it lies over the page; null when docked or closed.
const bonnieMenuOverlay = () => document.querySelector(".mud-drawer-overlay.mud-drawer-overlay--open");

addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || event.defaultPrevented) {
        return;
    }
    const overlay = bonnieMenuOverlay();
    if (overlay !== null) {
        overlay.click();
        document.querySelector("[aria-label='Toggle navigation']")?.focus();
    }
});

window.bonnieMenu = {
    /** The menu's first link takes the focus when the menu lies over the page, once its overlay is shown. */
    focusIfOverThePage() {
        requestAnimationFrame(() => {
            if (bonnieMenuOverlay() !== null) {
                document.querySelector(".mud-drawer a")?.focus();
            }
        });
    },
};
