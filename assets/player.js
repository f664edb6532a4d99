// Recording player: hls.js where Media Source Extensions exist, native HLS (Safari/iOS) otherwise;
// chapter links seek the player; ?t=SECONDS starts at a chapter.
(function () {
  "use strict";
  var video = document.getElementById("player");
  if (!video) return;
  var src = video.getAttribute("data-src");
  if (window.Hls && window.Hls.isSupported()) {
    var hls = new window.Hls();
    hls.loadSource(src);
    hls.attachMedia(video);
    window.citizenhourHls = hls;
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = src;
  }
  function seek(seconds, play) {
    var go = function () {
      video.currentTime = seconds;
      if (play) { var p = video.play(); if (p && p.catch) p.catch(function () {}); }
    };
    if (video.readyState >= 1) go(); else video.addEventListener("loadedmetadata", go, { once: true });
  }
  var links = document.querySelectorAll(".chapters a[data-start-ms]");
  Array.prototype.forEach.call(links, function (a) {
    a.addEventListener("click", function (ev) {
      ev.preventDefault();
      seek(parseInt(a.getAttribute("data-start-ms"), 10) / 1000, true);
      history.replaceState(null, "", a.getAttribute("href"));
      video.focus();
    });
  });
  var t = new URLSearchParams(location.search).get("t");
  if (t && /^\d+(\.\d+)?$/.test(t)) seek(parseFloat(t), false);
})();
