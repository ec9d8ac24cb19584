// Live updates: the server sends an event after each committed summary or alert it reads;
// the page then fetches itself again and swaps in the new content (no reload, no library).
(function () {
  "use strict";
  var live = document.getElementById("live");
  var busy = false, again = false;
  function say(text, on) {
    live.textContent = text;
    live.classList.toggle("on", !!on);
  }
  function clock() {
    var d = new Date();
    return [d.getHours(), d.getMinutes(), d.getSeconds()].map(function (n) { return (n < 10 ? "0" : "") + n; }).join(":");
  }
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(location.href, { headers: { "Accept": "text/html" }, cache: "no-store" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var next = doc.getElementById("content"), current = document.getElementById("content");
        if (next && current) {
          current.innerHTML = next.innerHTML;
          current.setAttribute("data-version", next.getAttribute("data-version") || "");
        }
        say("Trực tiếp · cập nhật lúc " + clock(), true);
        live.classList.remove("flash"); void live.offsetWidth; live.classList.add("flash");
      })
      .catch(function () { say("Mất kết nối, đang thử lại…", false); })
      .then(function () { busy = false; if (again) { again = false; refresh(); } });
  }
  if (!window.EventSource) { say("Trình duyệt không hỗ trợ cập nhật trực tiếp", false); return; }
  var source = new EventSource("/v1/events");
  source.addEventListener("open", function () { say("Trực tiếp", true); });
  source.addEventListener("change", function (e) {
    var current = document.getElementById("content");
    if (current && current.getAttribute("data-version") === e.data) { return; }
    refresh();
  });
  source.addEventListener("error", function () { say("Mất kết nối, đang thử lại…", false); });
})();
