// Dispatch board: htmx refreshes #board every 5 s; an unacknowledged emergency page sounds a tone
// (Web Audio, no sound file) each time a refresh shows one — until the crew acknowledges it.
(function () {
  "use strict";
  var ctx = null;
  function beep() {
    try {
      ctx = ctx || new (window.AudioContext || window.webkitAudioContext)();
      var o = ctx.createOscillator(), g = ctx.createGain();
      o.frequency.value = 880; o.connect(g); g.connect(ctx.destination);
      g.gain.setValueAtTime(0.2, ctx.currentTime);
      o.start(); o.stop(ctx.currentTime + 0.4);
    } catch (e) { /* no audio: the red banner still shows */ }
  }
  function check() { if (document.querySelector("[data-pages]")) beep(); }
  document.addEventListener("DOMContentLoaded", check);
  document.addEventListener("htmx:afterSwap", check);
})();
