// Live updates without a reload: when a new snapshot is published, swap in the new page content.
// The page works without JavaScript; this only keeps an open page current. A file, not an inline
// script, so the pages' Content-Security-Policy can allow scripts from this origin only.
(function () {
  var script = document.getElementById("live-updates");
  if (!script || !window.EventSource || !window.fetch) return;
  var source = new EventSource(script.getAttribute("data-events"));
  var current = script.getAttribute("data-snapshot");
  source.addEventListener("snapshot", function (event) {
    if (event.data === current) return;
    current = event.data;
    fetch(window.location.href, {headers: {"Accept": "text/html"}}).then(function (r) { return r.text(); })
      .then(function (html) {
        var next = new DOMParser().parseFromString(html, "text/html").querySelector("main");
        if (next) { document.querySelector("main").innerHTML = next.innerHTML; }
        document.documentElement.setAttribute("data-snapshot", current);
      });
  });
})();
