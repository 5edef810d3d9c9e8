// theme="auto": the widget matches the page it sits on, not the reader's system.
// A page that follows prefers-color-scheme itself is followed through its colours.

let probe = null; // a 1x1 canvas that turns any CSS colour into RGBA

/** [r, g, b, a] (0-255) of a computed CSS colour, whatever its syntax. */
function rgba(color) {
  const m = /^rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)$/.exec(color);
  if (m) return [+m[1], +m[2], +m[3], m[4] === undefined ? 255 : m[4] * 255];
  probe = probe || document.createElement("canvas").getContext("2d", { willReadFrequently: true });
  probe.clearRect(0, 0, 1, 1);
  probe.fillStyle = color;
  probe.fillRect(0, 0, 1, 1);
  return [...probe.getImageData(0, 0, 1, 1).data];
}

/** Whether the page behind `el` is dark: the first opaque background up the tree. */
export function pageIsDark(el) {
  for (let n = el; n; n = n.parentElement || (n.getRootNode && n.getRootNode().host)) {
    const [r, g, b, a] = rgba(getComputedStyle(n).backgroundColor);
    if (a > 128) return 0.2126 * r + 0.7152 * g + 0.0722 * b < 128;
  }
  // no background anywhere: the browser's canvas, dark only where the page asks for it
  const scheme = getComputedStyle(document.documentElement).colorScheme;
  return /dark/.test(scheme) && (!/light/.test(scheme) || matchMedia("(prefers-color-scheme: dark)").matches);
}

/**
 * Call `changed` whenever the page may have changed its colours: the system's scheme
 * (for pages that follow it), or a class or style on <html> or <body> (a site's own
 * theme switch; again after its colour transition ends).
 */
export function watchPage(changed) {
  let timer = 0;
  const later = () => {
    changed();
    clearTimeout(timer);
    timer = setTimeout(changed, 400);
  };
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", later);
  const mo = new MutationObserver(later);
  for (const n of [document.documentElement, document.body]) if (n) mo.observe(n, { attributes: true });
}
