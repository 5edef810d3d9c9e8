// Rostra loader: the one script a site embeds. Kept tiny and cached briefly;
// it imports the versioned widget, which is cached for a year.
(function () {
  var script = document.currentScript;
  var src = script ? script.src : "";
  if (!src) {
    var all = document.querySelectorAll('script[src*="embed.js"]');
    src = all.length ? all[all.length - 1].src : location.href;
  }
  var base = new URL(".", src).href;
  import(base + "widget/__ROSTRA_VERSION__/rostra.js").then(function (m) {
    m.boot({ base: base, script: script });
  });
})();
